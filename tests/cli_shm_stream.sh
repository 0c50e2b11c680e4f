#!/usr/bin/env bash
# cli_shm_stream.sh - streaming in shared-memory mode: a process that
# streams (TTLOG_STREAM) with its rings in a mapping (TTLOG_SHARED_MEMORY)
# is killed with SIGKILL while it logs; `ttlog recover` then writes only
# what the stream had not written (docs/SHM-FORMAT.md 6.5), so that the
# segments and the recovered snapshot together hold every event its
# threads logged, from the first to the last, with no gap, and next to no
# event twice. A mapping of layout 1.0 (no stream table) is recovered whole,
# as before.
#
# The process is tests/progs/shm_stream_kill: two threads log "kill t=T
# i=I" (I = 0, 1, 2, ...) paced, with rings small enough that each is
# overwritten many times before the kill, so the rings alone would have a
# gap. It is killed once it said "ready" (every thread logged READY events).

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/logger_lib.sh
source "$(dirname "$0")/support/logger_lib.sh"

shm=$tmp/shm
user_dir=$shm/ttlog-$(id -u)
ready=40000

# Events of `ttlog view $@ -o json` as lines "T I".
events_of() {
	"$bin" view "$@" -o json | python3 -c 'import json, sys
for line in sys.stdin:
    e = json.loads(line)
    f = e.get("fields") or {}
    if e.get("kind") == "log" and "t" in f and "i" in f:
        print(f["t"], f["i"])'
}

# $1: the stream's events, $2: the snapshot's; every thread 0..$3-1 has
# every I from 0 to its highest (at least ready - 1) in the union, and the
# two overlap in at most half the snapshot's events (the stream's place
# was used: a snapshot of the whole ring would repeat nearly all of it).
union_complete() {
	python3 - "$1" "$2" "$3" "$ready" <<'PY'
import sys
def load(p):
    return [tuple(map(int, l.split())) for l in open(p) if l.strip()]
a, b = load(sys.argv[1]), load(sys.argv[2])
threads, ready = int(sys.argv[3]), int(sys.argv[4])
sa, sb = set(a), set(b)
ok = True
if len(sa) != len(a):
    print("the stream holds an event twice"); ok = False
if len(sb) != len(b):
    print("the snapshot holds an event twice"); ok = False
u = sa | sb
for t in range(threads):
    mine = sorted(i for (tt, i) in u if tt == t)
    if not mine or mine[-1] < ready - 1:
        print("thread %d: last event %s, logged at least %d" % (t, mine[-1] if mine else None, ready)); ok = False
        continue
    missing = sorted(set(range(mine[-1] + 1)) - set(mine))
    if missing:
        print("thread %d: %d events missing, first %d" % (t, len(missing), missing[0])); ok = False
over = len(sa & sb)
if over * 2 > len(sb):
    print("the snapshot repeats %d of its %d events from the stream" % (over, len(sb))); ok = False
print("stream %d, snapshot %d, both %d" % (len(sa), len(sb), over), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

if LOGGER_PROG=shm_stream_kill start_logger TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm" \
	TTLOG_DIR="$tmp/snaps" TTLOG_STREAM="$tmp/stream" TTLOG_STREAM_POLICY=block TTLOG_RING_SIZE=64K -- 2 "$ready" 40000; then
	killed=$pid
	kill_logger "$killed"
	expect "SIGKILL leaves the mapping" test -f "$user_dir/$killed.ttshm"
	expect "SIGKILL leaves an open segment" test -n "$(ls "$tmp/stream"/*.ttseg 2>/dev/null)"
	mkdir -p "$tmp/old"
	cp "$user_dir/$killed.ttshm" "$tmp/old/$killed.ttshm"
	check "recover PID of a streaming process" \
		"~^$tmp/snaps/ttlog-$killed-[0-9T.]+Z-recovered-after-stream\\.ttlog\$" 0 '' -- \
		"$bin" recover --shm-dir "$shm" "$killed"
	file=$(ls "$tmp/snaps/ttlog-$killed-"*-recovered-after-stream.ttlog 2>/dev/null | head -n 1)
	expect "its reason says it holds what the stream had not written" \
		test "$(snapshot_reason "$file")" = recovered-after-stream
	events_of "$tmp/stream" >"$tmp/stream.ev"
	events_of "$file" >"$tmp/snap.ev"
	expect "segments + recovered snapshot: every event, no gap" \
		union_complete "$tmp/stream.ev" "$tmp/snap.ev" 2
	# The store (segments and snapshot as one) shows each event once.
	cp "$file" "$tmp/stream/"
	events_of "$tmp/stream" >"$tmp/store.ev"
	expect "the store of both holds each event once" \
		test "$(sort "$tmp/store.ev" | uniq -d | wc -l)" = 0
	expect "the store of both holds every event" \
		test "$(wc -l <"$tmp/store.ev")" = "$(cat "$tmp/stream.ev" "$tmp/snap.ev" | sort -u | wc -l)"

	# The same mapping as layout 1.0 would have it (minor 0: the bytes of
	# the stream table's header fields are reserved): recovered whole.
	python3 - "$tmp/old/$killed.ttshm" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(10); f.write(struct.pack("=H", 0))
    f.seek(232); f.write(bytes(24))
PY
	mkdir -p "$tmp/snaps_old"
	check "recover a 1.0 mapping" "~^$tmp/snaps_old/ttlog-$killed-[0-9T.]+Z-recovered\\.ttlog\$" 0 '' -- \
		"$bin" recover --dir "$tmp/snaps_old" "$tmp/old/$killed.ttshm"
	old=$(ls "$tmp/snaps_old/"*.ttlog 2>/dev/null | head -n 1)
	events_of "$old" >"$tmp/old.ev"
	expect "a 1.0 mapping's snapshot holds the whole ring" \
		test "$(wc -l <"$tmp/old.ev")" -gt "$(wc -l <"$tmp/snap.ev")"
	expect "... which repeats what the stream wrote" \
		test "$(sort "$tmp/old.ev" "$tmp/stream.ev" | uniq -d | wc -l)" -gt 0
fi

finish
