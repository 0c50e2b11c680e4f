#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh - the shop demo that `make demo` runs: the shop for 20 s, then
# what ttlog's files say about it, each step titled and each command
# printed before it runs, so that it can be typed again.
#
#   bash examples/shop/demo.sh [BUILD_DIR]     (default: build)
#
# The snapshots stay in BUILD_DIR/demo-shop afterwards, the stream's
# segments in BUILD_DIR/demo-shop/stream.
set -u
build=${1:-build}
ttlog=$build/ttlog
shop=$build/examples/shop
dir=$build/demo-shop
duration=${SHOP_DEMO_DURATION:-20}
export TZ=${TZ:-UTC0}

for prog in "$shop" "$ttlog"; do
	[ -x "$prog" ] || { echo "demo: $prog was not built" >&2; exit 1; }
done

step=0
title() {
	step=$((step + 1))
	printf '\n== %d. %s\n' "$step" "$1"
}
# show CMD...: prints the command, then runs it.
show() {
	printf '$ %s\n' "$*"
	"$@"
}
# Runs a pipeline given as one string, after printing it.
pipe() {
	printf '$ %s\n' "$1"
	bash -c "set -o pipefail; $1"
}

rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rel=${dir#"$PWD"/}

title "Run the shop: 12 services in 3 processes, ${duration} s of traffic with chaos"
echo "   (gateway+user+search | order+payment+pricing+inventory | the other six)"
printf '$ %s\n' "$shop --duration $duration --seed 42 --dir $rel"
out=$dir/shop-output.txt
(ulimit -c 0; "$shop" --duration "$duration" --seed 42 --dir "$dir") >"$out" 2>&1
status=$?
grep -v '^total \|^pids \|recover the killed' "$out"
echo "   [per-service totals cut: $rel/shop-output.txt]"
if [ "$status" -ne 0 ]; then
	echo "demo: the shop failed (exit $status)" >&2
	exit 1
fi
killed=$(sed -n 's/^pids .*backoffice=\([0-9]*\)$/\1/p' "$out")

title "Recover the backoffice process, SIGKILLed while in shared-memory mode"
show "$ttlog" recover --shm-dir "$dir/shm" --dir "$dir" "$killed" | sed "s#$PWD/##"

title "The snapshots: business moments, the crash, the recovered process"
show "$ttlog" ls "$rel"

crash=$(ls "$rel"/*-SIGSEGV.ttlog | head -n 1)
final_edge=$(ls "$rel"/*-end_of_run.ttlog | head -n 1)
# Backoffice was streaming too: its recovered snapshot holds its whole
# rings (DEBUG records the stream had not decided on included), its
# segments everything streamed before; read together, each event once.
recovered=$(ls "$rel"/*-recovered*.ttlog | head -n 1)
back_segs=$(ls "$rel"/stream/backoffice-*.ttseg | tr '\n' ' ')
finals="$final_edge $crash $recovered $back_segs"

title "The crash: checkout's last events and its symbolised backtrace"
pipe "$ttlog view $crash | tail -n 14"

title "One failed payment, followed across the three processes"
# A payment that failed, was retried and failed again, in a trace that
# reached all three processes.
sql="SELECT s.trace_id FROM spans s JOIN snapshots USING (snapshot)
 WHERE s.trace_id IN (SELECT trace_id FROM spans WHERE name = 'rpc.serve'
   AND json_extract(fields, '\$.svc') = 'payment' AND json_extract(fields, '\$.ok') = 0
   GROUP BY trace_id HAVING count(*) >= 2)
 GROUP BY s.trace_id HAVING count(DISTINCT pid) = 3 LIMIT 1"
printf '$ %s \\\n    %s\n' "$ttlog query -o csv \"$sql\"" "$finals"
# shellcheck disable=SC2086
trace=$("$ttlog" query -o csv "$sql" $finals | sed -n 2p)
echo "$trace"
if [ -z "$trace" ]; then
	echo "demo: no failed payment crossed the three processes" >&2
	exit 1
fi
pipe "$ttlog view --trace $trace --level info $finals | grep -E '^[0-9]{4}-' | sed -E 's/^[0-9-]+ //'"

# The stream: while it ran, each process also streamed INFO and above to
# segments in DIR/stream (one service name per process), and the debug
# records around each error (promoted, DEBUG+), of every thread in the
# erroring request's trace.
srel=$rel/stream
title "The stream: the segments each process wrote while it ran"
echo "   (backoffice's segment is open: SIGKILL left it without its END chunk, and it still reads)"
show "$ttlog" ls "$srel"

title "The same failed payment read from the stream directory as one store"
echo "   (the debug records around each error were promoted into the stream: DEBUG+)"
pipe "$ttlog view --trace $trace $srel | grep -E '^[0-9]{4}-' | sed -E 's/^[0-9-]+ //' | grep -E -B3 -A1 -m2 ERROR | head -n 10"

title "One service's part of the store: --service"
pipe "$ttlog view --service checkout --level error $srel | sed -E 's/^[0-9-]+ //' | tail -n 3"
pipe "$ttlog stats --service backoffice $srel | grep -E '^  (service|state|events|stream lost|promoted) '"

title "The last events of the store: ttlog tail (-f would follow it live)"
pipe "$ttlog tail -n 5 $srel | sed -E 's/^[0-9-]+ //'"

title "SQL: errors per service per second, and the slowest spans"
pipe "$ttlog query \"SELECT strftime('%H:%M:%S', ts / 1e9, 'unixepoch') AS second,
    json_extract(fields, '\$.service') AS service, count(*) AS errors
  FROM events WHERE level_num >= 4 GROUP BY 1, 2 ORDER BY 1, 2\" $finals | head -n 16"
pipe "$ttlog query \"SELECT name, coalesce(json_extract(fields, '\$.svc'),
    json_extract(fields, '\$.peer'), json_extract(fields, '\$.route')) AS what,
    round(duration / 1e6, 1) AS ms, thread FROM spans ORDER BY duration DESC LIMIT 6\" $finals"

title "The recovered snapshot: what backoffice did before the SIGKILL, after its stream"
pipe "$ttlog view --header $recovered | sed -n '1,7p;\$p'"
pipe "$ttlog view --level warn $recovered $back_segs | tail -n 4"

title "Statistics of the gateway's last snapshot"
pipe "$ttlog stats --top 3 $final_edge | sed -n '1,16p'"

title "A trace for Perfetto (ui.perfetto.dev) or chrome://tracing"
show "$ttlog" export -F chrome --level info -o "$rel/shop-trace.json" $finals
ls -l "$rel/shop-trace.json" | awk '{ print "   " $5 " bytes: " $NF }'

title "The same in a browser: timeline, events, traces, metrics, crash, SQL"
echo "   Serve the shop's snapshots and its stream (Ctrl-C stops; the page is built into ttlog):"
echo
echo "   $ttlog serve $rel $srel"
echo
echo "   then open http://127.0.0.1:8080/ (or write one file for a ticket: $ttlog report FILE > crash.html)"
