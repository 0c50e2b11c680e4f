#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_snap.sh - tests of `ttlog snap PID`: a snapshot of a running process
# read from its shared mapping (also while it is stopped), or asked of it
# through its snapshot signal (private mode), and the refusals: a process
# that does not catch the signal (it must survive), a signal nobody named,
# a pid with no process, a snapshot that does not come.
#
# The process is tests/progs/shm_logger (see tests/support/logger_lib.sh):
# once it says "ready", the last event of each of its threads is known, so
# the snapshots are checked for exactly those events.

# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/logger_lib.sh
source "$(dirname "$0")/support/logger_lib.sh"

shm=$tmp/shm                   # the base directory of the mappings
user_dir=$shm/ttlog-$(id -u)
snaps=$tmp/snaps
mkdir -p "$snaps"

# The events of a snapshot, as text.
view() {
	"$bin" view "$1"
}

# The snapshot at $1 holds, for main and each of the first $3 workers of a
# logger that logged $2 events per thread, every one of them, the last one
# last. (Busy workers wrap their rings: only main's events are sure to be
# there, so $3 is 0 for them.)
has_all_events() {
	local file=$1 events=$2 workers=$3 text w
	text=$(view "$file") || return 1
	for w in main $(seq 1 "$workers"); do
		local who="worker $w"
		[ "$w" = main ] && who=main
		[ "$(grep -c " $who event [0-9]*\$" <<<"$text")" = "$events" ] || return 1
		[ "$(grep " $who event [0-9]*\$" <<<"$text" | tail -n 1 | sed 's/.* event //')" = "$events" ] ||
			return 1
	done
	return 0
}


# ---------------------------------------------------------------------------
# Help and usage

check "help lists snap" '~^  snap PID ' 0 '' -- "$bin" help
check "snap --help" '~^Usage: ttlog snap \[OPTIONS\] PID' 0 '' -- "$bin" snap --help
help_text=$("$bin" snap --help)
for option in --signal --dir --timeout --shm-dir SigCgt TTLOG_SNAPSHOT_SIGNAL external; do
	expect "snap --help mentions $option" grep -q -- "$option" <<<"$help_text"
done
check "snap without a pid" empty.txt 1 'expected one PID \(got 0 arguments\)' -- "$bin" snap
check "snap of two pids" empty.txt 1 'expected one PID \(got 2 arguments\)' -- "$bin" snap 1 2
check "snap of a word" empty.txt 1 "'abc' is not a process id" -- "$bin" snap abc
check "snap of pid 0" empty.txt 1 "'0' is not a process id" -- "$bin" snap 0
check "snap --signal BOGUS" empty.txt 1 "'BOGUS' is not a signal" -- "$bin" snap --signal BOGUS 1
check "snap --signal KILL" empty.txt 1 "'KILL' is not a signal that can be caught" -- \
	"$bin" snap --signal KILL 1
check "snap --timeout with an unknown unit" empty.txt 1 "--timeout '5x': missing or unknown unit" -- \
	"$bin" snap --timeout 5x 1
check "snap --bogus" empty.txt 1 "unknown option '--bogus'" -- "$bin" snap --bogus 1

# ---------------------------------------------------------------------------
# No such process

true &
gone=$!
wait "$gone"
check "snap of a pid with no process" empty.txt 2 "^ttlog snap: no process with pid $gone\$" -- \
	"$bin" snap "$gone"

# ---------------------------------------------------------------------------
# Private mode: through the snapshot signal of the process's environment

