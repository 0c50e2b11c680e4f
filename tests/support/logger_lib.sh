# SPDX-License-Identifier: MIT
# logger_lib.sh - running tests/progs/shm_logger in the background for the
# tests of `ttlog snap` and `ttlog recover`, in step with it and without a
# single sleep. Sourced after cli_lib.sh, not run.
#
#   start_logger [VAR=VALUE...] -- THREADS EVENTS [busy]
#       starts shm_logger with those variables added to a clean ttlog
#       environment, and returns once it has written "ready PID EVENTS":
#       every event it will log before its input ends is logged by then.
#       Sets pid. Returns 1 (after a FAIL line) if it did not get ready.
#       LOGGER_PROG=NAME start_logger ... runs tests/progs/NAME instead, a
#       program that takes the same part (ready line, stdin).
#   stop_logger PID    closes its input, so that it ends normally; returns its
#                      exit status
#   kill_logger PID    SIGKILL, then reaps it (a zombie's pid still exists)
#
# The program's stdin and stdout are fifos: its stdout is read up to the
# ready line, and its stdin stays open (a descriptor of this shell) until
# stop_logger closes it. Every logger still running when the test ends is
# killed.

# shellcheck shell=bash
# tmp, progs and fail come from cli_lib.sh.
# shellcheck disable=SC2154
declare -A logger_fd=()
loggers=0

# The variables that configure ttlog: unset, so that only what a test gives
# applies (CTest's environment sets XDG_RUNTIME_DIR to the scratch directory).
for var in TTLOG_DIR TTLOG_SNAPSHOT_SIGNAL TTLOG_SIGNALS TTLOG_SHARED_MEMORY TTLOG_SHARED_DIR \
	TTLOG_RING_SIZE TTLOG_MEMORY_CAP TTLOG_WINDOW TTLOG_LEVEL TTLOG_SAMPLE TTLOG_CLOCK; do
	unset "$var"
done

start_logger() {
	local vars=() in out ready fd
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	loggers=$((loggers + 1))
	in=$tmp/logger$loggers.in
	out=$tmp/logger$loggers.out
	rm -f "$in" "$out"
	mkfifo "$in" "$out"
	env "${vars[@]}" "$progs/${LOGGER_PROG:-shm_logger}" "$@" <"$in" >"$out" &
	pid=$!
	# Opening the write end lets the program's open of its stdin return.
	exec {fd}>"$in"
	logger_fd[$pid]=$fd
	ready=
	read -r ready <"$out" || true
	if [ "$ready" != "ready $pid $2" ]; then
		fail "${LOGGER_PROG:-shm_logger} $* (${vars[*]}) got ready" "it wrote '$ready'"
		return 1
	fi
	return 0
}

# Closes the logger's input: it logs "main done" and ends normally.
stop_logger() {
	local fd=${logger_fd[$1]:-}
	[ -n "$fd" ] && exec {fd}>&-
	unset "logger_fd[$1]"
	local rc=0
	wait "$1" || rc=$?
	return $rc
}

kill_logger() {
	kill -KILL "$1"
	stop_logger "$1" 2>/dev/null
	return 0
}

# Leaves nothing running, whatever happened.
cleanup_loggers() {
	local p
	for p in "${!logger_fd[@]}"; do
		kill -KILL "$p" 2>/dev/null
		kill -CONT "$p" 2>/dev/null
	done
}
trap cleanup_loggers EXIT

# True if process $1 exists (and is not a zombie).
alive() {
	local state
	state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}
