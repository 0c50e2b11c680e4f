#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_lsstats.sh - tests of `ttlog ls` and `ttlog stats`, as exact expected
# output where it is fixed and as checked properties where it is not.
#
# The snapshots come from tests/progs/cli_snapshot (fake clock: event times
# are fixed). What changes between runs and machines is normalised before
# comparing: process and thread ids, file names, the executable's directory
# and file sizes (the file holds the executable's path). The lines that
# depend on block sizes (records, compression, the top list by bytes) are
# checked through the JSON output instead.

# Commands for `sh -c` are in single quotes on purpose: they expand there.
# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

# ---------------------------------------------------------------------------
# Snapshots

snap=$(make_snapshot golden) || exit 1
lost=$(make_snapshot lost) || exit 1
spans=$(make_snapshot spans) || exit 1
make_crash_snapshot
mkdir -p "$tmp/sampled"
sampled=$("$progs/sampled_snapshot" "$tmp/sampled")
expect "sampled_snapshot wrote a snapshot" test -f "$sampled"

# A directory of several snapshots under fixed names. They were all
# created at the fake clock's fixed time, so they are listed by name, last
# first.
many=$tmp/many
mkdir -p "$many"
cp "$snap" "$many/ttlog-1-20260101T000000.000000001Z-golden.ttlog"
cp "$lost" "$many/ttlog-1-20260101T000000.000000002Z-lost.ttlog"
cp "$spans" "$many/ttlog-1-20260101T000000.000000003Z-spans.ttlog"
cp "$crash" "$many/ttlog-1-20260101T000000.000000004Z-SIGSEGV.ttlog"
# Never listed: not a snapshot name, a hidden name, a directory.
echo "not listed" >"$many/notes.txt"
cp "$snap" "$many/.hidden.ttlog"
mkdir -p "$many/sub.ttlog"

# ---------------------------------------------------------------------------
# Normalisers

# ls text: the PID column (7 wide after the 19 characters of the time) and
# the sizes (x.yK: one width for every size from 1 to 9.9 KiB).
norm_ls() {
	sed -E -e '/^[0-9]{4}-/s/^(.{19})  [ 0-9]{7}/\1      PID/' \
		-e 's/  [0-9]\.[0-9]K  /  N.NK  /'
}
# Run from $tmp, with directories given relative to it, so that the FILE
# column holds no machine-specific path.
ls_text() {
	(cd "$tmp" && "$bin" ls "$@" | norm_ls && exit "${PIPESTATUS[0]}")
}

# stats text: the file name, the process line, the file size, thread ids
# (7 wide), and the lines that depend on the sizes of blocks.
norm_stats() {
	sed -E -e 's/ttlog-[0-9]+-[0-9]{8}T[0-9]{6}\.[0-9]{9}Z-/ttlog-PID-TIME-/' \
		-e 's#^File .*/([^/]+):$#File \1:#' \
		-e 's#^(  process +)pid [0-9]+, .*/(tests/progs/[^,/]*), host .*$#\1pid PID, \2, host HOST#' \
		-e 's/^(  file size +)[0-9]+ bytes.*$/\1SIZE/' \
		-e 's/^(  records +).*$/\1RECORDS/' \
		-e 's/^(  compression +).*$/\1RATIO/' \
		-e '/^  codecs /s/[0-9]+ bytes/N bytes/g' \
		-e 's/^(  bytes per event +).*$/\1BPE/' \
		-e '/^Threads:$/,/^$/s/^  [ 0-9]{6}[0-9]  /      TID  /' \
		-e '/^Top .* by bytes:$/,/^$/d'
}
stats_text() {
	"$bin" stats "$@" | norm_stats
	return "${PIPESTATUS[0]}"
}

# ---------------------------------------------------------------------------
# Help

