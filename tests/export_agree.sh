#!/usr/bin/env bash
# export_agree.sh - the outputs that write a span as one record agree with
# each other and with docs/EXPORT.md: `ttlog export --format chrome`,
# `--format otlp-json --signal traces` and the SQL spans table.
#
#   - span attributes are unique keys: a span begun inside a context has the
#     context's key once, and a key set at the begin and again before the
#     end (TTLOG_SPAN_FIELD) has the end's value, in all three;
#   - a span still open when the snapshot was taken ends at the file's last
#     event in all three (the jsonl export gives that event's time).
#
# The data: tests/progs/span_attrs (a span "op" in the context request_id,
# begun with user=5, ending with rows=3 and user=6; then "still.open").

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
PY
while IFS= read -r line; do
	case "$line" in
	ok\ *) passed=$((passed + 1)) ;;
	FAIL\ *) fail "${line#FAIL }" "" ;;
	*) fail "checker" "$line" ;;
	esac
done <"$tmp/checks"

finish
