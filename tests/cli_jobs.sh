#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_jobs.sh - `--jobs N` of `ttlog view` and `ttlog export`: the blocks
# of a file are decompressed and checked on N threads, and what the
# commands print must not depend on N: stdout, stderr and the exit status
# of --jobs 1 and --jobs 4 are the same (and the default's, checked on
# three of them), on a segment of four threads, on a copy of it with two
# blocks damaged (same events, same error: the first damage in the file),
# on one cut in the middle, and on the whole stream directory read as one
# store.
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

d=$tmp/stream
mkdir -p "$d"
expect "four threads log into a stream" \
	env TTLOG_STREAM="$d" TTLOG_RING_SIZE=64K "$progs/stream_load" 4 300 >"$tmp/load.out"
seg=$(ls -S "$d"/*.ttseg | head -n 1)
expect "the segment holds blocks of four threads" \
	test "$("$bin" stats -o json "$seg" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["threads"]))')" -ge 4

# Two EVTS headers (the 2nd and the 5th) state one record more than their
# blocks hold, CRCs made right again: only the block pass finds it.
damaged=$tmp/damaged.ttseg
python3 - "$seg" "$damaged" "$(dirname "$0")/support" <<'PY' >"$tmp/damage.out"
import struct, sys
sys.path.insert(0, sys.argv[3])
from mkseg import crc_final
data = bytearray(open(sys.argv[1], "rb").read())
off, n, first = 24, 0, None
while off + 16 <= len(data):
    ln = struct.unpack_from("<I", data, off + 8)[0]
    if data[off:off + 4] == b"EVTS":
        n += 1
        if n in (2, 5):
            c = struct.unpack_from("<I", data, off + 16 + 8)[0]
            struct.pack_into("<I", data, off + 16 + 8, c + 1)
            crc = crc_final(bytes(data[off:off + 12]) + bytes(data[off + 16:off + 16 + ln]))
            struct.pack_into("<I", data, off + 12, crc)
            if first is None:
                first = off + 16 + 8
    off += 16 + ln
open(sys.argv[2], "wb").write(data)
print(first if n >= 5 else "")
PY
first_bad=$(cat "$tmp/damage.out")
expect "the segment has five blocks to damage" test -n "$first_bad"
cut=$tmp/cut.ttseg
head -c "$(($(stat -c %s "$seg") / 2))" "$seg" >"$cut"

# same_default NAME ARGS...: the default (the CPU count) prints what
# --jobs 1 printed last, and exits the same.
same_default() {
	local name=$1 sd
	shift
	"$bin" "$@" >"$tmp/jd.out" 2>"$tmp/jd.err"
	sd=$?
	expect "$name: the default prints the same" cmp -s "$tmp/j1.out" "$tmp/jd.out"
	expect "$name: the default's stderr is the same" cmp -s "$tmp/j1.err" "$tmp/jd.err"
	expect "$name: the default exits the same" test "$last_s1" = "$sd"
}

same_jobs "view text, segment" view --color=never "$seg"
same_default "view text, segment" view --color=never "$seg"
same_jobs "view json, segment" view -o json "$seg"
same_jobs "export jsonl, segment" export --format jsonl "$seg"
same_jobs "view text, damaged" view --color=never "$damaged"
same_default "view text, damaged" view --color=never "$damaged"
expect "damaged: the first damaged block is the error" \
	grep -q "offset $first_bad: expected the .* records the EVTS header states" "$tmp/j4.err"
expect "damaged: exit status 2 (damaged data)" test "$("$bin" view --jobs 4 "$damaged" >/dev/null 2>&1; echo $?)" = 2
expect "damaged: every event still shown" \
	test "$("$bin" view --jobs 4 -o json "$damaged" 2>/dev/null | wc -l)" = "$("$bin" view --jobs 1 -o json "$seg" 2>/dev/null | wc -l)"
same_jobs "view json, damaged" view -o json "$damaged"
same_jobs "export jsonl, damaged" export --format jsonl "$damaged"
same_jobs "view text, cut" view --color=never "$cut"
same_jobs "view text, stream directory" view --color=never "$d"
same_jobs "view json, stream directory" view -o json "$d"
same_jobs "export jsonl, stream directory" export --format jsonl "$d"
same_default "export jsonl, stream directory" export --format jsonl "$d"

"$bin" view --jobs 0 "$seg" >/dev/null 2>"$tmp/bad.err"
expect "--jobs 0 is a usage error (exit 1)" test $? = 1
expect "--jobs 0 says what is wrong" grep -q "bad value '0' for --jobs" "$tmp/bad.err"
"$bin" export --format jsonl --jobs x "$seg" >/dev/null 2>"$tmp/bad.err"
expect "--jobs x is a usage error (exit 1)" test $? = 1

finish
