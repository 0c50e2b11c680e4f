#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# live_example.sh - examples/live: a program that serves the events of its
# own rings on a debug endpoint (ttlog_live_foreach) while its worker
# threads log. The endpoint is asked with curl: every event, the last N,
# a level, a substring, one thread; bad parameters get 400 with a reason;
# and no snapshot file is written by any of it. The program listens on
# 127.0.0.1 on a port the kernel chooses, and is stopped by an EXIT trap
# whatever happens.

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

examples=${TTLOG_EXAMPLES:?TTLOG_EXAMPLES must name the directory of the examples}
command -v curl >/dev/null || { fail "curl" "curl is needed (scripts/install-deps.sh)"; finish; }
[ -x "$examples/live" ] || { fail "example" "$examples/live was not built"; finish; }

snaps=$tmp/snaps
mkdir -p "$snaps"
pid=
# shellcheck disable=SC2317 # the EXIT trap runs it
stop() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
}
trap stop EXIT

TTLOG_DIR=$snaps "$examples/live" --port 0 --workers 3 >"$tmp/live.out" 2>"$tmp/live.err" &
pid=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/live.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { fail "listening" "no port: $(cat "$tmp/live.out" "$tmp/live.err")"; finish; }
u=http://127.0.0.1:$port

# GET $1 into $tmp/body, the status code into $code.
get() {
	code=$(curl -s --max-time 20 -o "$tmp/body" -w '%{http_code}' "$u$1")
}

# Waits until the workers logged some errors (they log one now and then),
# and at least the 100 events the endpoint shows by default: an error may
# come among the first few events, on a slow or busy machine well before
# the hundredth.
for _ in $(seq 1 300); do
	get '/debug/events?level=error&last=1'
	events=$(sed -n 's/^# \([0-9]*\) events in .*/\1/p' "$tmp/body")
	grep -q ' ERROR ' "$tmp/body" && [ "${events:-0}" -ge 100 ] && break
	sleep 0.1
done

line='^[0-9:.]+ (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +\[[0-9]+ worker-[0-2]\] request id=[0-9]+ '
summary='^# [0-9]+ events in 3 rings, [0-9]+ matched, [0-9]+ shown; lost: [0-9]+ overwritten, [0-9]+ torn, [0-9]+ dropped$'

get '/debug/events'
expect "all: 200" [ "$code" = 200 ]
expect "all: 100 event lines" [ "$(grep -Ec "$line" "$tmp/body")" = 100 ]
expect "all: the summary last" bash -c "tail -n 1 '$tmp/body' | grep -Eq '$summary'"
expect "all: nothing else" [ "$(wc -l <"$tmp/body")" = 101 ]

get '/debug/events?last=5'
expect "last=5: 5 lines" [ "$(grep -Ec "$line" "$tmp/body")" = 5 ]
expect "last=5: shown 5" grep -Eq ', 5 shown;' "$tmp/body"

get '/debug/events?level=warn&last=10000'
expect "level=warn: some" grep -Eq ' (WARN|ERROR) ' "$tmp/body"
expect "level=warn: none below" bash -c "! grep -Eq ' (TRACE|DEBUG|INFO) ' '$tmp/body'"

get '/debug/events?grep=upstream+timeout&last=10000'
expect "grep: some" grep -Eq 'failed: upstream timeout after' "$tmp/body"
expect "grep: only those" [ "$(grep -Ec "$line" "$tmp/body")" = "$(grep -c 'upstream timeout' "$tmp/body")" ]

tid=$(grep -Eo '\[[0-9]+ worker-1\]' "$tmp/body" | head -n 1 | tr -d '[' | cut -d' ' -f1)
if [ -n "$tid" ]; then
	get "/debug/events?thread=$tid&last=10000"
	expect "thread: some" grep -q "\\[$tid worker-1\\]" "$tmp/body"
	expect "thread: only it" [ "$(grep -Ec "$line" "$tmp/body")" = "$(grep -c "\\[$tid worker-1\\]" "$tmp/body")" ]
else
	fail "thread" "no event of worker-1 among the errors"
fi

get '/debug/events?level=loud'
expect "bad level: 400" [ "$code" = 400 ]
expect "bad level: why" grep -q "level 'loud': expected trace, debug" "$tmp/body"
get '/debug/events?last=0'
expect "bad last: 400" [ "$code" = 400 ]
get '/debug/events?colour=red'
expect "unknown parameter: 400" grep -q "unknown parameter 'colour'" "$tmp/body"
get '/nowhere'
expect "unknown path: 404" [ "$code" = 404 ]

expect "no snapshot file written" [ -z "$(ls -A "$snaps")" ]

get '/quit'
expect "quit: 200" [ "$code" = 200 ]
rc=0
wait "$pid" || rc=$?
pid=
expect "ended cleanly" [ "$rc" = 0 ]
expect "no stderr" [ ! -s "$tmp/live.err" ]
finish
