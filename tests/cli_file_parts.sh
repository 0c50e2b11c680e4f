#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_file_parts.sh - files cut into parts by time (cli/file_parts.c):
# with --jobs N > 1, `ttlog view` and `ttlog export --format jsonl` (and
# logfmt and csv) read a complete file in parts, each through a reader of
# its own on the thread that takes it, and write the parts in order.
# What they print must not depend on it: stdout, stderr and the exit status
# of --jobs 1 and --jobs 4 are the same, for one file and for a list, with
# time ranges that begin and end inside parts, with a level, a grep and a
# thread, for segments with contexts and spans (whose parts begin inside
# them), for a segment with promoted blocks, and for a file with a damaged
# block that only reading it finds (the error of the part that read it).
# That --header and times counted from a file's end leave files whole is
# seen from outside: one thread opens such a file (strace).
# Labelled "concurrency": CI runs it under TSan too.
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

command -v strace >/dev/null ||
	{ echo "FAIL strace is needed (scripts/install-deps.sh installs it)"; exit 1; }

mkdir -p "$tmp/stream" "$tmp/attrs"
expect "four threads log into a stream of small segments" \
	env TTLOG_STREAM="$tmp/stream" TTLOG_SEGMENT_SIZE=256K TTLOG_RING_SIZE=64K \
	"$progs/stream_load" 4 5000 --rate 10000 --segments 4 >"$tmp/load.out"
