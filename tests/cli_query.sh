#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_query.sh - tests of `ttlog query` (SQL over snapshots) and of the
# loadable SQLite extension built from the same module.
#
# Every table's columns are compared with golden files over the
# deterministic snapshots of tests/progs/cli_snapshot (fake clock). What
# changes from run to run is kept out by the SQL itself: thread ids become
# "tid > 0", source paths are cut to tests/progs/..., snapshot paths are
# compared with the path the test knows, random span ids are checked by
# shape and by the parent links they make. The push-down over a large
# snapshot is in cli_query_pushdown.sh.

# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

mkdir -p "$tmp/metrics"
snap=$(make_snapshot golden) || exit 1
lost=$(make_snapshot lost) || exit 1
fields=$(make_snapshot fields) || exit 1
spans=$(make_snapshot spans) || exit 1
make_crash_snapshot
msnap=$("$progs/metrics_snapshot" "$tmp/metrics")
expect "metrics_snapshot wrote a snapshot" test -f "$msnap"

# A source path as it is in every build: from tests/progs/ on.
src_path() {
	printf "substr(%s, instr(%s, 'tests/progs/'))" "$1" "$1"
}

# ---------------------------------------------------------------------------
# Help and usage

check "query --help" '~^Usage: ttlog query' 0 '' -- "$bin" query --help
check "help query" '~^Usage: ttlog query' 0 '' -- "$bin" help query
check "help lists query" '~^  query ' 0 '' -- "$bin" help
help_text=$("$bin" query --help)
for word in --output --stats events spans threads sites metrics snapshots json_extract level_num \
	span_id trace_id crash_address args int_value real_value text_value position; do
	expect "query --help mentions $word" grep -q -- "$word" <<<"$help_text"
done
check "no arguments" - 1 "^ttlog query: expected SQL.*
Run 'ttlog query --help' for usage" -- "$bin" query
check "no file" - 1 "expected one or more snapshot files" -- "$bin" query "SELECT 1"
check "bad --output" - 1 "unknown output format 'xml'" -- "$bin" query -o xml "SELECT 1" "$snap"
check "unknown option" - 1 "unknown option '--frobnicate'" -- "$bin" query --frobnicate "SELECT 1" "$snap"

# ---------------------------------------------------------------------------
# Every table's columns (golden)

check "events: every column" query-events.txt 0 '' -- "$bin" query \
	"SELECT ts, time, level, level_num, kind, tid > 0 AS tid_ok, thread, target,
	        $(src_path file) AS file, line, func, site, message, fields, span_id, trace_id,
	        span, snapshot = '$snap' AS snapshot_ok FROM events" "$snap"
check "events: fields as JSON" query-fields.json 0 '' -- "$bin" query -o json \
	"SELECT line, level, message, fields FROM events" "$fields"
check "events: spans" query-span-events.txt 0 '' -- "$bin" query \
	"SELECT time, kind, thread, line, func, site, message, fields, length(span_id) AS id_len, trace_id, span
	 FROM events" "$spans"
check "spans: every column" query-spans.txt 0 '' -- "$bin" query \
	"SELECT length(id) AS id_len, parent IS NULL AS root,
	        (SELECT p.name FROM spans p WHERE p.id = s.parent) AS parent_name, trace_id, name,
	        start, end, duration, start_time, tid > 0 AS tid_ok, thread, depth,
	        $(src_path file) AS file, line, func, fields, snapshot = '$spans' AS snapshot_ok
	 FROM spans s" "$spans"
check "threads: every column" query-threads.txt 0 '' -- "$bin" query \
	"SELECT CASE snapshot WHEN '$snap' THEN 'golden' ELSE 'lost' END AS file, idx,
	        tid > 0 AS tid_ok, name, exited, crashed, events, overwritten, torn, torn_bytes
	 FROM threads" "$snap" "$lost"
