#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_render_pool.sh - the threads of `ttlog view` and `ttlog export
# --format jsonl` with --jobs N > 1: each event is copied for a rendering
# thread (cli/event_copy.c) with what the reader reuses at its next event,
# the rendered batches are written in order (cli/render_pool.c), and the
# next file of a list is opened meanwhile (cli/open_ahead.c). What the
# commands print must not depend on N: stdout, stderr and the exit status
# of --jobs 1 and --jobs 4 are the same, on snapshots whose events carry
# strings with odd bytes, fields, spans and contexts (tests/progs/
# export_snapshot and span_attrs), on lists of files (one of them missing,
# one cut: printed by file jobs, each file on a thread of its own, see
# cli/file_jobs.c), on a directory read as one store, with filters, and
# when the output stops being read.
# Labelled "concurrency": CI runs it under TSan too.
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

mkdir -p "$tmp/hostile" "$tmp/attrs" "$tmp/stream"
hostile=$(TTLOG_CLOCK=fake "$progs/export_snapshot" "$tmp/hostile")
expect "export_snapshot wrote a snapshot" test -f "$hostile"
attrs=$("$progs/span_attrs" "$tmp/attrs")
expect "span_attrs wrote a snapshot" test -f "$attrs"
expect "two threads log into a stream" \
	env TTLOG_STREAM="$tmp/stream" TTLOG_RING_SIZE=64K "$progs/stream_load" 2 100 >"$tmp/load.out"
