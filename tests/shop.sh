#!/usr/bin/env bash
# shop.sh - the shop example (examples/shop/) run briefly with a fixed seed
# and checked from ttlog's files alone: every one of the twelve services
# logged; a request's trace crosses the three processes with every parent
# link resolved; each kind of chaos left its mark (a circuit-open snapshot,
# a recovered snapshot of the SIGKILLed process, a crash snapshot whose top
# frame is the function with the bug, and the other business moments); the
# metrics in each process's last snapshot equal the shop's own counters;
# and every event the processes wrote is in the files or counted as lost.
#
# The shop reaps its own processes; the trap makes sure that the shop is
# stopped (and so its children) however this script ends.

# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
shop=${TTLOG_EXAMPLES:?TTLOG_EXAMPLES must name the directory of the examples}/shop
[ -x "$shop" ] || { echo "shop example not built: skipped"; exit 77; }
for var in TTLOG_DIR TTLOG_SHARED_MEMORY TTLOG_SHARED_DIR TTLOG_RING_SIZE TTLOG_MEMORY_CAP \
	TTLOG_WINDOW TTLOG_LEVEL TTLOG_SAMPLE TTLOG_MAX_SNAPSHOTS TTLOG_MAX_SNAPSHOT_BYTES; do
	unset "$var"
done

# Shorter and lighter under the sanitizers: the checks are the same.
duration=5 rate=100
if [ -n "${ASAN_OPTIONS:-}${TSAN_OPTIONS:-}" ]; then
	duration=4 rate=50
fi

snaps=$tmp/snaps
out=$tmp/shop-output.txt
shop_pid=
stop_shop() {
	if [ -n "$shop_pid" ]; then
		kill -TERM "$shop_pid" 2>/dev/null
		wait "$shop_pid" 2>/dev/null
	fi
}
trap stop_shop EXIT

(ulimit -c 0; exec "$shop" --duration "$duration" --seed 5 --rate "$rate" --dir "$snaps") >"$out" 2>&1 &
shop_pid=$!
wait "$shop_pid"
status=$?
shop_pid=
expect "the shop exits with status 0" test "$status" = 0
[ "$status" = 0 ] || sed 's/^/     | /' "$out"

pid_of() { sed -n "s/^pids .*$1=\([0-9]*\).*/\1/p" "$out"; }
edge=$(pid_of edge) checkout=$(pid_of checkout) back=$(pid_of backoffice)
expect "the shop printed its three pids" test -n "$edge" -a -n "$checkout" -a -n "$back"
total() { # total KEY=VALUE FIELD: the number after FIELD= on the total line with KEY=VALUE
	sed -n "s/^total .*\\b$1\\b.* $2=\([0-9]*\).*/\1/p" "$out"
}
has_file() { compgen -G "$1" >/dev/null; }
q() { # SQL FILE...: the rows of a query as CSV without the header
	"$bin" query -o csv "$@" | sed 1d
}

# ---------------------------------------------------------------------------
# The files each process left

recovered=$("$bin" recover --shm-dir "$snaps/shm" --dir "$snaps" "$back")
expect "ttlog recover wrote the backoffice snapshot" test -f "$recovered"
expect "the recovered snapshot is of the killed process" \
	grep -q "ttlog-$back-.*-recovered.ttlog" <<<"$recovered"
