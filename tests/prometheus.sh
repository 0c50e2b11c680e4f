#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# prometheus.sh - ttlog's Prometheus text against Debian's prometheus
# package: promtool (`promtool check metrics`, the format and the naming
# rules) must accept, without a single complaint, what
# ttlog_metrics_write_prometheus() writes in a program (tests/progs/prom_write),
# and what `ttlog serve` answers on /metrics for a snapshot of the same
# metrics. Then a real Prometheus server scrapes that endpoint and answers
# PromQL queries through its HTTP API with the program's values.
#
# promtool and prometheus come with Debian's prometheus package
# (scripts/install-deps.sh); the test fails, saying so, when they are
# missing. Both servers listen on 127.0.0.1 on free ports, Prometheus keeps
# its data in the test's scratch directory, and an EXIT trap stops both
# whatever happens.

# shellcheck disable=SC2154
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/serve_lib.sh
source "$(dirname "$0")/support/serve_lib.sh"
# shellcheck source=support/prometheus_lib.sh
source "$(dirname "$0")/support/prometheus_lib.sh"

for tool in promtool prometheus curl python3; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool" "$tool is needed: install it with scripts/install-deps.sh (Debian's prometheus package brings promtool and prometheus)"
		finish
	fi
done

stop_all() {
	prometheus_stop
	serve_stop_all
}
trap stop_all EXIT

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

# ---------------------------------------------------------------------------
# GET /metrics of `ttlog serve`

data=$tmp/data
mkdir -p "$data"
"$progs/prom_write" "$data" >/dev/null 2>"$tmp/snap.err" || fail "prom_write DIR" "exited $?: $(cat "$tmp/snap.err")"
serve_start main "$data"
u=$url_main
curl -s -D "$tmp/metrics.head" -o "$tmp/metrics.txt" --max-time 30 "$u/metrics"
expect "/metrics is Prometheus text" grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/metrics.head"
promtool_clean "promtool accepts /metrics" "$tmp/metrics.txt"
expect "/metrics: a counter with the process's labels" \
	grep -qE '^http_requests_total\{method="GET",service="prom_write",host="[^"]*",pid="[0-9]+"\} 1000$' "$tmp/metrics.txt"
expect "/metrics: a label value escaped" grep -qF 'path="/a\"b\\c"' "$tmp/metrics.txt"
expect "/metrics: the file's time" grep -q '^ttlog_file_timestamp_seconds{service="prom_write",' "$tmp/metrics.txt"
expect "/metrics: histogram +Inf" grep -qE '^http_latency_seconds_bucket\{.*le="\+Inf"\} 1000$' "$tmp/metrics.txt"
check "/metrics refuses a foreign Host" - 0 '' -- test "$(status "$u/metrics" -H 'Host: example.com')" = 421

# ---------------------------------------------------------------------------
# A Prometheus server scrapes it

prometheus_start ttlog "${u#http://}"

# Wait (up to 60 s) for the first scrape that has the counter.
if ! prometheus_wait 'sum(http_requests_total{job="ttlog"})'; then
	fail "prometheus scraped /metrics" "no answer; its log: $(tail -c 600 "$tmp/prometheus.log")"
	finish
fi
expect "PromQL: the sum of a counter" test "$got" = 1005
expect "PromQL: one label set" test "$(promql 'http_requests_total{job="ttlog",method="GET",service="prom_write"}')" = 1000
expect "PromQL: the target is up" test "$(promql 'up{job="ttlog"}')" = 1
expect "PromQL: a gauge" test "$(promql 'queue_depth{job="ttlog"}')" = 17.5
expect "PromQL: a histogram's count" test "$(promql 'http_latency_seconds_count{job="ttlog"}')" = 1000
expect "PromQL: a quantile from the buckets" test "$(promql 'histogram_quantile(0.5, http_latency_seconds_bucket{job="ttlog"})')" = 0.5
expect "PromQL: ttlog's own counter" test "$(promql 'ttlog_snapshots_written_total{job="ttlog"}')" = 0

finish
