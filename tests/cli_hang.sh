#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_hang.sh - hang forensics: a process whose two threads deadlock on two
# mutexes taken in opposite orders (tests/progs/deadlock.c) must give one
# file that shows both threads' stacks in the lock call, symbolised, and
# the last event each logged before it blocked:
#   - `ttlog snap --stacks PID` (each thread stopped with ptrace, unwound
#     from outside, let go; the process goes on, still deadlocked);
#   - the refusals of --stacks: a process not in shared-memory mode, with
#     --signal.
# ptrace must work here (CI runs the tests as root): if it is refused, the
# test fails with the command's message, which says why.
set -u
# shellcheck source=support/cli_lib.sh
. "$(dirname "$0")/support/cli_lib.sh"

# Debug files come from the disk only: no network lookups.
unset DEBUGINFOD_URLS
# The stacks are what this test checks (cli_lib.sh leaves them out).
stack_filter=
for var in TTLOG_DIR TTLOG_SNAPSHOT_SIGNAL TTLOG_SIGNALS TTLOG_SHARED_MEMORY TTLOG_SHARED_DIR \
	TTLOG_WATCHDOG TTLOG_LEVEL; do
	unset "$var"
done

shm=$tmp/shm
snaps=$tmp/snaps
mkdir -p "$shm" "$snaps"
addr='0x[0-9a-f]{16}'

scope=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo none)
printf 'note: kernel.yama.ptrace_scope: %s, user id %s\n' "$scope" "$(id -u)"

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
trap cleanup EXIT

# Starts the deadlock with the variables given and waits for its "ready"
# line (both lockers blocked). Sets pid; ends the test if it never gets
# ready.
start_deadlock() {
	local out=$tmp/deadlock.out ready=
	rm -f "$out"
	mkfifo "$out"
	env "$@" "$progs/deadlock" >"$out" </dev/null &
	pid=$!
	pids+=("$pid")
	read -r ready <"$out" || true
	if [ "$ready" != "ready $pid" ]; then
		fail "deadlock got ready" "it wrote '$ready'"
		finish
	fi
}

# The lock call's frames: glibc's futex wait under pthread_mutex_lock.
lock_frame='(__lll_lock_wait|pthread_mutex_lock|futex)'

# The stack of the thread named $2 in the text $1, from its header line to
# the next blank or header line.
stack_of() {
	awk -v name="$2" '
		/^(stack|backtrace) of thread / { on = index($0, "(" name ")") > 0; if (on) print; next }
		on && /^  / { print; next }
		{ on = 0 }' <<<"$1"
}

# ---- Help and usage ----------------------------------------------------------

help_text=$("$bin" snap --help)
for option in --stacks --verbose ptrace_scope; do
	expect "snap --help mentions $option" grep -q -- "$option" <<<"$help_text"
done
check "--stacks with --signal" empty.txt 1 '--stacks works with the process.s mapping only' \
	-- "$bin" snap --stacks --signal USR2 1

# ---- ttlog snap --stacks --------------------------------------------------------

start_deadlock TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm" TTLOG_DIR="$snaps"
deadlocked=$pid
"$bin" snap --stacks --verbose "$deadlocked" >"$tmp/snap.out" 2>"$tmp/snap.err"
rc=$?
expect "snap --stacks exits 0 (stderr: $(head -c 400 "$tmp/snap.err"))" test "$rc" = 0
file=$(head -n 1 "$tmp/snap.out")
expect "snap --stacks wrote a file" test -f "$file"
[ -f "$file" ] || finish
# Main and the two lockers (ttlog starts no thread of its own by default:
# TTLOG_SNAPSHOT_THREADS=1).
want_threads=3
nthreads=$(ls /proc/"$deadlocked"/task | wc -l)
expect "the process has $want_threads threads ($nthreads)" test "$nthreads" = "$want_threads"
expect "--verbose says how long the process was stopped" \
	grep -Eq "^ttlog snap: stopped process $deadlocked for [0-9]+\\.[0-9]{3} ms to take the stacks of $nthreads threads\$" \
	"$tmp/snap.err"
