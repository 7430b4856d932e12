# SPDX-License-Identifier: GPL-2.0-only
"""Fixtures of the package's tests. tests/integration/test_python.sh runs
them: it builds the namespaces and veth pair (tests/integration/lib.sh),
starts the real daemon attached to xa1 and passes, in the environment,
XPP_SOCK (its socket), XPP_NSB (the namespace of the sending side),
XPP_SEND (tests/xpp-send), XPP_XDPCTL and XPP_SRCDIR. Without them the
tests that need the daemon or root are skipped."""
import os
import subprocess
import sys

import pytest

SRC = os.environ.get("XPP_SRCDIR") or \
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "python"))


class Live:
    """The daemon of the test run and the veth pair it is attached to:
    xa1 (198.18.1.1) in its namespace, frames sent from xb1
    (198.18.1.2) to 198.18.1.9."""

    iface = "xa1"
    src = "198.18.1.2"
    dst = "198.18.1.9"

    def __init__(self):
        self.sock = os.environ["XPP_SOCK"]
        self.nsb = os.environ["XPP_NSB"]
        self.send_tool = os.environ["XPP_SEND"]

    def send(self, count, kind, *args):
        """count frames of kind from xb1 (bounded: 20 s)."""
        subprocess.run(["ip", "netns", "exec", self.nsb, self.send_tool,
                        "--iface", "xb1", "--count", str(count), "--kind",
                        kind, "--src", self.src, "--dst", self.dst,
                        "--max-seconds", "10", *map(str, args)],
                       check=True, stdout=subprocess.DEVNULL, timeout=20)


@pytest.fixture(scope="session")
def live():
    if "XPP_SOCK" not in os.environ:
        pytest.skip("needs the daemon (tests/integration/test_python.sh)")
    return Live()


@pytest.fixture(scope="session")
def xdpctl():
    p = os.environ.get("XPP_XDPCTL")
    if not p or os.geteuid() != 0:
        pytest.skip("needs root and the build's xdpctl "
                    "(tests/integration/test_python.sh)")
    return p


@pytest.fixture(scope="session")
def src():
    return SRC