check "sites: every column" query-sites.txt 0 '' -- "$bin" query \
	"SELECT id, level, level_num, kind, target, $(src_path file) AS file, line, func, format,
	        fields, events, snapshot = '$fields' AS snapshot_ok FROM sites" "$fields"
check "sites: span sites" query-span-sites.txt 0 '' -- "$bin" query \
	"SELECT id, level, kind, line, func, format, fields, events FROM sites" "$spans"
check "args: every column" query-args.txt 0 '' -- "$bin" query \
	"SELECT ts, time, level, level_num, kind, tid > 0 AS tid_ok, site, $(src_path file) AS file,
	        line, format, position, field, source, type, int_value, real_value, text_value,
	        text_value IS NULL AS text_null, snapshot = '$fields' AS snapshot_ok FROM args" "$fields"
check "args: span begins and ends (a begin's ids, then its fields)" query-span-args.txt 0 '' -- \
	"$bin" query "SELECT kind, line, format, position, field, type,
	                     CASE WHEN field IS NULL THEN NULL ELSE real_value END AS value
	              FROM args WHERE kind <> 'log'" "$spans"
check "args: joined with events" '~^login,42$' 0 '' -- "$bin" query -o csv \
	"SELECT e.message, a.int_value FROM args a JOIN events e
	   ON e.snapshot = a.snapshot AND e.ts = a.ts AND e.tid = a.tid AND e.site = a.site
	 WHERE a.field = 'user_id'" "$fields"
check "metrics: every column" query-metrics.csv 0 '' -- "$bin" query -o csv \
	"SELECT name, type, labels, $(src_path file) AS file, line > 0 AS line_ok, self, value,
	        ts IS NOT NULL AS has_ts, count, sum, min, max, p50, p90, p99, p999, buckets,
	        snapshot = '$msnap' AS snapshot_ok
	 FROM metrics WHERE NOT self" "$msnap"
check "metrics: ttlog's own" '~^ttlog_events_written_total,1$' 0 '' -- "$bin" query -o csv \
	"SELECT name, self FROM metrics WHERE self" "$msnap"
check "snapshots: every column" query-snapshots.json 0 '' -- "$bin" query -o json \
	"SELECT snapshot = '$snap' OR snapshot = '$crash' AS snapshot_ok, format_version,
	        pid > 0 AS pid_ok, executable LIKE '%/cli_snapshot' AS executable_ok,
	        length(hostname) > 0 AS hostname_ok, reason, created, created_time,
	        writer_version > 0 AS writer_ok, clock, window_ns, complete, events, overwritten,
	        torn, dropped, blocks >= 0 AS blocks_ok, first_ts, last_ts, first_time, last_time,
	        crashed, signal, signal_code, crash_address IS NOT NULL AS has_address,
	        crash_tid > 0 AS crash_tid_ok, error
	 FROM snapshots" "$snap" "$crash"
check "snapshots: lost events" '~^ +1 +[0-9]+ +1$' 0 '' -- "$bin" query \
	"SELECT dropped, overwritten, overwritten > 0 FROM snapshots" "$lost"

# ---------------------------------------------------------------------------
# SQL: JSON functions, joins, constraints that push down

check "json_extract on fields" query-json-extract.txt 0 '' -- "$bin" query \
	"SELECT message, json_extract(fields, '\$.user') AS user, json_extract(fields, '\$.ip') AS ip
	 FROM events WHERE json_extract(fields, '\$.user') >= 42 ORDER BY user" "$fields"
check "join events with sites" '~^26$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events e JOIN sites s ON s.id = e.site AND s.snapshot = e.snapshot" "$snap"
# spans and sites are made once per statement and found by key: a join
# reads each file once (scans=2: events, then spans), and gives the rows
# that the same join without the key (+s.id) gives.
span_join="SELECT s.name, e.message FROM spans s JOIN events e
	ON e.span_id = S_ID AND e.snapshot = s.snapshot AND e.kind = 'log' ORDER BY e.ts, s.name"
