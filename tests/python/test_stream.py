# SPDX-License-Identifier: GPL-2.0-only
"""The client against a scripted peer on a Unix socket: the stream's
header, records cut across reads, loss markers, and the errors each
misbehaviour raises. No daemon, no root."""
import json
import socket
import threading
import time

import numpy as np
import pytest

import xdp_preprocd as xpp


def header(flows=False, flags=None, version=None, size=None, magic=None):
    h = np.zeros(1, xpp.STREAM_HEADER)
    h["magic"] = xpp.STREAM_MAGIC if magic is None else magic
    h["record_version"] = version if version is not None else \
        (xpp.FLOW_VERSION if flows else xpp.RECORD_VERSION)
    h["record_size"] = size if size is not None else \
        (xpp.FLOW_RECORD if flows else xpp.RECORD).itemsize
    h["flags"] = flags if flags is not None else (3 if flows else 0)
    return h.tobytes()


def records(n, start=0):
    r = np.zeros(n, xpp.RECORD)
    r["version"] = xpp.RECORD_VERSION
    r["seq"] = np.arange(start, start + n)
    r["ts_ns"] = 1000 + r["seq"]
    r["ip_version"] = 4
    r["saddr"][:, 10:12] = 0xff
    r["saddr"][:, 12:] = [198, 18, 1, 2]
    r["daddr"][:] = np.frombuffer(
        socket.inet_pton(socket.AF_INET6, "2001:2::9"), np.uint8)
    return r


def marker(lost):
    m = np.zeros(1, xpp.RECORD)
    m["ts_ns"] = lost
    return m.tobytes()


class Peer:
    """A scripted daemon: answers each request line with the next reply of
    the script (bytes, or a list of byte pieces written with a pause
    between them; None holds the connection a second), then closes."""

    def __init__(self, path, script):
        self.path = path
        self.script = script
        self.requests = []
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(4)
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        for reply in self.script:
            c, _ = self.srv.accept()
            with c:
                f = c.makefile("rb")
                self.requests.append(json.loads(f.readline()))
                for piece in reply if isinstance(reply, list) else [reply]:
                    if piece is None:  # hold the connection open a while
                        time.sleep(1)
                        continue
                    c.sendall(piece)
                    time.sleep(0.01)

    def close(self):
        self.t.join(5)
        self.srv.close()


@pytest.fixture
def sock(tmp_path):
    return str(tmp_path / "ctl.sock")


OK_REC = b'{"ok":true,"result":{"format":"binary","record_version":2,' \
         b'"record_size":80,"queue":8192}}\n'


def test_records_cut_anywhere_and_loss_markers(sock):
    body = records(10).tobytes() + marker(5) + records(7, 15).tobytes()
    stream = OK_REC + header() + body
    # Pieces of 1, 7, 79, 81, ... bytes: every record is cut somewhere.
    cuts, pieces, i, k = [1, 7, 79, 81, 160, 3], [], 0, 0
    while i < len(stream):
        n = cuts[k % len(cuts)]
        pieces.append(stream[i:i + n])
        i, k = i + n, k + 1
    peer = Peer(sock, [pieces])
    seen = []
    sub = xpp.Client(sock).records(iface="xa1", batch=4, count=17,
                                   on_lost=lambda n, t: seen.append((n, t)))
    batches = list(sub)
    peer.close()
    assert peer.requests == [{"cmd": "subscribe", "kind": "records",
                              "format": "binary", "iface": "xa1",
                              "count": 17}]
    assert all(1 <= len(b) <= 4 for b in batches)
    got = np.concatenate(batches)
    assert got["seq"].tolist() == list(range(10)) + list(range(15, 22))
    assert seen == [(5, 5)]
    assert sub.lost == 5 and sum(b.lost for b in batches) == 5
    assert sub.received == 17
    assert sub.header["flags"] == 0 and not batches[0].wallclock
    df = batches[0].to_pandas()
    assert df["src"].tolist() == ["198.18.1.2"] * len(df)
    assert df["dst"].tolist() == ["2001:2::9"] * len(df)
    assert df["ktime_ns"].tolist() == (1000 + got["seq"][:len(df)]).tolist()


def test_loss_without_callback_warns(sock):
    peer = Peer(sock, [OK_REC + header() + marker(3) +
                       records(2).tobytes()])
    with pytest.warns(xpp.RecordsLost, match="dropped 3 records"):
        batches = list(xpp.Client(sock).records())
    peer.close()
    assert [len(b) for b in batches] == [2] and batches[0].lost == 3


def test_flow_stream_and_markers(sock):
    f = np.zeros(3, xpp.FLOW_RECORD)
    f["version"] = [1, 0, 1]
    f["flow"]["bidir"]["packets"] = [4, 9, 6]
    f["end_reason"] = 1
    f["splt_max"] = 2
    f["flow"]["splt_len"] = [1, 0, 2]
    f["flow"]["splt_ps"][:, :2] = [[60, 0], [0, 0], [60, 70]]
    peer = Peer(sock, [b'{"ok":true,"result":{"kind":"flows"}}\n' +
                       header(flows=True) + f.tobytes()])
    lost = []
    sub = xpp.Client(sock).flows(on_lost=lambda n, t: lost.append(n))
    b = np.concatenate(list(sub))
    peer.close()
    assert b["flow"]["bidir"]["packets"].tolist() == [4, 6] and lost == [9]
    df = xpp.to_pandas(b)
    assert df["bidirectional_packets"].tolist() == [4, 6]
    assert df["end_reason"].tolist() == ["idle", "idle"]
    assert df["splt_ps"].tolist() == [[60, -1], [60, 70]]


