#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_export.sh - tests of `ttlog export`: every format parsed back and
# checked by tests/export_check.py (JSON validity, CSV cells, logfmt pairs,
# Chrome phases and nesting, OTLP field names, types and id lengths), small
# outputs as golden files (tests/cli/golden/export-*), the filters, and the
# errors.
#
# Snapshots: tests/progs/cli_snapshot (modes golden, fields, spans, crash)
# and tests/progs/export_snapshot (hostile message bytes, odd fields, spans
# still open, metrics). Both use the fake clock, so times are fixed; thread
# and process ids, paths and host names are not, and are replaced before
# comparing.

# Commands for `sh -c` are in single quotes on purpose: they expand there.
# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

checker=$(cd "$(dirname "$0")" && pwd)/export_check.py

# ---------------------------------------------------------------------------
# Snapshots

mkdir -p "$tmp/export"
snap=$(make_snapshot golden) || exit 1
fields=$(make_snapshot fields) || exit 1
spans=$(make_snapshot spans) || exit 1
make_crash_snapshot
hostile=$("$progs/export_snapshot" "$tmp/export")
expect "export_snapshot wrote a snapshot" test -f "$hostile"
[ -n "$crash" ] || crash=$snap

# run_check NAME FORMAT EXTRA -- COMMAND...: the command's output must pass
# export_check.py FORMAT (EXTRA: more arguments for it, or '').
run_check() {
	local name=$1 format=$2 extra=$3
	shift 4
	local out=$tmp/check.out
	if ! "$@" >"$out" 2>"$tmp/check.err"; then
		fail "$name" "the export failed: $(head -c 300 "$tmp/check.err")"
		return
	fi
	# shellcheck disable=SC2086 # extra is split on purpose
	expect "$name" python3 "$checker" "$format" "$out" $extra
}

# ---------------------------------------------------------------------------
# The command

check "help lists export" '~^  export ' 0 '' -- "$bin" help
check "export --help" '~^Usage: ttlog export' 0 '' -- "$bin" export --help
check "help export" '~^Usage: ttlog export' 0 '' -- "$bin" help export
help_text=$("$bin" export --help)
for word in --format --output --signal --service-name --level --since --until --last --grep \
	--thread --field --trace --no-spans --utc --help jsonl csv logfmt chrome otlp-json; do
	expect "export --help mentions $word" grep -q -- "$word" <<<"$help_text"
done

# ---------------------------------------------------------------------------
# Every format, every snapshot: parsed back and checked

for name in snap fields spans crash hostile; do
	file=${!name}
	"$bin" export -F jsonl "$file" >"$tmp/$name.jsonl" 2>/dev/null
	run_check "jsonl of $name" jsonl '' -- "$bin" export -F jsonl "$file"
	run_check "csv of $name" csv "--jsonl $tmp/$name.jsonl" -- "$bin" export -F csv "$file"
	run_check "logfmt of $name" logfmt "--jsonl $tmp/$name.jsonl" -- "$bin" export -F logfmt "$file"
	run_check "chrome of $name" chrome '' -- "$bin" export -F chrome "$file"
	run_check "otlp logs of $name" otlp-logs '' -- "$bin" export -F otlp-json "$file"
	run_check "otlp traces of $name" otlp-traces '' -- \
		"$bin" export -F otlp-json --signal traces "$file"
done

# jsonl is `view -o json`, filters included.
for filters in "" "--level warn" "--since 00:00:00.000005 --until 00:00:00.000012" "--grep step" \
	"--thread worker-1" "--last 3us" "--no-spans"; do
	# shellcheck disable=SC2086 # split on purpose
	check "jsonl = view -o json: '$filters'" - 0 '' -- sh -c \
		'bin=$1; shift; file=$1; shift
		 "$bin" export -F jsonl --utc "$@" "$file" >"$TTLOG_TEST_TMP/a" &&
		 "$bin" view -o json --utc "$@" "$file" >"$TTLOG_TEST_TMP/b" &&
		 test -s "$TTLOG_TEST_TMP/b" && cmp "$TTLOG_TEST_TMP/a" "$TTLOG_TEST_TMP/b"' \
		sh "$bin" "$snap" $filters
