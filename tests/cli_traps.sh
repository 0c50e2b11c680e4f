#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_traps.sh - what users of the `ttlog` command tripped on: reading
# commands without a FILE (the newest snapshot of the default directory),
# `export --format json`, counts that agree between commands, `view
# --sampling` with the events, --thread that matches nothing, large
# integers in JSON, and one rule for durations.

# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

golden=$(make_snapshot golden) || exit 1
spans=$(make_snapshot spans) || exit 1

# ---------------------------------------------------------------------------
# No FILE: the newest snapshot of the default directory (TTLOG_DIR here, as
# the library and `ttlog ls` take it). The older snapshot has the later
# modification time, so that the name's time is what decides.

dflt=$tmp/default
mkdir -p "$dflt"
newest=$dflt/ttlog-1-20260101T000000.000000002Z-spans.ttlog
cp "$spans" "$newest"
cp "$golden" "$dflt/ttlog-1-20260101T000000.000000001Z-golden.ttlog"
echo "not a snapshot" >"$dflt/notes.txt"
reading="reading $newest \\(the newest snapshot of $dflt\\)"

"$bin" view "$newest" >"$tmp/view.want"
TTLOG_DIR=$dflt "$bin" view >"$tmp/view.got" 2>"$tmp/view.err"
expect "view without FILE: the newest snapshot's events" cmp -s "$tmp/view.want" "$tmp/view.got"
expect "view without FILE: names the file on stderr" grep -Eq "^ttlog view: $reading$" "$tmp/view.err"
check "view without FILE: exit 0" ~begin 0 "ttlog view: $reading" -- env TTLOG_DIR="$dflt" "$bin" view
check "stats without FILE" ~"$newest" 0 "ttlog stats: $reading" -- env TTLOG_DIR="$dflt" "$bin" stats
"$bin" export -F jsonl "$newest" >"$tmp/export.want"
TTLOG_DIR=$dflt "$bin" export -F jsonl >"$tmp/export.got" 2>/dev/null
expect "export without FILE: the newest snapshot's events" cmp -s "$tmp/export.want" "$tmp/export.got"
check "export without FILE: names the file" - 0 "ttlog export: $reading" -- \
	env TTLOG_DIR="$dflt" "$bin" export -F jsonl
# XDG_RUNTIME_DIR/ttlog when TTLOG_DIR is not set, as the library does.
mkdir -p "$tmp/xdg/ttlog"
cp "$spans" "$tmp/xdg/ttlog/"
check "view without FILE: XDG_RUNTIME_DIR/ttlog" ~begin 0 "reading $tmp/xdg/ttlog/" -- \
	env -u TTLOG_DIR XDG_RUNTIME_DIR="$tmp/xdg" "$bin" view
mkdir -p "$tmp/empty"
check "view without FILE: no snapshot" - 1 "no FILE given, and no snapshot in the default directory $tmp/empty" -- \
	env TTLOG_DIR="$tmp/empty" "$bin" view
check "stats without FILE: no directory" - 1 "no FILE given, and the default directory $tmp/none cannot be read" -- \
	env TTLOG_DIR="$tmp/none" "$bin" stats

# ---------------------------------------------------------------------------
# export --format json: jsonl under the name `view -o json` uses.

"$bin" export --format json "$newest" >"$tmp/export.json" 2>"$tmp/export.err"
expect "export --format json is jsonl" cmp -s "$tmp/export.want" "$tmp/export.json"
expect "export --format json: nothing on stderr" test ! -s "$tmp/export.err"

# ---------------------------------------------------------------------------
# --thread that matches no thread: an error, like --service, for one file,
# a directory (a store) and export; one that matches still prints.

check "view --thread nosuch" - 1 "^ttlog view: --thread 'nosuch' matches no thread" -- \
	"$bin" view --thread nosuch "$newest"
check "view --thread nosuch, store" - 1 "^ttlog view: --thread 'nosuch' matches no thread" -- \
	"$bin" view --thread nosuch "$dflt"
check "export --thread nosuch" - 1 "^ttlog export: --thread 'nosuch' matches no thread" -- \
	"$bin" export -F jsonl --thread nosuch "$newest"
