#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ship_otlp.sh - `ttlog ship otlp` against a local OTLP/HTTP receiver
# (support/otlp_receiver.mjs, started by this test on 127.0.0.1 on a free
# port), whose kept requests are decoded with protobufjs and the official
# OpenTelemetry .proto files of an npm package (otlp/package-lock.json pins
# it; npm ci installs it into the build tree, as the browser test does):
#   - the shop example's files shipped in batches (protobuf, with an
#     Authorization header): log records per service equal the events of
#     `ttlog view` on the same store, every field of every event arrived, a
#     trace crossing the three processes has its spans and parent links,
#     the metric values (a counter, histograms) and the crash arrived;
#   - a second run sends nothing, also for threads of indexes no process
#     makes;
#   - the stream alone as OTLP/JSON, gzip-compressed, to a receiver that
#     answers 503 with Retry-After twice, then 200: every event once, per
#     service the count of `ttlog stats`, each JSON member one the official
#     definitions have;
#   - a 400 fails with the collector's message and moves no cursor; a
#     partial success is counted and shown;
#   - --follow ships a stream while it is written.
# A missing node or npm, or an npm ci that fails, is a failure, never a skip.

set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=support/cli_lib.sh
source "$here/support/cli_lib.sh"

shop=${TTLOG_EXAMPLES:?TTLOG_EXAMPLES must name the directory of the examples}/shop
[ -x "$shop" ] || { fail "the shop example is built" "$shop is missing"; finish; }
for var in TTLOG_DIR TTLOG_SHARED_MEMORY TTLOG_SHARED_DIR TTLOG_RING_SIZE TTLOG_MEMORY_CAP \
	TTLOG_WINDOW TTLOG_LEVEL TTLOG_SAMPLE TTLOG_MAX_SNAPSHOTS TTLOG_MAX_SNAPSHOT_BYTES TTLOG_SERVICE \
	TTLOG_STREAM TTLOG_STREAM_LEVEL TTLOG_STREAM_POLICY TTLOG_SEGMENT_SIZE TTLOG_SEGMENT_AGE; do
	unset "$var"
done
for tool in node npm flock python3 curl; do
	command -v "$tool" >/dev/null || { fail "$tool" "$tool is needed: run scripts/install-deps.sh --test"; finish; }
done

