#!/usr/bin/env bash
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

finish