check "join spans and events by id" '~^http.request,handling request id=17$' 0 '' -- "$bin" query -o csv \
	"${span_join/S_ID/s.id}" "$spans"
check "join by id: the rows of a join without the key" - 0 '' -- bash -c \
	'diff <("$1" query -o csv "$2" "$4") <("$1" query -o csv "$3" "$4")' bash "$bin" \
	"${span_join/S_ID/s.id}" "${span_join/S_ID/+s.id}" "$spans"
check "--stats: a join reads each file once" - 0 '^ttlog query: stats: scans=2 ranged=0 ' -- \
	"$bin" query --stats "${span_join/S_ID/s.id}" "$spans"
check "--stats: sites found by id, read once" - 0 '^ttlog query: stats: scans=2 ranged=0 ' -- \
	"$bin" query --stats "SELECT count(*) FROM events e JOIN sites s ON s.id = e.site" "$snap"
check "two files" '~^golden,26$' 0 '' -- "$bin" query -o csv \
	"SELECT CASE snapshot WHEN '$snap' THEN 'golden' ELSE 'lost' END AS f, count(*)
	 FROM events GROUP BY f ORDER BY f" "$snap" "$lost"

# The reader gets a conservative range; SQLite's own check makes the
# answer exact, at the boundaries too.
t0=1767225600000000000
check "ts > (exclusive)" '~^2$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE ts > $((t0 + 2000)) AND ts <= $((t0 + 4000))" "$snap"
check "ts >= and < (real)" '~^2$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE ts >= $((t0 + 2000)).5 AND ts < $((t0 + 4000)).5" "$snap"
check "ts = " '~^ints: ' 0 '' -- "$bin" query -o csv \
	"SELECT message FROM events WHERE ts = $((t0 + 2000))" "$snap"
check "ts compared with text" '~^26$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE ts < '9999999999999999999'" "$snap"
check "level = " '~^3$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE level = 'warn'" "$snap"
check "level IN" '~^7$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE level IN ('warn', 'error', 'fatal')" "$snap"
check "level_num >=" '~^7$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE level_num >= 3" "$snap"
check "level_num < and level =" '~^0$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE level_num < 2 AND level = 'warn'" "$snap"
check "level in capitals matches nothing" '~^0$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE level = 'WARN'" "$snap"
check "span events keep their level out of the mask" '~^4,4$' 0 '' -- "$bin" query -o csv \
	"SELECT sum(kind = 'span_begin'), sum(kind = 'span_end') FROM events
	 WHERE level_num >= 2 AND kind <> 'log'" "$spans"
# One file's events come sorted (the plan says so); with IN, SQLite scans
# once per value, and the order must still hold.
check "ORDER BY ts with level IN" '~^warn,error,warn,error,warn,error$' 0 '' -- bash -c \
	'"$1" query -o csv "SELECT level FROM events WHERE level IN ('"'error'"', '"'warn'"') ORDER BY ts" "$2" |
	 tail -n +2 | paste -sd,' bash "$bin" "$snap"
check "ORDER BY ts with ts IN" '~^debug,error$' 0 '' -- bash -c \
	'"$1" query -o csv "SELECT level FROM events WHERE ts IN ($3 + 5000, $3 + 1000) ORDER BY ts" "$2" |
	 tail -n +2 | paste -sd,' bash "$bin" "$snap" "$t0"
check "ORDER BY ts DESC" '~^all 2 workers done$' 0 '' -- "$bin" query -o csv \
	"SELECT message FROM events ORDER BY ts DESC LIMIT 1" "$snap"
check "--stats: a ranged scan" - 0 '^ttlog query: stats: scans=1 ranged=1 ' -- "$bin" query --stats \
	"SELECT count(*) FROM events WHERE ts BETWEEN $t0 AND $((t0 + 5000))" "$snap"