check "help lists ls" '~^  ls ' 0 '' -- "$bin" help
check "help lists stats" '~^  stats ' 0 '' -- "$bin" help
check "ls --help" '~^Usage: ttlog ls' 0 '' -- "$bin" ls --help
check "help ls" '~^Usage: ttlog ls' 0 '' -- "$bin" help ls
check "stats --help" '~^Usage: ttlog stats' 0 '' -- "$bin" stats --help
check "help stats" '~^Usage: ttlog stats' 0 '' -- "$bin" help stats
help_text=$("$bin" ls --help)
for option in --output --utc --all --help TTLOG_DIR XDG_RUNTIME_DIR STATUS; do
	expect "ls --help mentions $option" grep -q -- "$option" <<<"$help_text"
done
help_text=$("$bin" stats --help)
for option in --top --output --utc --help; do
	expect "stats --help mentions $option" grep -q -- "$option" <<<"$help_text"
done

# ---------------------------------------------------------------------------
# ls

check "ls of several snapshots" ls-several.txt 0 '' -- ls_text --utc many
check "ls of a directory with a trailing slash" ls-several.txt 0 '' -- ls_text --utc many/
check "ls: TTLOG_DIR is the default directory" '~ok +'"$many"'/ttlog-1-20260101T000000\.000000004Z-SIGSEGV\.ttlog$' \
	0 '' -- env TTLOG_DIR="$many" "$bin" ls
mkdir -p "$tmp/xdg/ttlog"
cp "$snap" "$tmp/xdg/ttlog/"
check "ls: else \$XDG_RUNTIME_DIR/ttlog" '~golden +- +26 .* ok +'"$tmp"'/xdg/ttlog/ttlog-' 0 '' -- \
	env -u TTLOG_DIR XDG_RUNTIME_DIR="$tmp/xdg" "$bin" ls
check "ls: the default directory is missing" - 2 \
	"^ttlog ls: $tmp/nowhere/ttlog: cannot read the directory: .*set TTLOG_DIR or give DIR" -- \
	env -u TTLOG_DIR XDG_RUNTIME_DIR="$tmp/nowhere" "$bin" ls
check "ls of a missing directory" empty.txt 2 \
	"^ttlog ls: $tmp/missing: cannot read the directory: No such file or directory$" -- \
	"$bin" ls "$tmp/missing"
check "ls of a file" empty.txt 2 'cannot read the directory: Not a directory' -- "$bin" ls "$snap"
mkdir -p "$tmp/empty"
check "ls of an empty directory" empty.txt 0 '^ttlog ls: no snapshots in ' -- "$bin" ls "$tmp/empty"
check "ls -o json of an empty directory" empty.txt 0 '' -- "$bin" ls -o json "$tmp/empty"

# JSON: every member, checked against the files themselves.
"$bin" ls -o json "$many" >"$tmp/ls.json"
expect "ls -o json describes each snapshot" python3 - "$tmp/ls.json" "$many" <<'PY'
import json, os, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
names = [r["name"] for r in rows]
assert names == sorted(names, reverse=True), names
assert len(rows) == 4, rows
want = {"golden": (26, None), "lost": (37, None), "spans": (14, None), "SIGSEGV": (3, "SIGSEGV")}
for r in rows:
    reason = r["name"].split("Z-")[1][:-len(".ttlog")]
    events, signal = want[reason]
    assert r["path"] == os.path.join(sys.argv[2], r["name"]), r
    assert r["status"] == "ok" and r["error"] is None and r["complete"] is True, r
    assert r["size"] == os.path.getsize(r["path"]), r
    assert r["created"] == "2026-01-01T00:00:00.000000000Z", r
    assert r["created_ns"] == 1767225600000000000, r
    assert r["events"] == events, r  # events, as view counts them: no scope records
    assert r["signal"] == signal and r["crashed"] == (signal is not None), r
    assert (r["signo"] == 11) == (signal is not None), r
    assert r["executable"].endswith("/cli_snapshot") and r["pid"] > 0 and r["reason"], r
PY

