#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_shm_stream.sh - streaming in shared-memory mode: a process that
# streams (TTLOG_STREAM) with its rings in a mapping (TTLOG_SHARED_MEMORY)
# is killed with SIGKILL while it logs; `ttlog recover` then writes the
# whole rings (docs/SHM-FORMAT.md 6.5), so that the segments and the
# recovered snapshot together, read as one store, hold every event its
# threads logged, from the first to the last, with no gap, each once. A
# mapping of layout 1.0 (no stream table) is recovered whole too, with the
# rings' overwritten counts.
#
# A second process logs DEBUG records below the stream level as well, and
# one ERROR that promotes those around it: at the kill, the drainer holds
# the DEBUG records of the last second and more pending a promotion
# decision, before the place it published. The store of the segments and
# the recovered snapshot must hold every INFO and DEBUG record, the
# promoted ones once, with no gap after the last streamed record.
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
# snapshot holds the whole ring (it repeats some of what the stream wrote
# of it).
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
# A snapshot cut at the stream's place would repeat none; how much it
# repeats depends on how far the stream was behind when the process died
# (up to a ring with TTLOG_STREAM_POLICY=block), which is scheduling.
over = len(sa & sb)
if over == 0:
    print("the snapshot repeats none of its %d events from the stream" % len(sb)); ok = False
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
	expect "its reason says it is to be read with the stream" \
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
	expect "a 1.0 mapping's snapshot holds the whole ring too" \
		test "$(wc -l <"$tmp/old.ev")" = "$(wc -l <"$tmp/snap.ev")"
	expect "... which repeats what the stream wrote" \
		test "$(sort "$tmp/old.ev" "$tmp/stream.ev" | uniq -d | wc -l)" -gt 0
	expect "the 1.0 snapshot counts the rings' overwritten records" \
		grep -q '"overwritten":[1-9]' <("$bin" stats -o json "$old")
	expect "the stream's place says the stream read them" \
		grep -q '"overwritten":0[,}]' <("$bin" stats -o json "$file")
fi

# Every record of the store of $1 as lines "K T N": K i (INFO), d (DEBUG,
# N = the I it follows) or e (the ERROR).
records_of() {
	"$bin" view "$@" -o json | python3 -c 'import json, sys
for line in sys.stdin:
    e = json.loads(line)
    f = e.get("fields") or {}
    if e.get("kind") != "log" or "t" not in f:
        continue
    for k, n in (("i", "i"), ("d", "d")):
        if n in f and "fail" not in e.get("message", ""):
            print(k, f["t"], f[n])
    if "fail" in e.get("message", ""):
        print("e", f["t"], f["i"])'
}

# $1: the store's records, $2: the segments' alone. Every thread has
# every INFO I from 0 to its last, a DEBUG record after every 8th (the
# ring never wrapped: it holds the whole run), the ERROR once, nothing
# twice; the segments hold DEBUG records (the promotion's) but not those
# logged after the promotion, before the last streamed INFO record: those
# were pending at the kill, and only the recovered snapshot has them.
pending_complete() {
	python3 - "$1" "$2" <<'PY'
import collections, sys
def load(p):
    return [tuple(l.split()[:1]) + tuple(map(int, l.split()[1:])) for l in open(p) if l.strip()]
store, seg = load(sys.argv[1]), load(sys.argv[2])
ok = True
twice = [r for r, n in collections.Counter(store).items() if n > 1]
if twice:
    print("the store holds %d records twice, e.g. %s" % (len(twice), twice[0])); ok = False
s = set(store)
for t in (0, 1):
    info = sorted(n for (k, tt, n) in s if k == "i" and tt == t)
    last = info[-1] if info else -1
    if info != list(range(last + 1)) or last < 0:
        print("thread %d: INFO records missing (%d of 0..%d)" % (t, len(info), last)); ok = False
    want = set(range(0, last, 8))  # the DEBUG after `last` may not be logged yet
    have = set(n for (k, tt, n) in s if k == "d" and tt == t)
    if want - have:
        m = sorted(want - have)
        print("thread %d: %d DEBUG records missing, first d=%d, last d=%d" % (t, len(m), m[0], m[-1])); ok = False
if ("e", 0, 1000) not in s:
    print("the ERROR is missing"); ok = False
sd = set(n for (k, tt, n) in seg if k == "d" and tt == 0)
if not sd:
    print("the segments hold no promoted DEBUG record"); ok = False
last_streamed = max(n for (k, tt, n) in seg if k == "i" and tt == 0)
pending = [n for n in range(max(sd) + 8 if sd else 0, last_streamed, 8) if n not in sd]
if not pending:
    print("no DEBUG record was pending before the last streamed one (%d)" % last_streamed); ok = False
print("store %d records; segments: thread 0 DEBUG %d..%d, last INFO %d, %d DEBUG pending before it" %
      (len(store), min(sd) if sd else -1, max(sd) if sd else -1, last_streamed, len(pending)), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# DEBUG records every 4 ms, an ERROR at 0.5 s that promotes those within
# 200 ms of it on its thread; killed after 3 s, when those of the last
# 1.4 s (the window and a second) still wait for a decision. 1 MiB rings
# hold the whole run.
if LOGGER_PROG=shm_stream_kill start_logger TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm" \
	TTLOG_DIR="$tmp/snaps2" TTLOG_STREAM="$tmp/stream2" TTLOG_RING_SIZE=1M TTLOG_STREAM_LEVEL=info \
	TTLOG_PROMOTE_LEVEL=error TTLOG_PROMOTE_SCOPE=thread TTLOG_PROMOTE_BEFORE=200ms \
	TTLOG_PROMOTE_AFTER=200ms -- 2 6000 2000 1000; then
	killed=$pid
	kill_logger "$killed"
	check "recover the process with records pending" \
		"~^$tmp/snaps2/ttlog-$killed-[0-9T.]+Z-recovered-after-stream\\.ttlog\$" 0 '' -- \
		"$bin" recover --shm-dir "$shm" "$killed"
	records_of "$tmp/stream2" >"$tmp/seg2.rec"
	cp "$tmp/snaps2/ttlog-$killed-"*-recovered-after-stream.ttlog "$tmp/stream2/"
	records_of "$tmp/stream2" >"$tmp/store2.rec"
	expect "segments + recovered snapshot: every INFO and DEBUG record once, pending ones too" \
		pending_complete "$tmp/store2.rec" "$tmp/seg2.rec"
fi

finish