check "--stats: args, a ranged scan" - 0 '^ttlog query: stats: scans=1 ranged=1 ' -- "$bin" query --stats \
	"SELECT count(*) FROM args WHERE ts BETWEEN $t0 AND $((t0 + 5000)) AND level_num >= 2" "$snap"
check "--stats: a full scan" - 0 '^ttlog query: stats: scans=1 ranged=0 ' -- "$bin" query --stats \
	"SELECT count(*) FROM events" "$snap"
# A thread and a process by =: only that thread's blocks, that process's
# files are read; the rows are those without the push-down (tid + 0 and
# pid + 0 are not pushed).
tid=$("$bin" query -o csv "SELECT tid FROM events ORDER BY tid DESC LIMIT 1" "$snap" | tail -n 1)
pid=$("$bin" query -o csv "SELECT pid FROM events LIMIT 1" "$snap" | tail -n 1)
pushed=$("$bin" query -o csv "SELECT count(*), min(ts), max(ts) FROM events WHERE tid = $tid" "$snap" | tail -n 1)
plain=$("$bin" query -o csv "SELECT count(*), min(ts), max(ts) FROM events WHERE tid + 0 = $tid" "$snap" | tail -n 1)
expect "tid = X gives the rows of tid + 0 = X ($pushed, $plain)" test "$pushed" = "$plain"
expect "tid = X has rows" test "${pushed%%,*}" -gt 0
check "--stats: tid = X reads one thread's blocks" - 0 \
	'^ttlog query: stats: scans=1 ranged=1 blocks=[0-9]* decoded=[0-9]* scanned=0 skipped=[1-9]' -- \
	"$bin" query --stats "SELECT count(*) FROM events WHERE tid = $tid" "$snap"
check "args: tid = X" - 0 '^ttlog query: stats: scans=1 ranged=1 ' -- \
	"$bin" query --stats "SELECT count(*) FROM args WHERE tid = $tid" "$snap"
check "pid = X: every event" "~^$("$bin" query -o csv "SELECT count(*) FROM events" "$snap" | tail -n 1)\$" 0 '' -- \
	"$bin" query -o csv "SELECT count(*) FROM events WHERE pid = $pid" "$snap"
check "--stats: pid = another process reads no block" - 0 \
	'^ttlog query: stats: scans=1 ranged=1 blocks=[0-9]* decoded=0 ' -- \
	"$bin" query --stats "SELECT count(*) FROM events WHERE pid = $((pid + 1))" "$snap"
# A site by = (its log events; span events are left to SQLite): the rows
# without the push-down, for events and args.
site=$("$bin" query -o csv "SELECT site FROM events WHERE kind = 'log' GROUP BY site ORDER BY count(*) LIMIT 1" "$snap" | tail -n 1)
for t in events args; do
	pushed=$("$bin" query -o csv "SELECT count(*), min(ts), max(ts) FROM $t WHERE site = $site" "$snap" | tail -n 1)
	plain=$("$bin" query -o csv "SELECT count(*), min(ts), max(ts) FROM $t WHERE site + 0 = $site" "$snap" | tail -n 1)
	expect "$t: site = X gives the rows of site + 0 = X ($pushed, $plain)" test "$pushed" = "$plain"
	expect "$t: site = X has rows" test "${pushed%%,*}" -gt 0
done
check "--stats: site = X is a ranged scan" - 0 '^ttlog query: stats: scans=1 ranged=1 ' -- \
	"$bin" query --stats "SELECT count(*) FROM events WHERE site = $site" "$snap"
check "tid = X AND tid = Y: no row" '~^0$' 0 '' -- "$bin" query -o csv \
	"SELECT count(*) FROM events WHERE tid = $tid AND tid = $((tid + 1))" "$snap"
check "ttlog_stats()" '~^\{"scans":1,"ranged_scans":1,' 0 '' -- "$bin" query \
	"SELECT count(*) FROM events WHERE level = 'fatal'; SELECT ttlog_stats()" "$snap"

