# SPDX-License-Identifier: GPL-2.0-only
"""Batches of records or flows (numpy structured arrays), their pandas
form, and the decoder of the binary stream."""
import ipaddress
from typing import Callable, List, Optional, Tuple

import numpy as np
import pandas as pd

from . import _dtypes as d
from ._errors import ProtocolError

_MAPPED = bytes(10) + b"\xff\xff"


def addresses(a: np.ndarray) -> np.ndarray:
    """Text of an array of 16-byte addresses (shape (n, 16), uint8, network
    byte order), as the daemon prints them: IPv4-mapped addresses as dotted
    quads, others as IPv6 text. Returns an object array of n str."""
    a = np.ascontiguousarray(a, dtype=np.uint8).reshape(-1, 16)
    if not len(a):
        return np.empty(0, dtype=object)
    uniq, inv = np.unique(a.view("V16").ravel(), return_inverse=True)
    text = []
    for u in uniq:
        b = bytes(u)
        if b[:12] == _MAPPED:
            text.append(str(ipaddress.IPv4Address(b[12:])))
        else:
            text.append(str(ipaddress.IPv6Address(b)))
    return np.array(text, dtype=object)[inv]


def flag_names(flags: int) -> List[str]:
    """Names of the bits set in a record's ``flags``, lowest bit first."""
    return [n for n, b in d.FLAGS.items() if flags & b]