final_edge=$(ls "$snaps"/ttlog-"$edge"-*-end_of_run.ttlog 2>/dev/null)
crash=$(ls "$snaps"/ttlog-"$checkout"-*-SIGSEGV.ttlog 2>/dev/null)
expect "the edge wrote its end-of-run snapshot" test -f "$final_edge"
expect "checkout's crash left a snapshot" test -f "$crash"
finals=("$final_edge" "$crash" "$recovered")
# The recovered snapshot holds no metrics (a snapshot made from a shared
# mapping has none): backoffice wrote them at the end of its day.
back_metrics=$(ls "$snaps"/ttlog-"$back"-*-end_of_day.ttlog 2>/dev/null)
expect "backoffice wrote its end-of-day snapshot" test -f "$back_metrics"
all=("$snaps"/*.ttlog)
for f in "${all[@]}"; do
	expect "$(basename "$f") opens completely" "$bin" stats --top 0 "$f" -o json >/dev/null
done

# ---------------------------------------------------------------------------
# All twelve services logged (each worker thread has a "service" context)

services=$(q "SELECT DISTINCT json_extract(fields, '\$.service') FROM events
              WHERE json_extract(fields, '\$.service') IS NOT NULL ORDER BY 1" "${finals[@]}" | tr '\n' ' ')
expect "all twelve services logged (got: $services)" test "$services" = \
	"analytics audit inventory notification order payment pricing product recommendation search shipping user "

# ---------------------------------------------------------------------------
# A trace across the three processes: one root, the gateway's request in
# the edge process, and every other span's parent found among the spans of
# the three files (a server span's parent is the caller's span in another
# process).

traces=$(q "WITH s AS (SELECT spans.trace_id AS t, spans.id, spans.parent, spans.name,
                              json_extract(spans.fields, '\$.svc') AS svc, snapshots.pid
                       FROM spans JOIN snapshots USING (snapshot))
           SELECT t FROM s GROUP BY t
           HAVING count(DISTINCT pid) = 3 AND sum(svc = 'payment') > 0
              AND sum(parent IS NULL) = 1
              AND sum(parent IS NULL AND pid = $edge AND name = 'http.request') = 1
              AND sum(parent IS NOT NULL AND parent NOT IN (SELECT id FROM s)) = 0" "${finals[@]}")
n=$(grep -c . <<<"$traces")
expect "some trace crosses the three processes with its parent links whole ($n)" test "$n" -gt 0
trace=$(head -n 1 <<<"$traces")
# The same trace from the viewer: spans served in checkout and backoffice.
view=$("$bin" view --trace "$trace" "${finals[@]}")
for svc in order payment notification; do
	expect "ttlog view --trace shows the $svc span of $trace" \
		grep -Eq "begin rpc.serve trace=$trace svc=$svc" <<<"$view"
done
orphans=$(q "WITH s AS (SELECT trace_id, id, parent FROM spans)
             SELECT count(*) AS n FROM s WHERE parent IS NOT NULL AND parent NOT IN (SELECT id FROM s)
               AND trace_id = '$trace'" "${finals[@]}")
expect "no span of $trace lost its parent" test "$orphans" = 0

# ---------------------------------------------------------------------------
# Each chaos kind left its mark

for reason in payment_failed circuit_open_payment security_risk_high high_load; do
	expect "a $reason snapshot was written" has_file "$snaps/ttlog-*-$reason.ttlog"
done
expect "the payment circuit opened in checkout" \
	has_file "$snaps/ttlog-$checkout-*-circuit_open_payment.ttlog"
expect "the breaker's transition to open is in the snapshot" \
	grep -q "breaker payment: closed -> open" <("$bin" view --level warn "$snaps"/ttlog-"$checkout"-*-circuit_open_payment.ttlog)
n=$(q "SELECT count(*) AS n FROM events WHERE message LIKE 'chaos: latency %'" "${finals[@]}")
expect "the chaos monkey's random latency is in the files ($n)" test "${n:-0}" -gt 0
n=$(q "SELECT count(*) AS n FROM events WHERE message LIKE 'db payment: connection refused%'" "$crash")
expect "payment's database outage is in checkout's last snapshot ($n)" test "${n:-0}" -gt 0
crash_text=$("$bin" view "$crash")
expect "the crash snapshot says SIGSEGV" grep -q '^-- crash: SIGSEGV' <<<"$crash_text"
top=$(grep -A1 '^backtrace of thread .*crashed:' <<<"$crash_text" | sed -n 2p)
expect "the crash's top frame is reconcile_refund ($top)" grep -q ' in reconcile_refund ' <<<"$top"
expect "the crash's last event is the refund" \
	grep -q 'reconcile: refunding order_id=' <(grep -E '^[0-9]{4}-' <<<"$crash_text" | tail -n 1)
expect "the recovered snapshot holds the audit's security events" \
	grep -q 'security event user=mallory' <("$bin" view --level warn "$recovered")
expect "a service stopped answering: the edge saw it (health check, balancer or timeout)" \
	grep -Eq 'health (search-2|recommendation) is down|lb: search-2 failed|rpc failed peer=(search-2|recommendation)' \
	<("$bin" view --level warn "$final_edge")

# ---------------------------------------------------------------------------
# Metrics in each process's last snapshot equal the shop's own counters

file_of_process() {
	case $1 in
	edge) echo "$final_edge" ;;
	checkout) echo "$crash" ;;
	backoffice) echo "$back_metrics" ;;
	esac
}
for svc in user product order payment inventory notification analytics audit recommendation \
	search pricing shipping; do
	proc=$(sed -n "s/^total service=$svc process=\([a-z]*\) .*/\1/p" "$out")
	file=$(file_of_process "$proc")
	for metric in requests errors; do
		want=$(total "service=$svc" "$metric")
		got=$(q "SELECT coalesce(sum(value), 0) AS n FROM metrics WHERE name = 'shop.$metric'
		         AND json_extract(labels, '\$.service') = '$svc'" "$file")
		expect "shop.$metric{service=$svc} in $proc's last snapshot = $want (got $got)" \
			test -n "$want" -a "$got" = "$want"
	done
done
gw=$(total gateway requests)
got=$(q "SELECT value FROM metrics WHERE name = 'shop.gateway_requests'" "$final_edge")
expect "shop.gateway_requests = $gw (got $got)" test -n "$gw" -a "$got" = "$gw"

# ---------------------------------------------------------------------------
# Nothing lost that is not counted: every event a process wrote is in its
# last snapshot, or counted as overwritten or torn there.

written() { # FILE: ttlog_events_written in its metrics
	q "SELECT value FROM metrics WHERE name = 'ttlog_events_written'" "$1"
}
in_file() { # FILE: its events plus those counted as overwritten or torn
	q "SELECT events + overwritten + torn AS n FROM snapshots" "$1"
}
for f in "$final_edge" "$crash" "$back_metrics"; do
	w=$(written "$f") n=$(in_file "$f")
	expect "$(basename "$f"): events + overwritten + torn = written ($n, $w)" test -n "$w" -a "$n" = "$w"
done
# Backoffice logged a few more events after its end-of-day snapshot (that
# it was written); the recovered file has those too.
w=$(written "$back_metrics") n=$(in_file "$recovered")
expect "recovered: events + overwritten + torn >= written at the end of day ($n, $w)" \
	test -n "$w" -a "$n" -ge "${w:-0}"
# The sampled call site: the calls the shop made = kept in the file +
# dropped by the 1-in-20 rule (when nothing of the edge was overwritten).
calls=$(total gateway sampled_site_calls)
row=$(q "SELECT (SELECT sum(events) FROM sites WHERE format LIKE 'search hit%') AS kept,
                (SELECT value FROM metrics WHERE name = 'ttlog_events_dropped'
                   AND json_extract(labels, '\$.reason') = 'sampled') AS dropped,
                (SELECT overwritten FROM snapshots) AS overwritten" "$final_edge")
IFS=, read -r kept dropped overwritten <<<"$row"
expect "the sampled site dropped some calls ($dropped)" test "${dropped:-0}" -gt 0
if [ "$overwritten" = 0 ]; then
	expect "sampled site: kept $kept + dropped $dropped = the shop's $calls calls" \
		test $((kept + dropped)) = "$calls"
	done_logged=$(total gateway done_logged)
	n=$(q "SELECT count(*) AS n FROM events WHERE message LIKE 'request done %'" "$final_edge")
	expect "every request the gateway finished is in its last snapshot ($n of $done_logged)" \
		test "$n" = "$done_logged"
fi

finish
