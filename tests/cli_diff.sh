#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_diff.sh - tests of `ttlog diff` and `ttlog explain` over the runs of
# tests/progs/diff_run (fake clock, fixed pseudo-random latencies): run b
# has GET /users five times slower than run a, a warning that a lacks, and
# lacks a line that a has; the explain run is slow on /users in its last
# second only. The ranking is read from --json; the text table is checked
# for its first row.

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

mkdir -p "$tmp/a" "$tmp/b" "$tmp/e"
a=$("$progs/diff_run" "$tmp/a" a)
b=$("$progs/diff_run" "$tmp/b" b)
e=$("$progs/diff_run" "$tmp/e" explain)
for f in "$a" "$b" "$e"; do
	if [ ! -f "$f" ]; then
		fail "diff_run wrote its snapshots" "missing: $f"
		finish
	fi
done

# json_check NAME PYTHON-ASSERTIONS -- COMMAND...: the command's JSON
# output is `doc` in the assertions; r is doc["results"].
json_check() {
	local name=$1 code=$2
	shift 3
	local out=$tmp/json.out rc=0
	"$@" >"$out" 2>"$tmp/json.err" || rc=$?
	if [ "$rc" != 0 ]; then
		fail "$name" "exit code $rc: $(head -c 300 "$tmp/json.err")"
		return
	fi
	if python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
r = doc["results"]
def find(kind, fmt):
    return [x for x in r if x["kind"] == kind and fmt in x.get("format", "")]
exec(sys.argv[2])
' "$out" "$code" 2>"$tmp/json.py.err"; then
		passed=$((passed + 1))
		printf 'ok   %s\n' "$name"
	else
		fail "$name" "$(tail -n 3 "$tmp/json.py.err")"
	fi
}

# ---------------------------------------------------------------------------
# Help

check "diff --help" '~^Usage: ttlog diff' 0 '' -- "$bin" diff --help
check "explain --help" '~^Usage: ttlog explain' 0 '' -- "$bin" explain --help
check "help lists diff" '~^  diff A B ' 0 '' -- "$bin" help
check "help lists explain" '~^  explain ' 0 '' -- "$bin" help
help_text=$("$bin" diff --help)
for word in --top --json log2 'n/(n+20)' "Cliff's delta" p99 'only grow'; do
	expect "diff --help explains $word" grep -qF -- "$word" <<<"$help_text"
done
expect "explain --help names --window and its default" grep -q -- '--window DURATION.*' <<<"$("$bin" explain --help)"

# ---------------------------------------------------------------------------
# diff

json_check "diff: the /users latency argument ranks first, 5 times higher" '
top = r[0]
assert top["kind"] == "arg" and top["field"] == "latency_ms", top
assert "GET /users" in top["format"], top
assert 4.5 < top["b"]["p50"] / top["a"]["p50"] < 5.5, top
assert top["rank_delta"] > 0.99, top
assert top["a"]["n"] == 3000 and top["b"]["n"] == 3000, top
' -- "$bin" diff --json "$a" "$b"
json_check "diff: the warning only b has is new, the line only a has is gone" '
new = find("new", "retrying connection")
assert len(new) == 1 and new[0]["a"]["n"] == 0 and new[0]["b"]["n"] == 5, new
gone = find("gone", "cache warmed")
assert len(gone) == 1 and gone[0]["b"]["n"] == 0, gone
assert not find("new", "GET") and not find("gone", "GET")
' -- "$bin" diff --json --top 0 "$a" "$b"
json_check "diff: what did not change scores near 0" '
for x in r:
    if x["kind"] in ("new", "gone") or "GET /users" in x.get("format", "") and x["kind"] == "arg":
        continue
    assert x["score"] < 0.05, x
spans = [x for x in r if x["kind"] == "span"]
assert len(spans) == 1 and spans[0]["span"] == "db.query", spans
' -- "$bin" diff --json --top 0 "$a" "$b"
json_check "diff: the request number (only grows) is not compared, and said so" '
nc = doc["not_compared"]
assert len(nc) == 1 and nc[0]["position"] == 0 and "request %u" in nc[0]["format"], nc
assert not [x for x in r if x["kind"] == "arg" and "request %u" in x["format"] and x["position"] == 0]
' -- "$bin" diff --json "$a" "$b"
json_check "diff B A: the same argument first, 5 times lower; the warning is gone" '
assert r[0]["field"] == "latency_ms" and 0.18 < r[0]["ratio"] < 0.22, r[0]
assert len(find("gone", "retrying")) == 1 and len(find("new", "cache warmed")) == 1
' -- "$bin" diff --json --top 0 "$b" "$a"
json_check "diff A A: nothing departs" '
assert all(x["score"] == 0 for x in r), r[0]
' -- "$bin" diff --json --top 0 "$a" "$a"
json_check "diff --top 1: one result, the rest counted" '
assert len(r) == 1 and doc["more"] > 5, (len(r), doc["more"])
assert doc["a"]["events"] == 15001 and doc["b"]["events"] == 15005, (doc["a"], doc["b"])
' -- "$bin" diff -o json --top 1 "$a" "$b"
check "diff: the text table's first row" \
	'~^ 1 +[0-9.]+ +arg +diff_run\.c:[0-9]+ +latency_ms +p50 [0-9.]+ .* p[059]+ x[45][.0-9]*, rank \+1\.00 +GET /users' \
	0 '' -- "$bin" diff "$a" "$b"
