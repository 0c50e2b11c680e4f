#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# live_metrics.sh - the metrics of a running process in shared-memory mode,
# read from outside it (layout 1.3 of docs/SHM-FORMAT.md): `ttlog metrics
# PID` prints them in the Prometheus text format, which Debian's promtool
# must accept without a complaint, with the exact values the process set
# (tests/progs/shm_metrics: a counter, a labelled counter, a gauge and a
# histogram, over two threads' shards); --json and `all` the same; a real
# Prometheus server scrapes `ttlog serve pid:PID`'s /metrics and answers
# PromQL with those values; after SIGKILL, `ttlog recover` gives a file
# whose `ttlog view --metrics` shows them. Errors: a process that is not in
# shared-memory mode, a mapping of layout 1.2 (no metrics: said so), and
# damaged metrics parts (a clear error, never a crash).
#
# promtool and prometheus come with Debian's prometheus package
# (scripts/install-deps.sh); the test fails, saying so, when they are
# missing. Both servers listen on 127.0.0.1 on free ports; an EXIT trap
# stops them and the process, whatever happens.

# shellcheck disable=SC2154
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/serve_lib.sh
source "$(dirname "$0")/support/serve_lib.sh"
# shellcheck source=support/logger_lib.sh
source "$(dirname "$0")/support/logger_lib.sh"
# shellcheck source=support/prometheus_lib.sh
source "$(dirname "$0")/support/prometheus_lib.sh"

for tool in promtool prometheus curl python3; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool" "$tool is needed: install it with scripts/install-deps.sh (Debian's prometheus package brings promtool and prometheus)"
		finish
	fi
done

shm=$tmp/shm
user_dir=$shm/ttlog-$(id -u)
rm -rf "$shm" "$tmp/rec"
shm_env=(TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm" TTLOG_DIR="$tmp/snaps" TTLOG_SERVICE=livesvc)

proc=
stop_all() {
	prometheus_stop
	serve_stop_all
	if [ -n "$proc" ]; then
		kill -KILL "$proc" 2>/dev/null
		wait "$proc" 2>/dev/null
	fi
}
trap stop_all EXIT

metrics() {
	"$bin" metrics --shm-dir "$shm" "$@"
}

# ---------------------------------------------------------------------------
# Help and usage

check "help lists metrics" '~^  metrics ' 0 '' -- "$bin" help
check "metrics --help" '~^Usage: ttlog metrics \[OPTIONS\] PID\.\.\.' 0 '' -- "$bin" metrics --help
check "metrics without a PID" empty.txt 1 "a process id or 'all' is needed" -- "$bin" metrics
check "metrics of a word" empty.txt 1 "'abc' is not a process id" -- "$bin" metrics abc
check "metrics all and a PID" empty.txt 1 "'all' stands alone" -- "$bin" metrics all 1
check "metrics --bogus" empty.txt 1 "bogus" -- "$bin" metrics --bogus 1
check "metrics of a process without a mapping" empty.txt 2 \
	"process $$ is not in shared-memory mode: no mapping .*TTLOG_SHARED_MEMORY=1" -- metrics $$
check "metrics of no process" empty.txt 2 "no process with pid 99999999" -- metrics 99999999
check "metrics all with no process" empty.txt 0 "no running process with metrics" -- metrics all

# ---------------------------------------------------------------------------
# A live process

if ! LOGGER_PROG=shm_metrics start_logger "${shm_env[@]}" -- 1 1; then
	finish
fi
proc=$pid
host=$(hostname)
labels="service=\"livesvc\",host=\"$host\",pid=\"$proc\""

check "metrics PID" - 0 '' -- metrics "$proc"
metrics "$proc" >"$tmp/live.txt" 2>"$tmp/live.err"
promtool_clean "promtool accepts ttlog metrics PID" "$tmp/live.txt"
expect "a counter summed over two threads" grep -qxF "jobs_done_total{$labels} 42" "$tmp/live.txt"
expect "a labelled counter" grep -qxF "http_requests_total{method=\"GET\",$labels} 7" "$tmp/live.txt"
expect "a gauge: the value set last" grep -qxF "queue_depth{$labels} 17.5" "$tmp/live.txt"
expect "a histogram's count" grep -qxF "latency_seconds_count{$labels} 4" "$tmp/live.txt"
expect "a histogram's sum" grep -qxF "latency_seconds_sum{$labels} 4.75" "$tmp/live.txt"
expect "a histogram's bucket at 0.25" grep -qxF "latency_seconds_bucket{$labels,le=\"0.25\"} 3" "$tmp/live.txt"
expect "a histogram's bucket at 4" grep -qxF "latency_seconds_bucket{$labels,le=\"4\"} 4" "$tmp/live.txt"
expect "HELP names the source line" grep -qE '^# HELP jobs_done_total ttlog metric \(shm_metrics\.c:[0-9]+\)$' "$tmp/live.txt"

metrics --json "$proc" >"$tmp/live.json" 2>"$tmp/live.err"
expect "--json: the values, with pid and service" python3 - "$tmp/live.json" "$proc" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["name"], tuple(sorted(r["labels"].items()))): r for r in rows}
pid = int(sys.argv[2])
assert all(r["pid"] == pid and r["service"] == "livesvc" for r in rows), rows
assert by[("jobs.done", ())]["value"] == 42
assert by[("http.requests", (("method", "GET"),))]["value"] == 7
assert by[("queue.depth", ())]["value"] == 17.5
h = by[("latency.seconds", ())]
assert (h["count"], h["sum"], h["min"], h["max"]) == (4, 4.75, 0.25, 4), h
PY

