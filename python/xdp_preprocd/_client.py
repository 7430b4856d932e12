# SPDX-License-Identifier: GPL-2.0-only
"""The control protocol client (docs/protocol.md): NDJSON requests over
the daemon's Unix socket, and binary subscriptions read into numpy."""
import errno
import json
import os
import select
import socket as _socket
import time
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

from ._batch import Batch, Decoder
from ._errors import (BadOptions, DaemonError, DaemonNotRunning,
                      DaemonPermissionDenied, PermissionDenied, ProtocolError,
                      RecordsLost, StreamTimeout, XppError)

DEFAULT_SOCKET = "/run/xdp-preprocd/control.sock"
"""The daemon's default control socket."""

PathLike = Union[str, "os.PathLike[str]"]


def _connect(path: str, timeout: Optional[float]) -> _socket.socket:
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except FileNotFoundError:
        s.close()
        raise DaemonNotRunning(
            f"{path}: no such socket: is xdp-preprocd running (with this "
            "socket: the 'socket' key or --socket)?") from None
    except ConnectionRefusedError:
        s.close()
        raise DaemonNotRunning(
            f"{path}: connection refused: xdp-preprocd is not running "
            "(the socket is left from an earlier run)") from None
    except PermissionError:
        s.close()
        raise PermissionDenied(
            f"{path}: permission denied: the socket is open to root and "
            "the members of its group (xdp-preprocd)") from None
    except OSError as e:
        s.close()
        if e.errno == errno.ENOTSOCK or e.errno == errno.ECONNREFUSED:
            raise DaemonNotRunning(f"{path}: {e.strerror}: not the socket "
                                   "of a running xdp-preprocd") from None
        raise XppError(f"{path}: {e.strerror or e}") from None
    return s


def _check(reply: Any, line: bytes) -> Dict[str, Any]:
    if not isinstance(reply, dict) or "ok" not in reply:
        raise ProtocolError(f"not a reply of the protocol: {line[:200]!r}")
    if reply["ok"]:
        return reply.get("result", {})
    err = reply.get("error") or {}
    code = str(err.get("code", "unknown"))
    msg = str(err.get("message", ""))
    if code == "permission_denied":
        raise DaemonPermissionDenied(code, msg, reply)
    raise DaemonError(code, msg, reply)


def _parse_line(line: bytes) -> Dict[str, Any]:
    try:
        reply = json.loads(line)
    except ValueError:
        raise ProtocolError(f"the daemon's reply is not JSON: "
                            f"{line[:200]!r}") from None
    return _check(reply, line)


def _opt_int(name: str, v: Any, lo: int, hi: int) -> Optional[int]:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise BadOptions(f"{name} must be an int from {lo} to {hi}, not "
                         f"{v!r}")
    if not lo <= v <= hi:
        raise BadOptions(f"{name} {v} is out of range: {lo} to {hi}")
    return v


def _opt_float(name: str, v: Any, allow_none: bool = True) -> Optional[float]:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise BadOptions(f"{name} must be a number of seconds >= 0, not "
                         f"{v!r}")
    return float(v)


