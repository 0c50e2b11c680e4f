#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_query_grouped.sh - a GROUP BY over events that reads only
# columns of the call site and the file (level, kind, file, line, site,
# snapshot, ...) gets its rows already grouped from the module (the plan's
# idxStr carries "/", SQLite uses no temporary b-tree): the answers are the
# ones a full scan gives (the same statement made to read ts as well), and
# the ones `ttlog view` and `ttlog export` show; constraints pushed to the
# reader (level, time) still apply; damaged and missing files give the
# same rows and errors. Also the join of events with their spans, whose
# spans are found by key and made without their fields when unread.

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

mkdir -p "$tmp/big"
big=$("$progs/query_snapshot" "$tmp/big")
expect "query_snapshot wrote a snapshot" test -f "$big"
spans=$(make_snapshot spans) || exit 1
snap=$(make_snapshot golden) || exit 1
files=("$big" "$spans" "$snap")

# The plan of a statement, one line.
plan() {
	"$bin" query -o csv "EXPLAIN QUERY PLAN $1" "${files[@]}" | tr '\n' ' '
}

# Runs a statement grouped, and again with `ts IS NOT NULL` added (true of
# every event, but it makes SQLite read ts, so the rows are not grouped by
# the module): the answers must be the same, and only the first grouped.
# $1: a name; $2: the statement's columns and FROM; $3: WHERE terms or
# empty; $4: the rest (GROUP BY ...).
same_rows() {
	local name=$1 head=$2 where=$3 tail=$4 grouped full
	local w1=${where:+WHERE $where} w2="WHERE ${where:+$where AND }ts IS NOT NULL"
	grouped=$("$bin" query -o csv "$head $w1 $tail" "${files[@]}" 2>&1) ||
		fail "$name: grouped query failed" "$grouped"
	full=$("$bin" query -o csv "$head $w2 $tail" "${files[@]}" 2>&1) ||
		fail "$name: full query failed" "$full"
	expect "$name: rows as a full scan's" test "$grouped" = "$full"
	expect "$name: some rows" test "$(wc -l <<<"$grouped")" -ge 2
	expect "$name: grouped by the module" grep -q 'INDEX [0-9]*:[^ ]*/' <<<"$(plan "$head $w1 $tail")"
	expect "$name: no temporary b-tree" eval '! grep -q "TEMP B-TREE" <<<"$(plan "$head $w1 $tail")"'
	expect "$name: the full scan is not grouped" grep -q "TEMP B-TREE" <<<"$(plan "$head $w2 $tail")"
}

same_rows "GROUP BY level" "SELECT level, count(*) FROM events" "" "GROUP BY level"
same_rows "GROUP BY level_num" "SELECT level_num, count(*) FROM events" "" "GROUP BY level_num"
same_rows "GROUP BY kind, level" "SELECT kind, level, count(*) FROM events" "" "GROUP BY kind, level"
same_rows "GROUP BY file, line" \
	"SELECT substr(file, instr(file, 'tests/progs/')), line, count(*) FROM events" "" \
	"GROUP BY file, line"
same_rows "GROUP BY func" "SELECT func, count(*) FROM events" "" "GROUP BY func ORDER BY func DESC"
same_rows "GROUP BY site, snapshot" "SELECT site, snapshot = '$big', count(*) FROM events" "" \
	"GROUP BY site, snapshot"
same_rows "GROUP BY target" "SELECT target, count(*) FROM events" "" "GROUP BY target"
same_rows "GROUP BY pid, service" "SELECT pid > 0, service, count(*) FROM events" "" \
	"GROUP BY pid, service"
same_rows "a level pushed down" "SELECT level, count(*) FROM events" "level = 'warn'" "GROUP BY level"
same_rows "level_num pushed down" "SELECT level, count(*) FROM events" "level_num >= 2" \
	"GROUP BY level"
same_rows "a HAVING" "SELECT level, count(*) FROM events" "" "GROUP BY level HAVING count(*) > 100"

# A grouped scan releases each file's bytes once counted. An IN list runs
# the scan once per value on the same cursor, and each run opens the files
# again: the same answers as the full scan's, a scan per value and file,
# the files' blocks counted once (as a plain scan counts them), decoded
# once per run.
in_list="level IN ('trace', 'warn', 'error')"
grouped=$("$bin" query -o csv "SELECT level, count(*) FROM events WHERE $in_list GROUP BY level" \
	"${files[@]}" 2>&1) || fail "an IN list: grouped query failed" "$grouped"