mapfile -t segs < <(ls -S "$tmp/stream"/*.ttseg)
seg=${segs[0]}
expect "the stream wrote several segments" test "${#segs[@]}" -ge 3
attrs=$("$progs/span_attrs" "$tmp/attrs")
mkdir -p "$tmp/scoped"
expect "four threads log in spans and contexts into a stream" \
	env TTLOG_STREAM="$tmp/scoped" TTLOG_SEGMENT_SIZE=256K TTLOG_RING_SIZE=64K \
	"$progs/stream_load" 4 5000 --rate 10000 --segments 3 --spans >"$tmp/scoped.out"
mapfile -t scoped < <(ls -S "$tmp/scoped"/*.ttseg)
expect "span_attrs wrote a snapshot" test -f "$attrs"

# A file that is not cut is read by the one worker that takes it. (Which
# workers take the parts of a cut file depends on timing; which files are
# cut, and the parts, are tests/test_file_parts.c's.)
expect "--header: no file is cut" test "$(threads_opening "$seg" view --header "$seg" "$attrs")" = 1
expect "--last: no file is cut" test "$(threads_opening "$seg" view --last 1h "$seg" "$attrs")" = 1
expect "--since a time of day: no file is cut" \
	test "$(threads_opening "$seg" view --since 00:00 "$seg" "$attrs")" = 1

same_jobs "view text, one segment" view --color=never "$seg"
# --thread: only that thread's blocks are read (ttlog_reader_set_tid());
# its lines are those of the whole view, the same with --jobs 4.
tid=$("$bin" query -o csv "SELECT tid FROM events ORDER BY ts DESC LIMIT 1" "$seg" | tail -n 1)
same_jobs "view --thread, one segment" view --color=never --thread "$tid" "$seg"
"$bin" view --color=never "$seg" 2>/dev/null | grep -F "[$tid " >"$tmp/thread.want"
"$bin" view --color=never --thread "$tid" "$seg" 2>/dev/null | grep -v '^-- ' >"$tmp/thread.got"
expect "view --thread: the thread's lines of the whole view" cmp -s "$tmp/thread.want" "$tmp/thread.got"
expect "view --thread: some lines" test -s "$tmp/thread.got"
stid=$("$bin" query -o csv "SELECT tid FROM events ORDER BY ts DESC LIMIT 1" "${scoped[0]}" | tail -n 1)
same_jobs "view --thread, segments with spans" view --color=never --thread "$stid" "${scoped[@]}"
same_jobs "view json, one segment" view -o json "$seg"
same_jobs "export jsonl, one segment" export --format jsonl "$seg"
same_jobs "export logfmt, one segment" export --format logfmt "$seg"
same_jobs "export csv, one segment" export --format csv "$seg"
lines=$(wc -l <"$tmp/j4.out")
expect "one segment: thousands of events" test "$lines" -ge 4000
same_jobs "view text, a list of segments" view --color=never "${segs[@]}"
same_jobs "view json, a list of segments and a file with spans" view -o json "${segs[@]}" "$attrs"
same_jobs "export jsonl, a list of segments" export --format jsonl "${segs[@]}" "$attrs"

# Contexts and spans: each part's reader follows the scopes through the
# parts before it, so every event keeps its span and context.
same_jobs "view text, segments with spans" view --color=never "${scoped[@]}"
expect "spans: the events are in their batch spans" \
	test "$(grep -c '^.* load t=[0-9]* i=' "$tmp/j4.out")" -ge 4000
same_jobs "view json, a segment with spans" view -o json "${scoped[0]}"
expect "spans: every log event has its span and context" \
	test "$(grep '"message":"load' "$tmp/j4.out" | grep -v '"span_id":"' -c)" = 0 -a \
	"$(grep '"message":"load' "$tmp/j4.out" | grep -c '"batch":')" -ge 1000
same_jobs "export jsonl, segments with spans" export --format jsonl "${scoped[@]}"
same_jobs "export logfmt, segments with spans" export --format logfmt "${scoped[@]}"
same_jobs "export csv, segments with spans and a snapshot" export --format csv "${scoped[@]}" "$attrs"

# Times a third and two thirds into the segment's events: ranges that begin
# and end inside parts.
"$bin" view -o json --jobs 1 "$seg" 2>/dev/null | sed -E 's/.*"time":"([^"]+)".*/\1/' >"$tmp/times"
t1=$(sed -n "$((lines / 3))p" "$tmp/times")
t2=$(sed -n "$((2 * lines / 3))p" "$tmp/times")
expect "the times are read" test -n "$t1" -a -n "$t2" -a "$t1" \< "$t2"
same_jobs "view json, --since and --until inside" view -o json --since "$t1" --until "$t2" "$seg"
inside=$(wc -l <"$tmp/j4.out")
expect "--since and --until: about a third of the events" \
	test "$inside" -gt $((lines / 4)) -a "$inside" -lt $((lines / 2))
same_jobs "export jsonl, --since only" export --format jsonl --since "$t2" "${segs[@]}"
same_jobs "view text, --level info" view --color=never --level info "${segs[@]}"
same_jobs "view text, --grep" view --color=never --grep 'load t=[13]' "$seg"
"$bin" view -o json --jobs 1 "$seg" 2>/dev/null | sed -n '1s/.*"tid":\([0-9]*\).*/\1/p' >"$tmp/tid"
tid=$(cat "$tmp/tid")
expect "a thread id is read" test -n "$tid"
same_jobs "view json, --thread" view -o json --thread "$tid" "${segs[@]}"

# A segment with promoted blocks (a second cursor of thread 0, merged by
# time; tests/support/mkseg.py): cut like any other, the promoted events
# at their places.
python3 "$(dirname "$0")/support/mkseg.py" seg "$tmp/promoted.ttseg" --threads 3 --events 400 \
	--per-block 7 --promote
same_jobs "view text, promoted blocks" view --color=never "$tmp/promoted.ttseg"
expect "promoted blocks: the promoted events are shown" test "$(grep -c 'DEBUG+' "$tmp/j4.out")" = 400
same_jobs "export jsonl, promoted blocks and a list" export --format jsonl "$tmp/promoted.ttseg" "$seg"
# The same with a context around each thread: a promoted event takes its
# thread's context in every part (all but thread 0's last, which comes
# after its context has closed).
python3 "$(dirname "$0")/support/mkseg.py" seg "$tmp/promoted-ctx.ttseg" --threads 3 --events 400 \
	--per-block 7 --promote --contexts
same_jobs "view json, promoted blocks in contexts" view -o json "$tmp/promoted-ctx.ttseg"
expect "promoted blocks in contexts: each promoted event has its context" \
	test "$(grep '"promoted":true' "$tmp/j4.out" | grep -c '"req":')" = 399

# One block's compressed bytes changed in the middle of the segment, its CRC
# made right again: the lazy open that decides the cut cannot see it, the
# part that reads the block reports it, as one thread's open does.
# damage SRC DST: DST is SRC with one block's compressed bytes changed in
# the middle of the file, its CRC made right again; prints the number of
# blocks.
damage() {
	python3 "$(dirname "$0")/support/damage_block.py" "$1" "$2"
}
damaged=$tmp/damaged.ttseg
damage "$seg" "$damaged" >"$tmp/damage.out"
expect "the segment has blocks to damage" test "$(cat "$tmp/damage.out")" -ge 8
same_jobs "view text, damaged" view --color=never "$damaged"
expect "damaged: the block is the error" grep -q "offset" "$tmp/j4.err"
expect "damaged: exit status 2 (damaged data)" test "$last_s1" = 2
same_jobs "export jsonl, damaged, in a list" export --format jsonl "$seg" "$damaged" "$attrs"
same_jobs "export logfmt, damaged, in a list" export --format logfmt "$seg" "$damaged" "$attrs"
# Damaged with spans: both threads read the block (one makes its lines,
# the other follows its scopes); the error is the earliest part's, once.
damage "${scoped[0]}" "$tmp/damaged-spans.ttseg" >"$tmp/damage.out"
same_jobs "view text, damaged, with spans" view --color=never "$tmp/damaged-spans.ttseg"
expect "damaged with spans: one error" test "$(grep -c "offset" "$tmp/j4.err")" = 1
expect "damaged with spans: exit status 2 (damaged data)" test "$last_s1" = 2

finish
