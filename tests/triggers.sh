#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# triggers.sh - TTLOG_TRIGGER: rules evaluated inside the process
# (tests/progs/trigger_burst.c logs steadily, with a sequence number in
# each event, and injects what the rules watch for):
#   - a latency burst (histogram observations above the bound) and an
#     error, with two rules: exactly two snapshots, each holding events from
#     before and after its trigger, the rule in `ttlog ls` and `ttlog view`;
#     `once` fires once although a second burst matches; max=1/1h holds a
#     second error back; exec: runs its command (it writes a file); the
#     metric action counts the fire;
#   - span, gauge and counter-rate rules, one snapshot each;
#   - bad rules: each named on stderr with its column, left out, and the
#     process logs on with the good rule;
#   - exit() while a snapshot waits for its post-roll: it is written then;
#   - ttlog_trigger_add(): a bad rule refused with its message, a good one
#     fires.
# The program waits for files and counts, never for times; nothing here
# asserts a duration.
set -u
# shellcheck source=support/cli_lib.sh
. "$(dirname "$0")/support/cli_lib.sh"

for var in TTLOG_DIR TTLOG_TRIGGER TTLOG_WATCHDOG TTLOG_STREAM TTLOG_LEVEL TTLOG_WINDOW \
	TTLOG_SHARED_MEMORY; do
	unset "$var"
done

# The trigger snapshots of a directory, one path a line, oldest first.
trigger_files() {
	find "$1" -maxdepth 1 -name 'ttlog-*-trigger*.ttlog' | sort
}

# The first line number of a fixed string in a file, 0 if none.
line_of() {
	grep -nF -m1 -- "$2" "$1" | cut -d: -f1 | grep . || echo 0
}

# view_has_both_sides NAME FILE: in `ttlog view FILE`, a "seq N" event
# comes before the "-- trigger fired:" line and another after it, and the
# numbers grow across it.
view_has_both_sides() {
	local out=$tmp/$1.view mark before after
	"$bin" view "$2" >"$out" 2>&1
	# The mark comes between the events rendered on other threads too.
	"$bin" view --jobs 1 "$2" >"$out.1" 2>&1
	"$bin" view --jobs 4 "$2" >"$out.4" 2>&1
	expect "$1: view prints the same with --jobs 1 and --jobs 4" cmp -s "$out.1" "$out.4"
	mark=$(line_of "$out" "-- trigger fired: ")
	if [ "$mark" -eq 0 ]; then
		fail "$1: view marks the trigger" "no '-- trigger fired:' line in $(head -c 300 "$out")"
		return
	fi
	passed=$((passed + 1))
	printf 'ok   %s: view marks the trigger\n' "$1"
	before=$(head -n "$mark" "$out" | grep -Eo ' seq [0-9]+$' | tail -n 1 | tr -dc 0-9)
	after=$(tail -n +"$mark" "$out" | grep -Eo ' seq [0-9]+$' | head -n 1 | tr -dc 0-9)
	expect "$1: pre-roll (seq ${before:-none} before the trigger)" test -n "$before"
	expect "$1: post-roll (seq ${after:-none} after the trigger)" test -n "$after"
	if [ -n "$before" ] && [ -n "$after" ]; then
		expect "$1: the numbers grow across the trigger ($before < $after)" test "$before" -lt "$after"
	fi
}

# ---- A latency burst and an error ---------------------------------------------------

dir=$tmp/burst
mkdir -p "$dir"
mark=$tmp/exec-ran
rule_lat='metric test.latency_ms p99>250 over=1s post=1s once action=snapshot,stderr,exec:'"'"'printf "%s\n%s\n" "$TTLOG_TRIGGER_RULE" "$TTLOG_TRIGGER_FILE" >"$MARK"'"'"
rule_err='level>=error post=1s max=1/1h action=snapshot,stderr,metric'
rc=0
env TTLOG_DIR="$dir" MARK="$mark" TTLOG_TRIGGER="$rule_lat; $rule_err" \
	"$progs/trigger_burst" burst >"$tmp/burst.out" 2>"$tmp/burst.err" </dev/null || rc=$?
expect "burst: the program ran to its end (exit $rc: $(head -c 300 "$tmp/burst.err"))" test "$rc" = 0

