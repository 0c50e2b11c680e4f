#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_store_parts.sh - a store (a directory of segments and snapshots) cut
# into parts by time (ttlog_store_cut_times()): with --jobs N > 1, `ttlog
# view DIR` and `ttlog export DIR` (jsonl, logfmt, csv) read each part
# through a store of its own on the thread that takes it and write the
# parts in order. What it prints must not depend on
# it: stdout, stderr and the exit status of --jobs 1 and --jobs 4 are the
# same, for a stream, a stream with contexts and spans, two streams at
# once, a segment and a snapshot of one process that hold the same records
# (shown once), time ranges that begin and end inside parts, a level, a
# grep, a thread and a service, a segment whose damaged block only
# reading it finds, and segments that the open finds cut short or damaged. That the parts are read on several threads is seen
# from outside (strace). Labelled "concurrency": CI runs it under TSan too.
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

command -v strace >/dev/null ||
	{ echo "FAIL strace is needed (scripts/install-deps.sh installs it)"; exit 1; }

mkseg() {
	python3 "$(dirname "$0")/support/mkseg.py" "$@"
}

mkdir -p "$tmp/plain" "$tmp/scoped" "$tmp/both" "$tmp/dedup" "$tmp/damaged"
expect "four threads log into a stream of small segments" \
	env TTLOG_STREAM="$tmp/plain" TTLOG_SEGMENT_SIZE=256K TTLOG_RING_SIZE=64K \
	"$progs/stream_load" 4 5000 --rate 10000 --segments 4 >"$tmp/load.out"
expect "four threads log in spans and contexts into a stream" \
	env TTLOG_STREAM="$tmp/scoped" TTLOG_SEGMENT_SIZE=256K TTLOG_RING_SIZE=64K \
	"$progs/stream_load" 4 5000 --rate 10000 --segments 3 --spans >"$tmp/scoped.out"
expect "the streams wrote several segments each" \
	test "$(ls "$tmp/plain" | wc -l)" -ge 3 -a "$(ls "$tmp/scoped" | wc -l)" -ge 3
cp "$tmp/plain"/*.ttseg "$tmp/scoped"/*.ttseg "$tmp/both/"

expect "the parts of a stream are read on several threads" \
	test "$(threads_opening .ttseg view "$tmp/plain")" -ge 2

same_jobs "view text, a stream" view --color=never "$tmp/plain"
lines=$(wc -l <"$tmp/j4.out")
expect "a stream: thousands of events" test "$lines" -ge 4000
same_jobs "view json, a stream" view -o json "$tmp/plain"
same_jobs "view text, a stream with spans" view --color=never "$tmp/scoped"
same_jobs "view json, a stream with spans" view -o json "$tmp/scoped"
expect "spans: every log event has its span and context" \
	test "$(grep '"message":"load' "$tmp/j4.out" | grep -v '"span_id":"' -c)" = 0 -a \
	"$(grep '"message":"load' "$tmp/j4.out" | grep -c '"batch":')" -ge 1000
same_jobs "view text, two streams" view --color=never --utc "$tmp/both"
same_jobs "export jsonl, two streams" export --format jsonl "$tmp/both"
same_jobs "export logfmt, two streams" export --format logfmt "$tmp/both"
same_jobs "export csv, two streams" export --format csv "$tmp/both"
expect "the parts of an export are read on several threads" \
	test "$(threads_opening .ttseg export --format jsonl "$tmp/both")" -ge 2
same_jobs "view json, a glob" view -o json "$tmp/both/*.ttseg"

# Times a third and two thirds into the stream's events.
"$bin" view -o json --jobs 1 "$tmp/plain" 2>/dev/null | sed -E 's/.*"time":"([^"]+)".*/\1/' >"$tmp/times"
t1=$(sed -n "$((lines / 3))p" "$tmp/times")
t2=$(sed -n "$((2 * lines / 3))p" "$tmp/times")
expect "the times are read" test -n "$t1" -a -n "$t2" -a "$t1" \< "$t2"
same_jobs "view json, --since and --until inside" view -o json --since "$t1" --until "$t2" "$tmp/both"
inside=$(grep -c '"message":"load' "$tmp/j4.out")
expect "--since and --until: events of both streams" test "$inside" -gt $((lines / 4))
same_jobs "view text, --level info" view --color=never --level info "$tmp/both"
same_jobs "view text, --grep" view --color=never --grep 'load t=[13]' "$tmp/both"
tid=$("$bin" view -o json --jobs 1 "$tmp/plain" 2>/dev/null | sed -n '1s/.*"tid":\([0-9]*\).*/\1/p')
expect "a thread id is read" test -n "$tid"
same_jobs "view json, --thread" view -o json --thread "$tid" "$tmp/both"

