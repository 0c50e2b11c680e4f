#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ship_clickhouse.sh - `ttlog ship clickhouse` against a real ClickHouse
# server (Debian's clickhouse-server, started by this test on 127.0.0.1:
# support/clickhouse_lib.sh), checked with SQL in ClickHouse:
#   - the shop example's files (snapshots and stream segments of its three
#     processes) shipped in batches: events per service equal what
#     `ttlog view` reads from the same files as one store, and the stream
#     alone, shipped gzip-compressed into another database, equals
#     `ttlog stats`;
#   - a trace crossing the three processes has all its spans, one root and
#     every parent found; errors per minute equal ttlog's; the crash and the
#     metrics arrived;
#   - a second run inserts nothing; a run killed with SIGKILL in the middle
#     (small batches), run again, leaves exact counts;
#   - --follow ships a stream while it is written, through a server that is
#     stopped and started again: the counts are exact in the end.
# Bad arguments and a server that refuses get clear errors.

# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/clickhouse_lib.sh
source "$(dirname "$0")/support/clickhouse_lib.sh"

shop=${TTLOG_EXAMPLES:?TTLOG_EXAMPLES must name the directory of the examples}/shop
[ -x "$shop" ] || { fail "the shop example is built" "$shop is missing"; finish; }
for var in TTLOG_DIR TTLOG_SHARED_MEMORY TTLOG_SHARED_DIR TTLOG_RING_SIZE TTLOG_MEMORY_CAP \
	TTLOG_WINDOW TTLOG_LEVEL TTLOG_SAMPLE TTLOG_MAX_SNAPSHOTS TTLOG_MAX_SNAPSHOT_BYTES TTLOG_SERVICE \
	TTLOG_STREAM TTLOG_STREAM_LEVEL TTLOG_STREAM_POLICY TTLOG_SEGMENT_SIZE TTLOG_SEGMENT_AGE \
	TTLOG_CLICKHOUSE_USER TTLOG_CLICKHOUSE_PASSWORD; do
	unset "$var"
done

ship_pid=
prog_pid=
stop_all() {
	[ -z "$ship_pid" ] || { kill -KILL "$ship_pid" 2>/dev/null; wait "$ship_pid" 2>/dev/null; }
	[ -z "$prog_pid" ] || { kill -KILL "$prog_pid" 2>/dev/null; wait "$prog_pid" 2>/dev/null; }
	ch_stop
}
trap stop_all EXIT

ch_start
# SQL on the shipped tables; q DB SQL prints the answer.
q() { ch_sql "$2" | sed "s/\t/ /g" || echo "QUERY FAILED"; }
qdb() { local db=$1; shift; ch_sql "$(sed "s/@/$db./g" <<<"$1")" | sed "s/\t/ /g" || echo "QUERY FAILED"; }
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p"; } # the number after NAME= in a summary line

# ---------------------------------------------------------------------------
# Usage errors

check ship_no_url - 1 'url http://HOST:8123 is required' -- "$bin" ship clickhouse "$tmp"
check ship_no_dest - 1 'expected a destination' -- "$bin" ship
check ship_bad_dest - 1 "not 'kafka'" -- "$bin" ship kafka --url "$ch_url" "$tmp"
check ship_bad_url - 1 'must start with http' -- "$bin" ship clickhouse --url ftp://x --state "$tmp/s0" "$tmp"
check ship_missing - 1 'nothere: No such file' -- "$bin" ship clickhouse --url "$ch_url" "$tmp/nothere"
check ship_bad_batch - 1 'batch takes' -- "$bin" ship clickhouse --url "$ch_url" --batch 0 "$tmp"
check ship_help '~^Usage: ttlog ship clickhouse' 0 '' -- "$bin" ship --help

# ---------------------------------------------------------------------------
# The shop's files