# EVENTS is what `view` shows, also for a file whose END does not count
# events (cut before its END; a file of format revision 1).
mkdir -p "$tmp/count"
cp "$spans" "$tmp/count/spans.ttlog"
size=$(stat -c %s "$spans")
# A snapshot's END is a 16-byte chunk header and 104 bytes (revision 16).
head -c $((size - 120)) "$spans" >"$tmp/count/cut.ttlog"
cp "$golden_dir/../../data/ttlog-0.2-golden.ttlog" "$tmp/count/old.ttlog"
"$bin" ls -o json "$tmp/count" >"$tmp/count.json"
for f in spans cut old; do
	"$bin" view "$tmp/count/$f.ttlog" 2>/dev/null | wc -l >"$tmp/count/$f.n"
done
expect "ls counts the events view shows" python3 - "$tmp/count.json" "$tmp/count" <<'PY'
import json, os, sys
rows = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
assert set(rows) == {"spans.ttlog", "cut.ttlog", "old.ttlog"}, rows
for name, r in rows.items():
    shown = int(open(os.path.join(sys.argv[2], name[:-6] + ".n")).read())
    assert r["events"] == shown, (name, r["events"], shown)
assert rows["spans.ttlog"]["events"] == 14 and rows["cut.ttlog"]["events"] == 14, rows
assert rows["cut.ttlog"]["status"] == "truncated", rows["cut.ttlog"]
PY
for f in spans cut; do
	check "SQL snapshots.events counts the events table's rows ($f)" '~^ +14 +14 +1[0-9]$' \
		"$([ $f = cut ] && echo 2 || echo 0)" "$([ $f = cut ] && echo 'expected an END chunk')" -- \
		"$bin" query "SELECT events, (SELECT count(*) FROM events), records FROM snapshots" \
		"$tmp/count/$f.ttlog"
done

# Newest first, by the time in the file: two snapshots of the real clock.
mkdir -p "$tmp/real"
first=$("$progs/metrics_snapshot" "$tmp/real")
second=$("$progs/metrics_snapshot" "$tmp/real")
# Modification times in the other order: they must not decide.
touch -d '2001-01-01 00:00:00' "$second"
touch -d '2002-01-01 00:00:00' "$first"
"$bin" ls -o json "$tmp/real" >"$tmp/real.json"
expect "ls puts the later snapshot first" python3 - "$tmp/real.json" "$first" "$second" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert [r["path"] for r in rows] == [sys.argv[3], sys.argv[2]], rows
assert rows[0]["created_ns"] > rows[1]["created_ns"], rows
PY

# Damaged files are listed with their problem, then each error; exit 2.
bad=$tmp/bad
mkdir -p "$bad"
size=$(stat -c %s "$snap")
head -c $((size / 2)) "$snap" >"$bad/ttlog-1-20260101T000000.000000001Z-cut.ttlog"
head -c 10 "$snap" >"$bad/ttlog-1-20260101T000000.000000002Z-tiny.ttlog"
cp "$snap" "$bad/ttlog-1-20260101T000000.000000003Z-flip.ttlog"
python3 - "$bad/ttlog-1-20260101T000000.000000003Z-flip.ttlog" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x10  # inside a chunk: its CRC no longer matches
open(sys.argv[1], "wb").write(data)
PY
echo "hello" >"$bad/ttlog-1-20260101T000000.000000004Z-text.ttlog"
cp "$snap" "$bad/ttlog-1-20260101T000000.000000000Z-good.ttlog"
# Unreadable files are placed by modification time: far apart, to be sure.
touch -d '2000-01-01 00:00:00' "$bad/ttlog-1-20260101T000000.000000002Z-tiny.ttlog"
touch -d '2099-01-01 00:00:00' "$bad/ttlog-1-20260101T000000.000000004Z-text.ttlog"
# A writer's temporary file, only with --all.
echo partial >"$bad/.ttlog-1-2-3.tmp"
touch -d '2098-01-01 00:00:00' "$bad/.ttlog-1-2-3.tmp"
# Only the order and the STATUS column: how many events survive the damage
# depends on where the middle of the file falls.
ls_status() {
	(cd "$tmp" && "$bin" ls "$@" | awk '{ print $(NF - 1), $NF }' && exit "${PIPESTATUS[0]}")
}
check "ls of damaged files" ls-damaged.txt 2 \
	'^ttlog ls: [^ ]*-text\.ttlog: offset 0: expected the ttlog magic' -- ls_status bad
