#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_store.sh - the commands on stores: a directory or a glob of segments
# and snapshots read as one (view, stats, ls, query, export), the --service
# filter, promoted events marked, and `ttlog tail` with -f following a
# growing segment and a rotation. The files come from
# tests/support/mkseg.py, written from docs/FORMAT.md alone.

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

mkseg() {
	python3 "$(dirname "$0")/support/mkseg.py" "$@"
}

d=$tmp/store
mkdir -p "$d"
mkseg seg "$d/svc-4242-20260101T000000.000000000Z-000001.ttseg" --promote
mkseg seg "$d/svc-4242-20260101T000010.000000000Z-000002.ttseg" --seq 2 --base 10000000000
mkseg snap "$d/ttlog-4242-20260101T000001.000000000Z-manual.ttlog" --skip 1 --promote
mkseg seg "$d/other-7-20260101T000000.000000000Z-000001.ttseg" --pid 7 --service other

# Each event once: 12 + 8 of service svc, 8 of service other; the
# snapshot's 6 events are in the first segment too.
check "view of a directory" - 0 '' -- "$bin" view --utc "$d"
expect "a directory shows each event once" \
	test "$("$bin" view "$d" | wc -l)" -eq 28
expect "a glob is a store too" \
	test "$("$bin" view "$d/svc-*" | wc -l)" -eq 20
expect "--service keeps one service" \
	test "$("$bin" view --service other "$d" | wc -l)" -eq 8
check "--service on a single file of another service" - 1 \
	'no file in .*svc-4242-20260101T000000.000000000Z-000001.ttseg is of service other \(services: svc\)' -- \
	"$bin" view --service other "$d/svc-4242-20260101T000000.000000000Z-000001.ttseg"
# A service that no file has is an error, in every command that takes
# --service, with the services there are (segments by name, snapshots by
# HEAD).
for cmd in view stats tail "export -F jsonl"; do
	# shellcheck disable=SC2086
	check "$cmd --service that no file has" - 1 \
		"^ttlog ${cmd%% *}: no file in .*/store is of service nope \(services: other, svc\)$" -- \
		"$bin" $cmd --service nope "$d"
done
sd=$tmp/snaponly
mkdir -p "$sd"
mkseg snap "$sd/ttlog-4242-20260101T000001.000000000Z-manual.ttlog" --service api
check "--service on snapshots names the services of their HEADs" - 1 \
	'is of service web \(services: api\)$' -- "$bin" view --service web "$sd"
check "--service that a snapshot has" - 0 '' -- "$bin" view --service api "$sd"
check "promoted events are marked in text" '~^2026-01-01 00:00:00\.001000500 DEBUG\+ \[1000 w0\]' 0 '' -- \
	"$bin" view --utc "$d/svc-4242-20260101T000000.000000000Z-000001.ttseg"
check "promoted and service in JSON" '~"promoted":true,"service":"svc"\}$' 0 '' -- \
	"$bin" view -o json "$d"
check "--since on a store" '~ERROR' 0 '' -- "$bin" view --utc --since '2026-01-01T00:00:00.001005Z' --service svc "$d"
expect "--since leaves out the earlier events" \
	test "$("$bin" view --utc --since '2026-01-01T00:00:05Z' --service svc "$d" | wc -l)" -eq 8
# --thread: each file of a store reads only that thread's blocks (the
# store's file hook finds its tid in each file); the lines are those of the
# whole view for that thread, by name or by tid, on one thread or in parts.
w1=$("$bin" view --utc "$d" | grep -F ' [1001 w1] ')
expect "the store has lines of thread w1" test -n "$w1"
for sel in w1 1001; do
	for jobs in 1 4; do
		expect "--thread $sel --jobs $jobs on a store gives that thread's lines" \
			test "$("$bin" view --utc --jobs $jobs --thread $sel "$d")" = "$w1"
	done