snaps=$tmp/snaps
(ulimit -c 0; exec "$shop" --duration 4 --seed 5 --rate 100 --dir "$snaps") >"$tmp/shop.out" 2>&1
expect "the shop ran" test -d "$snaps/stream"
pid_of() { sed -n "s/^pids .*$1=\([0-9]*\).*/\1/p" "$tmp/shop.out"; }
edge=$(pid_of edge) checkout=$(pid_of checkout) back=$(pid_of backoffice)

check ship_refused - 2 "Database ttlog doesn't exist.*--create" -- \
	"$bin" ship clickhouse --url "$ch_url" --state "$tmp/s0" "$snaps"

out=$("$bin" ship clickhouse --url "$ch_url" --create --batch 3000 --state "$tmp/state" \
	"$snaps" "$snaps/stream" 2>"$tmp/ship.err")
status=$?
expect "the shop's files are shipped (exit $status: $(head -c 300 "$tmp/ship.err"))" test "$status" = 0
total=$(field events <<<"$out")
expect "several batches were sent ($out)" test "$(field batches <<<"$out")" -gt 4

# Per service: rows after FINAL, and distinct ids, in one query each.
finals=$(qdb ttlog "SELECT service, count() FROM @logs FINAL GROUP BY service")
ids=$(qdb ttlog "SELECT service, uniqExact(row_id) FROM @logs GROUP BY service")
for svc in edge checkout backoffice; do
	want=$("$bin" view --service "$svc" -o json "$snaps" "$snaps/stream" | wc -l)
	got=$(sed -n "s/^$svc //p" <<<"$finals") n=$(sed -n "s/^$svc //p" <<<"$ids")
	expect "service $svc: $want events in the store, $got rows (FINAL), $n ids" \
		test "$want" -gt 0 -a "$got" = "$want" -a "$n" = "$want"
done
n=$(qdb ttlog "SELECT count() FROM @logs")
expect "every event was inserted once ($n rows, $total shipped)" test "$n" = "$total"

# The stream alone, in its own database: each service's rows are the events
# `ttlog stats` counts in its segments.
# (Compressed: the server takes gzip bodies.)
out2=$("$bin" ship clickhouse --url "$ch_url" -d stream --create --gzip --state "$tmp/state" "$snaps/stream")
expect "the stream is shipped into database stream, gzip-compressed ($out2)" \
	test "$(field events <<<"$out2")" -gt 0 -a "$(field bytes <<<"$out2")" -lt "$(($(field events <<<"$out2") * 100))"
for svc in edge checkout backoffice; do
	want=$("$bin" stats -o json "$snaps"/stream/"$svc"-*.ttseg |
		python3 -c 'import json,sys; print(sum(json.loads(l)["events"] for l in sys.stdin))')
	got=$(qdb stream "SELECT count() FROM @logs FINAL WHERE service = '$svc'")
	expect "stream of $svc: ttlog stats says $want events, ClickHouse has $got" test "$got" = "$want"
done

