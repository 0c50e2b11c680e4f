#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# soak.sh - the shop unattended for a long run (`make soak`, 10 minutes by
# default): samples the resident memory of its three processes every 30 s,
# then reports events per second, the snapshot count, RSS over time, and
# whether every snapshot file opens completely. Exit status 1 when the shop
# failed or a snapshot does not open.
#
#   bash examples/shop/soak.sh [BUILD_DIR [SECONDS]]
set -u
build=${1:-build}
seconds=${2:-600}
ttlog=$build/ttlog
shop=$build/examples/shop
dir=$build/soak-shop
rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

shop_pid=
cleanup() {
	# The shop kills and reaps its own children when it is told to stop.
	[ -n "$shop_pid" ] && kill -TERM "$shop_pid" 2>/dev/null && wait "$shop_pid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "soak: the shop for $seconds s, snapshots in $dir"
(ulimit -c 0; exec "$shop" --duration "$seconds" --seed 7 --dir "$dir") >"$dir/shop-output.txt" 2>&1 &
shop_pid=$!

rss_of() { # the summed VmRSS (KiB) of the children of $1
	local total=0 kb child
	for child in $(pgrep -P "$1"); do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$child/status" 2>/dev/null)
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

echo "  time   RSS (3 processes)  snapshots"
start=$(date +%s)
while kill -0 "$shop_pid" 2>/dev/null; do
	now=$(($(date +%s) - start))
	if [ $((now % 30)) -eq 0 ] && [ "$now" -lt "$seconds" ]; then
		printf '  %4ds  %8d KiB       %4d\n' "$now" "$(rss_of "$shop_pid")" \
			"$(find "$dir" -maxdepth 1 -name '*.ttlog' | wc -l)"
	fi
	sleep 1
done
wait "$shop_pid"
status=$?
shop_pid=
tail -n 20 "$dir/shop-output.txt" | grep -E '^(shop: .* ended|total (gateway|snapshots))' |
	sed 's/^total snapshots=/total snapshots written=/'

killed=$(sed -n 's/^pids .*backoffice=\([0-9]*\)$/\1/p' "$dir/shop-output.txt")
[ -n "$killed" ] && "$ttlog" recover --shm-dir "$dir/shm" --dir "$dir" "$killed" >/dev/null

files=("$dir"/*.ttlog)
bad=0
for f in "${files[@]}"; do
	if ! "$ttlog" stats --top 0 "$f" >/dev/null 2>"$dir/stats-error.txt"; then
		echo "soak: $f does not open completely: $(head -n 1 "$dir/stats-error.txt")" >&2
		bad=1
	fi
done
echo "snapshots: ${#files[@]} files kept (retention removes the oldest), every one opens: $([ $bad = 0 ] && echo yes || echo NO)"
# Events per second: what the three processes wrote (ttlog's own counter,
# in each one's last snapshot with metrics: a recovered one has none) over
# the run.
finals=$(ls "$dir"/*-end_of_run.ttlog "$dir"/*-SIGSEGV.ttlog "$dir"/*-end_of_day.ttlog 2>/dev/null)
if [ -n "$finals" ]; then
	# shellcheck disable=SC2086
	written=$("$ttlog" query -o csv "SELECT sum(value) FROM metrics WHERE name = 'ttlog_events_written_total'" $finals | sed -n 2p)
	echo "events written: ${written%.*} in $seconds s, $(( ${written%.*} / seconds )) events/s"
fi
[ "$status" -eq 0 ] || { echo "soak: the shop exited with $status" >&2; bad=1; }
exit $bad