"$bin" ls -a -o json "$bad" >"$tmp/bad.json" 2>"$tmp/bad.err"
expect "ls -a -o json of damaged files: exit 2" test $? = 2
expect "ls -o json gives each damaged file's status and error" python3 - "$tmp/bad.json" "$tmp/bad.err" <<'PY'
import json, re, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
status = {r["name"].split("Z-")[-1].split(".")[0] if "Z-" in r["name"] else r["name"]: r for r in rows}
order = [r["name"] for r in rows]
assert order[0].endswith("-text.ttlog") and order[1] == ".ttlog-1-2-3.tmp", order
assert order[-1].endswith("-tiny.ttlog"), order
assert status["text"]["status"] == "not-ttlog", status["text"]
assert status["tiny"]["status"] == "truncated" and status["tiny"]["pid"] is None, status["tiny"]
assert status["cut"]["status"] == "truncated" and status["cut"]["reason"] == "golden", status["cut"]
assert status["flip"]["status"] == "corrupt", status["flip"]
assert status["good"]["status"] == "ok" and status["good"]["error"] is None, status["good"]
assert status[".ttlog-1-2-3.tmp"]["status"] == "temporary", rows
errors = open(sys.argv[2]).read().splitlines()
assert len(errors) == 4, errors
for r in rows:
    if r["status"] in ("ok", "temporary"):
        continue
    assert re.match(r"^.*: offset \d+: expected ", r["error"]), r
    assert "ttlog ls: " + r["error"] in errors, (r, errors)
PY

check "ls: two directories" - 1 "one DIR at most" -- \
	"$bin" ls "$many" "$bad"
check "ls: unknown option" - 1 "^ttlog ls: unknown option '--frobnicate'" -- "$bin" ls --frobnicate
check "ls: bad output format" - 1 "unknown output format 'xml'" -- "$bin" ls -o xml "$many"
check "ls: option without its argument" - 1 "option '-o' needs an argument" -- "$bin" ls -o

# ---------------------------------------------------------------------------
# stats

check "stats of the golden snapshot" stats-golden.txt 0 '' -- stats_text --utc "$snap"
check "stats of lost events" stats-lost.txt 0 '' -- stats_text --utc "$lost"
check "stats of spans" stats-spans.txt 0 '' -- stats_text --utc "$spans"
check "stats of a crash" stats-crash.txt 0 '' -- stats_text --utc "$crash"
check "stats --top 2" stats-top2.txt 0 '' -- stats_text --utc --top 2 "$snap"
check "stats --top 0 leaves the lists out" - 0 '' -- sh -c '! "$1" stats --top 0 "$2" | grep -q "^Top"' \
	sh "$bin" "$snap"
check "stats of two files" stats-two.txt 0 '' -- stats_text --utc "$lost" "$spans"

"$bin" stats -o json "$snap" "$lost" "$spans" "$crash" "$sampled" >"$tmp/stats.json"
expect "stats -o json: one object per file, consistent counts" python3 - "$tmp/stats.json" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == 5, len(rows)
golden, lost, spans, crash, sampled = rows
for r in rows:
    assert r["complete"] is True and r["error"] is None, r
    assert sum(r["levels"].values()) == r["events"], r
    assert sum(t["events"] for t in r["threads"]) == r["events"], r
    assert r["duration_ns"] == r["last_ns"] - r["first_ns"], r
    assert r["rate"] == (r["events"] - 1) * 1e9 / r["duration_ns"], r
    for key in ("top_by_count", "top_by_bytes"):
        assert len(r[key]) <= 10, r
    counts = [s["events"] for s in r["top_by_count"]]
    assert counts == sorted(counts, reverse=True), counts
    sizes = [s["bytes"] for s in r["top_by_bytes"]]
    assert sizes == sorted(sizes, reverse=True), sizes
    assert r["record_bytes"] >= sum(sizes), r
    if r["stored_bytes"]:
        assert r["compression_ratio"] == r["raw_bytes"] / r["stored_bytes"], r
    else:
        assert r["compression_ratio"] is None, r
    assert sum(c["blocks"] for c in r["codecs"].values()) == r["blocks"], r
    assert sum(c["stored_bytes"] for c in r["codecs"].values()) == r["stored_bytes"], r
    assert r["bytes_per_event"]["stored"] == r["stored_bytes"] / r["events"], r
    assert r["bytes_per_event"]["file"] == r["size"] / r["events"], r