# A segment and a snapshot of one process that hold the same records, and
# another process: each record once, at the time the widest calibration
# gives it (the snapshot's own rate is 1.001 ns a tick).
mkseg seg "$tmp/dedup/svc-4242-20260101T000000.000000000Z-000001.ttseg" --events 400 --per-block 8
mkseg seg "$tmp/dedup/svc-4242-20260101T000010.000000000Z-000002.ttseg" --seq 2 --events 400 \
	--per-block 8 --base 10000000000 --cal-ticks 20000000000
mkseg snap "$tmp/dedup/ttlog-4242-20260101T000001.000000000Z-manual.ttlog" --events 400 \
	--per-block 8 --skip 100 --cal-ns 1001000000
mkseg seg "$tmp/dedup/other-7-20260101T000000.000000000Z-000001.ttseg" --pid 7 --service other \
	--threads 3 --events 300 --per-block 6 --base 500000
same_jobs "view text, a segment and a snapshot of the same records" view --color=never --utc "$tmp/dedup"
"$bin" view --color=never --utc --jobs 1 "$tmp/dedup/*.ttseg" >"$tmp/segs-only.out"
expect "the same records: each once, as without the snapshot" cmp -s "$tmp/j4.out" "$tmp/segs-only.out"
expect "the same records: all there" test "$(wc -l <"$tmp/j4.out")" -eq $((2 * 400 * 2 + 3 * 300))
same_jobs "view json, --service" view -o json --service svc "$tmp/dedup"
same_jobs "export csv, a segment and a snapshot" export --format csv "$tmp/dedup"

# csv's columns come from a first pass over the store, made in parts too:
# each part's keys come after those of the parts before it, so a key that
# only an early part has comes before one that only a later part has.
mkdir -p "$tmp/keys"
mkseg seg "$tmp/keys/svc-4242-20260101T000000.000000000Z-000001.ttseg" \
	--events 400 --per-block 4 --contexts --context-key early
mkseg seg "$tmp/keys/svc-4242-20260101T000010.000000000Z-000002.ttseg" --seq 2 \
	--events 400 --per-block 4 --base 10000000000 --contexts --context-key late
same_jobs "export csv, a key early and a key late" export --format csv "$tmp/keys"
expect "csv: the early key's column first" \
	test "$(head -n 1 "$tmp/j4.out" | tr -d '\r' | sed 's/.*,span_id,//')" = "t,k,early,late"

# A block whose compressed bytes were changed, its CRC made right again: the
# open that cuts the store cannot see it, the part that reads it reports it.
cp "$tmp/plain"/*.ttseg "$tmp/damaged/"
victim=$(ls -S "$tmp/damaged"/*.ttseg | head -n 1)
python3 "$(dirname "$0")/support/damage_block.py" "$victim" "$victim" >/dev/null
same_jobs "view text, a damaged segment" view --color=never "$tmp/damaged"
expect "damaged: the block is the error, once" test "$(grep -c "offset" "$tmp/j4.err")" = 1
expect "damaged: exit status 2 (damaged data)" test "$last_s1" = 2
same_jobs "export jsonl, a damaged segment" export --format jsonl "$tmp/damaged"
expect "export, damaged: the block is the error, once" test "$(grep -c "offset" "$tmp/j4.err")" = 1

# A problem the open finds: a flipped byte under a chunk's CRC; with it, a
# segment cut short in a block (a writer killed while it wrote: an open
# segment, not a problem). The store is still cut, each file's valid
# events read by the parts, the problem said once.
mkdir -p "$tmp/cut-short"
cp "$tmp/plain"/*.ttseg "$tmp/cut-short/"
last=$(ls "$tmp/cut-short"/*.ttseg | tail -n 1)
first=$(ls "$tmp/cut-short"/*.ttseg | head -n 1)
truncate -s $(($(stat -c %s "$last") * 2 / 3)) "$last"
printf '\377' | dd of="$first" bs=1 seek=$(($(stat -c %s "$first") / 2)) conv=notrunc 2>/dev/null
"$bin" view --color=never --jobs 1 "$tmp/cut-short" >/dev/null 2>"$tmp/cut.err"
expect "flipped: the damaged chunk is found" \
	test "$(grep -c -e "$(basename "$first").*CRC" "$tmp/cut.err")" = 1
expect "a store with problems is still read on several threads" \
	test "$(threads_opening .ttseg view "$tmp/cut-short")" -ge 2
same_jobs "view text, a segment cut short and one damaged" view --color=never "$tmp/cut-short"
expect "cut short: each problem once" \
	test "$(sort "$tmp/j4.err" | uniq -d | wc -l)" = 0
expect "cut short: thousands of events still" test "$(wc -l <"$tmp/j4.out")" -ge 3000
same_jobs "export jsonl, a segment cut short and one damaged" export --format jsonl "$tmp/cut-short"
same_jobs "view json, --since inside, a segment cut short" view -o json --since "$t1" "$tmp/cut-short"

finish