def _wall_ts(ns: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """datetime64[ns, UTC] of ns since the epoch (NaT past 2262, what
    pandas' nanoseconds cannot hold)."""
    ns = np.asarray(ns, dtype=np.uint64)
    i = ns.astype(np.int64)
    i[ns > np.iinfo(np.int64).max] = np.iinfo(np.int64).min  # NaT
    return pd.arrays.DatetimeArray(i.view("M8[ns]"),
                                   dtype=pd.DatetimeTZDtype(tz="UTC"))


def records_frame(r: np.ndarray, wallclock: bool,
                  wall_offset_ns: int = 0) -> pd.DataFrame:
    """The DataFrame of packet records: the columns of the CSV format
    (docs/protocol.md) in its order, except ``flags``, kept as the integer
    bit set (names in :data:`FLAGS`).

    ``ts`` (datetime64[ns, UTC]) and ``ts_ns`` (int, ns since the epoch)
    are wall-clock: a record's ``ts_ns`` when the stream is wall-clock
    (``xdpctl extract``), else its kernel time plus ``wall_offset_ns``.
    ``ktime_ns`` is the record's own ``ts_ns``; ``queue`` its ``rx_queue``;
    ``src``, ``dst`` text."""
    kt = r["ts_ns"].astype(np.uint64)
    wall = kt if wallclock else kt + np.uint64(wall_offset_ns % (1 << 64))
    cols = {
        "ts": _wall_ts(wall), "ts_ns": wall, "ktime_ns": kt,
        "ifindex": r["ifindex"], "queue": r["rx_queue"], "ring": r["ring"],
        "seq": r["seq"], "ip_version": r["ip_version"], "proto": r["proto"],
        "src": addresses(r["saddr"]), "dst": addresses(r["daddr"]),
        "sport": r["sport"], "dport": r["dport"],
        "frame_len": r["frame_len"], "ip_len": r["ip_len"], "ttl": r["ttl"],
        "tcp_flags": r["tcp_flags"], "tcp_window": r["tcp_window"],
        "vlan": r["vlan"], "flags": r["flags"], "pkt_type": r["pkt_type"],
    }
    return pd.DataFrame(cols)


_DIRS = (("bidirectional", "bidir", 0), ("src2dst", "src2dst", 1),
         ("dst2src", "dst2src", 2))
# The flag counters in the order of the text formats, by bit.
_FLAG_COLS = (("syn", 1), ("cwr", 7), ("ece", 6), ("urg", 5), ("ack", 4),
              ("psh", 3), ("rst", 2), ("fin", 0))


def _splt(f: np.ndarray, m: np.ndarray, name: str) -> list:
    out = []
    for i in range(len(f)):
        n, k = int(f["splt_len"][i]), int(m[i])
        if name == "splt_direction":
            v = [int(f["splt_direction"][i]) >> j & 1 for j in range(n)]
        else:
            v = f[name][i][:n].tolist()
        out.append(v + [-1] * (k - n))
    return out


def flows_frame(r: np.ndarray) -> pd.DataFrame:
    """The DataFrame of flow records: the fields of docs/flows.md
    ("Output") with their names and order, as the ndjson and csv formats
    have them (times in ns since the epoch, sizes in bytes of the flow's
    ``accounting``). ``end_reason`` and ``accounting`` are words, addresses
    text, the three ``splt_*`` columns lists of ``splt_max`` ints padded
    with -1."""
    f = r["flow"]
    cols = {
        "ifindex": r["ifindex"], "vlan_id": r["vlan_id"],
        "ip_version": r["ip_version"], "protocol": r["proto"],
        "src_ip": addresses(r["src_ip"]), "src_port": r["src_port"],
        "dst_ip": addresses(r["dst_ip"]), "dst_port": r["dst_port"],
        "end_reason": np.array([d.END_REASONS.get(int(x), str(int(x)))
                                for x in r["end_reason"]], dtype=object),
        "accounting": np.array([d.ACCOUNTING.get(int(x), str(int(x)))
                                for x in r["accounting"]], dtype=object),
    }
    for name, field, i in _DIRS:
        x = f[field]
        cols[name + "_first_seen_ns"] = x["first_seen_ns"]
        cols[name + "_last_seen_ns"] = x["last_seen_ns"]
        cols[name + "_duration_ns"] = x["last_seen_ns"] - x["first_seen_ns"]
        cols[name + "_packets"] = x["packets"]
        cols[name + "_bytes"] = x["bytes"]
        cols[name + "_min_ps"] = x["min_ps"]
        cols[name + "_mean_ps"] = r["mean_ps"][:, i]
        cols[name + "_stddev_ps"] = r["stddev_ps"][:, i]
        cols[name + "_max_ps"] = x["max_ps"]
        cols[name + "_min_piat_ns"] = x["min_piat_ns"]
        cols[name + "_mean_piat_ns"] = r["mean_piat_ns"][:, i]
        cols[name + "_stddev_piat_ns"] = r["stddev_piat_ns"][:, i]
        cols[name + "_max_piat_ns"] = x["max_piat_ns"]
        for flag, bit in _FLAG_COLS:
            cols[f"{name}_{flag}_packets"] = x["flag_packets"][:, bit]
    cols["src2dst_first_ttl"] = f["src2dst"]["first_ttl"]
    cols["dst2src_first_ttl"] = f["dst2src"]["first_ttl"]
    cols["src2dst_first_window"] = f["src2dst"]["first_window"]
    cols["dst2src_first_window"] = f["dst2src"]["first_window"]
    for name in ("splt_direction", "splt_ps", "splt_piat_ns"):
        col = np.empty(len(r), dtype=object)
        col[:] = _splt(f, r["splt_max"], name)
        cols[name] = col
    return pd.DataFrame({k: np.asarray(v) for k, v in cols.items()})


def _is_records(a: np.ndarray) -> bool:
    return a.dtype == d.RECORD or a.dtype == d.FLOW_RECORD


class Batch(np.ndarray):
    """A batch of packet records (dtype :data:`RECORD`, shape (n,)) or of
    flow records (dtype :data:`FLOW_RECORD`, shape (n,)): a numpy
    structured array with what is needed to read it.

    Attributes:
        kind: ``"records"`` or ``"flows"``.
        wallclock: ``ts_ns`` holds wall-clock ns since the epoch (captures,
            flows) rather than the kernel's ``CLOCK_MONOTONIC`` (live
            packet records).
        wall_offset_ns: CLOCK_REALTIME minus CLOCK_MONOTONIC when the batch
            was read (live packet records; 0 otherwise).
        lost: records or flows the stream lost since the previous batch
            (loss markers, removed from the array).

    Slices and views keep these attributes. Loss markers are never in a
    batch: every element is a record of the current version.
    """

    kind: str
    wallclock: bool
    wall_offset_ns: int
    lost: int

    def __new__(cls, arr: np.ndarray, kind: str, wallclock: bool,
                wall_offset_ns: int = 0, lost: int = 0) -> "Batch":
        b = np.asarray(arr).view(cls)
        b.kind, b.wallclock = kind, wallclock
        b.wall_offset_ns, b.lost = wall_offset_ns, lost
        return b

    def __array_finalize__(self, obj) -> None:
        if obj is None:
            return
        self.kind = getattr(obj, "kind", "flows" if self.dtype ==
                            d.FLOW_RECORD else "records")
        self.wallclock = getattr(obj, "wallclock", self.kind == "flows")
        self.wall_offset_ns = getattr(obj, "wall_offset_ns", 0)
        self.lost = getattr(obj, "lost", 0)

    # A field, or a value computed from the records, is a plain array
    # (or scalar): only arrays of records are Batches.
    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, np.ndarray) and not _is_records(out):
            return out.view(np.ndarray)
        return out

    def __array_wrap__(self, obj, context=None, *args):
        if _is_records(obj):
            return super().__array_wrap__(obj, context, *args)
        out = obj.view(np.ndarray)
        return out[()] if out.ndim == 0 else out

    def to_pandas(self) -> pd.DataFrame:
        """This batch as a DataFrame, one row per record or flow: see
        :func:`to_pandas`."""
        return to_pandas(self)


