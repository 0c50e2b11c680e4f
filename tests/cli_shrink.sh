#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_shrink.sh - the command maps the files it reads (reader/map.c); a
# file that another process shortens while the command reads it must give
# the events before the cut and a clear error with exit status 2, never a
# death by SIGBUS. The reading side of the pipe takes one line, so the
# command is in the middle of the file; then the file is cut to half and
# the rest of the output is read. For `view` and `view -o json` with one
# thread and with four (the file cut into parts), and `export --format
# jsonl`.
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

# Under ThreadSanitizer: the zero pages mapped over the cut part of the
# file look like a write racing with the readers of those bytes
# (support/tsan-shrink.supp says why that is by design).
if [ -n "${TSAN_OPTIONS:-}" ]; then
	export TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$(cd "$(dirname "$0")" && pwd)/support/tsan-shrink.supp"
fi

mkdir -p "$tmp/stream"
expect "a thread logs into a stream of 8 MiB segments" \
	env TTLOG_STREAM="$tmp/stream" TTLOG_SEGMENT_SIZE=8M TTLOG_RING_SIZE=1M \
	"$progs/stream_load" 1 20000 --segments 1 >"$tmp/load.out"
seg=$(ls -S "$tmp/stream"/*.ttseg | head -n 1)
size=$(stat -c %s "$seg")
expect "the segment is over 4 MiB" test "$size" -gt $((4 << 20))

# shrink NAME ARGS...: `ttlog ARGS COPY` on a copy of the segment that is
# cut to half once the first line of output was read.
shrink() {
	local name=$1 rc
	shift
	cp "$seg" "$tmp/copy.ttseg"
	{
		"$bin" "$@" "$tmp/copy.ttseg" 2>"$tmp/shrink.err"
		echo $? >"$tmp/shrink.rc"
	} | {
		IFS= read -r _
		truncate -s $((size / 2)) "$tmp/copy.ttseg"
		cat >"$tmp/shrink.out"
	}
	rc=$(cat "$tmp/shrink.rc")
	expect "$name: exit status 2, not a signal (got $rc)" test "$rc" = 2
	expect "$name: the error says the file shrank" \
		grep -Eq "copy\.ttseg: the file shrank while it was read: its bytes from offset [0-9]+ on were gone" \
		"$tmp/shrink.err"
	expect "$name: the events before the cut were printed" test "$(wc -l <"$tmp/shrink.out")" -gt 1000
}

shrink "view, one thread" view --color=never --jobs 1
shrink "view, four threads" view --color=never --jobs 4
shrink "view json, four threads" view -o json --jobs 4
shrink "export jsonl" export --format jsonl

# The same file unchanged: read whole, no error.
expect "the whole segment reads without an error" \
	sh -c '"$0" view -o json "$1" >/dev/null' "$bin" "$seg"
finish
