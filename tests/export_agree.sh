#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# export_agree.sh - the outputs that write a span as one record agree with
# each other and with docs/EXPORT.md: `ttlog export --format chrome`,
# `--format otlp-json --signal traces` and the SQL spans table.
#
#   - span attributes are unique keys: a span begun inside a context has the
#     context's key once, and a key set at the begin and again before the
#     end (TTLOG_SPAN_FIELD) has the end's value, in all three;
#   - a span still open when the snapshot was taken ends at the file's last
#     event in all three (the jsonl export gives that event's time);
#   - a crash's stack is carried by jsonl (an object of kind "stack", as
#     `ttlog view -o json` prints it) and by OTLP: exception.type,
#     exception.message and exception.stacktrace on the crash's log record
#     and on an "exception" event of the span the crash ended.
#
# The data: tests/progs/span_attrs (a span "op" in the context request_id,
# begun with user=5, ending with rows=3 and user=6; then "still.open"),
# once with a snapshot, once crashing (SIGSEGV, in its own process) inside
# "still.open".

# shellcheck disable=SC2154
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

mkdir -p "$tmp/data"
snap=$("$progs/span_attrs" "$tmp/data") || { fail "span_attrs" "exited $?"; finish; }
"$bin" export --format chrome -o "$tmp/chrome.json" "$snap" || fail "export chrome" "exit $?"
"$bin" export --format otlp-json --signal traces -o "$tmp/otlp.json" "$snap" || fail "export otlp" "exit $?"
"$bin" export --format jsonl -o "$tmp/events.jsonl" "$snap" || fail "export jsonl" "exit $?"
"$bin" query -o json "SELECT name, start, end, fields, clipped FROM spans" "$snap" >"$tmp/spans.json" ||
	fail "query spans" "exit $?"

