#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stream_store.sh - a stream and a snapshot of the same process, written by
# the library, read as one store: each record once, with one time. The
# segment was started at ttlog_init and the snapshot later, so their
# calibrations differ; the store gives the files of one process the same
# one (src/reader/store.c, share_clock).

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

d=$tmp/both
mkdir -p "$d"
expect "a process streams, then takes a snapshot" \
	env TTLOG_STREAM="$d" TTLOG_DIR="$d" "$progs/stream_snapshot" 300
expect "the directory has a segment and a snapshot" \
	test "$(ls "$d"/*.ttseg | wc -l):$(ls "$d"/*-both.ttlog | wc -l)" = 1:1
for f in "$d"/*.ttseg "$d"/*-both.ttlog; do
	expect "$(basename "$f") holds every event" \
		test "$("$bin" view "$f" | grep -c ' event i=')" -eq 300
done
expect "the store shows each event once" \
	test "$("$bin" view "$d" | grep -c ' event i=')" -eq 300
expect "in order, 0 to 299" \
	test "$("$bin" view "$d" | grep -o ' event i=[0-9]*' | awk -F= '$2 != NR - 1 { bad = 1 } END { print bad + 0 }')" = 0
# The same record's time, from the store and from the snapshot alone.
last_store=$("$bin" view --utc "$d" | grep ' event i=299$' | cut -d' ' -f1-2)
last_snap=$("$bin" view --utc "$d"/*-both.ttlog | grep ' event i=299$' | cut -d' ' -f1-2)
expect "a record has the snapshot's time in the store" test "$last_store" = "$last_snap"

# A busy thread's ring overwrites what the stream has read: no loss, and
# view says none (the segment's THRD still carries the ring's count).
b=$tmp/busy
mkdir -p "$b"
expect "a thread logs at full speed into a stream that may block it" \
	env TTLOG_STREAM="$b" TTLOG_STREAM_POLICY=block TTLOG_RING_SIZE=64K \
	"$progs/stream_load" 1 300
seg=$(ls "$b"/*.ttseg | head -n 1)
expect "its ring was overwritten (the segment's count)" \
	test "$("$bin" stats -o json "$seg" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stream"]["ring_overwritten"] > 0)')" = True
expect "stats of the segment counts no loss: nothing overwritten, nothing lost by the stream" \
	test "$("$bin" stats -o json "$seg" | python3 -c 'import json,sys; j = json.load(sys.stdin); print(j["lost"]["overwritten"], j["lost"]["stream_lost"], sum(t["overwritten"] for t in j["threads"]))')" = "0 0 0"
expect "stats text says the rings' count is no loss" \
	test "$("$bin" stats "$seg" | grep -c 'overwritten  *0 (.* in the rings after the stream read them)')" = 1
expect "view of the segment reports no loss" \
	test -z "$("$bin" view "$b" 2>&1 >/dev/null | grep -E 'lost|overwritten')$("$bin" view "$seg" | grep -E '^-- .*(lost|overwritten)')"

finish
