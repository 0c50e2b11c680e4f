#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# otlp_json.sh - `ttlog export --format otlp-json` against definitions this
# project did not write: the official OpenTelemetry .proto files (as the npm
# package @elastic/mockotlpserver ships them) loaded with protobufjs, both
# pinned in tests/otlp_json/package-lock.json and installed into the build
# tree with npm ci (once per lock, under a lock file).
# tests/support/otlp_json_check.mjs decodes each request with the OTLP JSON
# mapping and checks that every field survives a round trip through the
# protobuf wire format.
#
# The data: the files of the export tests (tests/progs/export_snapshot: every
# field type, hostile strings, spans on two threads, a counter, a gauge and a
# histogram; span_attrs, also crashing; metrics_snapshot: labelled counters,
# a gauge, histograms with values in range and below it). Checked:
#   - the checker itself refuses requests that break the mapping;
#   - logs, traces and metrics of each file, one signal at a time and all
#     three in one run (three lines in the order logs, traces, metrics, the
#     same requests as the single runs), decode with the official protos;
#   - the metrics are the file's (`ttlog view --metrics -o json`): counters
#     as monotonic cumulative sums, gauges, histograms whose explicit bounds
#     are ttlog's bucket edges with every count in its range, and the
#     resource is the same in the three signals.
# A missing node or npm, or an install that fails, is a failure.

# shellcheck disable=SC2154
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=support/cli_lib.sh
source "$here/support/cli_lib.sh"

for tool in node npm flock python3; do
	command -v "$tool" >/dev/null || { fail "$tool" "$tool is needed: run scripts/install-deps.sh"; finish; }
done