class Subscription(Iterator[Batch]):
    """A binary subscription: iterate for :class:`Batch` es of records or
    flows, until the stream ends (its ``count`` reached, the daemon gone) or
    :meth:`close`. A context manager.

    Attributes:
        reply: the daemon's reply to ``subscribe`` (``record_version``,
            ``record_size``, ``queue``...).
        header: the stream header (``magic``, ``record_version``,
            ``record_size``, ``flags``), once read.
        lost: records (or flows) the stream said it lost so far, in total.
        received: records (or flows) yielded so far.
    """

    def __init__(self, sock: _socket.socket, flows: bool, batch: int,
                 max_wait: float, timeout: Optional[float],
                 on_lost: Optional[Callable[[int, int], None]]):
        self._sock: Optional[_socket.socket] = sock
        self._batch = batch
        self._max_wait = max_wait
        self._timeout = timeout
        self._on_lost = on_lost
        self._eof = False
        self._dec = Decoder(flows, self._lost)
        self.kind = "flows" if flows else "records"
        self.received = 0
        sock.setblocking(False)
        buf = b""
        wait = timeout if timeout is not None else 10.0
        while b"\n" not in buf:
            data = self._recv(wait)
            if data is None:
                self.close()
                raise ProtocolError(f"no reply to subscribe within {wait} s")
            if not data:
                self.close()
                raise ProtocolError("the daemon closed the connection "
                                    "before it replied to subscribe")
            buf += data
        line, rest = buf.split(b"\n", 1)
        try:
            self.reply = _parse_line(line)
        except XppError:
            self.close()
            raise
        # Read at the first next(), where what it tells belongs.
        self._rest = rest

    @property
    def lost(self) -> int:
        return self._dec.lost

    @property
    def header(self) -> Optional[dict]:
        return self._dec.header

    def _lost(self, n: int, total: int) -> None:
        if self._on_lost is not None:
            self._on_lost(n, total)
        else:
            warnings.warn(RecordsLost(
                f"the daemon dropped {n} {self.kind} of this subscription "
                f"(it read too slowly; {total} in all)"),
                stacklevel=3)

    def _recv(self, wait: Optional[float]) -> Optional[bytes]:
        """Bytes from the socket, b"" at its end, None when nothing came
        within wait seconds (None: no limit)."""
        sock = self._sock
        if sock is None:
            return b""
        r, _, _ = select.select([sock], [], [], wait)
        if not r:
            return None
        try:
            return sock.recv(1 << 20)
        except BlockingIOError:
            return None
        except ConnectionResetError:
            return b""

    def __iter__(self) -> "Subscription":
        return self

    def __next__(self) -> Batch:
        if self._rest:
            rest, self._rest = self._rest, b""
            self._dec.feed(rest)
        if self._sock is None and not self._dec.count:
            raise StopIteration
        first = time.monotonic() if self._dec.count else None
        quiet = time.monotonic()
        while not self._eof and self._dec.count < self._batch:
            now = time.monotonic()
            waits = []
            if first is not None:
                waits.append(first + self._max_wait - now)
            if self._timeout is not None:
                waits.append(quiet + self._timeout - now)
            wait = max(0.0, min(waits)) if waits else None
            data = self._recv(wait)
            if data is None:
                if first is not None and \
                        time.monotonic() >= first + self._max_wait:
                    break
                if self._timeout is not None and \
                        time.monotonic() >= quiet + self._timeout:
                    raise StreamTimeout(
                        f"no {self.kind} for {self._timeout} s")
                continue
            if not data:
                self._eof = True
                break
            quiet = time.monotonic()
            self._dec.feed(data)
            if first is None and self._dec.count:
                first = time.monotonic()
        if self._eof and not self._dec.count:
            try:
                self._dec.finish()
            finally:
                self.close()
            raise StopIteration
        recs, lost = self._dec.take(self._batch)
        off = 0
        if not self._dec.wallclock:
            off = time.clock_gettime_ns(time.CLOCK_REALTIME) - \
                time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        self.received += len(recs)
        return Batch(recs, self.kind, self._dec.wallclock, off, lost)

    def close(self) -> None:
        """End the subscription (closes its connection)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._eof = True

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Client:
    """A connection to xdp-preprocd's control socket.

    ``socket``: the socket's path. ``timeout``: seconds to wait for a reply
    (None: no limit). Requests share one connection, opened at the first;
    each subscription opens its own. A context manager (closes the
    connection).

    Errors: :class:`DaemonNotRunning` (no socket, nobody listening),
    :class:`PermissionDenied` (the socket, or a command that needs the admin
    group), :class:`DaemonError` (an error reply: ``code``, ``message``),
    :class:`ProtocolError`, :class:`BadOptions`.
    """

    def __init__(self, socket: PathLike = DEFAULT_SOCKET,
                 timeout: Optional[float] = 10.0):
        self.socket = os.fspath(socket)
        self.timeout = _opt_float("timeout", timeout)
        self._sock: Optional[_socket.socket] = None
        self._buf = b""

    def close(self) -> None:
        """Close the request connection (subscriptions stay)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buf = b""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, cmd: str, **fields: Any) -> Dict[str, Any]:
        """Send one request ``{"cmd": cmd, **fields}`` and return the
        reply's ``result`` (a dict). Raises :class:`DaemonError` with the
        daemon's code and message for an error reply."""
        if not isinstance(cmd, str) or not cmd:
            raise BadOptions(f"cmd must be a command name, not {cmd!r}")
        if cmd == "subscribe":
            raise BadOptions("subscribe turns the connection into a "
                             "stream: use records() or flows()")
        line = json.dumps(dict(cmd=cmd, **fields)).encode() + b"\n"
        if self._sock is None:
            self._sock = _connect(self.socket, self.timeout)
        try:
            self._sock.sendall(line)
            while b"\n" not in self._buf:
                data = self._sock.recv(65536)
                if not data:
                    raise ProtocolError("the daemon closed the connection "
                                        f"without replying to {cmd!r}")
                self._buf += data
        except _socket.timeout:
            self.close()
            raise ProtocolError(f"no reply to {cmd!r} within "
                                f"{self.timeout} s") from None
        except (BrokenPipeError, ConnectionResetError) as e:
            self.close()
            raise ProtocolError(f"the daemon closed the connection: "
                                f"{e.strerror}") from None
        except ProtocolError:
            self.close()
            raise
        except OSError as e:
            self.close()
            raise XppError(f"{self.socket}: {e.strerror or e}") from None
        reply, self._buf = self._buf.split(b"\n", 1)
        return _parse_line(reply)

    def version(self) -> Dict[str, Any]:
        """``version``: the daemon's ``version``, ``protocol``,
        ``record_version``, ``record_size``, ``schema``."""
        return self.request("version")

    def interfaces(self) -> List[Dict[str, Any]]:
        """``list``: the attached interfaces (``name``, ``ifindex``,
        ``mode``, ``prog_id``, ``link_id``, ``attached_s``)."""
        return self.request("list")["interfaces"]

    def stats(self, iface: Optional[str] = None) -> Dict[str, Any]:
        """``stats``: counters of every attached interface (or of
        ``iface``), ``totals``, ``daemon`` and ``subscribers``, as
        docs/protocol.md describes them (counts of packets and records,
        bytes, seconds, ns as the names say). Raises
        :class:`DaemonError` ``not_attached`` for an unknown ``iface``."""
        if iface is None:
            return self.request("stats")
        if not isinstance(iface, str) or not iface:
            raise BadOptions(f"iface must be an interface name, not "
                             f"{iface!r}")
        return self.request("stats", iface=iface)

    def _subscribe(self, kind: str, iface: Optional[str], batch: int,
                   proto: Optional[int], port: Optional[int],
                   count: Optional[int], max_wait: float,
                   timeout: Optional[float],
                   on_lost: Optional[Callable[[int, int], None]]
                   ) -> Subscription:
        req: Dict[str, Any] = {"cmd": "subscribe", "kind": kind,
                               "format": "binary"}
        if iface is not None:
            if not isinstance(iface, str) or not iface:
                raise BadOptions(f"iface must be an interface name, not "
                                 f"{iface!r}")
            req["iface"] = iface
        _opt_int("batch", batch, 1, 1 << 24)
        for name, v, lo, hi in (("proto", proto, 0, 255),
                                ("port", port, 0, 65535),
                                ("count", count, 1, (1 << 63) - 1)):
            if _opt_int(name, v, lo, hi) is not None:
                req[name] = v
        wait = _opt_float("max_wait", max_wait, allow_none=False)
        timeout = _opt_float("timeout", timeout)
        if on_lost is not None and not callable(on_lost):
            raise BadOptions("on_lost must be callable(n, total)")
        s = _connect(self.socket, self.timeout)
        try:
            s.sendall(json.dumps(req).encode() + b"\n")
        except OSError as e:
            s.close()
            raise ProtocolError(f"subscribe: {e.strerror}") from None
        return Subscription(s, kind == "flows", batch, wait or 0.0,
                            timeout, on_lost)

    def records(self, iface: Optional[str] = None, batch: int = 4096, *,
                proto: Optional[int] = None, port: Optional[int] = None,
                count: Optional[int] = None, max_wait: float = 0.2,
                timeout: Optional[float] = None,
                on_lost: Optional[Callable[[int, int], None]] = None
                ) -> Subscription:
        """Subscribe to packet records in the binary format.

        Returns a :class:`Subscription`: iterate it for :class:`Batch` es,
        numpy structured arrays of dtype :data:`RECORD`, shape (n,) with
        1 <= n <= ``batch``: 80-byte records, little-endian fields,
        addresses in network byte order, ``ts_ns`` the kernel's
        ``CLOCK_MONOTONIC`` in ns (``Batch.to_pandas()`` adds wall-clock
        ``ts``).

        ``iface``: that interface's records only (a name); ``proto``
        (0-255), ``port`` (source or destination, 0-65535): select records;
        ``count``: the daemon ends the stream after that many records.
        A batch is handed over when it holds ``batch`` records, or
        ``max_wait`` seconds after its first record came, or at the end of
        the stream. ``timeout``: raise :class:`StreamTimeout` after that
        many seconds without a byte (None: wait for ever).

        Loss (a subscriber slower than the traffic loses records, told in
        the stream): ``on_lost(n, total)`` is called, or a
        :class:`RecordsLost` warning issued; each batch's ``lost`` says
        how many were lost before it, ``Subscription.lost`` in total.

        Raises :class:`BadOptions` for bad arguments, and what
        :class:`Client` raises (``too_many_subscribers`` as a
        :class:`DaemonError`).
        """
        return self._subscribe("records", iface, batch, proto, port, count,
                               max_wait, timeout, on_lost)

    def flows(self, iface: Optional[str] = None, batch: int = 256, *,
              proto: Optional[int] = None, port: Optional[int] = None,
              count: Optional[int] = None, max_wait: float = 0.2,
              timeout: Optional[float] = None,
              on_lost: Optional[Callable[[int, int], None]] = None
              ) -> Subscription:
        """Subscribe to flow records as flows end, in the binary format
        (the daemon needs ``flows = on``).

        Batches are structured arrays of dtype :data:`FLOW_RECORD`, shape
        (n,): 1048-byte records, little-endian, times in ns since the Unix
        epoch, sizes in bytes of the flow's ``accounting``
        (docs/flows.md). ``proto``, ``port`` (either port), ``count``
        (flows), ``max_wait``, ``timeout`` and ``on_lost`` as for
        :meth:`records`.
        """
        return self._subscribe("flows", iface, batch, proto, port, count,
                               max_wait, timeout, on_lost)
