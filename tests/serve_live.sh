#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# serve_live.sh - `ttlog serve pid:PID`: a running process in shared-memory
# mode served live. The API reads a snapshot of its mapping per request;
# the live tail (/api/tail, server-sent events) polls the mapping and sends
# each new event once, per thread, in order, filtered, says how many
# events a thread's ring overwrote between two polls ("event: lost"), and
# ends with "event: ended" when the process is gone. Also the refusals: a
# PID with no mapping, pid: with no number.
#
# The process is tests/progs/shm_echo, which logs what its input asks when
# it asks: the test knows which events are new. Waits are for what the
# test expects to arrive (with a deadline), never a fixed sleep. Servers
# and the process are stopped by an EXIT trap whatever happens.

# shellcheck disable=SC2154
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/serve_lib.sh
source "$(dirname "$0")/support/serve_lib.sh"
# shellcheck source=support/logger_lib.sh
source "$(dirname "$0")/support/logger_lib.sh"

command -v curl >/dev/null || { fail "curl" "curl is needed (scripts/install-deps.sh)"; finish; }

tails=()
# shellcheck disable=SC2317 # the EXIT trap runs it
stop_everything() {
	local p
	for p in "${tails[@]}"; do
		kill "$p" 2>/dev/null
	done
	serve_stop_all
	cleanup_loggers
}
trap stop_everything EXIT

shm=$tmp/shm
mkdir -p "$shm" "$tmp/snaps"

# Waits (up to 20 s) until file $1 has a complete line (one curl has
# finished writing) matching $2, $3 times (default 1).
wait_for() {
	local _
	for _ in $(seq 1 200); do
		[ "$(complete_lines "$1" | grep -c -- "$2")" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	return 1
}

# The lines of file $1 that end in a newline.
complete_lines() {
	[ -f "$1" ] || return 0
	if [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]; then
		head -n -1 "$1"
	else
		cat "$1"
	fi
}

# Starts a tail of source 0 with parameters $2 into file $1 (sets tail_pid)
# and waits until its first poll is done: what is logged later is new.
start_tail() {
	curl -s -N --max-time 60 "$u/api/tail?src=0$2" >"$1" &
	tail_pid=$!
	tails+=("$tail_pid")
	wait_for "$1" '^: ttlog tail' || fail "tail $2 started" "no first poll: $(head -c 300 "$1")"
}

# The messages of the data lines of an event stream, one a line.
messages() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("data: ") and line.endswith("\n"):
        e = json.loads(line[6:])
        if "message" in e:
            print(e["thread"] + ": " + e["message"])' "$1"
}

# ---------------------------------------------------------------------------
# Refusals

check "serve a pid with no mapping" - 2 "pid:99999: no shared-memory mapping of process 99999" \
	-- "$bin" serve --listen 127.0.0.1:0 --shm-dir "$shm" pid:99999
check "serve pid: without a number" - 2 "pid:x: not a process id" \
	-- "$bin" serve --listen 127.0.0.1:0 --shm-dir "$shm" pid:x
expect "serve --help names pid:PID" grep -q 'pid:PID' <<<"$("$bin" serve --help)"

# ---------------------------------------------------------------------------
# A running process

LOGGER_PROG=shm_echo start_logger TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm" TTLOG_RING_SIZE=64K \
	TTLOG_DIR="$tmp/snaps" -- 0 3 || finish
echo_pid=$pid
to_echo=${logger_fd[$echo_pid]}
serve_start live --shm-dir "$shm" "pid:$echo_pid"
u=$url_live

expect "files: the process, running" test "$(jq_py "$u/api/files" \
	"(j['sources'][0]['kind'], j['sources'][0]['pid'], j['sources'][0]['executable'], j['sources'][0]['status'])")" \
	= "('process', $echo_pid, 'shm_echo', 'running')"
expect "events: a snapshot of what it logged" test "$(jq_py "$u/api/events?src=0" \
	"[e['message'] for e in j['events']]")" = "['echo start 1', 'echo start 2', 'echo start 3']"
expect "overview: its lane" test "$(jq_py "$u/api/overview?src=0" "[(l['pid'], l['events']) for l in j['lanes']]")" \
	= "[($echo_pid, 3)]"

start_tail "$tmp/all.out" ""
start_tail "$tmp/warn.out" "&level=warn"
echo "log first live" >&"$to_echo"
echo "thread from a thread" >&"$to_echo"
echo "warn careful" >&"$to_echo"
# Event lines only: the first poll's "event: ready" has a data line too.
wait_for "$tmp/all.out" '^data: .*"message"' 3 || fail "tail: three new events" "$(head -c 600 "$tmp/all.out")"
expect "tail: the new events, once, in order, from both threads" test "$(messages "$tmp/all.out")" = \
	"$(printf 'shm_echo: first live\necho-thread: from a thread\nshm_echo: careful')"
wait_for "$tmp/warn.out" '^data: .*"message"' || fail "tail level=warn: an event" "$(head -c 600 "$tmp/warn.out")"
expect "tail level=warn: only the warning" test "$(messages "$tmp/warn.out")" = "shm_echo: careful"

# 20000 events in a ring of about 1600 between two polls: most are lost,
# and the tail says so before the ones it still saw.
echo "burst 20000 flood" >&"$to_echo"
echo "log after flood" >&"$to_echo"
wait_for "$tmp/all.out" '"message":"after flood"' || fail "tail: the event after the flood" "$(tail -c 600 "$tmp/all.out")"
flood_check=$(python3 -c '
import json, sys
lost, seen, order = 0, [], []
kind = None
for line in open(sys.argv[1]):
    if not line.endswith("\n"):
        break
    line = line.rstrip("\n")
    if line.startswith("event: "):
        kind = line[7:]
    elif line.startswith("data: "):
        d = json.loads(line[6:])
        if kind == "lost":
            lost += d["overwritten"]
            order.append("lost")
        elif kind is None and d["message"].startswith("flood "):
            seen.append(int(d["message"].split()[1]))
            order.append("flood")
        kind = None
ok_order = "lost" in order and order.index("lost") < order.index("flood") if seen else False
print(lost > 0, len(seen) < 20000, len(seen) + lost >= 20000, seen == sorted(set(seen)),
      bool(seen) and seen[-1] == 20000, ok_order)' "$tmp/all.out")
expect "tail: overwritten events said, then the rest in order ($flood_check)" \
	test "$flood_check" = "True True True True True True"

# The process ends: the tail says so and closes.
kill -TERM "$echo_pid"
wait_for "$tmp/all.out" '^event: ended' || fail "tail: the end of the process" "$(tail -c 300 "$tmp/all.out")"
wait "$tail_pid" 2>/dev/null
expect "files: the process has ended" test "$(jq_py "$u/api/files" "j['sources'][0]['status']")" = ended
expect "events: a dead process's mapping still reads" test "$(jq_py "$u/api/events?src=0&text=after" \
	"[e['message'] for e in j['events']]")" = "['after flood']"

finish
