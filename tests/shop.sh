#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shop.sh - the shop example (examples/shop/) run briefly with a fixed seed
# and checked from ttlog's files alone: every one of the twelve services
# logged; a request's trace crosses the three processes with every parent
# link resolved; each kind of chaos left its mark (a circuit-open snapshot,
# a recovered snapshot of the SIGKILLed process, a crash snapshot whose top
# frame is the function with the bug, and the other business moments); the
# metrics in each process's last snapshot equal the shop's own counters;
# and every event the processes wrote is in the files or counted as lost.
# The stream (DIR/stream): a segment per process under its service name,
# each opening, the killed process's left open (no END) and still read,
# debug promoted around a failed payment, a trace across the three
# processes read from the directory as one store, nothing lost uncounted.
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
	TTLOG_WINDOW TTLOG_LEVEL TTLOG_SAMPLE TTLOG_MAX_SNAPSHOTS TTLOG_MAX_SNAPSHOT_BYTES TTLOG_SERVICE \
	TTLOG_STREAM TTLOG_STREAM_LEVEL TTLOG_STREAM_POLICY TTLOG_SEGMENT_SIZE TTLOG_SEGMENT_AGE \
	TTLOG_PROMOTE_LEVEL TTLOG_PROMOTE_SCOPE TTLOG_PROMOTE_BEFORE TTLOG_PROMOTE_AFTER TTLOG_PROMOTE_MAX; do
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
# Backoffice was streaming: the recovered snapshot holds its whole rings,
# its segments everything streamed before, and the two together are its
# history.
expect "the recovered snapshot is of the killed process, after its stream" \
	grep -q "ttlog-$back-.*-recovered-after-stream.ttlog" <<<"$recovered"
back_segs=("$snaps"/stream/backoffice-"$back"-*.ttseg)
final_edge=$(ls "$snaps"/ttlog-"$edge"-*-end_of_run.ttlog 2>/dev/null)
crash=$(ls "$snaps"/ttlog-"$checkout"-*-SIGSEGV.ttlog 2>/dev/null)
expect "the edge wrote its end-of-run snapshot" test -f "$final_edge"
expect "checkout's crash left a snapshot" test -f "$crash"
finals=("$final_edge" "$crash" "$recovered" "${back_segs[@]}")
# The recovered snapshot holds backoffice's metrics as the kill left them
# but not ttlog's own (a shared mapping has none of those): the checks
# below use its end-of-day snapshot, which has both.
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
expect "backoffice's stream and recovered snapshot hold the audit's security events" \
	grep -q 'security event user=mallory' <("$bin" view --level warn "$recovered" "${back_segs[@]}")
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

written() { # FILE: ttlog_events_written_total in its metrics
	q "SELECT value FROM metrics WHERE name = 'ttlog_events_written_total'" "$1"
}
in_file() { # FILE: its records plus those counted as overwritten or torn
	q "SELECT records + overwritten + torn AS n FROM snapshots" "$1"
}
for f in "$final_edge" "$crash" "$back_metrics"; do
	w=$(written "$f") n=$(in_file "$f")
	expect "$(basename "$f"): records + overwritten + torn = written ($n, $w)" test -n "$w" -a "$n" = "$w"
