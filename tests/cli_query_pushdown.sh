#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_query_pushdown.sh - `ttlog query` hands constraints on events.ts and
# the level to the reader, which then decodes only the event blocks that
# can hold matching events: shown by counting blocks (--stats) on a large
# snapshot (tests/progs/query_snapshot: 100 seconds, 500 events a second,
# many blocks), while the answers stay exact.

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

mkdir -p "$tmp/big"
big=$("$progs/query_snapshot" "$tmp/big")
expect "query_snapshot wrote a snapshot" test -f "$big"

t0=1767225600000000000 # the fake clock's epoch; event i is at t0 + i * 2 ms
second=1000000000

# Runs a query with --stats; sets $rows (stdout) and $stats (the stats
# line as "key=value" words).
run_stats() {
	local err=$tmp/stats.err
	rows=$("$bin" query -o csv --stats "$1" "$big" 2>"$err") || {
		fail "query failed: $1" "$(cat "$err")"
		rows=
	}
	stats=$(sed -n 's/^ttlog query: stats: //p' "$err")
}

stat() {
	local word
	for word in $stats; do
		[ "${word%%=*}" = "$1" ] && printf '%s\n' "${word#*=}"
	done
}

# The whole file, for comparison.
run_stats "SELECT count(*) FROM events"
all_blocks=$(stat blocks)
expect "the whole file: 50000 events" test "$rows" = $'count(*)\n50000'
expect "the file has many blocks ($all_blocks)" test "${all_blocks:-0}" -ge 20
expect "a full scan decodes every block" test "$(stat decoded)" = "$all_blocks"

# One second in the middle: 500 events, a few blocks.
run_stats "SELECT count(*), min(ts), max(ts) FROM events
	   WHERE ts >= $((t0 + 50 * second)) AND ts < $((t0 + 51 * second))"
expect "one second: exactly its 500 events" \
	test "$rows" = "$(printf 'count(*),min(ts),max(ts)\n500,%s,%s' $((t0 + 50 * second)) \
		$((t0 + 51 * second - 2000000)))"
expect "one second: a ranged scan" test "$(stat ranged)" = 1
decoded=$(stat decoded)
expect "one second: at most a tenth of the blocks decoded ($decoded of $all_blocks)" \
	test "${decoded:-999999}" -ge 1 -a "$((${decoded:-999999} * 10))" -le "${all_blocks:-0}"
# The blocks before it hold no spans or contexts: passed over unread.
expect "one second: blocks before it were skipped" test "$(stat skipped)" -ge 1

# The same second through unixepoch(), as docs/QUERY.md shows it.
run_stats "SELECT count(*) FROM events
	   WHERE ts >= unixepoch('2026-01-01 00:00:50') * 1000000000
	     AND ts < unixepoch('2026-01-01 00:00:51') * 1000000000"
expect "unixepoch(): 500 events" test "$rows" = $'count(*)\n500'
expect "unixepoch(): few blocks decoded" test "$(($(stat decoded) * 10))" -le "${all_blocks:-0}"

# A level: every block is still read (levels mix in every block), the
# answer is exact.
run_stats "SELECT count(*) FROM events WHERE level = 'warn'"
expect "level = 'warn': 5000 events" test "$rows" = $'count(*)\n5000'
run_stats "SELECT count(*) FROM events WHERE level_num >= 3 AND ts < $((t0 + 10 * second))"
expect "level and time: 500 warnings in 10 s" test "$rows" = $'count(*)\n500'
expect "level and time: a tenth of the file decoded at most (+1 block)" \
	test "$(($(stat decoded) * 10))" -le "$((all_blocks + 10))"

# The first and the last second: the edges of the file.
run_stats "SELECT count(*) FROM events WHERE ts < $((t0 + second))"
expect "the first second: 500 events" test "$rows" = $'count(*)\n500'
run_stats "SELECT count(*) FROM events WHERE ts >= $((t0 + 99 * second))"
expect "the last second: 500 events" test "$rows" = $'count(*)\n500'
expect "the last second: few blocks decoded" test "$(($(stat decoded) * 10))" -le "${all_blocks:-0}"

# OR of two constraints the reader takes: SQLite may scan once per side and
# drop the rows of the second scan whose rowid the first returned, so an
# event's rowid must be the same in both scans and no two events may share
# one. The same statement with '+' (no push-down, one scan) is the answer:
# 5000 warnings (every tenth event) and the first 20 s (10000 events, of
# which 1000 warnings), in one file and in the file given twice.
x=$((t0 + 20 * second))
or_count() {
	"$bin" query -o csv "SELECT count(*) FROM $1 WHERE $2" "${@:3}" | tail -1
}
for table in events args; do
	for files in 1 2; do
		set -- "$big"
		[ "$files" = 2 ] && set -- "$big" "$big"
		split=$(or_count "$table" "level = 'warn' OR ts < $x" "$@")
		whole=$(or_count "$table" "+level = 'warn' OR +ts < $x" "$@")
		expect "$table, $files file(s): level OR ts: $split rows, as one scan gives ($whole)" \
			test -n "$split" -a "$split" = "$whole"
		split=$(or_count "$table" "ts < $x OR ts >= $((x + 20 * second))" "$@")
		whole=$(or_count "$table" "+ts < $x OR +ts >= $((x + 20 * second))" "$@")
		expect "$table, $files file(s): ts OR ts: $split rows, as one scan gives ($whole)" \
			test -n "$split" -a "$split" = "$whole"
	done
done
expect "events: level OR ts is 14000 events" \
	test "$(or_count events "level = 'warn' OR ts < $x" "$big")" = 14000
plan=$("$bin" query -o csv "EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE level = 'warn' OR ts < $x" "$big")
expect "the OR is planned as two scans (what this part tests)" grep -q "MULTI-INDEX OR" <<<"$plan"

# rowid is the same for an event in every scan: the rowids of the first
# 20 s read with a time range are those of a whole scan.
ranged=$("$bin" query -o csv "SELECT rowid FROM events WHERE ts < $x" "$big" | md5sum)
whole=$("$bin" query -o csv "SELECT rowid FROM events WHERE +ts < $x" "$big" | md5sum)
expect "an event's rowid does not depend on the range read" test "$ranged" = "$whole"

finish