seg=$(ls -S "$tmp/stream"/*.ttseg | head -n 1)
expect "the stream wrote a segment" test -f "$seg"
cut=$tmp/cut.ttseg
head -c "$(($(stat -c %s "$seg") / 2))" "$seg" >"$cut"

same_jobs "view text, odd bytes and spans" view --color=never --utc "$hostile"
same_jobs "view json, odd bytes and spans" view -o json "$hostile"
same_jobs "view json, big numbers as strings" view -o json --json-big-as-string "$hostile"
same_jobs "export jsonl, odd bytes and spans" export --format jsonl "$hostile"
same_jobs "view text, contexts" view --color=never "$attrs"
same_jobs "view json, contexts" view -o json "$attrs"
expect "contexts: the context's field is shown" grep -q '"request_id":17' "$tmp/j4.out"
expect "contexts: the span's name is shown" grep -q '"span_name":"op"' "$tmp/j4.out"

# A list of files: each printed in turn, the next one opened meanwhile; a
# missing file is reported at its place, and the others still shown.
same_jobs "view text, a list of files" view --color=never "$seg" "$hostile" "$tmp/missing.ttlog" "$attrs" "$cut"
expect "a list: the missing file is named" grep -q "missing.ttlog" "$tmp/j4.err"
expect "a list: the files come in the order given" \
	test "$(grep -n 'span_attrs.c' "$tmp/j4.out" | head -n 1 | cut -d: -f1)" -gt "$(grep -n 'export_snapshot.c' "$tmp/j4.out" | tail -n 1 | cut -d: -f1)"
expect "a list: exit status 2 (a file could not be read)" test "$("$bin" view --jobs 4 "$seg" "$tmp/missing.ttlog" "$attrs" >/dev/null 2>&1; echo $?)" = 2
same_jobs "view json, a list of files" view -o json "$seg" "$hostile" "$tmp/missing.ttlog" "$cut" "$attrs"
same_jobs "export jsonl, a list of files" export --format jsonl "$seg" "$hostile" "$cut" "$attrs"
same_jobs "view text, a list, filtered by level" view --color=never --level warn "$seg" "$hostile" "$attrs"
same_jobs "view json, a list, filtered by field" view -o json --field request_id=17 "$hostile" "$attrs"
same_jobs "view text, with --grep (one thread renders)" view --color=never --grep 'load|op' "$seg" "$attrs"

# A list of files is printed by file jobs (cli/file_jobs.c): each file on a
# thread of its own, the output written in the order of the list, stdout
# and stderr interleaved as one thread writes them.
same_jobs "view text, a list, with details" view --color=never --header "$seg" "$hostile" "$tmp/missing.ttlog" "$attrs" "$cut"
same_jobs "view json, a list, with details" view -o json --header "$seg" "$hostile" "$tmp/missing.ttlog" "$attrs" "$cut"
for j in 1 4; do
	"$bin" view -o json --header --jobs "$j" "$seg" "$hostile" "$tmp/missing.ttlog" "$attrs" "$cut" >"$tmp/both$j.out" 2>&1
done
expect "a list: stdout and stderr interleave as with one thread" cmp -s "$tmp/both1.out" "$tmp/both4.out"
expect "a list: a file's notes come after the summary of the file before it" \
	test "$(grep -n 'export.ttlog: pid' "$tmp/both4.out" | cut -d: -f1)" -gt "$(grep -n 'ttseg: lost by the stream' "$tmp/both4.out" | head -n 1 | cut -d: -f1)"
# Jobs ahead of the one being written wait when they hold their share of
# --jobs-memory (here 256 KiB a thread, the least: each file's output is
# far more), and go on as the writer takes their chunks.
same_jobs "view text, a list, little memory" view --color=never --jobs-memory 1 "$seg" "$hostile" "$seg" "$cut" "$seg"
same_jobs "view json, a list, little memory" view -o json --jobs-memory 1 "$seg" "$seg" "$tmp/missing.ttlog" "$seg"
same_jobs "export jsonl, a list, little memory" export --format jsonl --jobs-memory 1 "$seg" "$cut" "$seg" "$seg"
"$bin" view --jobs 4 --jobs-memory 1 "$seg" "$seg" "$seg" "$seg" "$seg" 2>"$tmp/pipe.err" | head -n 5 >"$tmp/pipe.out"
expect "a closed pipe, jobs waiting for memory: the first lines arrive" test "$(wc -l <"$tmp/pipe.out")" = 5
expect "a closed pipe, jobs waiting for memory: nothing said on stderr" test ! -s "$tmp/pipe.err"
expect "--jobs-memory 0 is a usage error" test "$("$bin" view --jobs-memory 0 "$seg" >/dev/null 2>&1; echo $?)" = 1

# --thread matches over the whole list: a thread of the last file only is
# no usage error, one of none is.
same_jobs "view text, a list, --thread of the last file" view --color=never --thread span_attrs "$seg" "$hostile" "$attrs"
expect "a list, --thread of the last file: exit status 0" test "$last_s1" = 0
expect "a list, --thread of the last file: its events" grep -q "span_attrs.c" "$tmp/j4.out"
"$bin" view --jobs 4 --thread nosuchthread "$seg" "$hostile" >/dev/null 2>"$tmp/nothread.err"
expect "a list, --thread of no file: exit status 1" test $? = 1
expect "a list, --thread of no file: said once" test "$(grep -c "matches no thread" "$tmp/nothread.err")" = 1
same_jobs "view json, a list, --service of one file" view -o json --service span_attrs "$seg" "$hostile" "$attrs"
expect "a list, --service: only that service's events" test "$(grep -vc '"service":"span_attrs"' "$tmp/j4.out")" = 0

# A store: the files of a directory merged in time order, each event with
# its own file's service.
mkdir -p "$tmp/store"
cp "$hostile" "$attrs" "$tmp/store/"
same_jobs "view json, a store of two services" view -o json "$tmp/store"
expect "a store: the events of one service" grep -q '"service":"export_snapshot"' "$tmp/j4.out"
expect "a store: the events of the other" grep -q '"service":"span_attrs"' "$tmp/j4.out"
same_jobs "view text, a store" view --color=never "$tmp/store"

# Output that stops being read: the command ends without an error of its own.
"$bin" view --jobs 4 "$seg" "$hostile" "$seg" 2>"$tmp/pipe.err" | head -n 3 >"$tmp/pipe.out"
expect "a closed pipe: the first lines arrive" test "$(wc -l <"$tmp/pipe.out")" = 3
expect "a closed pipe: nothing said on stderr" test ! -s "$tmp/pipe.err"
# Many files, the next one being opened when the output stops: it is
# waited for before the list of names goes (ASan saw a name used after).
many=()
for _ in $(seq 1 40); do many+=("$hostile"); done
"$bin" view --jobs 4 "${many[@]}" 2>"$tmp/pipe.err" | head -n 1 >"$tmp/pipe.out"
expect "a closed pipe, many files: the first line arrives" test "$(wc -l <"$tmp/pipe.out")" = 1
expect "a closed pipe, many files: nothing said on stderr" test ! -s "$tmp/pipe.err"
"$bin" export --format jsonl --jobs 4 "${many[@]}" 2>"$tmp/pipe.err" | head -n 1 >"$tmp/pipe.out"
expect "a closed pipe, many files, export: nothing said on stderr" test ! -s "$tmp/pipe.err"
"$bin" export --format jsonl --jobs 4 "$seg" "$seg" 2>"$tmp/pipe.err" | head -n 2 >"$tmp/pipe.out"
expect "a closed pipe, export: the first lines arrive" test "$(wc -l <"$tmp/pipe.out")" = 2
expect "a closed pipe, export: nothing said on stderr" test ! -s "$tmp/pipe.err"
# A full device: the error is said, and the exit status is 2.
if [ -w /dev/full ]; then
	"$bin" view --jobs 4 "$seg" >/dev/full 2>"$tmp/full.err"
	expect "a full device: exit status 2" test $? = 2
	expect "a full device: the error is said" grep -q "No space left on device" "$tmp/full.err"
	"$bin" view --jobs 4 "${many[@]}" >/dev/full 2>"$tmp/full.err"
	expect "a full device, a list: exit status 2" test $? = 2
	expect "a full device, a list: the error is said once" test "$(grep -c "No space left on device" "$tmp/full.err")" = 1
fi

finish