full=$("$bin" query -o csv "SELECT level, count(*) FROM events WHERE $in_list
	AND ts IS NOT NULL GROUP BY level" "${files[@]}" 2>&1) || fail "an IN list: full query failed" "$full"
expect "an IN list: rows as a full scan's" test "$grouped" = "$full"
expect "an IN list: rows of three levels" test "$(wc -l <<<"$grouped")" = 4
expect "an IN list: grouped by the module" grep -q 'INDEX [0-9]*:[^ ]*/' \
	<<<"$(plan "SELECT level, count(*) FROM events WHERE $in_list GROUP BY level")"
stat_of() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$2"; }
"$bin" query --stats "SELECT level, count(*) FROM events WHERE $in_list GROUP BY level" \
	"${files[@]}" >/dev/null 2>"$tmp/stats.in"
"$bin" query --stats "SELECT count(*) FROM events" "${files[@]}" >/dev/null 2>"$tmp/stats.plain"
expect "an IN list: a scan per value and file" test "$(stat_of scans "$tmp/stats.in")" = 9
expect "an IN list: the files' blocks counted once" \
	test "$(stat_of blocks "$tmp/stats.in")" = "$(stat_of blocks "$tmp/stats.plain")"
expect "an IN list: the blocks decoded once per run" \
	test "$(stat_of decoded "$tmp/stats.in")" = "$((3 * $(stat_of decoded "$tmp/stats.plain")))"

# A time range reads ts, so it is not grouped; its answer is exact.
t0=1767225600000000000 # query_snapshot's first event; one every 2 ms
check "a time range: exact" '~^warn,50$' 0 '' -- "$bin" query -o csv \
	"SELECT level, count(*) FROM events WHERE ts >= $t0 AND ts < $((t0 + 1000000000))
	 AND level = 'warn' GROUP BY level" "$big"

# The counts of `ttlog view` (its third word is the level) and of `ttlog
# export` (a span end shows where its span began).
view_counts=$("$bin" view "${files[@]}" | awk '{ print $3 }' | sort | uniq -c |
	awk '{ printf "%s %s\n", $2, $1 }')
sql_counts=$("$bin" query -o csv \
	"SELECT upper(level) || ' ' || count(*) FROM events GROUP BY level" "${files[@]}" | tail -n +2)
expect "levels: as ttlog view counts them" test "$sql_counts" = "$view_counts"
expect "levels: several of them" test "$(wc -l <<<"$sql_counts")" -ge 3
export_counts=$("$bin" export --format jsonl "${files[@]}" |
	sed -n 's/.*"line":\([0-9]*\),.*/\1/p' | sort -n | uniq -c | awk '{ printf "%s %s\n", $2, $1 }')
sql_lines=$("$bin" query -o csv \
	"SELECT line || ' ' || count(*) FROM events GROUP BY line" "${files[@]}" | tail -n +2)
expect "lines: as ttlog export shows them" test "$sql_lines" = "$export_counts"

# The join of docs/QUERY.md finds spans by id (one hash probe per event);
# spans.fields is made only when the statement reads it: the join's rows
# are those of the same join through a plain scan of spans (an id made
# text by || '' cannot be looked up), and the fields a join reads are
# those of the spans table alone.
join="FROM spans s JOIN events e ON e.span_id = s.id AND e.snapshot = s.snapshot AND e.kind = 'log'"
by_key=$("$bin" query -o csv "SELECT s.id, s.name, e.ts $join ORDER BY e.ts, s.id" "$spans")
scanned=$("$bin" query -o csv "SELECT s.id, s.name, e.ts FROM spans s JOIN events e
	ON e.span_id = s.id || '' AND e.snapshot = s.snapshot AND e.kind = 'log'
	ORDER BY e.ts, s.id" "$spans")
expect "join: rows as a scan of spans finds them" test "$by_key" = "$scanned"
expect "join: some rows" test "$(wc -l <<<"$by_key")" -ge 3
expect "join: spans found by key" grep -q 'INDEX [0-9]*:k' <<<"$("$bin" query -o csv \
	"EXPLAIN QUERY PLAN SELECT s.id $join" "$spans" | tr '\n' ' ')"
with_fields=$("$bin" query -o csv "SELECT DISTINCT s.id, s.fields $join ORDER BY s.id" "$spans")
alone=$("$bin" query -o csv "SELECT id, fields FROM spans
	WHERE id IN (SELECT span_id FROM events WHERE kind = 'log') ORDER BY id" "$spans")
expect "join: spans.fields as the spans table has them" test "$with_fields" = "$alone"
expect "join: some spans have fields" grep -q '"' <<<"$(tail -n +2 <<<"$alone")"

# A missing file and a cut one: the same rows and errors as a full scan.
head -c 3000 "$spans" >"$tmp/cut.ttlog"
bad=("$tmp/missing.ttlog" "$tmp/cut.ttlog" "$snap")
for q in "SELECT level, count(*) FROM events GROUP BY level" \
	"SELECT level, count(*) FROM events WHERE ts IS NOT NULL GROUP BY level"; do
	out=$("$bin" query -o csv "$q" "${bad[@]}" 2>"$tmp/err")
	status=$?
	expect "damaged files: exit 2 ($q)" test "$status" = 2
	expect "damaged files: the missing one named ($q)" grep -q "missing.ttlog" "$tmp/err"
	expect "damaged files: the cut one named ($q)" grep -q "cut.ttlog: offset" "$tmp/err"
	printf '%s\n' "$out" >"$tmp/out.$status.$(printf '%s' "$q" | cksum | cut -d' ' -f1)"
	cp "$tmp/err" "$tmp/err.$(printf '%s' "$q" | cksum | cut -d' ' -f1)"
done
set -- "$tmp"/out.2.*
expect "damaged files: the same rows grouped or not" test "$#" = 2 -a -n "$(cat "$1")"
expect "damaged files: identical rows" cmp -s "$1" "$2"
set -- "$tmp"/err.*
expect "damaged files: identical errors" cmp -s "$1" "$2"

finish
