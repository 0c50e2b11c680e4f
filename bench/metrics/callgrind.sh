#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# callgrind.sh - instructions per metric update (counter add, gauge set,
# histogram record), private shards and shards in the shared mapping
# (TTLOG_SHARED_MEMORY=1), counted by callgrind on the calling thread for
# N updates after a warm-up (bench/metrics/metric_ops.c).
#
#   bench/metrics/callgrind.sh SRC_DIR LIB_DIR [N]
#
# SRC_DIR: a source tree (its include/ is used), LIB_DIR: the build
# directory holding its libttlog.so; N: updates counted (default 200000).
# Prints one line per kind and mode: instructions per update. Needs
# valgrind (callgrind) and its headers.
set -eu
src=$1
lib=$2
n=${3:-200000}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -g -I"$src/include" -o "$work/metric_ops" "$here/metric_ops.c" \
	-L"$lib" -Wl,-rpath,"$lib" -lttlog -lpthread
for mode in private shm; do
	for kind in counter gauge histogram; do
		rm -f "$work"/cg.*
		env=(TTLOG_DIR="$work/snaps" TTLOG_SIGNALS=none)
		[ "$mode" = shm ] && env+=(TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$work/shm")
		env "${env[@]}" valgrind --tool=callgrind -q --separate-threads=yes \
			--callgrind-out-file="$work/cg.%p" "$work/metric_ops" "$kind" "$n"
		# The dump "ops" of the main thread: its total over n.
		total=$(grep -l '^desc: Trigger: Client Request: ops' "$work"/cg.* | head -n 1 |
			xargs grep -m1 '^summary:' | awk '{print $2}')
		awk -v t="$total" -v n="$n" -v k="$kind" -v m="$mode" \
			'BEGIN { printf "%-9s %-7s %.2f instructions per update\n", k, m, t / n }'
	done
done