assert set(golden["codecs"]) == {"lz4"}, golden
assert golden["events"] == 26 and golden["lost"]["truncated_strings"] == 1, golden
assert golden["levels"] == {"TRACE": 3, "DEBUG": 8, "INFO": 8, "WARN": 3, "ERROR": 3, "FATAL": 1}, golden
assert golden["top_by_count"][0]["events"] == 6 and golden["top_by_count"][0]["level"] == "DEBUG", golden
assert golden["top_by_count"][0]["format"] == "worker %d: step %d of %d", golden
assert [t["name"] for t in golden["threads"]] == ["main", "worker-1", "worker-2"], golden
assert [t["exited"] for t in golden["threads"]] == [False, True, True], golden
assert lost["lost"]["overwritten"] == 63 and lost["lost"]["dropped"] == 1, lost
assert lost["threads"][0]["overwritten"] == 63, lost
assert spans["spans_begun"] == 4 and spans["spans_ended"] == 4, spans
assert crash["crashed"] is True and crash["signal"] == "SIGSEGV", crash
assert [t["crashed"] for t in crash["threads"]] == [True], crash
assert sampled["lost"]["sampled_out"] == 185, sampled
assert sampled["lost"]["dropped_sampled"] == 90, sampled
assert sampled["lost"]["dropped_rate_limited"] == 95, sampled
PY

# The codecs stats reports: a snapshot written with TTLOG_COMPRESSION=none
# holds blocks of codec 0 only, one with packed of codec 2 (blocks this
# small gain nothing from zstd, which stores them packed).
mkdir -p "$tmp/none" "$tmp/packed"
raw=$(TTLOG_COMPRESSION=none "$progs/cli_snapshot" "$tmp/none" golden)
packed=$(TTLOG_COMPRESSION=packed "$progs/cli_snapshot" "$tmp/packed" golden)
expect "stats names the codecs of the blocks" sh -c '
	"$1" stats "$2" | grep -Eq "^  codecs +none 3 blocks, 880 bytes$" &&
	"$1" stats "$3" | grep -Eq "^  codecs +packed 3 blocks, [0-9]+ bytes$" &&
	"$1" stats -o json "$3" | grep -q "\"codecs\":{\"packed\":{\"blocks\":3,"' sh "$bin" "$raw" "$packed"

# A chunk whose type was damaged under a valid checksum: the reader skips it
# as a newer writer's optional chunk, and says so (here the crash stack).
cp "$crash" "$tmp/renamed.ttlog"
expect "the crash snapshot's STCK chunk renamed, checksum recomputed" python3 - "$tmp/renamed.ttlog" <<'PY'
import struct, sys

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF

data = bytearray(open(sys.argv[1], "rb").read())
off = struct.unpack_from("<H", data, 10)[0]
renamed = 0
while off + 16 <= len(data):
    length = struct.unpack_from("<I", data, off + 8)[0]
    if data[off:off + 4] == b"STCK":
        data[off:off + 4] = b"STCZ"
        body = bytes(data[off:off + 12]) + bytes(data[off + 16:off + 16 + length])
        struct.pack_into("<I", data, off + 12, crc32c(body))
        renamed += 1
    off += 16 + length
