#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz-long.sh - runs every libFuzzer target of build-fuzz/ (make fuzz) for a
# given time each and keeps what it finds.
#
# Usage: scripts/fuzz-long.sh [--runs N] [SECONDS_PER_TARGET] [TARGET...]
#        (default 600 s; the targets default to every build-fuzz/fuzz/fuzz_*;
#        --runs N also stops each target after N executions, whichever of
#        the two limits comes first)
#
# Each target starts from its checked-in seeds (fuzz/corpus/NAME) and the
# corpus of earlier long runs (build-fuzz/corpus/NAME, kept between runs;
# libFuzzer writes new inputs there). The longest input allowed is the
# larger of 64 KiB and the longest seed, so the real snapshots and mappings
# among the seeds are in reach. A crash, leak, out-of-memory or timeout
# leaves its input in build-fuzz/findings/NAME/ and the run goes on with
# the next target. An input that took over 10 s but less than the timeout
# is kept there too (slow-unit-*), counted apart: on a loaded machine it is
# often the load; replay it to tell. At the end, one line per target:
# executions, coverage (libFuzzer's cov: edges), corpus size, findings and
# slow inputs; and the totals. The exit status is 1 if any target found
# something.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
runs=-1
if [ "${1:-}" = --runs ]; then
	runs=${2:-}
	case $runs in
	'' | *[!0-9]*)
		echo "fuzz-long.sh: --runs needs a whole number of executions, not '$runs'" >&2
		exit 2
		;;
	esac
	shift 2
fi
seconds=${1:-600}
shift || true
case $seconds in
'' | *[!0-9]*)
	echo "fuzz-long.sh: SECONDS_PER_TARGET must be a whole number of seconds, not '$seconds'" >&2
	exit 2
	;;
esac
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for bin in "$root"/build-fuzz/fuzz/fuzz_*; do
		[ -x "$bin" ] && targets+=("$(basename "$bin" | sed 's/^fuzz_//')")
	done
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz-long.sh: no targets in build-fuzz/fuzz/: run 'make fuzz' first" >&2
	exit 2
fi

total_execs=0
found_any=0
summary=()
for name in "${targets[@]}"; do
	bin=$root/build-fuzz/fuzz/fuzz_$name
	seeds=$root/fuzz/corpus/$name
	corpus=$root/build-fuzz/corpus/$name
	findings=$root/build-fuzz/findings/$name
	log=$root/build-fuzz/fuzz-long-$name.log
	if [ ! -x "$bin" ]; then
		echo "fuzz-long.sh: $bin is missing: run 'make fuzz' first" >&2
		exit 2
	fi
	mkdir -p "$corpus" "$findings"
	max_len=65536
	if [ -d "$seeds" ]; then
		longest=$(find "$seeds" -type f -printf '%s\n' | sort -n | tail -1)
		[ -n "$longest" ] && [ "$longest" -gt "$max_len" ] && max_len=$longest
	fi
	echo "fuzz-long.sh: $name for ${seconds} s (max_len $max_len), log in $log" >&2
	(cd "$findings" && "$bin" -max_total_time="$seconds" -runs="$runs" -max_len="$max_len" -timeout=25 \
		-rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$findings/" \
		"$corpus" "$seeds") >"$log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | sed 's/cov: //')
	files=$(find "$corpus" -type f | wc -l)
	found=$(find "$findings" -type f ! -name 'slow-unit-*' | wc -l)
	slow=$(find "$findings" -type f -name 'slow-unit-*' | wc -l)
	[ "$found" -gt 0 ] || [ "$status" -ne 0 ] && found_any=1
	total_execs=$((total_execs + ${execs:-0}))
	summary+=("$(printf '%-10s %14s execs  cov %6s  corpus %6s  findings %s  slow %s  (exit %s)' \
		"$name" "${execs:-?}" "${cov:-?}" "$files" "$found" "$slow" "$status")")
done
printf '%s\n' "${summary[@]}"
echo "total: $total_execs executions"
exit "$found_any"
