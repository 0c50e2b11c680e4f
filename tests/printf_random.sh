#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# printf_random.sh - random printf conformance through the whole path, for
# TTLOG_INFO() and for ttlog_log() (runtime formats): a
# program logs cases drawn from a seed (tests/progs/printf_random.c: every
# conversion, length modifier and flag set C defines, '*' widths and '.*'
# precisions, edge and random values), the snapshot is read back by
# `ttlog view -o json`, and each message must equal, byte for byte, what
# glibc's snprintf made of the same format and arguments in the same
# program. JSON strings are decoded with surrogateescape, the lossless rule
# of docs/EXPORT.md, so bytes that are not UTF-8 are compared too.
#
# Each snapshot is also read by tests/progs/plan_check.c: every message
# through the plan the reader made of its site's format must equal the
# message made from the format's text, at every buffer size it tries.
#
# The seed is new at each run and printed; TTLOG_PRINTF_SEED=N repeats a
# run, TTLOG_PRINTF_CASES=N sets how many cases (default 10000).
# Also checks that tests/progs/printf_sites.inc is what
# tests/gen_printf_sites.py writes.
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

src=$(cd "$(dirname "$0")/.." && pwd)
seed=${TTLOG_PRINTF_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
cases=${TTLOG_PRINTF_CASES:-10000}
echo "printf_random: seed $seed, $cases cases (TTLOG_PRINTF_SEED=$seed repeats this run)"

expect "printf_sites.inc is up to date" python3 "$src/tests/gen_printf_sites.py" --check

# One run: MODE is "" (TTLOG_INFO) or "runtime" (ttlog_log with the format
# in a buffer), N the number of cases.
run_cases() {
	local mode=$1 n=$2 dir="$tmp/printf${1:+-$1}"
	mkdir -p "$dir"
	local path
	path=$("$progs/printf_random" "$seed" "$n" "$dir" "$dir/expected.txt" ${mode:+"$mode"})
	expect "printf_random $mode wrote a snapshot" test -f "$path"
	"$bin" view -o json "$path" >"$dir/view.json"
	expect "view -o json of the $mode snapshot" test $? = 0
	expect "every ${mode:+$mode }message equals snprintf's text (seed $seed)" python3 - "$dir/expected.txt" "$dir/view.json" "$n" "$mode" <<'PY'
import json, sys
expected = [line.rstrip("\n").split("\t", 1) for line in open(sys.argv[1])]
events = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")]
events = [e for e in events if e.get("kind", "log") == "log" and "message" in e]
cases = int(sys.argv[3])
assert len(expected) == cases, (len(expected), cases)
assert len(events) == cases, ("events in the snapshot", len(events), cases)
if sys.argv[4] == "runtime":  # each one through a runtime site, none formatted in the call
    assert all(e["file"] == "<runtime>" and e["args"] for e in events), "not runtime sites"
bad = 0
for i, ((want_hex, what), e) in enumerate(zip(expected, events)):
    want = bytes.fromhex(want_hex)
    got = e["message"].encode("utf-8", "surrogateescape")
    if got != want:
        bad += 1
        if bad <= 10:
            print("case %d: %s\n  snprintf: %r\n  ttlog:    %r" % (i, what, want, got))
if bad:
    sys.exit("%d of %d cases differ" % (bad, cases))
PY
	local check status=0
	check=$("$progs/plan_check" "$path") || status=$?
	echo "plan_check: $check"
	expect "every ${mode:+$mode }message through its site's plan equals the one from the format's text" \
		test "$status" = 0
	expect "every ${mode:+$mode }event has a plan" test "$check" = "$n events, $n with a plan, 0 differ"
}

run_cases "" "$cases"
# The runtime path: ttlog_log() with the same sites (fewer cases: each
# format is walked and copied once, the same code as the first run after).
run_cases runtime "$(( cases / 2 ))"

finish
