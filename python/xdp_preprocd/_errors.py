# SPDX-License-Identifier: GPL-2.0-only
"""Exceptions and warnings of the package. Every exception is an
:class:`XppError`; most are also the builtin exception of their kind, so
``except PermissionError`` or ``except ValueError`` work too."""
from typing import Optional


class XppError(Exception):
    """Base of every exception this package raises."""


class DaemonNotRunning(XppError, ConnectionError):
    """The control socket does not exist, or nobody listens on it."""


class PermissionDenied(XppError, PermissionError):
    """The socket may not be opened by this user, or the daemon refused a
    command that needs root or its admin group (then :attr:`code` is
    ``"permission_denied"``)."""

    code: str = ""


class ProtocolError(XppError):
    """The daemon's replies or stream do not follow docs/protocol.md: not
    JSON, a bad stream header, a stream cut inside a record."""


class DaemonError(XppError):
    """The daemon answered a request with an error.

    Attributes: ``code``, one of the stable codes of docs/protocol.md
    ("Error codes"), such as ``"not_attached"``; ``message``, the daemon's
    text; ``reply``, the whole reply object.
    """

    def __init__(self, code: str, message: str, reply: Optional[dict] = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reply = reply or {}


class DaemonPermissionDenied(DaemonError, PermissionDenied):
    """The daemon answered ``permission_denied``."""


class BadOptions(XppError, ValueError):
    """An argument of this package's functions is out of range, of the
    wrong type or unknown; the message names it."""


class CaptureError(XppError):
    """``xdpctl extract`` failed: the capture is missing, damaged or of a
    kind it refuses. ``message`` is xdpctl's own, ``returncode`` its exit
    status (docs/xdpctl.8), ``path`` the capture."""

    def __init__(self, path: str, returncode: int, message: str):
        super().__init__(f"{path}: {message} (xdpctl exit status "
                         f"{returncode})")
        self.path = path
        self.returncode = returncode
        self.message = message


class StreamTimeout(XppError, TimeoutError):
    """A subscription stayed silent longer than its ``timeout``."""


class RecordsLost(UserWarning):
    """Warned when a stream says records or flows were lost (the
    subscriber read too slowly), unless an ``on_lost`` callback was given.
    """