done
expect "export --thread on a store" \
	test "$("$bin" export -F jsonl --thread w1 "$d" | wc -l)" -eq "$(printf '%s\n' "$w1" | wc -l)"

# A file whose checksums are right but whose block does not decode: read
# lazily, its problem is found while its events are printed, and every
# command that reads the store reports it and exits 2.
bd=$tmp/late
mkdir -p "$bd"
mkseg seg "$bd/svc-7-20260101T000000.000000000Z-000001.ttseg" --pid 7 --events 6 --damage record-size
mkseg seg "$bd/svc-8-20260101T000000.000000000Z-000001.ttseg" --pid 8 --events 6
for cmd in view "view -o json" "export -F jsonl" "export -F csv" "tail -n 100"; do
	# shellcheck disable=SC2086
	check "$cmd of a store with a block that does not decode" - 2 \
		'svc-7-20260101T000000\.000000000Z-000001\.ttseg: offset [0-9]+: ' -- \
		"$bin" $cmd "$bd"
done

# A segment without END before a later one of its stream: its end is
# missing, which view says (an open last segment is not).
cs=$tmp/cutseg
mkdir -p "$cs"
mkseg seg "$cs/svc-9-20260101T000000.000000000Z-000001.ttseg" --pid 9 --events 6 --open
mkseg seg "$cs/svc-9-20260101T000001.000000000Z-000002.ttseg" --pid 9 --seq 2 --events 6 \
	--base 2000000 --open
check "a segment without END before a later one: its end is missing" \
	'~^-- .*000001\.ttseg: segment 1 has no END, though segment 2 of its stream follows: its end is missing' \
	0 '' -- "$bin" view --color=never "$cs"
check "the same note with -o json, on stderr" - 0 \
	'000001\.ttseg: segment 1 has no END, though segment 2' -- "$bin" view -o json "$cs"
expect "the open last segment is not said to be cut" \
	test "$("$bin" view --color=never "$cs" 2>&1 | grep -c 'has no END')" = 1

# SQL and the other commands over a directory.
check "query over a directory" '~^ *8$' 0 '' -- \
	"$bin" query "SELECT count(*) FROM events WHERE service = 'other'" "$d"
check "query has the promoted column" '~^ *4$' 0 '' -- \
	"$bin" query "SELECT count(*) FROM events WHERE promoted" "$d"
check "stats of a directory" '~stream lost' 0 '' -- "$bin" stats "$d"
check "ls of a directory" '~other-7-' 0 '' -- "$bin" ls "$d"
check "export of a directory" '~"promoted":true' 0 '' -- "$bin" export -F jsonl "$d"
expect "export of a directory shows each event once" \
	test "$("$bin" export -F jsonl "$d" | wc -l)" -eq 28
expect "export csv of a directory: a header and each event once" \
	test "$("$bin" export -F csv "$d" | wc -l)" -eq 29
check "an empty directory" - 2 'no \*\.ttseg or \*\.ttlog file' -- "$bin" view "$tmp"
mkdir -p "$tmp/empty"
for cmd in view stats tail "tail -f" "export -F jsonl"; do
	# shellcheck disable=SC2086
	check "$cmd of an empty directory" - 2 "empty: no \*\.ttseg or \*\.ttlog file" -- \
		timeout 20 "$bin" $cmd "$tmp/empty"
done
check "query of an empty directory" - 2 "empty: no \*\.ttseg or \*\.ttlog file" -- \
	"$bin" query "SELECT 1" "$tmp/empty"
check "a glob that matches nothing" - 2 'no file matches' -- "$bin" view "$tmp/empty/*.ttseg"
check "tail -f of a glob that matches nothing" - 2 'no file matches' -- \
	timeout 20 "$bin" tail -f "$tmp/empty/*.ttseg"
