#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# timer_cpu.sh - what the triggers' timer costs the running program: the CPU
# time (utime + stime from /proc/PID/task/TID/stat) of its thread,
# `ttlog-watchdog`, over SECONDS, in tests/progs/shm_logger with THREADS
# workers that log without pause (busy) or that log nothing (idle), for
# three sets of rules: none (there must be no such thread), metric rules
# only (no ring is read), and event rules (every ring's new records read).
# The workers' own CPU over the same time is printed beside it, for scale.
#
# Usage: bench/trigger/timer_cpu.sh BUILD_DIR [SECONDS] [THREADS]
set -euo pipefail

build=${1:?usage: timer_cpu.sh BUILD_DIR [SECONDS] [THREADS]}
seconds=${2:-10}
threads=${3:-2}
logger=$build/tests/progs/shm_logger
tck=$(getconf CLK_TCK)

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && { kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# utime + stime of one thread, in clock ticks (fields 14 and 15; the name
# in field 2 has no spaces here).
ticks_of() {
	awk '{ print $14 + $15 }' "/proc/$pid/task/$1/stat"
}

run() {
	local label=$1 mode=$2 rules=$3 timer= workers=() t0 t1 w0=0 w1=0 ready
	mkfifo "$tmp/in" "$tmp/out"
	local busy=()
	[ "$mode" = busy ] && busy=(busy)
	env TTLOG_DIR="$tmp" TTLOG_TRIGGER="$rules" "$logger" "$threads" 100 "${busy[@]}" \
		<"$tmp/in" >"$tmp/out" &
	pid=$!
	exec 3>"$tmp/in"
	read -r ready <"$tmp/out"
	for task in /proc/$pid/task/*; do
		case $(cat "$task/comm" 2>/dev/null) in
		ttlog-watchdog) timer=${task##*/} ;;
		worker-*) workers+=("${task##*/}") ;;
		esac
	done
	if [ -z "$rules" ]; then
		printf '%-28s %-5s timer thread: %s\n' "$label" "$mode" "${timer:-none}"
	else
		t0=$(ticks_of "$timer")
		for w in "${workers[@]}"; do w0=$((w0 + $(ticks_of "$w"))); done
		sleep "$seconds"
		t1=$(ticks_of "$timer")
		for w in "${workers[@]}"; do w1=$((w1 + $(ticks_of "$w"))); done
		printf '%-28s %-5s timer %5d ms, workers %6d ms in %s s\n' "$label" "$mode" \
			$(((t1 - t0) * 1000 / tck)) $(((w1 - w0) * 1000 / tck)) "$seconds"
	fi
	exec 3>&-
	wait "$pid" || true
	pid=
	rm -f "$tmp/in" "$tmp/out"
}

metric_rules='metric test.latency_ms p99>250 over=10s; counter errors rate>5/s over=10s; gauge queue.depth>1000'
event_rules='level>=error post=2s; span checkout>500ms; level>=warn target=db'
uptime
run "no rules" busy ""
run "metric rules" busy "$metric_rules"
run "event rules" idle "$event_rules"
run "event rules" busy "$event_rules"
run "event and metric rules" busy "$event_rules; $metric_rules"