# The decoder's packages, into the build tree; npm ci again only when the
# lock changed.
modules=$(cd "$(dirname "$bin")" && pwd)/otlp-test
mkdir -p "$modules"
if ! (
	flock 9
	if ! cmp -s "$here/otlp/package-lock.json" "$modules/package-lock.json" ||
		[ ! -f "$modules/node_modules/protobufjs/package.json" ]; then
		cp "$here/otlp/package.json" "$here/otlp/package-lock.json" "$modules/"
		(cd "$modules" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1 ||
			{ rm -f "$modules/package-lock.json"; exit 1; }
	fi
) 9>"$modules.lock"; then
	fail "npm ci" "could not install protobufjs and the OpenTelemetry protos:" "$(tail -5 "$tmp/npm.log")"
	finish
fi

# Receivers: start_receiver NAME sets url_NAME; all are stopped on exit.
receiver_pids=()
ship_pid=
prog_pid=
stop_all() {
	[ -z "$ship_pid" ] || { kill -KILL "$ship_pid" 2>/dev/null; wait "$ship_pid" 2>/dev/null; }
	[ -z "$prog_pid" ] || { kill -KILL "$prog_pid" 2>/dev/null; wait "$prog_pid" 2>/dev/null; }
	for p in "${receiver_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
trap stop_all EXIT
start_receiver() {
	local name=$1
	node "$here/support/otlp_receiver.mjs" "$tmp/$name.port" "$tmp/$name" "$modules" \
		>"$tmp/$name.log" 2>&1 &
	receiver_pids+=($!)
	for _ in $(seq 1 300); do
		[ -s "$tmp/$name.port" ] && break
		kill -0 "$!" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -s "$tmp/$name.port" ]; then
		fail "receiver $name starts" "$(cat "$tmp/$name.log")"
		finish
	fi
	printf -v "url_$name" 'http://127.0.0.1:%s' "$(cat "$tmp/$name.port")"
}
# control NAME JSON: the receiver's next answers.
control() {
	local u="url_$1"
	curl -sf --data-binary "$2" "${!u}/control" >/dev/null || fail "control $1" "the receiver did not answer"
}
decode() { node "$here/otlp/decode.mjs" "$modules" "$tmp/$1" >"$tmp/$1.json"; }
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p"; } # the number after NAME= in a summary line
# py NAME CODE: runs python with d = the decoded requests of receiver NAME.
py() { python3 -c "import json, collections; d = json.load(open('$tmp/$1.json'))
$2"; }

start_receiver r1

# ---------------------------------------------------------------------------
# Usage errors

check otlp_no_endpoint - 1 'endpoint http://HOST:4318 is required' -- "$bin" ship otlp "$tmp"
check otlp_bad_url - 1 'must start with http' -- "$bin" ship otlp --endpoint ftp://x --state "$tmp/s0" "$tmp"
check otlp_bad_header - 1 "header takes 'Name: value'" -- \
	"$bin" ship otlp --endpoint "$url_r1" -H 'no colon' --state "$tmp/s0" "$tmp"
check otlp_missing - 1 'nothere: No such file' -- "$bin" ship otlp --endpoint "$url_r1" "$tmp/nothere"
check otlp_bad_batch - 1 'batch takes' -- "$bin" ship otlp --endpoint "$url_r1" --batch 0 "$tmp"
check otlp_ch_option - 1 'create' -- "$bin" ship otlp --endpoint "$url_r1" --create "$tmp"
check otlp_help '~^Usage: ttlog ship otlp' 0 '' -- "$bin" ship otlp --help

# ---------------------------------------------------------------------------
# The shop's files, in protobuf

snaps=$tmp/snaps
(ulimit -c 0; exec "$shop" --duration 4 --seed 5 --rate 100 --dir "$snaps") >"$tmp/shop.out" 2>&1
expect "the shop ran" test -d "$snaps/stream"
pid_of() { sed -n "s/^pids .*$1=\([0-9]*\).*/\1/p" "$tmp/shop.out"; }
edge=$(pid_of edge) checkout=$(pid_of checkout)

out=$("$bin" ship otlp --endpoint "$url_r1" --batch 3000 -H 'Authorization: Bearer s3cret' \
	--state "$tmp/state" "$snaps" "$snaps/stream" 2>"$tmp/ship.err")
status=$?
expect "the shop's files are shipped (exit $status: $(head -c 300 "$tmp/ship.err"))" test "$status" = 0
total=$(field events <<<"$out")
expect "several batches were sent ($out)" test "$(field batches <<<"$out")" -gt 6
decode r1
"$bin" view -o json "$snaps" "$snaps/stream" >"$tmp/view.jsonl"
# What arrived, in one pass (a line "NAME VALUE..." each, read with r NAME):
# problems, encodings and headers, counts, per service against ttlog view,
# every field, a trace across the three processes, metric values, the crash.
python3 - "$tmp/r1.json" "$tmp/view.jsonl" "$edge" >"$tmp/r1.res" <<'PY'
import collections, json, sys
d = json.load(open(sys.argv[1]))
view = [json.loads(line) for line in open(sys.argv[2])]
edge = sys.argv[3]
def out(name, *v):
    print(name, *v)
out("problems", len(d["problems"]), d["problems"][:3])
out("encodings", sorted(set((r["encoding"], r["auth"]) for r in d["requests"])))
crash = [l for l in d["logs"] if "exception.type" in l["attributes"]]
logs = [l for l in d["logs"] if "exception.type" not in l["attributes"]]
out("counts", len(logs), len(crash), len(d["spans"]), len(d["metrics"]))
u = [l["attributes"].get("log.record.uid") for l in logs]
out("unique", None not in u and len(u) == len(set(u)))
per = lambda c: " ".join("%s:%d" % kv for kv in sorted(c.items()))
out("services", per(collections.Counter(l["service"] for l in logs)))
out("view_services", per(collections.Counter(e["service"] for e in view)))
# Every field, by key and value; each record's site, thread, times, severity.
own = ("code.file.path", "code.line.number", "code.function.name", "ttlog.target", "thread.id",
       "thread.name", "log.record.uid", "ttlog.event.kind", "ttlog.promoted")
want = collections.Counter((k, str(v)) for e in view for k, v in (e.get("fields") or {}).items())
have = collections.Counter((k, str(v)) for l in logs for k, v in l["attributes"].items() if k not in own)
bad = sum(1 for l in logs if not (l["time"] and l["observed"] and l["severityText"] and l["body"] is not None
          and all(k in l["attributes"] for k in ("code.file.path", "code.line.number", "thread.id"))))
out("fields", sum(want.values()), want == have, bad)
# A trace across the three processes: one root, the edge's http.request.
traces = collections.defaultdict(list)
for sp in d["spans"]:
    traces[sp["traceId"]].append(sp)
trace = ""
for tid in sorted(traces):
    ss = traces[tid]
    roots = [sp for sp in ss if not sp["parentSpanId"]]
    if len(set(sp["pid"] for sp in ss)) == 3 and len(roots) == 1 and roots[0]["name"] == "http.request" \
       and roots[0]["pid"] == edge:
        trace = tid
        break
ss = traces.get(trace, [])
ids = set(sp["spanId"] for sp in ss)
orphans = [sp for sp in ss if sp["parentSpanId"] and sp["parentSpanId"] not in ids]
ok = all(int(sp["start"]) <= int(sp["end"]) and sp["name"] and sp["kind"] == 1 for sp in ss)
out("trace", trace or "-", len(ss), len(ids), len(orphans), ok,
    sum(1 for e in view if e["kind"] == "span_end" and trace and trace in json.dumps(e)))
# Metrics and the crash.
out("gateway", *[m["asInt"] for m in d["metrics"] if m["name"] == "shop.gateway_requests" and m["pid"] == edge
                 and m["reason"] == "end_of_run" and m["kind"] == "sum" and m["monotonic"]
                 and m["temporality"] == 2])
h = [m for m in d["metrics"] if m["kind"] == "histogram" and int(m["count"]) > 0]
out("histograms", len(h) > 0, all(sum(int(c) for c in m["bucketCounts"]) == int(m["count"])
    and len(m["bucketCounts"]) == len(m["explicitBounds"]) + 1
    and m["explicitBounds"] == sorted(set(m["explicitBounds"])) and m["min"] <= m["max"] for m in h))
a = crash[0]["attributes"] if crash else {}
out("crash", len(crash), a.get("exception.type"), crash[0]["pid"] if crash else "-",
    crash[0]["severityNumber"] if crash else "-", "reconcile_refund" in (a.get("exception.stacktrace") or ""))
PY
r() { sed -n "s/^$1 //p" "$tmp/r1.res"; }
expect "every request decodes with the official definitions ($(r problems))" test "$(r problems)" = "0 []"
expect "protobuf, with the Authorization header ($(r encodings))" \
	test "$(r encodings)" = "[('protobuf', 'Bearer s3cret')]"
expect "the receiver kept what the summary says ($out; $(r counts))" test "$(r counts)" = \
	"$total $(field crashes <<<"$out") $(field spans <<<"$out") $(field metrics <<<"$out")"
expect "each record once (log.record.uid)" test "$(r unique)" = True
expect "log records per service: ttlog view '$(r view_services)', receiver '$(r services)'" \
	test "$(r services)" = "$(r view_services)"
got=$(r fields)
expect "every field arrived with its value, every record has its site, thread, times and severity ($got)" \
	test "${got#* }" = "True 0" -a "${got%% *}" -gt 1000
set -- $(r trace)
expect "a trace crosses the three processes with one root ($1): its $6 spans ttlog shows ended arrived,
     no parent lost (spans ids orphans ok: $2 $3 $4 $5)" \
	test "$6" -gt 2 -a "$2 $3 $4 $5" = "$6 $6 0 True"
gw=$(sed -n 's/^total .*\bgateway\b.* requests=\([0-9]*\).*/\1/p' "$tmp/shop.out")
expect "shop.gateway_requests at the end of the run = $gw (got $(r gateway))" test -n "$gw" -a "$(r gateway)" = "$gw"
expect "histograms: their buckets hold their count, bounds increase ($(r histograms))" \
	test "$(r histograms)" = "True True"
expect "the crash arrived as a FATAL record with its stack ($(r crash))" \
	test "$(r crash)" = "1 SIGSEGV $checkout 21 True"

# ---------------------------------------------------------------------------
# Exactly once: a second run sends nothing

before=$(curl -s "$url_r1/count")
out=$("$bin" ship otlp --endpoint "$url_r1" --state "$tmp/state" "$snaps" "$snaps/stream")
expect "a second run sends nothing ($out; log records received before $before, after $(curl -s "$url_r1/count"))" \
	test "$(field events <<<"$out"):$(field skipped <<<"$out"):$(field batches <<<"$out"):$(curl -s "$url_r1/count")" = "0:$total:0:$before"

# Threads of indexes no process makes (a damaged or made-up file's, here
# 2^32 - 16 and 2^21): shipped, kept in the cursor, and found there by a
# second run, which sends nothing (the cursor once held an array as long
# as the highest index, and refused its own lines beyond 2^20).
for base in 4294967280 2097152; do
	python3 "$here/support/mkseg.py" seg "$tmp/far-$base.ttseg" --thread-base "$base"
	out=$("$bin" ship otlp --endpoint "$url_r1" --state "$tmp/state-far" "$tmp/far-$base.ttseg" 2>"$tmp/far.err")
	status=$?
	expect "threads from index $base are shipped (exit $status: $(head -c 300 "$tmp/far.err"))" \
		test "$status:$(field events <<<"$out")" = "0:8"
	out=$("$bin" ship otlp --endpoint "$url_r1" --state "$tmp/state-far" "$tmp/far-$base.ttseg" 2>"$tmp/far.err")
	status=$?
	expect "threads from index $base: a second run sends nothing (exit $status: $out $(head -c 300 "$tmp/far.err"))" \
		test "$status:$(field events <<<"$out"):$(field skipped <<<"$out")" = "0:0:8"
done

# ---------------------------------------------------------------------------
# The stream alone, OTLP/JSON and gzip, through two 503s with Retry-After

start_receiver r2
control r2 '[{"status": 503, "retryAfter": 1, "message": "busy"}, {"status": 503, "retryAfter": 1}]'
out=$("$bin" ship otlp --endpoint "$url_r2" --json --gzip --state "$tmp/state2" "$snaps/stream" 2>"$tmp/ship2.err")
status=$?
expect "shipped through two 503s (exit $status, $out): $(head -c 400 "$tmp/ship2.err")" \
	test "$status" = 0 -a "$(field retries <<<"$out")" = 2
expect "the wait the collector asked for was taken" \
	grep -q 'the collector answered 503: busy; trying again in 1.0 s (Retry-After)' "$tmp/ship2.err"
decode r2
expect "every JSON member is one the official definitions have: $(py r2 'print(d["problems"][:5])')" \
	test "$(py r2 'print(len(d["problems"]))')" = 0
expect "JSON, gzip-compressed, fewer bytes on the wire" test "$(py r2 '
r = d["requests"]
print(all(x["encoding"] == "json" and x["gzip"] and x["wire"] * 3 < x["bytes"] for x in r) and len(r) > 0)')" = True
got=$(py r2 '
u = [l["attributes"]["log.record.uid"] for l in d["logs"]]
c = collections.Counter(l["service"] for l in d["logs"])
print(len(u) == len(set(u)), " ".join("%s:%d" % kv for kv in sorted(c.items())))')
want=True
for svc in backoffice checkout edge; do
	n=$("$bin" stats -o json "$snaps"/stream/"$svc"-*.ttseg |
		python3 -c 'import json,sys; print(sum(json.loads(l)["events"] for l in sys.stdin))')
	want="$want $svc:$n"
done
expect "each event once; per service ttlog stats '$want', receiver '$got'" test "$got" = "$want"

# ---------------------------------------------------------------------------
# Refusals: a 400 with the collector's message moves no cursor; a partial
# success is counted and shown

one=$(ls "$snaps"/ttlog-"$edge"-*-end_of_run.ttlog)
start_receiver r3
control r3 '[{"status": 400, "message": "attribute limit exceeded"}]'
check otlp_refused '~^shipped events=0 ' 2 'the collector answered 400: attribute limit exceeded' -- \
	"$bin" ship otlp --endpoint "$url_r3" --state "$tmp/state3" "$one"
control r3 '[{"status": 200, "rejected": 2, "message": "2 records too old"}]'
check otlp_partial '~^shipped events=[1-9][0-9]* .* rejected=2 ' 2 \
	'refused 2 of [0-9]+ log records: 2 records too old' -- \
	"$bin" ship otlp --endpoint "$url_r3" --state "$tmp/state3" "$one"
control r3 '[{"status": 200, "rejected": 1, "message": "one too many"}]'
check otlp_partial_json '~ rejected=1 ' 2 'refused 1 of [0-9]+ log records: one too many' -- \
	"$bin" ship otlp --json --endpoint "$url_r3" --state "$tmp/state3b" "$one"

# ---------------------------------------------------------------------------
# --follow: a stream shipped while it is written

live=$tmp/live
mkdir -p "$live"
start_receiver r4
TTLOG_STREAM=$live TTLOG_SEGMENT_SIZE=64K "$progs/stream_load" 2 5000 --rate 2000 >"$tmp/load.out" 2>&1 &
prog_pid=$!
"$bin" ship otlp --endpoint "$url_r4" --follow --interval 100 --batch 500 --state "$tmp/state4" \
	"$live" >"$tmp/follow.out" 2>"$tmp/follow.err" &
ship_pid=$!
wait "$prog_pid"
expect "the logging program finished" test $? = 0
prog_pid=
want=$("$bin" view -o json "$live" | wc -l)
got=
for _ in $(seq 1 300); do
	got=$(curl -s "$url_r4/count")
	[ "$got" = "$want" ] && break
	sleep 0.1
done
kill -TERM "$ship_pid"
wait "$ship_pid"
status=$?
ship_pid=
expect "--follow stops on SIGTERM with status 0 ($status)" test "$status" = 0
decode r4
got=$(py r4 'u = [l["attributes"]["log.record.uid"] for l in d["logs"]]; print(len(u), len(set(u)))')
expect "following: every event of the stream once ($want events, received and distinct: $got)" \
	test "$want" -gt 1000 -a "$got" = "$want $want"
expect "the segments rotated and are all still there" test "$(ls "$live"/*.ttseg | wc -l)" -gt 1

finish