check "tail of a directory" '~event t=1 k=3' 0 '' -- "$bin" tail -n 2 --service svc "$d"
expect "tail -n 3 prints 3" test "$("$bin" tail -n 3 "$d" | wc -l)" -eq 3
# tail starts from the newest files and reaches back as far as it needs.
tn=$tmp/tailn
mkdir -p "$tn"
mkseg seg "$tn/svc-3-20260101T000000.000000000Z-000001.ttseg" --pid 3 --promote
mkseg seg "$tn/svc-3-20260101T000100.000000000Z-000002.ttseg" --pid 3 --seq 2 --base 100000000000
mkseg seg "$tn/svc-3-20260101T000200.000000000Z-000003.ttseg" --pid 3 --seq 3 --base 200000000000
for n in 1 8 9 17 100; do
	expect "tail -n $n is the end of view" \
		test "$("$bin" tail -n $n "$tn")" = "$("$bin" view "$tn" | tail -n $n)"
done
expect "tail -n with a filter reaches back" \
	test "$("$bin" tail -n 3 --grep 'debug' "$tn")" = "$("$bin" view --grep debug "$tn" | tail -n 3)"
check "tail --help" '~Usage: ttlog tail' 0 '' -- "$bin" tail --help
check "tail needs an argument" - 1 'no DIR, FILE or PID' -- "$bin" tail

# A torn last segment: every complete block, no error.
mkseg seg "$d/svc-4242-20260101T000020.000000000Z-000003.ttseg" --seq 3 --base 20000000000 --cut -5
check "a torn segment opens" - 0 '' -- "$bin" view "$d/svc-4242-20260101T000020.000000000Z-000003.ttseg"

# tail -f: a segment grows, then rotates. Waits on the output, with a
# generous bound, never on a sleep alone.
f=$tmp/follow
mkdir -p "$f"
mkseg seg "$f/svc-5-20260101T000000.000000000Z-000001.ttseg" --pid 5 --open
out=$tmp/tail.out
"$bin" tail -f -n 1 "$f" >"$out" 2>"$tmp/tail.err" &
tail_pid=$!

# Waits until the output has a line matching $1, $2 times (default 1).
wait_for() {
	local n=${2:-1} i
	for ((i = 0; i < 600; i++)); do
		[ "$(grep -c -- "$1" "$out")" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

expect "tail -f prints the last event" wait_for 'event t=1 k=3'
mkseg append "$f/svc-5-20260101T000000.000000000Z-000001.ttseg" --pid 5 --events 1 --base 5000000
expect "tail -f sees a block appended to the segment" wait_for 'event t=1 k=0'
mkseg seg "$f/svc-5-20260101T000001.000000000Z-000002.ttseg" --pid 5 --seq 2 --open \
	--events 1 --base 9000000
expect "tail -f follows the rotation" wait_for 'event t=1 k=0' 2
kill "$tail_pid" 2>/dev/null
wait "$tail_pid" 2>/dev/null
expect "tail -f printed each event once" test "$(wc -l <"$out")" -eq 5

# tail of a PID in shared-memory mode: its live rings, no stream.
# shellcheck source=support/logger_lib.sh
source "$(dirname "$0")/support/logger_lib.sh"
shm=$tmp/shm
mkdir -p "$shm"
if start_logger TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm" TTLOG_DIR="$tmp/snaps" -- 1 5 busy; then
	check "tail of a PID" '~main event 5$' 0 '' -- "$bin" tail -n 1 --grep 'main event' --shm-dir "$shm" "$pid"
	out=$tmp/tail-pid.out
	"$bin" tail -f -n 1 --interval 20ms --shm-dir "$shm" --grep busy "$pid" >"$out" 2>"$tmp/tail-pid.err" &
	tail_pid=$!
	expect "tail -f of a PID prints the last event" wait_for 'busy'
	expect "tail -f of a PID goes on with new events" wait_for 'busy' 20
	kill "$tail_pid" 2>/dev/null
	wait "$tail_pid" 2>/dev/null
	expect "tail -f of a PID shows each event once" \
		test -z "$(sort "$out" | uniq -d)"
	kill_logger "$pid"
fi

finish