mapfile -t files < <(trigger_files "$dir")
expect "burst: exactly two trigger snapshots (found ${#files[@]})" test "${#files[@]}" = 2

n_lat=$(grep -cF "ttlog: trigger fired: metric test.latency_ms p99>250" "$tmp/burst.err")
n_err=$(grep -cF "ttlog: trigger fired: level>=error" "$tmp/burst.err")
expect "burst: one stderr line for the burst (found $n_lat)" test "$n_lat" = 1
expect "burst: one stderr line for the error (found $n_err)" test "$n_err" = 1

# Which file is which: the rule each names, from ls's JSON.
"$bin" ls -o json "$dir" >"$tmp/ls.json" 2>&1
lat_file=$(python3 -c '
import json, sys
rule = sys.argv[2]
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("trigger_rule") == rule:
        print(e["path"])' "$tmp/ls.json" "$rule_lat")
err_file=$(python3 -c '
import json, sys
rule = sys.argv[2]
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("trigger_rule") == rule and e.get("reason") == "trigger" and e.get("trigger_ns"):
        print(e["path"])' "$tmp/ls.json" "$rule_err")
expect "burst: ls -o json names the burst's rule in one file" test -n "$lat_file"
expect "burst: ls -o json names the error's rule in one file" test -n "$err_file"
check "burst: ls shows the rule in REASON" "~trigger: level>=error post=1s max=1/1h" 0 '' -- \
	"$bin" ls "$dir"

if [ -n "$lat_file" ]; then
	view_has_both_sides burst-latency "$lat_file"
	check "burst: the latency file holds the burst" "~burst at seq=[0-9]+" 0 '' -- \
		"$bin" view "$lat_file"
	check "burst: view --header names the rule" "~^-- trigger: metric test.latency_ms p99>250 .*, fired at " \
		0 '' -- "$bin" view --header "$lat_file"
fi
if [ -n "$err_file" ]; then
	view_has_both_sides burst-error "$err_file"
	out=$tmp/err.view
	"$bin" view "$err_file" >"$out" 2>&1
	m=$(line_of "$out" "-- trigger fired: level>=error")
	e=$(line_of "$out" "injected error seq=")
	expect "burst: the error is right after the mark (mark line $m, error line $e)" \
		test "$m" -gt 0 -a "$e" = $((m + 1))
	check "burst: the metric action counted one fire" \
		'~ttlog_triggers_fired_total\{rule="level>=error post=1s max=1/1h action=snapshot,stderr,metric"\} +1$' \
		0 '' -- "$bin" view --metrics "$err_file"
fi
# The rate policies: the second burst (once) and the second error
# (max=1/1h) matched and were held back, so no file holds the second error.
held=0
for f in "${files[@]}"; do
	if "$bin" view "$f" 2>/dev/null | grep -qF "second error seq="; then
		held=1
	fi
done
expect "burst: no snapshot for the second error" test "$held" = 0
if [ -n "$err_file" ]; then
	check "burst: both held-back matches are counted" '~ttlog_trigger_matches_held_total +[1-9]' 0 '' -- \
		"$bin" view --metrics "$err_file"
fi

# exec: ran once, after the burst's snapshot, with the rule and the file.
for _ in $(seq 1 100); do
	[ -s "$mark" ] && break
	sleep 0.1
done
expect "exec: the command wrote its file" test -s "$mark"
if [ -s "$mark" ]; then
	expect "exec: TTLOG_TRIGGER_RULE is the rule" test "$(sed -n 1p "$mark")" = "$rule_lat"
	expect "exec: TTLOG_TRIGGER_FILE is the burst's snapshot" test "$(sed -n 2p "$mark")" = "$lat_file"
fi

# ---- Span, gauge and counter rate ----------------------------------------------------

dir=$tmp/more
mkdir -p "$dir"
rc=0
env TTLOG_DIR="$dir" \
	TTLOG_TRIGGER='span checkout>50ms post=200ms; gauge queue.depth>1000 post=200ms; counter errors rate>5/s over=1s post=200ms' \
	"$progs/trigger_burst" more >"$tmp/more.out" 2>"$tmp/more.err" </dev/null || rc=$?
expect "more: the program ran to its end (exit $rc: $(head -c 300 "$tmp/more.err"))" test "$rc" = 0
mapfile -t files < <(trigger_files "$dir")
expect "more: exactly three trigger snapshots (found ${#files[@]})" test "${#files[@]}" = 3
"$bin" ls "$dir" >"$tmp/more.ls" 2>&1
for rule in 'span checkout>50ms' 'gauge queue.depth>1000' 'counter errors rate>5/s'; do
	expect "more: ls names '$rule'" grep -qF "trigger: $rule" "$tmp/more.ls"
done
for f in "${files[@]}"; do
	if "$bin" ls -o json "$f" 2>/dev/null | grep -qF '"trigger_rule":"span checkout>50ms'; then
		check "more: the span's file holds the span's event" "~checking out seq=" 0 '' -- "$bin" view "$f"
	fi
done

# ---- Bad rules ---------------------------------------------------------------------

dir=$tmp/bad
mkdir -p "$dir"
rc=0
env TTLOG_DIR="$dir" \
	TTLOG_TRIGGER="level>=eror post=1s; metric http.latency_ms p99>250s; counter c rate>5/x; gauge q>1 action=snapshot,bogus; span x>1s post=2; level>=error post=300ms; level>=warn action=exec:'unclosed" \
	"$progs/trigger_burst" error >"$tmp/bad.out" 2>"$tmp/bad.err" </dev/null || rc=$?
expect "bad: the program logs on and ends well (exit $rc)" test "$rc" = 0
for want in \
	"ttlog: TTLOG_TRIGGER: rule 1 'level>=eror post=1s': column 8: unknown level 'eror'" \
	"ttlog: TTLOG_TRIGGER: rule 2 'metric http.latency_ms p99>250s': column 31: unit 's' is not the unit of metric 'http.latency_ms'" \
	"ttlog: TTLOG_TRIGGER: rule 3 'counter c rate>5/x': column 18: expected /s, /m or /h" \
	"ttlog: TTLOG_TRIGGER: rule 4 'gauge q>1 action=snapshot,bogus': column 27: unknown action 'bogus'" \
	"ttlog: TTLOG_TRIGGER: rule 7 'level>=warn action=exec:'unclosed': column 25: the quote ' is not closed"; do
	expect "bad: stderr says: $want" grep -qF -- "$want" "$tmp/bad.err"
done
n=$(grep -c "this rule is ignored, ttlog runs with the others" "$tmp/bad.err")
expect "bad: each of the five bad rules is said to be ignored (found $n)" test "$n" = 5
mapfile -t files < <(trigger_files "$dir")
expect "bad: the good rule still fired once (found ${#files[@]} files)" test "${#files[@]}" = 1
if [ "${#files[@]}" = 1 ]; then
	check "bad: its snapshot holds the events" "~injected error seq=[0-9]+" 0 '' -- "$bin" view "${files[0]}"
	check "bad: the refused rules are counted" '~ttlog_trigger_rules_refused_total +5$' 0 '' -- \
		"$bin" view --metrics "${files[0]}"
fi

# ---- exit() during the post-roll ---------------------------------------------------

dir=$tmp/exit
mkdir -p "$dir"
rc=0
env TTLOG_DIR="$dir" TTLOG_TRIGGER='level>=error post=1h' \
	"$progs/trigger_burst" exit >"$tmp/exit.out" 2>"$tmp/exit.err" </dev/null || rc=$?
expect "exit: the program exited (exit $rc: $(head -c 300 "$tmp/exit.err"))" test "$rc" = 0
mapfile -t files < <(trigger_files "$dir")
expect "exit: the snapshot waiting for its post-roll was written at exit (found ${#files[@]})" \
	test "${#files[@]}" = 1
if [ "${#files[@]}" = 1 ]; then
	check "exit: it holds the events up to the exit" "~exiting seq=[0-9]+" 0 '' -- "$bin" view "${files[0]}"
fi

# ---- ttlog_trigger_add() ---------------------------------------------------------------

dir=$tmp/api
mkdir -p "$dir"
check "api: a bad rule is refused with its column, a good one added" \
	"~^bad rule: .*: ttlog_trigger_add: rule 1 'level>=eror': column 8: unknown level 'eror'" 0 '' -- \
	env TTLOG_DIR="$dir" "$progs/trigger_burst" api
mapfile -t files < <(trigger_files "$dir")
expect "api: the added rule fired once (found ${#files[@]} files)" test "${#files[@]}" = 1

finish
