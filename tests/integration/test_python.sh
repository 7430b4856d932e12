#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Python package (python/xdp_preprocd, docs/python.md) with pytest
# (tests/python): the real daemon on a veth pair between two namespaces
# (lib.sh), frames from the build's xpp-send, captures through the build's
# xdpctl. One TAP case per pytest test.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
SRC=${XPP_SRCDIR:?}

require_root
"$PY" -c 'import numpy, pandas, pytest' 2>/dev/null ||
	skip_all "needs python3-numpy, python3-pandas, python3-pytest (scripts/install-deps)"
netns_pair 1 || skip_all "cannot create a veth pair"
printf 'flows = on\nidle_timeout = 1\n' >"$CONF"
start_daemon || { tap_end; exit 1; }
ctl attach xa1 >/dev/null || { fail "attach"; tap_end; exit 1; }

# Bounded: pytest's own run, whatever a test does.
XPP_SOCK=$SOCK XPP_NSB=$NSB XPP_SEND=$SEND XPP_XDPCTL=$XDPCTL \
	PYTHONPATH=$SRC/python PYTHONDONTWRITEBYTECODE=1 \
	timeout 280 "$PY" -m pytest -p no:cacheprovider -q -rfEs \
	--junitxml="$T/junit.xml" "$SRC/tests/python" >"$T/pytest.log" 2>&1
rc=$?
sed 's/^/# /' "$T/pytest.log"
[ -s "$T/junit.xml" ] || { fail "pytest exited $rc without a report"; run_case true; tap_end; exit 1; }

# junit to TAP: a case per test, skips as SKIP.
"$PY" - "$T/junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
n = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    n += 1
    name = case.get("classname", "").split(".")[-1] + "::" + case.get("name")
    if case.find("failure") is not None or case.find("error") is not None:
        print(f"not ok {n} - {name}")
    elif case.find("skipped") is not None:
        msg = case.find("skipped").get("message", "")
        print(f"ok {n} - {name} # SKIP {msg}")
    else:
        print(f"ok {n} - {name}")
print(f"1..{n}")
PY
[ "$rc" = 0 ]
