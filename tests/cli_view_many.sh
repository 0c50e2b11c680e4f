#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_view_many.sh - several files in one `ttlog view` or `ttlog export
# --format jsonl`: the output must be that of each file on its own, one
# after the other.
#
# Both commands keep, per file, the JSON text of each site's and thread's
# members (keyed by the reader's pointers, which the next file's reader may
# reuse for other sites), and write event lines in blocks; a cache not
# emptied between files, or a block written after the next file's notes,
# shows up here as a difference. The files come from different modes of
# tests/progs/cli_snapshot, so their sites differ.
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

golden=$(make_snapshot golden) || exit 1
fields=$(make_snapshot fields) || exit 1
spans=$(make_snapshot spans) || exit 1

# same_as_each NAME COMMAND...: COMMAND FILES... prints what COMMAND FILE
# prints for each file in turn (stdout and stderr, separately).
same_as_each() {
	local name=$1
	shift
	local all=$tmp/all.out each=$tmp/each.out all_err=$tmp/all.err each_err=$tmp/each.err
	"$@" "$golden" "$fields" "$spans" "$golden" >"$all" 2>"$all_err"
	: >"$each"
	: >"$each_err"
	for f in "$golden" "$fields" "$spans" "$golden"; do
		"$@" "$f" >>"$each" 2>>"$each_err"
	done
	expect "$name: stdout" cmp -s "$all" "$each"
	expect "$name: stderr" cmp -s "$all_err" "$each_err"
	expect "$name: has events" test -s "$all"
}

same_as_each "view text" "$bin" view
same_as_each "view json" "$bin" view -o json
same_as_each "view json, no spans" "$bin" view -o json --no-spans
same_as_each "export jsonl" "$bin" export --format jsonl

# A file that cannot be read between two that can: its error comes after
# the first file's events, in order with stdout (both to one file).
"$bin" view -o json "$golden" "$tmp/missing.ttlog" "$spans" >"$tmp/mixed.out" 2>&1
first_error=$(grep -n 'missing.ttlog' "$tmp/mixed.out" | head -n 1 | cut -d: -f1)
golden_events=$("$bin" view -o json "$golden" 2>/dev/null | wc -l)
expect "an unreadable file's error follows the events before it" \
	test "${first_error:-0}" -gt "$golden_events"

finish