# Let go: no thread is left stopped (t: traced, T: stopped), none is gone.
states=$(for f in /proc/"$deadlocked"/task/*/stat; do awk '{ sub(/.*\) /, ""); printf "%s", $1 }' "$f"; done)
expect "the process runs on after --stacks (thread states $states)" \
	grep -Eq "^[RSD]{$nthreads}\$" <<<"$states"

"$bin" view "$file" >"$tmp/view.txt" 2>"$tmp/view.err"
view=$(cat "$tmp/view.txt")
for who in ab:B ba:A; do
	name=locker-${who%%:*}
	other=${who##*:}
	st=$(stack_of "$view" "$name")
	expect "$name: its stack, taken from outside" \
		grep -Eq "^stack of thread [0-9]+ \\($name\\), stopped from outside \\(ptrace\\):\$" <<<"$st"
	expect "$name: frame #0 or #1 in the lock call" \
		grep -Eq "^  #[0-3]  $addr in [^ ]*$lock_frame" <<<"$st"
	expect "$name: the lock was asked for by locker() in deadlock.c" \
		grep -Eq "^  #[0-9]+  $addr in locker at .*/deadlock\\.c:[0-9]+\$" <<<"$st"
	expect "$name: its last event before it blocked" \
		grep -Eq "^.* \\[[0-9]+ $name\\] .* $name waits for $other\$" <<<"$view"
	last=$(grep -E " \\[[0-9]+ $name\\] " <<<"$view" | tail -n 1)
	expect "$name: nothing logged after it (last: $last)" grep -Eq "waits for $other\$" <<<"$last"
done
expect "the main thread's stack too" grep -Eq '^stack of thread [0-9]+ \(deadlock\), stopped from outside' \
	<<<"$view"
check "--json: each stack says how it was taken" '~^\{"kind":"stack","tid":(TID|[0-9]+),"thread":"locker-ab","crashed":false,"origin":"ptrace",' \
	0 '' -- "$bin" view -o json "$file"

# A second snapshot of the same hang works too: the first one let go.
check "snap --stacks again" '~\.ttlog$' 0 '' -- "$bin" snap --stacks "$deadlocked"

# ---- The watchdog (TTLOG_WATCHDOG) ------------------------------------------------

# Each stalled thread answers the watchdog's signal with its own stack; the
# main thread sleeps too, but outside any span: not stalled.
check_watchdog() {
	local label=$1 dir=$2 file= i
	shift 2
	mkdir -p "$dir"
	start_deadlock TTLOG_DIR="$dir" TTLOG_WATCHDOG=300ms "$@"
	# Waits for the file (a bound, not a timing: the watchdog needs one
	# period after the last event).
	for i in $(seq 1 600); do
		for f in "$dir"/*-watchdog.ttlog; do
			[ -f "$f" ] && file=$f
		done
		[ -n "$file" ] && break
		sleep 0.1
	done
	expect "$label: the watchdog wrote a snapshot" test -n "$file"
	[ -n "$file" ] || return
	"$bin" view "$file" >"$tmp/wd.txt" 2>"$tmp/wd.err"
	local text
	text=$(cat "$tmp/wd.txt")
	for who in ab:B ba:A; do
		local name=locker-${who%%:*} other=${who##*:} st
		st=$(stack_of "$text" "$name")
		expect "$label: $name's stack, stalled" \
			grep -Eq "^stack of thread [0-9]+ \\($name\\), stalled \\(watchdog\\):\$" <<<"$st"
		expect "$label: $name in the lock call" grep -Eq "^  #[0-3]  $addr in [^ ]*$lock_frame" <<<"$st"
		expect "$label: $name's lock asked for by locker()" \
			grep -Eq "^  #[0-9]+  $addr in locker at .*/deadlock\\.c:[0-9]+\$" <<<"$st"
		expect "$label: $name's last event" \
			grep -Eq "^.* \\[[0-9]+ $name\\] .* $name waits for $other\$" <<<"$text"
	done
	expect "$label: only the two stalled threads' stacks" \
		test "$(grep -Ec '^stack of thread ' <<<"$text")" = 2
	# Once per stall: more periods pass, no second file.
	sleep 1.5
	expect "$label: one snapshot for the stall" \
		test "$(find "$dir" -name '*-watchdog.ttlog' | wc -l)" = 1
	{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
}

check_watchdog "watchdog thread" "$tmp/wd_own"
check_watchdog "watchdog on the stream's thread" "$tmp/wd_stream" TTLOG_STREAM="$tmp/wd_stream/segments"

# ---- Refusals ----------------------------------------------------------------

sleep 300 &
plain=$!
pids+=("$plain")
check "--stacks of a process without a mapping" empty.txt 2 \
	"--stacks: process $plain is not a ttlog process in shared-memory mode" \
	-- "$bin" snap --stacks --shm-dir "$shm" "$plain"

finish