if start_logger TTLOG_DIR="$snaps/private" TTLOG_SNAPSHOT_SIGNAL=USR2 -- 2 200; then
	check "snap through SIGUSR2" "~^$snaps/private/ttlog-$pid-[0-9T.]+Z-SIGUSR2\\.ttlog\$" 0 '' -- \
		"$bin" snap "$pid"
	file=$(ls "$snaps/private/ttlog-$pid-"*-SIGUSR2.ttlog 2>/dev/null | head -n 1)
	expect "snap through SIGUSR2: the file holds every event logged" \
		has_all_events "$file" 200 2
	expect "snap through SIGUSR2: reason SIGUSR2" test "$(snapshot_reason "$file")" = SIGUSR2
	# A second one: a new file, not the first one again.
	second=$("$bin" snap "$pid")
	expect "a second snap gives a new file" test -f "$second" -a "$second" != "$file"
	expect "snap through the signal: the process still runs" alive "$pid"

	# The signal given, or its number.
	check "snap --signal SIGUSR2" "~-SIGUSR2\\.ttlog\$" 0 '' -- "$bin" snap --signal SIGUSR2 "$pid"
	check "snap --signal 12" "~-SIGUSR2\\.ttlog\$" 0 '' -- "$bin" snap --signal 12 "$pid"

	# The wrong directory: the file does not come where it is looked for.
	mkdir -p "$snaps/elsewhere"
	check "snap times out" empty.txt 2 \
		"^ttlog snap: timed out: no new snapshot ttlog-$pid-\\*-SIGUSR2\\.ttlog appeared in $snaps/elsewhere within .*--dir" -- \
		"$bin" snap --dir "$snaps/elsewhere" --timeout 50ms "$pid"

	# Stopped: the signal waits, so the snapshot cannot come; the message says why.
	kill -STOP "$pid"
	check "snap through the signal of a stopped process times out" empty.txt 2 \
		'timed out: .*the process is stopped' -- "$bin" snap --timeout 50ms "$pid"
	kill -CONT "$pid"

	stop_logger "$pid"
	expect "the logger ended normally" test $? = 0
fi

# The directory by the library's rules: $XDG_RUNTIME_DIR/ttlog of the
# process, not of the command (which has a different one).
if start_logger XDG_RUNTIME_DIR="$tmp/xdg" TTLOG_SNAPSHOT_SIGNAL=usr1 -- 1 10; then
	check "snap finds \$XDG_RUNTIME_DIR/ttlog of the process" \
		"~^$tmp/xdg/ttlog/ttlog-$pid-[0-9T.]+Z-SIGUSR1\\.ttlog\$" 0 '' -- "$bin" snap "$pid"
	stop_logger "$pid"
fi
# A relative TTLOG_DIR is the process's working directory's, not the command's.
mkdir -p "$tmp/cwd"
cd "$tmp/cwd" || exit 1
started=0
start_logger TTLOG_DIR=rel TTLOG_SNAPSHOT_SIGNAL=USR2 -- 1 10 && started=1
cd "$tmp" || exit 1
if [ $started = 1 ]; then
	check "snap: a relative TTLOG_DIR is the process's" \
		"~^$tmp/cwd/rel/ttlog-$pid-[0-9T.]+Z-SIGUSR2\\.ttlog\$" 0 '' -- \
		sh -c 'cd / && exec "$0" snap "$1"' "$bin" "$pid"
	stop_logger "$pid"
fi

# ---------------------------------------------------------------------------
# Refusals: no signal configured, or one the process does not catch

if start_logger TTLOG_DIR="$snaps/nosignal" -- 1 10; then
	check "snap without a signal to use" empty.txt 1 \
		"cannot tell which signal .* sets no TTLOG_SNAPSHOT_SIGNAL .*--signal SIG" -- \
		"$bin" snap "$pid"
	check "snap --signal USR2 to a process without a handler" empty.txt 2 \
		"^ttlog snap: process $pid does not catch SIGUSR2 .*SigCgt.*not sent\$" -- \
		"$bin" snap --signal USR2 "$pid"
	check "snap --signal TERM to a process without a handler" empty.txt 2 \
		"does not catch SIGTERM" -- "$bin" snap --signal TERM "$pid"
	expect "the process without a handler is still alive" alive "$pid"
	expect "no snapshot was written" test ! -e "$snaps/nosignal/ttlog-$pid-"*
	stop_logger "$pid"
	expect "the process without a handler ended normally" test $? = 0