done
check "jsonl = view -o json: --field" - 0 '' -- sh -c \
	'"$1" export -F jsonl --field "user>41" "$2" >"$TTLOG_TEST_TMP/a" &&
	 "$1" view -o json --field "user>41" "$2" >"$TTLOG_TEST_TMP/b" &&
	 test "$(wc -l <"$TTLOG_TEST_TMP/a")" = 2 && cmp "$TTLOG_TEST_TMP/a" "$TTLOG_TEST_TMP/b"' \
	sh "$bin" "$fields"
check "jsonl = view -o json: --trace" - 0 '' -- sh -c \
	'"$1" export -F jsonl --trace 4bf92f3577b34da6a3ce929d0e0e4736 "$2" >"$TTLOG_TEST_TMP/a" &&
	 "$1" view -o json --trace 4bf92f3577b34da6a3ce929d0e0e4736 "$2" >"$TTLOG_TEST_TMP/b" &&
	 test -s "$TTLOG_TEST_TMP/b" && cmp "$TTLOG_TEST_TMP/a" "$TTLOG_TEST_TMP/b"' \
	sh "$bin" "$spans"

# ---------------------------------------------------------------------------
# Golden files of small outputs

check "jsonl --level fatal" export-jsonl-fatal.json 0 '' -- \
	"$bin" export --format jsonl --level fatal "$snap"
check "csv of the fields snapshot" export-csv-fields.csv 0 '' -- sh -c \
	'"$@" | tr -d "\r" | sed -E -e "s/^([^,]*,[^,]*,[^,]*,)[0-9]+,/\1TID,/" \
		-e "s#,[^,]*/(tests/progs/)#,\1#"' sh "$bin" export -F csv "$fields"
check "logfmt --level error" export-logfmt-error.txt 0 '' -- sh -c \
	'"$@" | sed -E -e "s/tid=[0-9]+/tid=TID/" -e "s#file=[^ ]*/(tests/progs/)#file=\1#"' \
	sh "$bin" export -F logfmt --level error "$snap"
check "logfmt of hostile bytes" export-logfmt-hostile.txt 0 '' -- sh -c \
	'"$@" | sed -E -e "s/tid=[0-9]+/tid=TID/" -e "s#file=[^ ]*/(tests/progs/)#file=\1#" \
		-e "s/(span_id)=[0-9a-f]{16}/\1=ID/"' \
	sh "$bin" export -F logfmt --grep . --no-spans "$hostile"
check "chrome --level fatal" export-chrome-fatal.json 0 '' -- sh -c \
	'"$@" | sed -E -e "s/\"(pid|tid)\":[0-9]+/\"\1\":ID/g" -e "s#\"name\":\"thread [0-9]+\"#\"name\":\"thread ID\"#" \
		-e "s#\"file\":\"[^\"]*/(tests/progs/)#\"file\":\"\1#"' \
	sh "$bin" export -F chrome --level fatal "$snap"
check "otlp logs --level fatal" export-otlp-fatal.json 0 '' -- sh -c \
	'"$@" | sed -E -e "s/(\"(process\.pid|thread\.id)\",\"value\":\{\"intValue\":\")[0-9]+/\1ID/g" \
		-e "s/(\"(host\.name|process\.executable\.path)\",\"value\":\{\"stringValue\":\")[^\"]*/\1X/g" \
		-e "s#(\"code\.file\.path\",\"value\":\{\"stringValue\":\")[^\"]*/(tests/progs/)#\1\2#g" \
		-e "s/(\"scope\":\{\"name\":\"ttlog\",\"version\":\")[0-9.]+/\1V/"' \
	sh "$bin" export -F otlp-json --level fatal "$snap"

# ---------------------------------------------------------------------------
# What the formats say, checked in the parsed output

py() {
	local name=$1 format=$2 script=$3
	shift 3
	check "$name" - 0 '' -- sh -c \
		'out=$1/py.out; script=$2; shift 2; "$@" >"$out" && python3 -c "$script" "$out"' \
		sh "$tmp" "$script" "$@"
}

