# SPDX-License-Identifier: GPL-2.0-only
"""xdp-preprocd from Python: packet and flow records as numpy structured
arrays and pandas DataFrames.

- :class:`Client`: the daemon's control socket (docs/protocol.md):
  ``stats()``, and ``records()`` / ``flows()`` subscriptions that yield
  :class:`Batch` es (structured arrays of :data:`RECORD` or
  :data:`FLOW_RECORD`; ``batch.to_pandas()``).
- :func:`extract`: a capture's records or flows as a DataFrame, through
  ``xdpctl extract`` (:func:`extract_array` for the array).

See docs/python.md.
"""
from ._batch import Batch, Decoder, addresses, flag_names, to_pandas
from ._client import DEFAULT_SOCKET, Client, Subscription
from ._dtypes import (ACCOUNTING, END_REASONS, FLAGS, FLOW, FLOW_DIR,
                      FLOW_RECORD, FLOW_VERSION, PKT_TYPE_NONE, RECORD,
                      RECORD_VERSION, STREAM_F_FLOWS, STREAM_F_WALLCLOCK,
                      STREAM_HEADER, STREAM_MAGIC)
from ._errors import (BadOptions, CaptureError, DaemonError,
                      DaemonNotRunning, DaemonPermissionDenied,
                      PermissionDenied, ProtocolError, RecordsLost,
                      StreamTimeout, XppError)
from ._extract import extract, extract_array

__version__ = "0.1.0"

__all__ = [
    "ACCOUNTING", "END_REASONS", "FLAGS", "FLOW", "FLOW_DIR", "FLOW_RECORD",
    "FLOW_VERSION", "PKT_TYPE_NONE", "RECORD", "RECORD_VERSION",
    "STREAM_F_FLOWS", "STREAM_F_WALLCLOCK", "STREAM_HEADER", "STREAM_MAGIC",
    "DEFAULT_SOCKET", "Batch", "Client", "Decoder", "Subscription",
    "addresses", "extract", "extract_array", "flag_names", "to_pandas",
    "BadOptions", "CaptureError", "DaemonError", "DaemonNotRunning",
    "DaemonPermissionDenied", "PermissionDenied", "ProtocolError",
    "RecordsLost", "StreamTimeout", "XppError",
]
