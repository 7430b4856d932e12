#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs one libFuzzer target for SECONDS on a private copy of its corpus
# (new inputs go to OUT_DIR, the seeds in the source tree stay as they are).
#   run-fuzz.sh TARGET SEED_DIR OUT_DIR SECONDS
set -eu
target=$1 seeds=$2 out=$3 secs=$4
mkdir -p "$out"
exec "$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
	-print_final_stats=1 "$out" "$seeds"