def to_pandas(arr: np.ndarray, *, wallclock: Optional[bool] = None,
              wall_offset_ns: Optional[int] = None) -> pd.DataFrame:
    """A DataFrame of records or flows, one row each, with the columns of
    the text formats (``xdpctl ... --format csv``).

    ``arr``: a :class:`Batch`, or any structured array of dtype
    :data:`RECORD` or :data:`FLOW_RECORD` (then say ``wallclock`` and,
    for live records, ``wall_offset_ns``; a Batch knows them).

    Packet records: ``ts`` (datetime64[ns, UTC]), ``ts_ns``, ``ktime_ns``,
    ``ifindex``, ``queue``, ``ring``, ``seq``, ``ip_version``, ``proto``,
    ``src``, ``dst`` (text), ``sport``, ``dport``, ``frame_len``,
    ``ip_len`` (bytes), ``ttl``, ``tcp_flags``, ``tcp_window``, ``vlan``,
    ``flags`` (the integer bit set), ``pkt_type``. Flow records: the
    columns of docs/flows.md, "Output".

    Raises :class:`BadOptions` for an array of another dtype.
    """
    from ._errors import BadOptions
    if arr.dtype == d.RECORD:
        wc = getattr(arr, "wallclock", False) if wallclock is None \
            else wallclock
        off = getattr(arr, "wall_offset_ns", 0) if wall_offset_ns is None \
            else wall_offset_ns
        return records_frame(np.asarray(arr), wc, off)
    if arr.dtype == d.FLOW_RECORD:
        return flows_frame(np.asarray(arr))
    raise BadOptions(f"to_pandas: an array of dtype {arr.dtype}, neither "
                     "RECORD nor FLOW_RECORD")


class Decoder:
    """Incremental decoder of a binary stream (docs/protocol.md): the
    16-byte header, then records back to back; bytes may come in pieces of
    any size. ``flows`` says which kind the caller asked for: a stream of
    the other kind is refused. ``on_lost(n, total)`` is called for each
    loss marker, with the running total."""

    def __init__(self, flows: bool,
                 on_lost: Optional[Callable[[int, int], None]] = None):
        self.flows = flows
        self.dtype = d.FLOW_RECORD if flows else d.RECORD
        self.size = self.dtype.itemsize
        self.header: Optional[dict] = None
        self.buf = bytearray()
        self.lost = 0       # in total
        self.pending_lost = 0  # since the last take()
        self.on_lost = on_lost
        self.chunks: List[np.ndarray] = []
        self.count = 0

    def _header(self) -> None:
        h = np.frombuffer(bytes(self.buf[:16]), d.STREAM_HEADER)[0]
        magic, ver, size, flags = (int(h["magic"]), int(h["record_version"]),
                                   int(h["record_size"]), int(h["flags"]))
        if magic != d.STREAM_MAGIC:
            raise ProtocolError(f"bad stream magic {magic:#x} (want "
                                f"{d.STREAM_MAGIC:#x}): not a binary "
                                "xdp-preprocd stream")
        is_flows = bool(flags & d.STREAM_F_FLOWS)
        if is_flows != self.flows:
            raise ProtocolError("a stream of %s where %s were asked for" % (
                ("flows", "records") if is_flows else ("records", "flows")))
        want = d.FLOW_VERSION if self.flows else d.RECORD_VERSION
        if ver != want or size != self.size:
            raise ProtocolError(
                f"{'flow' if self.flows else 'packet'} records of version "
                f"{ver}, {size} bytes; this package reads version {want}, "
                f"{self.size} bytes: update it with the daemon")
        self.header = {"magic": magic, "record_version": ver,
                       "record_size": size, "flags": flags}
        del self.buf[:16]

    @property
    def wallclock(self) -> bool:
        return bool(self.header and
                    self.header["flags"] & d.STREAM_F_WALLCLOCK)

    def feed(self, data: bytes) -> None:
        """Take more bytes of the stream."""
        self.buf += data
        if self.header is None:
            if len(self.buf) < 16:
                return
            self._header()
        n = len(self.buf) // self.size
        if not n:
            return
        recs = np.frombuffer(self.buf[:n * self.size], self.dtype)
        del self.buf[:n * self.size]
        marker = recs["version"] == 0
        lost = []
        if marker.any():
            lost = (recs["flow"]["bidir"]["packets"][marker] if self.flows
                    else recs["ts_ns"][marker]).tolist()
            self.lost += sum(lost)
            self.pending_lost += sum(lost)
            recs = recs[~marker]
        if len(recs):
            self.chunks.append(recs)
            self.count += len(recs)
        # Told once the state is whole: a callback (or a warning turned
        # into an exception) that raises loses nothing.
        if self.on_lost:
            total = self.lost - sum(lost)
            for x in lost:
                total += x
                self.on_lost(x, total)

    def take(self, n: Optional[int] = None) -> Tuple[np.ndarray, int]:
        """Up to n decoded records (all when None), and the records lost
        since the last take."""
        if not self.chunks:
            out = np.empty(0, self.dtype)
        else:
            allr = self.chunks[0] if len(self.chunks) == 1 else \
                np.concatenate(self.chunks)
            if n is None or n >= len(allr):
                out, self.chunks = allr, []
            else:
                out, self.chunks = allr[:n], [allr[n:]]
        self.count -= len(out)
        lost, self.pending_lost = self.pending_lost, 0
        return out, lost

    def finish(self) -> None:
        """The stream ended: raise ProtocolError if it ended inside the
        header or a record."""
        if self.header is None:
            raise ProtocolError(f"the stream ended after {len(self.buf)} "
                                "bytes, inside its 16-byte header")
        if self.buf:
            raise ProtocolError(f"the stream ended inside a record "
                                f"({len(self.buf)} of {self.size} bytes)")