py "chrome: tracks, spans, instants, counters" chrome '
import json, sys
doc = json.load(open(sys.argv[1]))
ev = doc["traceEvents"]
names = {e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
assert names == {"main", "export \"w\""}, names
x = {e["name"]: e for e in ev if e["ph"] == "X"}
assert sorted(x) == ["inner", "never.ends", "outer", "worker.step"], sorted(x)
assert x["inner"]["ts"] == 11.0 and x["inner"]["dur"] == 3.0, x["inner"]
assert x["inner"]["args"]["rows"] == 2 and x["outer"]["args"]["path"] == "/a,b"
assert x["outer"]["args"]["clipped"] == "end" and x["outer"]["ts"] + x["outer"]["dur"] == 20.0
assert x["worker.step"]["tid"] != x["inner"]["tid"]
assert x["worker.step"]["args"]["parent_span_id"] == x["outer"]["args"]["span_id"]
i = [e for e in ev if e["ph"] == "i"]
assert all(e["s"] == "t" for e in i) and len(i) == 11, i
assert i[0]["name"] == "nul [\u0000] end", i[0]
c = {e["name"]: e["args"] for e in ev if e["ph"] == "C"}
assert c == {"requests{method=GET}": {"value": 3}, "queue.depth": {"value": 2.5},
             "latency_ms": {"count": 4, "sum": 10}}, c
assert doc["displayTimeUnit"] == "ns" and doc["otherData"]["time_base"] == "2026-01-01T00:00:00.000000000Z"
' "$bin" export -F chrome "$hostile"

py "chrome: the crash is a global instant event" chrome '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
g = [e for e in ev if e["ph"] == "i" and e.get("s") == "g"]
assert len(g) == 1 and g[0]["name"].startswith("crash: SIGSEGV (SEGV_MAPERR"), g
assert g[0]["args"]["thread"] == "main"
' "$bin" export -F chrome "$crash"

py "chrome: two files, one trace, two processes" chrome '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
procs = [e for e in ev if e["ph"] == "M" and e["name"] == "process_name"]
assert len(procs) == 2 and procs[0]["pid"] != procs[1]["pid"], procs
' "$bin" export -F chrome "$snap" "$spans"

py "otlp logs: severities, body, ids, typed attributes" otlp-logs '
import json, sys
doc = json.load(open(sys.argv[1]))
rl = doc["resourceLogs"]
assert len(rl) == 1
res = {a["key"]: a["value"] for a in rl[0]["resource"]["attributes"]}
assert res["service.name"] == {"stringValue": "export_snapshot"}, res
sl = rl[0]["scopeLogs"][0]
assert sl["scope"]["name"] == "ttlog"
recs = sl["logRecords"]
assert len(recs) == 11, len(recs)
assert [r["severityNumber"] for r in recs[:5]] == [9, 9, 13, 17, 9]
assert [r["severityText"] for r in recs[:5]] == ["INFO", "INFO", "WARN", "ERROR", "INFO"]
assert recs[0]["body"]["stringValue"] == "nul [\u0000] end"
assert recs[0]["timeUnixNano"] == "1767225600000000000"
types = {a["key"]: a["value"] for a in recs[5]["attributes"]}
assert types["empty"] == {"stringValue": ""} and types["none"] == {}, types
assert types["nan"] == {"doubleValue": "NaN"} and types["inf"] == {"doubleValue": "-Infinity"}
assert types["neg"] == {"intValue": "-5"} and types["yes"] == {"boolValue": True}
assert types["huge"] == {"stringValue": "18446744073709551615"}
assert types["ptr"] == {"stringValue": "0xbeef"}
assert types["code.line.number"]["intValue"].isdigit() and "thread.id" in types
inner = [r for r in recs if r["body"]["stringValue"] == "in inner"][0]
assert inner["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736" and len(inner["spanId"]) == 16
assert "traceId" not in recs[0]
' "$bin" export -F otlp-json "$hostile"

py "otlp --service-name" otlp-logs '
import json, sys
doc = json.load(open(sys.argv[1]))
for rl in doc["resourceLogs"]:
    res = {a["key"]: a["value"] for a in rl["resource"]["attributes"]}
    assert res["service.name"] == {"stringValue": "checkout"}, res
assert len(doc["resourceLogs"]) == 2
' "$bin" export -F otlp-json --service-name checkout "$snap" "$fields"

py "otlp logs: the crash is a FATAL record" otlp-logs '
import json, sys
recs = json.load(open(sys.argv[1]))["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
assert recs[-1]["severityNumber"] == 21 and recs[-1]["body"]["stringValue"].startswith("crash: SIGSEGV")
' "$bin" export -F otlp-json "$crash"

py "otlp traces: spans, parents, times, clipping" otlp-traces '
import json, sys
spans = json.load(open(sys.argv[1]))["resourceSpans"][0]["scopeSpans"][0]["spans"]
by = {s["name"]: s for s in spans}
assert sorted(by) == ["inner", "never.ends", "outer", "worker.step"], sorted(by)
assert by["outer"]["parentSpanId"] == "00f067aa0ba902b7"
assert by["inner"]["parentSpanId"] == by["outer"]["spanId"]
assert by["worker.step"]["parentSpanId"] == by["outer"]["spanId"]
assert by["inner"]["startTimeUnixNano"] == "1767225600000011000"
assert by["inner"]["endTimeUnixNano"] == "1767225600000014000"
assert all(s["kind"] == 1 and s["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736" for s in spans)
attrs = {a["key"]: a["value"] for a in by["outer"]["attributes"]}
assert attrs["ttlog.clipped"] == {"stringValue": "end"} and attrs["path"] == {"stringValue": "/a,b"}
attrs = {a["key"]: a["value"] for a in by["inner"]["attributes"]}
assert attrs["rows"] == {"intValue": "2"} and "ttlog.clipped" not in attrs
' "$bin" export -F otlp-json --signal traces "$hostile"

py "csv: fields as columns, keys like columns renamed" csv '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
cols = rows[0].keys()
for c in ("empty", "none", "huge", "field.time", "field.message", "field.level", "field.trace_id", "msg"):
    assert c in cols, (c, list(cols))
r = [r for r in rows if r["message"] == "column names"][0]
assert r["field.time"] == "t" and r["time"].startswith("2026-01-01T") and r["msg"] == "m"
r = [r for r in rows if r["message"].startswith("controls")][0]
assert r["message"] == "controls: [\\x01\\x02\\x1b[31m\\x7f tab\t cr\r lf\n end]", r["message"]
r = [r for r in rows if r["message"].startswith("not utf-8")][0]
assert r["message"].count("\ufffd") == 9 and r["message"].endswith("caf\u00e9 \U0001F600]")
' "$bin" export -F csv "$hostile"

# Filters apply to every format.
py "csv --level warn --since" csv '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
assert [r["level"] for r in rows] == ["WARN", "ERROR", "WARN", "ERROR"], [r["level"] for r in rows]
' "$bin" export -F csv --level warn --since 2026-01-01T00:00:00.000010Z "$snap"
py "logfmt --grep" logfmt '
import sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2 and all("step 2 of" in l for l in lines), lines
' "$bin" export -F logfmt --grep "step 2" "$snap"
py "otlp --field" otlp-logs '
import json, sys
recs = json.load(open(sys.argv[1]))["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
assert [r["body"]["stringValue"] for r in recs] == ["auth.login ok user=42 ip=10.0.0.1 ms=84"], recs
' "$bin" export -F otlp-json --field user=42 "$fields"
py "chrome --thread" chrome '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
i = [e for e in ev if e["ph"] == "i"]
assert len(i) == 7 and all(e["name"].startswith("worker 1") for e in i), i
' "$bin" export -F chrome --thread worker-1 "$snap"
py "chrome: a span whose end is filtered out is clipped" chrome '
import json, sys
x = {e["name"]: e for e in json.load(open(sys.argv[1]))["traceEvents"] if e["ph"] == "X"}
assert x["http.request"]["args"]["clipped"] == "end", x
' "$bin" export -F chrome --until 00:00:00.000010Z "$spans"

# Several files: lines concatenate.
check "jsonl of two files is both" - 0 '' -- sh -c \
	'"$1" export -F jsonl "$2" "$3" >"$TTLOG_TEST_TMP/a" &&
	 { "$1" export -F jsonl "$2"; "$1" export -F jsonl "$3"; } >"$TTLOG_TEST_TMP/b" &&
	 cmp "$TTLOG_TEST_TMP/a" "$TTLOG_TEST_TMP/b"' sh "$bin" "$snap" "$fields"
check "csv of two files: one header" - 0 '' -- sh -c \
	'test "$("$1" export -F csv "$2" "$3" | grep -c "^time,")" = 1' sh "$bin" "$snap" "$fields"

# -o FILE
check "-o FILE" empty.txt 0 '' -- "$bin" export -F jsonl -o "$tmp/out.jsonl" --level fatal "$snap"
expect "-o FILE wrote the events" cmp -s "$tmp/out.jsonl" <("$bin" export -F jsonl --level fatal "$snap")
check "-o into a missing directory" empty.txt 2 "cannot write '.*/no/such/dir/x'" -- \
	"$bin" export -F jsonl -o "$tmp/no/such/dir/x" "$snap"

# ---------------------------------------------------------------------------
# Usage errors: exit 1, a message and a hint on stderr, nothing on stdout

hint="Run 'ttlog export --help'"
check "no --format" empty.txt 1 "no --format given" -- "$bin" export "$snap"
check "unknown format" empty.txt 1 "unknown format 'xml'" -- "$bin" export -F xml "$snap"
check "--signal with csv" empty.txt 1 "--signal is for --format otlp-json only" -- \
	"$bin" export -F csv --signal traces "$snap"
check "unknown signal" empty.txt 1 "unknown signal 'events'" -- \
	"$bin" export -F otlp-json --signal events "$snap"
check "bad level" empty.txt 1 "^ttlog export: unknown level 'loud'" -- \
	"$bin" export -F csv --level loud "$snap"
check "bad time" empty.txt 1 "bad time '25:61' for --since" -- "$bin" export -F csv --since 25:61 "$snap"
check "--since with --last" empty.txt 1 "cannot be used together" -- \
	"$bin" export -F csv --since -1s --last 1s "$snap"
check "no FILE" empty.txt 1 "no FILE given" -- "$bin" export -F csv
check "unknown option" empty.txt 1 "unknown option '--frobnicate'" -- \
	"$bin" export -F csv --frobnicate "$snap"
for usage_case in "-F csv --level loud" "-F xml" "-F csv" "--bogus"; do
	# shellcheck disable=SC2086 # split on purpose
	check "hint after '$usage_case'" - 1 "$hint" -- "$bin" export $usage_case
done

# ---------------------------------------------------------------------------
# Files that cannot be read: exit 2, valid events first, still valid output

check "missing file" - 2 "^ttlog: .*no-such-file\.ttlog" -- \
	"$bin" export -F jsonl "$tmp/no-such-file.ttlog"
mtrc=$(grep -obUa MTRC "$snap" | tail -n 1 | cut -d: -f1)
head -c $((mtrc - 72 - 56)) "$snap" >"$tmp/truncated.ttlog"
for format in chrome otlp-json csv; do
	check "truncated file: $format, exit 2" - 2 "truncated\.ttlog: offset [0-9]+" -- \
		"$bin" export -F "$format" "$tmp/truncated.ttlog" "$snap"
done
"$bin" export -F chrome "$tmp/truncated.ttlog" "$snap" >"$tmp/truncated.json" 2>/dev/null
expect "truncated file: the chrome trace is still valid" \
	python3 "$checker" chrome "$tmp/truncated.json"
"$bin" export -F otlp-json "$tmp/truncated.ttlog" "$snap" >"$tmp/truncated.otlp" 2>/dev/null
expect "truncated file: the otlp request is still valid" \
	python3 "$checker" otlp-logs "$tmp/truncated.otlp"

# ---------------------------------------------------------------------------
# Output that goes away

many=()
for _ in $(seq 200); do many+=("$snap"); done
check "closed pipe" - 0 '' -- bash -c \
	'"$@" | head -n 1 >/dev/null; exit "${PIPESTATUS[0]}"' sh "$bin" export -F logfmt "${many[@]}"
if [ -w /dev/full ]; then
	check "full disk" - 2 "error writing the output" -- sh -c '"$@" >/dev/full' sh \
		"$bin" export -F chrome "$snap"
fi

finish