metrics all >"$tmp/all.txt" 2>"$tmp/all.err"
expect "all: the process's series" grep -qxF "jobs_done_total{$labels} 42" "$tmp/all.txt"
promtool_clean "promtool accepts ttlog metrics all" "$tmp/all.txt"

# The snapshot of the live process holds the metrics too (its MTRC chunk).
snap_file=$("$bin" snap --shm-dir "$shm" --dir "$tmp/snap" "$proc" 2>"$tmp/snap.err")
"$bin" view --metrics -o json "$snap_file" >"$tmp/snap.json" 2>&1
expect "ttlog snap PID: the counter in the snapshot" grep -q '"name":"jobs.done".*"value":42' "$tmp/snap.json"

# ---------------------------------------------------------------------------
# Layout 1.2 (a mapping without metrics): the minor version set to 2 in the
# running process's own mapping, then put back.

set_minor() { # VALUE
	python3 - "$user_dir/$proc.ttshm" "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(10)
    f.write(struct.pack("<H", int(sys.argv[2])))
PY
}
set_minor 2
check "metrics of a layout 1.2 mapping" empty.txt 2 \
	"process $proc its mapping is layout 1\\.2, which holds no metrics" -- metrics "$proc"
check "metrics all leaves a layout 1.2 mapping out" empty.txt 0 \
	"process $proc left out: its mapping is layout 1\\.2" -- metrics all
set_minor 3

# ---------------------------------------------------------------------------
# A Prometheus server scrapes ttlog serve pid:PID

serve_start main "pid:$proc" --shm-dir "$shm"
u=$url_main
curl -s -o "$tmp/served.txt" --max-time 30 "$u/metrics"
promtool_clean "promtool accepts /metrics of pid:PID" "$tmp/served.txt"
expect "/metrics of pid:PID: the counter" grep -qxF "jobs_done_total{$labels} 42" "$tmp/served.txt"

prometheus_start live "${u#http://}"

if ! prometheus_wait "jobs_done_total{job=\"live\",pid=\"$proc\"}"; then
	fail "prometheus scraped /metrics of pid:PID" "no answer; its log: $(tail -c 600 "$tmp/prometheus.log")"
else
	expect "PromQL: the live counter" test "$got" = 42
	expect "PromQL: the live gauge" test "$(promql 'queue_depth{job="live",service="livesvc"}')" = 17.5
	expect "PromQL: the live histogram's count" test "$(promql 'latency_seconds_count{job="live"}')" = 4
fi
prometheus_stop
prom_pid=
serve_stop_all