assert renamed >= 1, renamed
open(sys.argv[1], "wb").write(data)
PY
check "view of a file with an unknown chunk says it skipped it" - 0 '' -- sh -c \
	'"$1" view "$2" | grep -q "^-- skipped: chunks of types this ttlog does not know: [1-9][0-9]* (the first, STCZ, at byte [0-9]*); written by a newer ttlog, or damaged$"' \
	sh "$bin" "$tmp/renamed.ttlog"
check "stats of a file with an unknown chunk" - 0 '' -- sh -c \
	'"$1" stats "$2" | grep -q "^  unknown chunks  *[1-9][0-9]* skipped (the first, STCZ, at byte"' \
	sh "$bin" "$tmp/renamed.ttlog"
"$bin" stats -o json "$crash" "$tmp/renamed.ttlog" >"$tmp/unknown.json"
expect "stats -o json counts unknown chunks" python3 - "$tmp/unknown.json" <<'PY'
import json, sys
clean, renamed = [json.loads(line) for line in open(sys.argv[1])]
assert clean["chunks_unknown"] == 0, clean
assert renamed["chunks_unknown"] >= 1, renamed
assert renamed["events"] == clean["events"], (renamed, clean)
PY
"$bin" stats -o json --top 1 "$snap" >"$tmp/top1.json"
expect "stats -o json --top 1" python3 - "$tmp/top1.json" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert len(r["top_by_count"]) == 1 and len(r["top_by_bytes"]) == 1, r
PY

# Damaged files: the report of what is valid, then the precise error, exit 2.
cut=$bad/ttlog-1-20260101T000000.000000001Z-cut.ttlog
check "stats of a truncated file" '~^  state +incomplete \(no END chunk\)$' 2 \
	"^ttlog stats: $cut: offset [0-9]+: expected " -- "$bin" stats "$cut"
"$bin" stats -o json "$cut" >"$tmp/cut.json" 2>/dev/null
expect "stats -o json of a truncated file: fewer events, the error" python3 - "$tmp/cut.json" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert r["complete"] is False and ": offset " in r["error"], r
assert 0 <= r["events"] < 26 and sum(r["levels"].values()) == r["events"], r
PY
flip=$bad/ttlog-1-20260101T000000.000000003Z-flip.ttlog
check "stats of a file with a flipped byte" '~^File ' 2 \
	"^ttlog stats: $flip: offset [0-9]+: expected chunk CRC" -- "$bin" stats "$flip"
cp "$snap" "$tmp/end-flipped.ttlog"
python3 - "$tmp/end-flipped.ttlog" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[-1] ^= 0x01  # the END chunk: every event is still there
open(sys.argv[1], "wb").write(data)
PY
check "stats: a bad END still counts every event" '~^  events +26$' 2 \
	'offset [0-9]+: expected ' -- "$bin" stats "$tmp/end-flipped.ttlog"
check "stats of a text file" empty.txt 2 \
	'^ttlog stats: .*-text\.ttlog: offset 0: expected the ttlog magic' -- \
	"$bin" stats "$bad/ttlog-1-20260101T000000.000000004Z-text.ttlog"
check "stats of a missing file, then a good one" '~^  reason +golden$' 2 \
	"^ttlog stats: $tmp/missing.ttlog: cannot open" -- "$bin" stats "$tmp/missing.ttlog" "$snap"
check "stats: closed pipe ends quietly" - 0 '' -- sh -c '"$1" stats "$2" "$2" "$2" | head -n 1' \
	sh "$bin" "$snap"

check "stats without a file" - 1 "^ttlog stats: no FILE given" -- "$bin" stats
check "stats: bad --top" - 1 "bad count 'many' for --top" -- "$bin" stats --top many "$snap"
check "stats: negative --top" - 1 "bad count '-1' for --top" -- "$bin" stats --top -1 "$snap"
check "stats: unknown option" - 1 "^ttlog stats: unknown option '-x'" -- "$bin" stats -x "$snap"

finish