# ---------------------------------------------------------------------------
# Output formats

cafe=$'caf\xc3\xa9' # UTF-8: four characters wide
check "table: alignment and NULL" query-table.txt 0 '' -- "$bin" query \
	"SELECT 1 AS n, NULL AS e, 'text' AS t, '$cafe' AS u UNION ALL SELECT 22, 'x', NULL, 'b'" "$snap"
check "table: control characters escaped" query-table-escapes.txt 0 '' -- "$bin" query \
	"SELECT message FROM events WHERE message LIKE 'strings:%' OR message LIKE 'bytes:%'" "$snap"
check "table: two statements" query-table-two.txt 0 '' -- "$bin" query \
	"SELECT 1 AS a; CREATE TEMP VIEW w AS SELECT 2 AS b; SELECT * FROM w" "$snap"
check "csv: quoting" query-csv.txt 0 '' -- "$bin" query -o csv \
	"SELECT level, message, 'a,b' AS comma FROM events WHERE level = 'error'" "$snap"
check "json: typed values" query-types.json 0 '' -- "$bin" query -o json \
	"SELECT 1 AS i, -1.5 AS r, 'x\"y' AS t, NULL AS n, x'00ff' AS b, 1e999 AS inf" "$snap"
json_lines=$("$bin" query -o json "SELECT * FROM events" "$snap")
expect "json: 26 objects that parse, with every column (21)" python3 -c '
import json, sys
rows = [json.loads(line) for line in sys.stdin.read().splitlines()]
assert len(rows) == 26, len(rows)
assert all(len(r) == 21 for r in rows)
assert all(isinstance(json.loads(r["fields"]), dict) for r in rows)
' <<<"$json_lines"
check "csv: parses back" '~^ok$' 0 '' -- sh -c \
	'"$1" query -o csv "SELECT message FROM events" "$2" | python3 -c "