mkdir -p "$tmp/crash"
("$progs/span_attrs" "$tmp/crash" crash) >/dev/null 2>&1
crash=$(ls "$tmp"/crash/*SIGSEGV.ttlog 2>/dev/null | head -1)
if [ -z "$crash" ]; then
	fail "crash snapshot" "span_attrs crash wrote no SIGSEGV snapshot"
	finish
fi
"$bin" export --format jsonl -o "$tmp/crash.jsonl" "$crash" || fail "export crash jsonl" "exit $?"
"$bin" export --format jsonl -o "$tmp/crash-store.jsonl" "$tmp/crash" || fail "export crash dir jsonl" "exit $?"
"$bin" export --format otlp-json -o "$tmp/crash-logs.json" "$crash" || fail "export crash logs" "exit $?"
"$bin" export --format otlp-json --signal traces -o "$tmp/crash-traces.json" "$crash" ||
	fail "export crash traces" "exit $?"

# Each line of the helper's output is one check: "ok NAME" or "FAIL NAME: why".
python3 - "$tmp" >"$tmp/checks" 2>&1 <<'PY'
import json, sys
from decimal import Decimal

tmp = sys.argv[1]

def no_dups(pairs):
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError("duplicate keys %s" % dup)
    return dict(pairs)

def check(name, cond, why=""):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + why))

def load(path, **kw):
    with open(path) as f:
        return json.load(f, **kw)

want = {"user": 6, "request_id": 17, "rows": 3}
last_ns = max(json.loads(l)["time_ns"] for l in open(tmp + "/events.jsonl"))

# Chrome: args of the complete events; ts and dur are microseconds from the base.
try:
    chrome = load(tmp + "/chrome.json", object_pairs_hook=no_dups, parse_float=Decimal)
    spans = {e["name"]: e for e in chrome["traceEvents"] if e.get("ph") == "X"}
    op = spans["op"]["args"]
    check("chrome: op's fields", {k: op[k] for k in want} == want, str(op))
    base = int(chrome["otherData"]["time_base_ns"])
    so = spans["still.open"]
    end = base + int((so["ts"] + so["dur"]) * 1000)
    check("chrome: still.open ends at the last event", end == last_ns, "%d vs %d" % (end, last_ns))
    check("chrome: still.open clipped", so["args"].get("clipped") == "end", str(so["args"]))
except ValueError as e:
    check("chrome: unique keys", False, str(e))

# OTLP: attributes are a list of key/value pairs.
otlp = load(tmp + "/otlp.json")
spans = {s["name"]: s for r in otlp["resourceSpans"] for ss in r["scopeSpans"] for s in ss["spans"]}
for name, s in sorted(spans.items()):
    keys = [a["key"] for a in s["attributes"]]
    check("otlp: %s's attribute keys are unique" % name, len(keys) == len(set(keys)), str(keys))
attrs = {a["key"]: a["value"] for a in spans["op"]["attributes"]}
got = {k: int(attrs[k]["intValue"]) for k in want if k in attrs}
check("otlp: op's fields", got == want, str(got))
end = int(spans["still.open"]["endTimeUnixNano"])
check("otlp: still.open ends at the last event", end == last_ns, "%d vs %d" % (end, last_ns))

# SQL: spans.fields is a JSON object; end is set for an open span too.
rows = {r["name"]: r for r in map(json.loads, open(tmp + "/spans.json"))}
try:
    fields = json.loads(rows["op"]["fields"], object_pairs_hook=no_dups)
    check("sql: op's fields", fields == want, rows["op"]["fields"])
except ValueError as e:
    check("sql: unique keys", False, str(e))
so = rows["still.open"]
check("sql: still.open ends at the last event", so["end"] == last_ns, "%s vs %d" % (so["end"], last_ns))
check("sql: still.open clipped", so["clipped"] == "end", str(so["clipped"]))
check("sql: op not clipped", rows["op"]["clipped"] is None, str(rows["op"]["clipped"]))

# The crash: jsonl has the stack after the events, for a file and for a directory.
for name in ("crash.jsonl", "crash-store.jsonl"):
    lines = [json.loads(l) for l in open(tmp + "/" + name)]
    stacks = [l for l in lines if l.get("kind") == "stack"]
    check(name + ": the crash stack", len(stacks) == 1 and stacks[0]["crashed"] is True and
          any(f["function"] == "main" for f in stacks[0]["frames"]), str(stacks)[:300])
    check(name + ": the stack after the events", lines[-1].get("kind") == "stack", str(lines[-1])[:200])

def exception_ok(what, attrs):
    a = {x["key"]: x["value"].get("stringValue") for x in attrs}
    check(what + ": exception.type", a.get("exception.type") == "SIGSEGV", str(a.get("exception.type")))
    check(what + ": exception.message", (a.get("exception.message") or "").startswith("SIGSEGV"),
          str(a.get("exception.message")))
    st = a.get("exception.stacktrace") or ""
    check(what + ": exception.stacktrace", "crashed:" in st and " in main at " in st, st[:300])

logs = load(tmp + "/crash-logs.json")
records = [r for rl in logs["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]
fatal = [r for r in records if r.get("severityText") == "FATAL"]
check("otlp logs: one crash record", len(fatal) == 1, str(len(fatal)))
if fatal:
    exception_ok("otlp logs", fatal[0]["attributes"])
traces = load(tmp + "/crash-traces.json")
spans = {s["name"]: s for r in traces["resourceSpans"] for ss in r["scopeSpans"] for s in ss["spans"]}
so = spans.get("still.open", {})
events = so.get("events", [])
check("otlp traces: the crashed span has an exception event",
      len(events) == 1 and events[0]["name"] == "exception", str(events)[:200])
if events:
    exception_ok("otlp traces", events[0]["attributes"])
    check("otlp traces: the event is in the span",
          int(so["startTimeUnixNano"]) <= int(events[0]["timeUnixNano"]) <= int(so["endTimeUnixNano"]), "")
check("otlp traces: the crashed span's status is ERROR", so.get("status", {}).get("code") == 2, str(so.get("status")))
check("otlp traces: the ended span has no event", "events" not in spans["op"], str(spans["op"].get("events")))
PY
while IFS= read -r line; do
	case "$line" in
	ok\ *) passed=$((passed + 1)) ;;
	FAIL\ *) fail "${line#FAIL }" "" ;;
	*) fail "checker" "$line" ;;
	esac
done <"$tmp/checks"

finish