# A trace across the three processes, from the spans table: one root, the
# edge's http.request, and every other span's parent among its spans.
trace=$(qdb ttlog "SELECT trace_id FROM @spans FINAL GROUP BY trace_id
                   HAVING uniqExact(pid) = 3 AND countIf(parent_span_id = '') = 1
                      AND countIf(parent_span_id = '' AND pid = $edge AND name = 'http.request') = 1
                   ORDER BY trace_id LIMIT 1")
expect "a trace crosses the three processes with one root ($trace)" test -n "$trace"
orphans=$(qdb ttlog "SELECT count() FROM @spans FINAL WHERE trace_id = '$trace' AND parent_span_id != ''
                     AND parent_span_id NOT IN (SELECT span_id FROM @spans FINAL WHERE trace_id = '$trace')")
expect "no span of $trace lost its parent ($orphans)" test "$orphans" = 0
want=$("$bin" view -o json "$snaps" "$snaps/stream" | grep -c "\"kind\":\"span_end\".*$trace" || true)
got=$(qdb ttlog "SELECT count() FROM @spans FINAL WHERE trace_id = '$trace'")
expect "the trace has the spans ttlog shows ended ($want), ClickHouse $got" test "$want" -gt 2 -a "$got" = "$want"

# Errors per minute.
want=$("$bin" view --level error -o json "$snaps" "$snaps/stream" |
	python3 -c 'import json,sys,collections
c = collections.Counter(json.loads(l)["time_ns"] // 60000000000 * 60 for l in sys.stdin)
print(" ".join("%d:%d" % kv for kv in sorted(c.items())))')
got=$(qdb ttlog "SELECT toUInt32(toStartOfMinute(time)) AS m, count() FROM @logs FINAL
                 WHERE level IN ('ERROR', 'FATAL') GROUP BY m ORDER BY m" | tr ' \n' ': ' | sed 's/ *$//')
expect "errors per minute: ttlog '$want', ClickHouse '$got'" test -n "$want" -a "$got" = "$want"

# The crash and the metrics.
crash=$(qdb ttlog "SELECT signal, pid, position(stack, 'reconcile_refund') > 0 FROM @crashes FINAL")
expect "the crash arrived, with its stack ($crash)" test "$crash" = "SIGSEGV $checkout 1"
gw=$(sed -n 's/^total .*\bgateway\b.* requests=\([0-9]*\).*/\1/p' "$tmp/shop.out")
got=$(qdb ttlog "SELECT counter FROM @metrics FINAL WHERE name = 'shop.gateway_requests' AND pid = $edge
                 AND reason = 'end_of_run'")
expect "shop.gateway_requests at the end of the run = $gw (got $got)" test -n "$gw" -a "$got" = "$gw"

# A damaged file: its valid events are shipped, the damage is said, status 2.
crashfile=$(ls "$snaps"/ttlog-"$checkout"-*-SIGSEGV.ttlog)
head -c $(($(stat -c %s "$crashfile") * 2 / 3)) "$crashfile" >"$tmp/cut.ttlog"
check ship_damaged '~^shipped events=[1-9]' 2 'cut.ttlog.*(its valid events were shipped)' -- \
	"$bin" ship clickhouse --url "$ch_url" -d damaged --create --state "$tmp/state-d" "$tmp/cut.ttlog"
# A user the server does not know: its message, status 2.
check ship_bad_user - 2 'ClickHouse answered [0-9]+: .*nobody' -- \
	"$bin" ship clickhouse --url "$ch_url" --user nobody --state "$tmp/state-u" "$crashfile"

# ---------------------------------------------------------------------------
# Exactly once: a second run ships nothing; a killed run, run again, is exact

out=$("$bin" ship clickhouse --url "$ch_url" --state "$tmp/state" "$snaps" "$snaps/stream")
expect "a second run ships nothing ($out)" test "$(field events <<<"$out"):$(field skipped <<<"$out")" = "0:$total"
n=$(qdb ttlog "SELECT count() FROM @logs")
expect "and the table has no more rows ($n)" test "$n" = "$total"

ch_sql "CREATE DATABASE killed" >/dev/null
"$bin" ship clickhouse --url "$ch_url" -d killed --create --batch 1000 --state "$tmp/state-k" \
	"$snaps" "$snaps/stream" >"$tmp/killed.out" 2>&1 &
ship_pid=$!
for _ in $(seq 1 500); do
	compgen -G "$tmp/state-k/*.cursor" >/dev/null && break
	sleep 0.01
done
kill -KILL "$ship_pid" 2>/dev/null
killed=$?
wait "$ship_pid" 2>/dev/null
ship_pid=
partial=$(qdb killed "SELECT uniqExact(row_id) FROM @logs")
expect "the shipper was killed in the middle ($partial of $total rows in)" \
	test "$killed" = 0 -a "$partial" -gt 0 -a "$partial" -lt "$total"
out=$("$bin" ship clickhouse --url "$ch_url" -d killed --batch 1000 --state "$tmp/state-k" "$snaps" "$snaps/stream")
expect "the run again ships the rest (skipped $(field skipped <<<"$out"))" test "$(field skipped <<<"$out")" -gt 0
# Each table's rows (FINAL) and distinct ids, undisturbed and after the kill.
counts() { # DB: "TABLE FINAL-ROWS IDS" a line, for the four tables
	qdb "$1" "SELECT * FROM (
	  SELECT 'logs' AS t, (SELECT count() FROM @logs FINAL), (SELECT uniqExact(row_id) FROM @logs)
	  UNION ALL SELECT 'spans', (SELECT count() FROM @spans FINAL), (SELECT uniqExact(row_id) FROM @spans)
	  UNION ALL SELECT 'metrics', (SELECT count() FROM @metrics FINAL), (SELECT uniqExact(row_id) FROM @metrics)
	  UNION ALL SELECT 'crashes', (SELECT count() FROM @crashes FINAL), (SELECT uniqExact(row_id) FROM @crashes))
	  ORDER BY t"
}
want=$(counts ttlog) got=$(counts killed)
expect "after the kill and a run again, every table has the rows of an undisturbed run
     ($(tr '\n' ';' <<<"$want")), got ($(tr '\n' ';' <<<"$got"))" test -n "$want" -a "$got" = "$want"
expect "(the undisturbed run's rows are each once: FINAL rows = ids)" \
	test "$(awk '$2 != $3' <<<"$want")" = ""

# ---------------------------------------------------------------------------
# --follow: a stream shipped while it is written, with the server stopped
# and started again in the middle

live=$tmp/live
mkdir -p "$live"
TTLOG_STREAM=$live TTLOG_SEGMENT_SIZE=64K "$progs/stream_load" 2 7000 --rate 1500 >"$tmp/load.out" 2>&1 &
prog_pid=$!
"$bin" ship clickhouse --url "$ch_url" -d live --create --follow --interval 100 --state "$tmp/state-f" \
	"$live" >"$tmp/follow.out" 2>"$tmp/follow.err" &
ship_pid=$!
sleep 1.5
before=$(qdb live "SELECT count() FROM @logs")
expect "following: rows arrive while the program logs ($before)" test "${before:-0}" -gt 0
# The server goes away at once (SIGKILL) while the program logs; it comes
# back once the shipper has found it gone.
ch_kill
for _ in $(seq 1 100); do
	grep -q 'trying again' "$tmp/follow.err" && break
	sleep 0.1
done
expect "the server away was retried ($(grep -c 'trying again' "$tmp/follow.err") times)" \
	grep -q 'trying again' "$tmp/follow.err"
ch_start_again
wait "$prog_pid"
expect "the logging program finished" test $? = 0
prog_pid=
want=$("$bin" view -o json "$live" | wc -l)
got=
for _ in $(seq 1 300); do
	got=$(qdb live "SELECT count() FROM @logs FINAL")
	[ "$got" = "$want" ] && break
	sleep 0.1
done
kill -TERM "$ship_pid"
wait "$ship_pid"
status=$?
ship_pid=
expect "--follow stops on SIGTERM with status 0 ($status)" test "$status" = 0
expect "the segments rotated ($(ls "$live" | wc -l) files)" test "$(ls "$live"/*.ttseg | wc -l)" -gt 1
ids=$(qdb live "SELECT uniqExact(row_id) FROM @logs")
expect "after the outage ClickHouse has every event once: $want events, $got rows, $ids ids" \
	test "$want" -gt 1000 -a "$got" = "$want" -a "$ids" = "$want"
n=$(grep -c 'load t=' <("$bin" view "$live"))
logged=$(awk '/^thread/ {s += $4} END {print s}' "$tmp/load.out")
expect "the stream holds what the program logged ($n of $logged)" test "$n" = "$logged"
expect "the local files are all still there" test "$(ls "$live"/*.ttseg | wc -l)" -gt 1

finish