import csv, sys
rows = list(csv.reader(sys.stdin))
assert len(rows) == 27 and rows[0] == [\"message\"], rows[:2]
assert rows[6][0].startswith(\"strings: [line1\nline2 \\\"quoted\\\"\"), rows[6]
print(\"ok\")"' sh "$bin" "$snap"
check "closed pipe ends quietly" '~^1$' 0 '' -- bash -c \
	'"$1" query -o csv "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)
	  SELECT x FROM c" "$2" | head -n 2 | tail -n 1; exit "${PIPESTATUS[0]}"' bash "$bin" "$snap"

# ---------------------------------------------------------------------------
# Errors

check "SQL syntax error" - 1 '^ttlog query: SQL error: near "SELEC": syntax error$' -- \
	"$bin" query "SELEC 1" "$snap"
check "unknown column" - 1 '^ttlog query: SQL error: no such column: nope$' -- \
	"$bin" query "SELECT nope FROM events" "$snap"
check "a read-only table" - 1 '^ttlog query: SQL error: table events may not be modified$' -- \
	"$bin" query "DELETE FROM events" "$snap"
check "missing file: the other file's rows, exit 2" '~^26$' 2 \
	"^ttlog: $tmp/missing.ttlog: .*No such file" -- \
	"$bin" query -o csv "SELECT count(*) FROM events" "$tmp/missing.ttlog" "$snap"
head -c 2000 "$snap" >"$tmp/truncated.ttlog"
check "truncated file: rows that survived, the reader's error" - 2 \
	"^ttlog: $tmp/truncated.ttlog: offset [0-9]+: expected" -- \
	"$bin" query -o csv "SELECT count(*) FROM events" "$tmp/truncated.ttlog"
check "truncated file: snapshots.error" '~offset [0-9]+: expected' 2 'offset [0-9]+: expected' -- \
	"$bin" query -o csv "SELECT error FROM snapshots" "$tmp/truncated.ttlog"
printf 'not a snapshot at all, just some text\n' >"$tmp/text.ttlog"
check "not a snapshot" '~^0$' 2 "^ttlog: $tmp/text.ttlog: " -- \
	"$bin" query -o csv "SELECT count(*) FROM spans" "$tmp/text.ttlog"
# Bytes flipped in the middle of the file: whatever survives, never a crash.
cp "$snap" "$tmp/flipped.ttlog"
size=$(wc -c <"$tmp/flipped.ttlog")
printf '\377\377\377\377\377\377\377\377' | dd of="$tmp/flipped.ttlog" bs=1 seek=$((size / 2)) \
	conv=notrunc status=none
for table in events spans threads sites metrics snapshots args; do
	check "damaged file: $table" - 2 "^ttlog: $tmp/flipped.ttlog: " -- \
		"$bin" query -o json "SELECT * FROM $table" "$tmp/flipped.ttlog"
done

# ---------------------------------------------------------------------------
# The loadable extension in the real sqlite3 shell

ext=$(dirname "$bin")/ttlog_sqlite.so
if ! command -v sqlite3 >/dev/null; then
	printf 'skip the extension: no sqlite3 shell\n'
elif ldd "$ext" 2>/dev/null | grep -q 'libasan\|libtsan'; then
	# A sanitizer runtime must be loaded first, which the shell does not do.
	printf 'skip the extension: sanitizer build\n'
else
	expect "the extension was built" test -f "$ext"
	check "extension: .load and a query" query-extension.txt 0 '' -- sqlite3 :memory: \
		".load ${ext%.so}" \
		"CREATE VIRTUAL TABLE ev USING ttlog_events('$snap')" \
		"SELECT level, count(*), min(time) FROM ev GROUP BY level ORDER BY min(ts)"
	check "extension: named entry point, every table" '~^26\|3\|17\|1\|4$' 0 '' -- sqlite3 :memory: \
		".load $ext sqlite3_ttlog_init" \
		"CREATE VIRTUAL TABLE e USING ttlog_events('$snap')" \
		"CREATE VIRTUAL TABLE t USING ttlog_threads('$snap')" \
		"CREATE VIRTUAL TABLE s USING ttlog_sites('$snap')" \
		"CREATE VIRTUAL TABLE f USING ttlog_snapshots('$snap')" \
		"CREATE VIRTUAL TABLE p USING ttlog_spans('$spans')" \
		"SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM t), (SELECT count(*) FROM s),
		        (SELECT count(*) FROM f), (SELECT count(*) FROM p)"
	check "extension: metrics and fields" '~^1000\|42$' 0 '' -- sqlite3 :memory: \
		".load $ext" \
		"CREATE VIRTUAL TABLE m USING ttlog_metrics('$msnap')" \
		"CREATE VIRTUAL TABLE e USING ttlog_events('$fields')" \
		"SELECT (SELECT value FROM m WHERE name = 'http.requests' AND labels = '{\"method\":\"GET\"}'),
		        (SELECT json_extract(fields, '\$.user_id') FROM e WHERE message = 'login')"
	check "extension: the args table" '~^42\|user_id\|explicit\|u32$' 0 '' -- sqlite3 :memory: \
		".load $ext" \
		"CREATE VIRTUAL TABLE a USING ttlog_args('$fields')" \
		"SELECT int_value, field, source, type FROM a WHERE field = 'user_id'"
	check "extension: no files" - 1 'ttlog_events: expected one or more snapshot files' -- \
		sqlite3 :memory: ".load $ext" "CREATE VIRTUAL TABLE ev USING ttlog_events"
	check "extension: ttlog_stats()" '~^\{"scans":1,"ranged_scans":1,' 0 '' -- sqlite3 :memory: \
		".load $ext" \
		"CREATE VIRTUAL TABLE ev USING ttlog_events('$snap')" \
		"SELECT count(*) FROM ev WHERE ts < $((t0 + 3000))" \
		"SELECT ttlog_stats()"
fi

finish
