# SPDX-License-Identifier: GPL-2.0-only
"""Captures through ``xdpctl extract``: the same XDP program, the same
records and flows as the daemon's."""
import os
import shutil
import subprocess
from typing import Any, Dict, List, Optional, Union

import pandas as pd

from ._batch import Batch, Decoder
from ._errors import BadOptions, CaptureError, XppError

PathLike = Union[str, "os.PathLike[str]"]

# option: (flag, kind, low, high) for ints, (flag, choices) for words;
# with --flows only, as xdpctl(8) says.
_FLOW_OPTIONS: Dict[str, tuple] = {
    "idle_timeout": ("--idle-timeout", int, 1, 315360000),
    "active_timeout": ("--active-timeout", int, 1, 315360000),
    "accounting": ("--accounting", ("link", "ip", "transport", "payload")),
    "splt": ("--splt", int, 1, 32),
    "flow_table_size": ("--flow-table-size", int, 1024, 16777216),
}


def _xdpctl(path: Optional[PathLike]) -> str:
    p = os.fspath(path) if path is not None else \
        os.environ.get("XDPCTL", "xdpctl")
    found = shutil.which(p)
    if found is None:
        raise XppError(f"xdpctl: {p!r} not found (install xdp-preprocd, "
                       "or pass xdpctl= or set XDPCTL)")
    return found


def _args(flows: bool, options: Dict[str, Any]) -> List[str]:
    args: List[str] = []
    for name, v in options.items():
        spec = _FLOW_OPTIONS.get(name)
        if spec is None:
            raise BadOptions(f"extract: unknown option {name!r}; options: "
                             + ", ".join(sorted(_FLOW_OPTIONS)))
        if v is None:
            continue
        if not flows:
            raise BadOptions(f"extract: {name} goes with flows=True")
        if len(spec) == 2:
            if v not in spec[1]:
                raise BadOptions(f"extract: {name} must be one of "
                                 f"{', '.join(spec[1])}, not {v!r}")
        else:
            lo, hi = spec[2], spec[3]
            if isinstance(v, bool) or not isinstance(v, int):
                raise BadOptions(f"extract: {name} must be an int from {lo} "
                                 f"to {hi}, not {v!r}")
            if not lo <= v <= hi:
                raise BadOptions(f"extract: {name} {v} is out of range: "
                                 f"{lo} to {hi}")
        args += [spec[0], str(v)]
    return args


def extract_array(path: PathLike, flows: bool = False, *,
                  xdpctl: Optional[PathLike] = None,
                  **options: Any) -> Batch:
    """The records (or with ``flows=True`` the flows) of a capture, as a
    :class:`Batch`: a structured array of dtype :data:`RECORD` (or
    :data:`FLOW_RECORD`), shape (n,), wall-clock times (the capture's
    timestamps, ns since the epoch).

    Runs ``xdpctl extract PATH --format binary --quiet`` (plus ``--flows``
    and the options) and reads its output with the package's dtypes.
    ``xdpctl``: the program (default ``$XDPCTL``, else ``xdpctl`` on
    PATH); it needs root or CAP_BPF and CAP_PERFMON.

    Options, with ``flows=True`` only (xdpctl(8)): ``idle_timeout``,
    ``active_timeout`` (seconds, 1 to 315360000), ``accounting``
    (``"link"``, ``"ip"``, ``"transport"``, ``"payload"``), ``splt``
    (1 to 32), ``flow_table_size`` (1024 to 16777216).

    Raises :class:`BadOptions` (an unknown option, a bad value, a flow
    option without ``flows``), :class:`CaptureError` with xdpctl's message
    (missing, damaged or refused capture; ``returncode``),
    :class:`XppError` (no xdpctl).
    """
    p = os.fspath(path)
    if not isinstance(flows, bool):
        raise BadOptions(f"extract: flows must be True or False, not "
                         f"{flows!r}")
    cmd = [_xdpctl(xdpctl), "extract", p, "--format", "binary", "--quiet"]
    if flows:
        cmd.append("--flows")
    cmd += _args(flows, options)
    try:
        run = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    except OSError as e:
        raise XppError(f"{cmd[0]}: {e.strerror}") from None
    if run.returncode != 0:
        msg = run.stderr.decode(errors="replace").strip() or \
            "failed without a message"
        raise CaptureError(p, run.returncode, msg)
    dec = Decoder(flows)
    dec.feed(run.stdout)
    dec.finish()
    recs, lost = dec.take()
    return Batch(recs, "flows" if flows else "records", dec.wallclock, 0,
                 lost)


def extract(path: PathLike, flows: bool = False, *,
            xdpctl: Optional[PathLike] = None,
            **options: Any) -> pd.DataFrame:
    """The records (or flows) of a capture as a DataFrame, one row each,
    through the same code as ``xdpctl extract``: :func:`extract_array`,
    then :func:`to_pandas` (the columns of ``xdpctl extract --format
    csv``). Arguments and errors as :func:`extract_array`."""
    return extract_array(path, flows, xdpctl=xdpctl, **options).to_pandas()