@pytest.mark.parametrize("stream, message", [
    (header(magic=0x1234), "bad stream magic"),
    (header(version=1, size=72), "version 1, 72 bytes"),
    (header(flows=True), "a stream of flows where records were asked"),
    (header() + records(1).tobytes()[:50], "ended inside a record"),
    (header()[:9], "inside its 16-byte header"),
], ids=["magic", "version", "kind", "cut_record", "cut_header"])
def test_bad_streams(sock, stream, message):
    peer = Peer(sock, [OK_REC + stream])
    with pytest.raises(xpp.ProtocolError, match=message):
        list(xpp.Client(sock).records())
    peer.close()


def test_error_replies(sock):
    peer = Peer(sock, [
        b'{"ok":false,"error":{"code":"not_attached","message":"eth9 is '
        b'not attached"}}\n',
        b'{"ok":false,"error":{"code":"permission_denied","message":"root '
        b'only"}}\n',
        b'hello\n',
        b'{"ok":false,"error":{"code":"too_many_subscribers","message":'
        b'"64 subscribers"}}\n',
        b'',
    ])
    c = xpp.Client(sock)
    with pytest.raises(xpp.DaemonError) as e:
        c.stats("eth9")
    assert e.value.code == "not_attached"
    assert e.value.message == "eth9 is not attached"
    c.close()
    with pytest.raises(PermissionError) as e:
        c.request("detach", all=True)
    assert isinstance(e.value, xpp.DaemonError)
    assert e.value.code == "permission_denied"
    c.close()
    with pytest.raises(xpp.ProtocolError, match="not JSON"):
        c.version()
    c.close()
    with pytest.raises(xpp.DaemonError, match="too_many_subscribers"):
        c.records()
    with pytest.raises(xpp.ProtocolError, match="closed the connection"):
        c.version()
    peer.close()


def test_no_daemon(tmp_path):
    with pytest.raises(xpp.DaemonNotRunning, match="no such socket"):
        xpp.Client(tmp_path / "none.sock").stats()
    # A socket file nobody listens on: left by a daemon that died.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "stale.sock"))
    stale.close()
    with pytest.raises(ConnectionError, match="connection refused"):
        xpp.Client(str(tmp_path / "stale.sock")).stats()
    with pytest.raises(xpp.DaemonNotRunning):
        xpp.Client(str(tmp_path / "none.sock")).records()


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch=0), "batch 0 is out of range"),
    (dict(proto=256), "proto 256 is out of range"),
    (dict(port=-1), "port -1"),
    (dict(port="53"), "port must be an int"),
    (dict(count=0), "count 0"),
    (dict(iface=""), "iface must be"),
    (dict(max_wait=-1), "max_wait"),
    (dict(on_lost=3), "on_lost must be callable"),
])
def test_bad_options(tmp_path, kwargs, message):
    with pytest.raises(xpp.BadOptions, match=message):
        xpp.Client(tmp_path / "none.sock").records(**kwargs)
    with pytest.raises(ValueError):
        xpp.Client(tmp_path / "none.sock").flows(**kwargs)


def test_timeout(sock):
    peer = Peer(sock, [[OK_REC + header(), None]])
    with pytest.raises(xpp.StreamTimeout, match="no records for 0.3 s"):
        with xpp.Client(sock).records(timeout=0.3) as sub:
            t0 = time.monotonic()
            next(sub)
    assert time.monotonic() - t0 < 2
    peer.close()


def test_batch_is_an_array_of_records():
    b = xpp.Batch(records(5), "records", False, 7, 2)
    # Slices and selections of records stay batches, with what they know.
    s = b[b["seq"] > 1]
    assert isinstance(s, xpp.Batch) and len(s) == 3
    assert (s.kind, s.wallclock, s.wall_offset_ns, s.lost) == \
        ("records", False, 7, 2)
    # Fields and what is computed from them are plain numpy.
    assert type(b["seq"]) is np.ndarray
    assert type(b["frame_len"].mean()) is np.float64
    assert type(b["seq"] + 1) is np.ndarray
    df = b.to_pandas()
    assert df["ts_ns"].tolist() == (b["ts_ns"] + 7).tolist()
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"
    with pytest.raises(xpp.BadOptions, match="neither RECORD nor"):
        xpp.to_pandas(b["seq"])


def test_loss_as_an_error_keeps_the_records(sock):
    """A RecordsLost warning turned into an exception interrupts the
    iteration, and the records that came with the marker are still
    there at the next call."""
    import warnings
    peer = Peer(sock, [OK_REC + header() + records(2).tobytes() +
                       marker(4) + marker(6) + records(3, 12).tobytes()])
    totals = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", xpp.RecordsLost)
        sub = xpp.Client(sock).records()
        with pytest.raises(xpp.RecordsLost, match="dropped 4 .* 4 in all"):
            list(sub)
    got = np.concatenate(list(sub))
    peer.close()
    assert got["seq"].tolist() == [0, 1, 12, 13, 14]
    assert sub.lost == 10
    # The running total, marker by marker.
    dec = xpp.Decoder(False, lambda n, t: totals.append((n, t)))
    dec.feed(header() + marker(4) + marker(6) + records(1).tobytes())
    assert totals == [(4, 4), (6, 10)] and dec.count == 1