modules=$(cd "$(dirname "$bin")" && pwd)/otlp-json-test
mkdir -p "$modules"
if ! (
	flock 9
	if ! cmp -s "$here/otlp_json/package-lock.json" "$modules/package-lock.json" ||
		[ ! -f "$modules/node_modules/protobufjs/package.json" ] ||
		[ ! -f "$modules/node_modules/@elastic/mockotlpserver/opentelemetry/proto/metrics/v1/metrics.proto" ]; then
		cp "$here/otlp_json/package.json" "$here/otlp_json/package-lock.json" "$modules/"
		# A failed install leaves no lock behind, so the next run tries again.
		(cd "$modules" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1 ||
			{ rm -f "$modules/package-lock.json"; exit 1; }
	fi
) 9>"$modules.lock"; then
	fail "npm ci" "could not install protobufjs and @elastic/mockotlpserver:" "$(tail -5 "$tmp/npm.log")"
	finish
fi
checker() {
	node "$here/support/otlp_json_check.mjs" "$modules" "$@"
}

# ---- The checker refuses what breaks the mapping ----------------------------
good='{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"intValue":"1"}}]},"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"s","kind":1,"startTimeUnixNano":"5","endTimeUnixNano":"6"}]}]}]}'
printf '%s\n' "$good" >"$tmp/good.json"
expect "checker: a valid request passes" checker "$tmp/good.json"
# Each broken request in a file of its own, all checked in one run (node
# and the protos load once); each file must have a problem reported.
bad=()
refuse() {
	local name=$1 from=$2 to=$3 file=$tmp/bad${#bad[@]}.json
	printf '%s\n' "${good/"$from"/"$to"}" >"$file"
	[ "$(cat "$file")" != "$good" ] || fail "checker case $name" "the replacement changed nothing"
	bad+=("$file:$name")
}
refuse "a snake_case name" '"startTimeUnixNano"' '"start_time_unix_nano"'
refuse "an unknown field" '"name":"s"' '"name":"s","color":"red"'
refuse "an int64 as a number" '"endTimeUnixNano":"6"' '"endTimeUnixNano":6'
refuse "an upper-case hex id" '"00f067aa0ba902b7"' '"00F067AA0BA902B7"'
refuse "a base64 id" '"00f067aa0ba902b7"' '"APBnqguqArc="'
refuse "a short trace id" '"4bf92f3577b34da6a3ce929d0e0e4736"' '"4bf92f3577b34da6"'
refuse "an enum as a name" '"kind":1' '"kind":"SPAN_KIND_INTERNAL"'
refuse "an enum value not defined" '"kind":1' '"kind":9'
refuse "two members of a oneof" '{"intValue":"1"}' '{"intValue":"1","stringValue":"x"}'
refuse "a string where a message goes" '"resource":{' '"resource":"x","r":{'
refuse "a request of no signal" '{"resourceSpans"' '{"resourceThings"'
refuse "a string that is not UTF-8 after JSON" '"name":"s"' '"name":"\udc80"'
files=()
for b in "${bad[@]}"; do files+=("${b%%:*}"); done
checker "${files[@]}" >"$tmp/bad.out" 2>"$tmp/bad.err"
for b in "${bad[@]}"; do
	file=${b%%:*}
	if grep -q "^$file" "$tmp/bad.err"; then
		passed=$((passed + 1))
		printf 'ok   checker refuses %s: %s\n' "${b#*:}" "$(grep -m1 "^$file" "$tmp/bad.err" | sed "s#^$tmp/##")"
	else
		fail "checker refuses ${b#*:}" "no problem reported: $(cat "$file")"
	fi
done

# ---- The data -----------------------------------------------------------------
mkdir -p "$tmp/export" "$tmp/attrs" "$tmp/crash" "$tmp/metrics"
hostile=$("$progs/export_snapshot" "$tmp/export")
attrs=$("$progs/span_attrs" "$tmp/attrs")
("$progs/span_attrs" "$tmp/crash" crash) >/dev/null 2>&1
crash=$(ls "$tmp"/crash/*SIGSEGV.ttlog 2>/dev/null | head -1)
metrics=$("$progs/metrics_snapshot" "$tmp/metrics")
for f in "$hostile" "$attrs" "$crash" "$metrics"; do
	[ -f "$f" ] || { fail "test data" "a test program wrote no snapshot (${f:-crash})"; finish; }
done

# ---- Each file, each signal, and all three in one run ------------------------
n=0
exported=()
for f in "$hostile" "$attrs" "$crash" "$metrics"; do
	n=$((n + 1))
	name=$(basename "$f")
	for s in logs traces metrics; do
		"$bin" export -F otlp-json --signals "$s" -o "$tmp/$n-$s.json" "$f" 2>"$tmp/$n-$s.err" ||
			fail "export --signals $s $name" "exit $?: $(head -3 "$tmp/$n-$s.err")"
		exported+=("$tmp/$n-$s.json")
	done
	"$bin" export -F otlp-json --signals all -o "$tmp/$n-all.jsonl" "$f" 2>/dev/null ||
		fail "export --signals all $name" "exit $?"
	exported+=("$tmp/$n-all.jsonl")
	expect "$name: --signals all is the three single runs, one per line" python3 - "$tmp" "$n" <<'PY'
import json, sys
tmp, n = sys.argv[1], sys.argv[2]
lines = open(f"{tmp}/{n}-all.jsonl").read().split("\n")
assert lines[-1] == "" and len(lines) == 4, len(lines)
for line, s in zip(lines, ("logs", "traces", "metrics")):
    single = json.load(open(f"{tmp}/{n}-{s}.json"))
    assert json.loads(line) == single, s
PY
done

# Several files in one request: a resource each.
"$bin" export -F otlp-json --signals metrics,logs -o "$tmp/two.jsonl" "$hostile" "$metrics" 2>/dev/null ||
	fail "export two files" "exit $?"
exported+=("$tmp/two.jsonl")

# Every request, decoded with the official protos in one run.
checker "${exported[@]}" >"$tmp/sums" 2>"$tmp/why" ||
	fail "the exports decode with the official protos" "$(head -20 "$tmp/why")"
for f in "${exported[@]}"; do
	case $f in
	*-all.jsonl) want="$f:1: logs resources=1 scopes=1|$f:2: traces resources=1 scopes=1|$f:3: metrics resources=1 scopes=1" ;;
	*two.jsonl) want="$f:1: logs resources=2 scopes=2|$f:2: metrics resources=2 scopes=2" ;;
	*) s=${f##*-}; want="$f: ${s%.json} resources=1 scopes=1" ;;
	esac
	IFS='|' read -ra wants <<<"$want"
	for w in "${wants[@]}"; do
		if grep -q "^$w " "$tmp/sums"; then
			passed=$((passed + 1))
			printf 'ok   %s\n' "$(grep -m1 "^$w " "$tmp/sums" | sed "s#^$tmp/##")"
		else
			fail "${w#"$tmp"/}: decodes with the official protos" \
				"$(grep "^$f" "$tmp/why" | head -5)"
		fi
	done
done
expect "the hostile file's logs hold records" grep -Eq "1-logs.json: logs .* records=[1-9]" "$tmp/sums"
expect "the hostile file's traces hold spans" grep -Eq "1-traces.json: traces .* records=[1-9]" "$tmp/sums"
expect "the metrics file's metrics hold points" grep -Eq "4-metrics.json: metrics .* points=[1-9]" "$tmp/sums"

# The crash: a FATAL log record and an exception event on the span it ended.
expect "crash: exception in logs and traces" python3 - "$tmp/3-logs.json" "$tmp/3-traces.json" <<'PY'
import json, sys
logs, traces = (json.load(open(p)) for p in sys.argv[1:])
recs = [r for rl in logs["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]
fatal = [r for r in recs if r.get("severityNumber") == 21]
assert fatal and any(a["key"] == "exception.stacktrace" for a in fatal[-1]["attributes"])
spans = [s for rs in traces["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
assert any(e["name"] == "exception" for s in spans for e in s.get("events", []))
PY

# ---- The metrics are the file's ----------------------------------------------
for pair in "1:$hostile" "4:$metrics"; do
	n=${pair%%:*}
	f=${pair#*:}
	"$bin" view --metrics -o json "$f" >"$tmp/$n-view.jsonl" || fail "view --metrics" "exit $?"
	expect "$(basename "$f"): OTLP metrics equal ttlog view --metrics" \
		python3 - "$tmp/$n-metrics.json" "$tmp/$n-view.jsonl" "$tmp/$n-logs.json" "$tmp/$n-traces.json" <<'PY'
import json, math, sys
otlp = json.load(open(sys.argv[1]))
view = [json.loads(l) for l in open(sys.argv[2])]
res = otlp["resourceMetrics"][0]
for other in sys.argv[3:]:
    o = json.load(open(other))
    r = next(iter(o.values()))[0]["resource"]
    assert r == res["resource"], ("resource differs", r, res["resource"])
metrics = res["scopeMetrics"][0]["metrics"]
points = {}
for m in metrics:
    kind = [k for k in ("sum", "gauge", "histogram") if k in m]
    assert len(kind) == 1, m
    data = m[kind[0]]
    if kind[0] == "sum":
        assert data["aggregationTemporality"] == 2 and data["isMonotonic"] is True
    if kind[0] == "histogram":
        assert data["aggregationTemporality"] == 2
    for p in data.get("dataPoints", []):
        labels = tuple(sorted((a["key"], a["value"]["stringValue"]) for a in p.get("attributes", [])))
        key = (m["name"], labels)
        assert key not in points, ("two points for", key)
        points[key] = (kind[0], p)
names = {m["name"] for m in metrics}
assert len(names) == len(metrics), "one Metric per name"
seen = 0
for v in view:
    key = (v["name"], tuple(sorted(v["labels"].items())))
    assert v["name"] in names, ("missing metric", v["name"])
    if v["type"] == "gauge" and "time_ns" not in v:
        assert key not in points, ("a point for a gauge never set", key)
        continue
    kind, p = points[key]
    seen += 1
    if v["type"] == "counter":
        assert kind == "sum" and int(p["asInt"]) == v["value"], (key, p, v)
    elif v["type"] == "gauge":
        assert kind == "gauge" and p["asDouble"] == v["value"], (key, p, v)
        assert int(p["timeUnixNano"]) == v["time_ns"], (key, p, v)
    else:
        assert kind == "histogram", key
        assert int(p["count"]) == v["count"] and p["sum"] == v["sum"], (key, p, v)
        if v["count"]:
            assert p["min"] == v["min"] and p["max"] == v["max"], (key, p, v)
        bounds = p["explicitBounds"]
        counts = [int(c) for c in p["bucketCounts"]]
        assert len(counts) == len(bounds) + 1, key
        assert all(a < b for a, b in zip(bounds, bounds[1:])), ("bounds not increasing", key)
        assert sum(counts) == v["count"], key
        # Every bucket of ttlog's is one OTLP bucket with the same edges.
        lo = [-math.inf] + bounds
        hi = bounds + [math.inf]
        want = {}
        for b in v["buckets"]:
            above = -math.inf if b["above"] == "-inf" else b["above"]
            le = math.inf if b["le"] == "+inf" else b["le"]
            want[(above, le)] = b["count"]
        got = {(lo[i], hi[i]): c for i, c in enumerate(counts) if c}
        assert got == want, (key, got, want)
assert seen == len(points), ("points not in the file", seen, len(points))
PY
done

# ---- Options ------------------------------------------------------------------
check "unknown signal" - 1 "unknown signal 'spans' \(use logs, traces, metrics or all" -- \
	"$bin" export -F otlp-json --signals logs,spans "$hostile"
check "a signal twice" - 1 "signal 'logs' given twice" -- \
	"$bin" export -F otlp-json --signals logs,traces,logs "$hostile"
check "--signals with jsonl" - 1 "--signals is for --format otlp-json only" -- \
	"$bin" export -F jsonl --signals metrics "$hostile"

finish
