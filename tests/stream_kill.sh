#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stream_kill.sh - a streaming process (no shared memory) killed with
# SIGKILL leaves its open segment without THRD chunks, which are written
# when a segment is closed; the segment names its threads as they appear
# in it (TNAM, docs/FORMAT.md 17.1), so `ttlog view` of that segment shows
# them. The process is tests/progs/shm_stream_kill, whose threads are
# named killed-w0 and killed-w1.

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/logger_lib.sh
source "$(dirname "$0")/support/logger_lib.sh"

if LOGGER_PROG=shm_stream_kill start_logger TTLOG_DIR="$tmp/snaps" TTLOG_STREAM="$tmp/stream" \
	-- 2 2000 4000; then
	# The program is ready once each thread logged 2000 events; the
	# drainer writes them within a cycle or two: wait (up to 10 s) until
	# the segment holds them all, so that the kill comes after.
	for _ in $(seq 100); do
		n=$("$bin" view "$tmp/stream" 2>/dev/null | grep -c 'kill t=')
		[ "$n" -ge 4000 ] && break
		sleep 0.1
	done
	kill_logger "$pid"
	seg=$(ls "$tmp/stream"/*.ttseg 2>/dev/null | head -n 1)
	expect "SIGKILL leaves one open segment" test "$(ls "$tmp/stream"/*.ttseg | wc -l)" = 1
	expect "... open (no END, no THRD)" grep -q '"open":true' <("$bin" stats -o json "$seg")
	"$bin" view -o json "$seg" >"$tmp/view.json" 2>/dev/null
	for t in 0 1; do
		expect "thread $t's events carry its name" \
			test "$(grep -c "\"thread\":\"killed-w$t\".*\"message\":\"kill t=$t " "$tmp/view.json")" -ge 2000
		expect "... all of them" \
			test "$(grep "\"message\":\"kill t=$t " "$tmp/view.json" | grep -vc "\"thread\":\"killed-w$t\"")" = 0
	done
	expect "the text view names them too" grep -q '\[[0-9]* killed-w1\]' <("$bin" view "$seg" 2>/dev/null)
fi

finish