check "view --thread main --thread nosuch" ~"before any span" 1 "--thread 'nosuch' matches no thread" -- \
	"$bin" view --thread main --thread nosuch "$newest"
check "view --thread main" ~"before any span" 0 "" -- "$bin" view --thread main "$newest"
check "view --thread main, store" ~"before any span" 0 "" -- "$bin" view --thread main "$dflt"

# ---------------------------------------------------------------------------
# view --sampling: the events and the table, for a file and for a store.

mkdir -p "$tmp/sampled"
sampled=$("$progs/sampled_snapshot" "$tmp/sampled")
for arg in "$sampled" "$tmp/sampled"; do
	"$bin" view --sampling "$arg" >"$tmp/sampling.out" 2>&1
	expect "view --sampling $arg: the events" grep -q "one in ten 90" "$tmp/sampling.out"
	expect "view --sampling $arg: the table" grep -q "^-- sampling: sampled_snapshot.c:29 1/10: kept 10, dropped 90" "$tmp/sampling.out"
done

# ---------------------------------------------------------------------------
# Durations: one rule for options and TTLOG_* variables (a number alone is
# seconds; units ns, us, ms, s, m or min, h, d; parts combined).

"$bin" view --last 5s "$newest" >"$tmp/last.want"
for d in 5 5.0 5000ms 0.0833333333333m; do
	"$bin" view --last "$d" "$newest" >"$tmp/last.got" 2>&1
	expect "view --last $d is --last 5s" cmp -s "$tmp/last.want" "$tmp/last.got"
done
check "view --last 1d" ~"before any span" 0 "" -- "$bin" view --last 1d "$newest"
check "view --last 2min" ~"before any span" 0 "" -- "$bin" view --last 2min "$newest"
check "view --last 5x" - 1 "bad duration '5x' for --last: missing or unknown unit" -- \
	"$bin" view --last 5x "$newest"
check "serve --time-limit 5000 (seconds: over 1h)" - 1 "--time-limit takes 1ms to 1h" -- \
	"$bin" serve --time-limit 5000 "$newest"
check "serve --time-limit 2h" - 1 "--time-limit takes 1ms to 1h" -- "$bin" serve --time-limit 2h "$newest"

# ---------------------------------------------------------------------------
# Integers beyond 2^53 in JSON: bare numbers by default (exact digits),
# strings with --json-big-as-string, so that a reader using doubles (jq,
# JavaScript) gets them exact; smaller integers stay numbers.

big_check() {
	python3 -c '
import json, sys
want_str = sys.argv[1] == "str"
found = 0
for line in sys.stdin:
    e = json.loads(line)
    if not isinstance(e["time_ns"], str if want_str else int):
        sys.exit("time_ns: %r" % (e["time_ns"],))
    if e["message"].startswith("ints:"):
        a = e["args"]
        big = [str(2**64 - 1), str(-2**63)]
        if want_str and (a[2] != big[1] or a[3] != big[0] or a[4] != 123456789012345 or a[0] != -42):
            sys.exit("args: %r" % (a,))
        if not want_str and (a[2] != -2**63 or a[3] != 2**64 - 1):
            sys.exit("args: %r" % (a,))
        found += 1
sys.exit(0 if found else "no ints: event")' "$1"
}
"$bin" view -o json "$golden" | big_check num
expect "view -o json: big integers are numbers" test "${PIPESTATUS[1]}" -eq 0
"$bin" view -o json --json-big-as-string "$golden" | big_check str
expect "view -o json --json-big-as-string: big integers are strings" test "${PIPESTATUS[1]}" -eq 0
"$bin" export -F json --json-big-as-string "$golden" | big_check str
expect "export --json-big-as-string: big integers are strings" test "${PIPESTATUS[1]}" -eq 0
check "export -F csv --json-big-as-string" - 1 "is for --format jsonl only" -- \
	"$bin" export -F csv --json-big-as-string "$golden"
check "view --json-big-as-string without -o json" - 1 "is for -o json only" -- \
	"$bin" view --json-big-as-string "$golden"
finish