check "diff: the text names what was not compared" \
	'~^not compared, their values only grow \(counters, ids\): diff_run\.c:[0-9]+ arg 0$' \
	0 '' -- "$bin" diff "$a" "$b"
check "diff: directories and globs" '~^ 1 +[0-9.]+ +arg .* latency_ms ' 0 '' -- \
	"$bin" diff "$tmp/a" "$tmp/b/*.ttlog"

# Losses in the inputs are said with the side they belong to.
lost=$(make_snapshot lost)
check "diff: the events a file lost are said" \
	'~^B: .*: [0-9]+ events over [0-9.]+ s; [1-9][0-9]* events lost from its files \(overwritten' 0 '' -- \
	"$bin" diff "$a" "$lost"
json_check "diff --json: lost" '
assert doc["a"]["lost"] == 0 and doc["b"]["lost"] > 0, (doc["a"], doc["b"])
' -- "$bin" diff --json "$a" "$lost"

# ---------------------------------------------------------------------------
# explain

json_check "explain --window 1s: the /users latency of the last second first" '
top = r[0]
assert top["kind"] == "arg" and top["field"] == "latency_ms" and "GET /users" in top["format"], top
assert 4.5 < top["ratio"] < 5.5 and 990 <= top["b"]["n"] <= 1000, top
assert r[1]["score"] < 0.1, r[1]
' -- "$bin" explain --json --window 1s "$e"
json_check "explain, default window (the last fifth): the same first" '
assert r[0]["field"] == "latency_ms" and "GET /users" in r[0]["format"], r[0]
' -- "$bin" explain --json "$e"
json_check "explain of a steady run: nothing scores high" '
assert all(x["score"] < 0.1 for x in r), r[0]
' -- "$bin" explain --json --top 0 --window 1s "$a"
check "explain: the text table's first row" '~^ 1 +[0-9.]+ +arg +diff_run\.c:[0-9]+ +latency_ms ' 0 '' -- \
	"$bin" explain -w 1s "$e"

# ---------------------------------------------------------------------------
# Bad input and usage

: >"$tmp/empty.ttlog"
printf 'not a snapshot at all\n' >"$tmp/text.ttlog"
mkdir -p "$tmp/nothing"
check "diff: one argument" - 1 '^ttlog diff: expected two arguments, A and B' -- "$bin" diff "$a"
check "diff: no argument" - 1 '^ttlog diff: expected two arguments' -- "$bin" diff
check "diff: bad --top" - 1 "bad count 'x' for --top" -- "$bin" diff --top x "$a" "$b"
check "diff: bad --output" - 1 "unknown output format 'xml'" -- "$bin" diff -o xml "$a" "$b"
check "diff: unknown option" - 1 "unknown option '--frob'" -- "$bin" diff --frob "$a" "$b"
check "diff: missing file" - 2 "^ttlog diff: $tmp/missing.ttlog: cannot open: No such file" -- \
	"$bin" diff "$a" "$tmp/missing.ttlog"
check "diff: empty file" - 2 "^ttlog diff: $tmp/empty.ttlog: offset 0: expected a 24-byte file header" -- \
	"$bin" diff "$tmp/empty.ttlog" "$b"
check "diff: not a snapshot" - 2 "^ttlog diff: $tmp/text.ttlog: offset 0: expected the ttlog magic" -- \
	"$bin" diff "$a" "$tmp/text.ttlog"
check "diff: a directory without files" - 2 "^ttlog diff: $tmp/nothing: no events to compare" -- \
	"$bin" diff "$a" "$tmp/nothing"
# A file damaged in the middle: the events that survived are compared,
# the damage is said, the exit status is 2.
cp "$b" "$tmp/damaged.ttlog"
size=$(wc -c <"$tmp/damaged.ttlog")
printf '\377\377\377\377\377\377\377\377' | dd of="$tmp/damaged.ttlog" bs=1 seek=$((size / 2)) \
	conv=notrunc status=none
check "diff: a damaged file gives its surviving events and its error" \
	'~^ 1 +[0-9.]+ +arg .* latency_ms ' 2 "^ttlog diff: $tmp/damaged.ttlog: " -- \
	"$bin" diff "$a" "$tmp/damaged.ttlog"
check "explain: missing file" - 2 "^ttlog explain: $tmp/missing.ttlog: cannot open" -- \
	"$bin" explain "$tmp/missing.ttlog"
check "explain: empty file" - 2 "^ttlog explain: $tmp/empty.ttlog: " -- "$bin" explain "$tmp/empty.ttlog"
check "explain: a window as long as the history" - 1 \
	"^ttlog explain: the window \(10\.000 s\) leaves nothing before it" -- \
	"$bin" explain --window 10s "$a"
check "explain: bad window" - 1 "bad duration 'abc' for --window" -- "$bin" explain --window abc "$a"
check "explain: two files" - 1 '^ttlog explain: expected one FILE' -- "$bin" explain "$a" "$b"
check "explain: damaged file" '~latency_ms' 2 "^ttlog explain: $tmp/damaged.ttlog: " -- \
	"$bin" explain --window 1s "$tmp/damaged.ttlog"

finish