done
# Backoffice's records after its stream's position are in the recovered
# snapshot, which may hold none: at the shop's rates the stream has written
# every INFO record, and the DEBUG records it had read (held for a possible
# promotion) are in neither file, a known limit (docs/SHM-FORMAT.md 6.5).
n=$(in_file "$recovered")
expect "the recovered snapshot opens and counts its records ($n)" test -n "$n"
# The sampled call site: the calls the shop made = kept in the file +
# dropped by the 1-in-20 rule (when nothing of the edge was overwritten).
calls=$(total gateway sampled_site_calls)
row=$(q "SELECT (SELECT sum(events) FROM sites WHERE format LIKE 'search hit%') AS kept,
                (SELECT value FROM metrics WHERE name = 'ttlog_events_dropped_total'
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

# ---------------------------------------------------------------------------
# The stream: each process streamed INFO and above to segments in
# DIR/stream under its own service name, with the debug records around
# each error promoted; the directory reads as one store.

sdir=$snaps/stream
seg_json() { # FILE: the stats of one segment as JSON
	"$bin" stats --top 0 -o json "$1"
}
jget() { # EXPR: a Python expression over d, the JSON object on stdin
	python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}
declare -A seg
for svc in edge checkout backoffice; do
	pid=$(pid_of "$svc")
	seg[$svc]=$(ls "$sdir/$svc-$pid-"*.ttseg 2>/dev/null | tail -n 1)
	f=${seg[$svc]}
	expect "$svc streamed a segment of its own (service $svc, pid $pid)" test -n "$f" -a -f "$f"
	[ -n "$f" ] || continue
	expect "$(basename "$f") opens" seg_json "$f" >/dev/null
	got=$(seg_json "$f" | jget 'd["service"]')
	expect "$(basename "$f") names its service ($got)" test "$got" = "$svc"
	# Nothing lost that is not counted. Whether the drainer keeps up with
	# the rings depends on scheduling (a loaded machine can starve it), so
	# the loss is not required to be 0: what the service's segments count
	# as lost by the stream or torn is what the reader reports, and a
	# reader that reports a loss has one counted.
	lost=0
	for s in "$sdir/$svc-"*.ttseg; do
		l=$(seg_json "$s" | jget 'd["stream"]["lost"] + d["lost"]["torn"]')
		lost=$((lost + l))
	done
	err=$("$bin" view --service "$svc" "$sdir" 2>&1 >/dev/null)
	if [ "$lost" = 0 ]; then
		expect "$svc's segments count no loss, and ttlog view reports none" \
			bash -c '! grep -q "events lost" <<<"$1"' _ "$err"
	else
		echo "#    $svc's stream lost $lost events (the drainer fell behind)"
		expect "$svc's segments count $lost lost, and ttlog view reports that number" \
			grep -q ": $lost events lost by the stream or torn while copied" <<<"$err"
	fi
	n=$("$bin" view --service "$svc" "$sdir" | grep -cE '^[0-9]{4}-')
	expect "--service $svc reads that service's events from the store ($n)" test "$n" -gt 0
done
for svc in edge checkout; do
	[ -n "${seg[$svc]}" ] || continue
	expect "$svc's segment was closed (END chunk)" 		test "$(seg_json "${seg[$svc]}" | jget 'd["open"]')" = False
done
f=${seg[backoffice]}
if [ -n "$f" ]; then
	# SIGKILL: the segment has no END, and reads as open, not damaged.
	expect "the killed backoffice's segment is open (no END)" 		test "$(seg_json "$f" | jget 'd["open"]')" = True
	expect "ttlog ls reports it open" 		grep -Eq "^[-0-9: ]+ +$back +shop +stream +- +[0-9]+ +[0-9.]+[KMG]? +open +" <("$bin" ls "$sdir")
	expect "... with no read error" test "$(seg_json "$f" | jget 'd["error"]')" = None
	last=$("$bin" view --service backoffice "$sdir" | grep -E '^[0-9]{4}-' | tail -n 1)
	expect "the killed backoffice's segment reads up to its last whole chunk" test -n "$last"
	# What the stream had not drained when the SIGKILL came is in the
	# rings, and so in the recovered snapshot, up to the end of day.
	expect "backoffice's stream and recovered snapshot go on to its end of day" \
		grep -q 'snapshot written reason=end_of_day' <("$bin" view "$recovered" "${back_segs[@]}")
fi

# Debug promoted around an error: a payment that failed has its debug
# detail in the stream (DEBUG+), just before the error, on the same thread.
req=$("$bin" view --level error --grep '^payment failed' "$sdir" | sed -n 's/.* request_id=\(req-[0-9-]*\).*/\1/p' | head -n 1)
expect "the stream holds a failed payment ($req)" test -n "$req"
window=$("$bin" view --field "request_id=$req" "$sdir" | grep -E '^[0-9]{4}-')
expect "its request's debug records were promoted into the stream" 	grep -Eq ' DEBUG\+ .*db payment query=' <<<"$window"
expect "a promoted record comes right before the error on the payment thread" 	grep -Eq 'DEBUG\+ \[[0-9]+ payment\.[0-9]+\]' <(grep -B1 ' ERROR .*db payment: connection refused' <<<"$window")
n=$("$bin" view -o json "$sdir" | grep -c '"promoted":true')
expect "promoted events are marked in JSON ($n)" test "$n" -gt 0
# Nothing promoted without an error: the edge process logged no error.
if ! "$bin" view --service edge --level error "$sdir" | grep -q ' ERROR '; then
	n=$("$bin" view --service edge "$sdir" | grep -c ' DEBUG+ ')
	expect "the edge (no error) has no promoted event ($n)" test "$n" = 0
fi

# A trace across the three processes, read from the stream directory as
# one store: the same query as on the snapshots, then the viewer.
straces=$(q "WITH s AS (SELECT spans.trace_id AS t, spans.parent, spans.name,
                               json_extract(spans.fields, '\$.svc') AS svc, snapshots.pid
                        FROM spans JOIN snapshots USING (snapshot))
            SELECT t FROM s GROUP BY t
            HAVING count(DISTINCT pid) = 3 AND sum(svc = 'payment') > 0
               AND sum(parent IS NULL AND pid = $edge AND name = 'http.request') = 1" "$sdir")
n=$(grep -c . <<<"$straces")
expect "some trace in the stream crosses the three processes ($n)" test "$n" -gt 0
st=$(head -n 1 <<<"$straces")
view=$("$bin" view --trace "$st" "$sdir")
expect "view --trace on the stream directory shows the gateway's request of $st" 	grep -Eq "begin http.request trace=$st" <<<"$view"
for svc in order payment notification; do
	expect "view --trace on the stream directory shows the $svc span of $st" \
		grep -Eq "begin rpc.serve trace=$st svc=$svc" <<<"$view"
done
n=$("$bin" tail -n 5 "$sdir" | grep -cE '^[0-9]{4}-')
expect "ttlog tail -n 5 of the store prints 5 events ($n)" test "$n" = 5

finish
