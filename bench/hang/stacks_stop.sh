#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stacks_stop.sh - how long `ttlog snap --stacks` keeps a process stopped:
# tests/progs/shm_logger in shared-memory mode with THREADS worker threads
# logging without pause (busy mode) and its main thread waiting, snapshotted
# RUNS times with --stacks --verbose; prints the median and the largest
# stop time the command reported (first thread interrupted to last thread
# let go) and the number of threads it stopped.
#
# Usage: bench/hang/stacks_stop.sh BUILD_DIR [RUNS] [THREADS...]
#   BUILD_DIR  a build directory (build/): its ttlog and tests/progs/shm_logger
#   RUNS       snapshots per thread count (default 20)
#   THREADS    worker thread counts (default 2 16 64)
set -euo pipefail

build=${1:?usage: stacks_stop.sh BUILD_DIR [RUNS] [THREADS...]}
runs=${2:-20}
shift $(($# > 1 ? 2 : 1))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(2 16 64)

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && { kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

for threads in "${counts[@]}"; do
	mkfifo "$tmp/in" "$tmp/out"
	TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$tmp/shm" TTLOG_DIR="$tmp/snaps" \
		"$build/tests/progs/shm_logger" "$threads" 100 busy <"$tmp/in" >"$tmp/out" &
	pid=$!
	exec 3>"$tmp/in"
	read -r _ <"$tmp/out"
	times=()
	for _ in $(seq 1 "$runs"); do
		line=$("$build/ttlog" snap --stacks --verbose "$pid" 2>&1 >/dev/null)
		stopped=$(grep -Eo 'stacks of [0-9]+ threads' <<<"$line" | grep -Eo '[0-9]+')
		times+=("$(grep -Eo 'for [0-9.]+ ms' <<<"$line" | grep -Eo '[0-9.]+')")
	done
	rm -f "$tmp"/snaps/*.ttlog
	printf '%s\n' "${times[@]}" | sort -n | awk -v t="$stopped" '
		{ v[NR] = $1 }
		END { printf "%3d threads: median %.3f ms, max %.3f ms over %d snapshots\n",
		      t, v[int((NR + 1) / 2)], v[NR], NR }'
	exec 3>&-
	wait "$pid"
	pid=
	rm -f "$tmp/in" "$tmp/out"
done

# The watchdog's own thread (TTLOG_WATCHDOG=2s, no stream): its CPU time
# (utime + stime of the thread ttlog-watchdog) over 10 s, with the largest
# thread count, every ring watched (idle mode: the workers' rings stay,
# their threads end).
threads=${counts[-1]}
mkfifo "$tmp/in" "$tmp/out"
TTLOG_WATCHDOG=2s TTLOG_DIR="$tmp/snaps" "$build/tests/progs/shm_logger" "$threads" 100 \
	<"$tmp/in" >"$tmp/out" &
pid=$!
exec 3>"$tmp/in"
read -r _ <"$tmp/out"
wd=
for f in /proc/"$pid"/task/*/comm; do
	[ "$(cat "$f" 2>/dev/null)" = ttlog-watchdog ] && wd=$(dirname "$f")
done
[ -n "$wd" ] || { echo "no ttlog-watchdog thread" >&2; exit 1; }
cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "$wd/stat"; }
before=$(cpu)
sleep 10
after=$(cpu)
printf 'watchdog thread, %d threads watched: %d clock ticks (1/%d s) of CPU in 10 s\n' \
	$((threads + 1)) $((after - before)) "$(getconf CLK_TCK)"
exec 3>&-
wait "$pid"
pid=