fi

# ---------------------------------------------------------------------------
# Shared-memory mode: from the mapping, without the process's help

if start_logger TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm" TTLOG_DIR="$snaps/shm" -- 3 300 busy; then
	expect "the shared-memory logger has a mapping" test -f "$user_dir/$pid.ttshm"
	# No snapshot signal is configured: only the mapping can give a snapshot.
	check "snap from the mapping (--shm-dir)" "~^$snaps/shm/ttlog-$pid-[0-9T.]+Z-external\\.ttlog\$" 0 '' -- \
		"$bin" snap --shm-dir "$shm" "$pid"
	file=$(ls "$snaps/shm/ttlog-$pid-"*-external.ttlog 2>/dev/null | head -n 1)
	expect "snap from the mapping: every event logged before ready" has_all_events "$file" 300 0
	# The workers never stop: their rings are lapped many times while the
	# command writes the file, and every one of them must be in it.
	for w in 1 2 3; do
		expect "snap from the mapping: worker $w's busy events" \
			grep -q " worker $w busy [0-9]*$" <(view "$file")
	done
	expect "snap from the mapping: reason external" test "$(snapshot_reason "$file")" = external
	# The process's TTLOG_SHARED_DIR, from its environment (the command has none).
	check "snap from the mapping (the process's TTLOG_SHARED_DIR), into --dir" \
		"~^$snaps/other/ttlog-$pid-[0-9T.]+Z-external\\.ttlog\$" 0 '' -- \
		"$bin" snap --dir "$snaps/other" "$pid"

	# Stopped: nothing is asked of the process, so it works all the same.
	kill -STOP "$pid"
	rm -f "$snaps/shm"/*
	check "snap of a stopped process" "~^$snaps/shm/ttlog-$pid-[0-9T.]+Z-external\\.ttlog\$" 0 '' -- \
		"$bin" snap --shm-dir "$shm" "$pid"
	file=$(ls "$snaps/shm/ttlog-$pid-"*-external.ttlog 2>/dev/null | head -n 1)
	expect "snap of a stopped process: every event logged before ready" has_all_events "$file" 300 0
	expect "snap of a stopped process: the workers' busy events" \
		grep -q " worker 3 busy [0-9]*$" <(view "$file")
	expect "the stopped process is still stopped" \
		test "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$pid/stat")" = T
	kill -CONT "$pid"

	# --signal asks for the signal even with a mapping: there is none.
	check "snap --signal auto with a mapping and no signal" empty.txt 1 \
		"process $pid has no snapshot signal \\(its mapping .* says none\\)" -- \
		"$bin" snap --shm-dir "$shm" --signal auto "$pid"
	stop_logger "$pid"
	expect "the shared-memory logger ended normally" test $? = 0
	expect "a normal exit leaves no mapping" test ! -e "$user_dir/$pid.ttshm"
fi

# A damaged mapping of a live process: the error of the header, not a crash.
if start_logger TTLOG_DIR="$snaps/damaged" TTLOG_SNAPSHOT_SIGNAL=USR2 -- 1 10; then
	mkdir -p "$user_dir"
	chmod 700 "$user_dir"
	printf 'not a mapping at all, just text\n' >"$user_dir/$pid.ttshm"
	check "snap with a damaged mapping" empty.txt 2 "^ttlog snap: .*$pid\\.ttshm.*--signal auto" -- \
		"$bin" snap --shm-dir "$shm" "$pid"
	check "snap --signal auto ignores a damaged mapping" "~-SIGUSR2\\.ttlog\$" 0 \
		"note: .*$pid\\.ttshm.*ignored" -- "$bin" snap --shm-dir "$shm" --signal auto "$pid"
	rm -f "$user_dir/$pid.ttshm"
	stop_logger "$pid"
fi

finish
