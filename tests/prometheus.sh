#!/usr/bin/env bash
# prometheus.sh - ttlog's Prometheus text against Debian's prometheus
# package: promtool (`promtool check metrics`, the format and the naming
# rules) must accept, without a single complaint, what
# ttlog_metrics_write_prometheus() writes in a program (tests/progs/prom_write).
#
# promtool comes with the prometheus package (scripts/install-deps.sh); the
# test fails, saying so, when it is missing.

# shellcheck disable=SC2154
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

if ! command -v promtool >/dev/null; then
	fail "promtool" "promtool is needed: install Debian's prometheus package (scripts/install-deps.sh)"
	finish
fi

# promtool check metrics: exit 0 and nothing said, else the test names what it said.
promtool_clean() { # NAME FILE
	local said rc
	said=$(promtool check metrics <"$2" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$said" ]; then
		fail "$1" "promtool check metrics exited $rc: $said"
	else
		passed=$((passed + 1))
	fi
}

# ---------------------------------------------------------------------------
# ttlog_metrics_write_prometheus() in a program

"$progs/prom_write" >"$tmp/write.txt" 2>"$tmp/write.err" ||
	fail "prom_write" "exited $?: $(cat "$tmp/write.err")"
promtool_clean "promtool accepts ttlog_metrics_write_prometheus()" "$tmp/write.txt"
# The program's counters get _total; one that has it keeps its name.
expect "a counter gets _total" grep -qx 'http_requests_total{method="GET"} 1000' "$tmp/write.txt"
expect "a counter named _total keeps it" grep -qx 'jobs_done_total 7' "$tmp/write.txt"
expect "ttlog's own counters end in _total" grep -qx '# TYPE ttlog_events_written_total counter' "$tmp/write.txt"
expect "ring use is a ratio" grep -q '^ttlog_ring_used_ratio{thread="0"} ' "$tmp/write.txt"
expect "a histogram in seconds" grep -qx 'http_latency_seconds_count 1000' "$tmp/write.txt"

finish