# ---------------------------------------------------------------------------
# SIGKILL, then recover: the last values are in the recovered file

kill_logger "$proc"
cp --sparse=always "$user_dir/$proc.ttshm" "$tmp/killed.ttshm"
check "metrics of a killed process" empty.txt 2 "process $proc has exited .*ttlog recover $proc" -- \
	metrics "$proc"
check "recover the killed process" "~^$tmp/rec/ttlog-$proc-.*-recovered\\.ttlog\$" 0 '' -- \
	"$bin" recover --shm-dir "$shm" --dir "$tmp/rec" "$proc"
rec=$(ls "$tmp/rec/ttlog-$proc-"*-recovered.ttlog 2>/dev/null | head -n 1)
"$bin" view --metrics "$rec" >"$tmp/rec.txt" 2>&1
expect "view --metrics: the counter" grep -qE '^  jobs\.done +42 ' "$tmp/rec.txt"
expect "view --metrics: the labelled counter" grep -qE '^  http\.requests\{method="GET"\} +7 ' "$tmp/rec.txt"
expect "view --metrics: the gauge" grep -qE '^  queue\.depth +17\.5 ' "$tmp/rec.txt"
expect "view --metrics: the histogram" grep -qE '^  latency\.seconds +4 +4\.75 +0\.25 +4 ' "$tmp/rec.txt"
"$bin" stats "$rec" >"$tmp/rec.stats" 2>&1
expect "the recovered file has the service" grep -q livesvc "$tmp/rec.stats"

# ---------------------------------------------------------------------------
# Damaged metrics parts: a precise error, the rest of the snapshot written

# damage NAME PYTHON: the copy of the killed mapping, changed by PYTHON
# (m: the file's bytes, mo: the metrics part's offset, e0: entry 0's).
damage() {
	python3 - "$tmp/killed.ttshm" "$tmp/$1.ttshm" "$2" <<'PY'
import struct, sys
m = bytearray(open(sys.argv[1], "rb").read())
mo = struct.unpack_from("<Q", m, 248)[0]
e0 = mo + 192
exec(sys.argv[3])
open(sys.argv[2], "wb").write(m)
PY
}
damage entry_size 'struct.pack_into("<I", m, mo, 7)'
check "a metrics part with a bad entry size" "~recovered\\.ttlog\$" 2 \
	"offset [0-9]+: metrics part .*entry size is not 1280" -- \
	"$bin" recover --keep --dir "$tmp/bad1" "$tmp/entry_size.ttshm"
damage shards 'struct.pack_into("<Q", m, mo + 16, len(m))'
check "shards past the end of the file" "~recovered\\.ttlog\$" 2 \
	"metrics part .*the shards are not within the file" -- \
	"$bin" recover --keep --dir "$tmp/bad2" "$tmp/shards.ttshm"
damage offset 'struct.pack_into("<I", m, e0 + 8, 0xfffffff8)'
check "a metric whose slots are past its shard" "~recovered\\.ttlog\$" 2 \
	"metric entry 0 .*its slots are not an 8-byte aligned place within a shard" -- \
	"$bin" recover --keep --dir "$tmp/bad3" "$tmp/offset.ttshm"
damage labels 'struct.pack_into("<I", m, e0 + 20, 1024); m[e0 + 256:e0 + 1280] = b"x" * 1024'
check "a metric whose labels are not terminated" "~recovered\\.ttlog\$" 2 \
	"metric entry 0 .*labels do not end with a NUL" -- \
	"$bin" recover --keep --dir "$tmp/bad4" "$tmp/labels.ttshm"
bad=$(ls "$tmp/bad3/"*.ttlog 2>/dev/null | head -n 1)
"$bin" view --metrics -o json "$bad" >"$tmp/bad3.json" 2>&1
expect "the other metrics of a damaged part are kept" grep -q '"name":"queue.depth".*"value":17.5' "$tmp/bad3.json"
damage count 'struct.pack_into("<I", m, mo + 8, 0xffffffff)'
check "an entry count past the table" - 0 '' -- \
	"$bin" recover --keep --dir "$tmp/bad5" "$tmp/count.ttshm"

finish
