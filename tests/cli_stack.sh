#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_stack.sh - backtraces in `ttlog view`: a program that dies two known
# functions deep (tests/progs/stack_crash.c) must show them as frames #0 and
# #1 at their source lines; then --no-symbols, --registers, --modules,
# -o json, separate debug files with --debug-dir, and a binary rebuilt after
# the crash, whose lines must not be used.
set -u
# shellcheck source=support/cli_lib.sh
. "$(dirname "$0")/support/cli_lib.sh"

# Debug files come from the disk only: no network lookups.
unset DEBUGINFOD_URLS
# The backtraces are what this test compares (cli_lib.sh leaves them out).
stack_filter=

src=$(cd "$(dirname "$0")" && pwd)/progs/stack_crash.c
crash_line=$(grep -n '/\* line:crash \*/' "$src" | cut -d: -f1)
call_line=$(grep -n '/\* line:call \*/' "$src" | cut -d: -f1)
addr='0x[0-9a-f]{16}'

# Runs PROGRAM (a copy of stack_crash) into DIR and sets snap to the one
# snapshot it wrote.
crash_into() {
	mkdir -p "$2"
	("$1" "$2"; true) >/dev/null 2>&1
	snap=
	for path in "$2"/*.ttlog; do
		[ -f "$path" ] && snap=$path
	done
	expect "$1 wrote a crash snapshot" test -n "$snap"
	[ -n "$snap" ] || finish
}

crash_into "$progs/stack_crash" "$tmp/plain"
plain=$snap

# ---- The backtrace --------------------------------------------------------

check "header names the crashed thread" \
	'~^backtrace of thread [0-9]+ \(stacker\), crashed:$' 0 '' -- "$bin" view "$plain"
check "#0 is crash_here at the faulting line" \
	"~^  #0  $addr in crash_here at .*/stack_crash\\.c:$crash_line\$" 0 '' -- "$bin" view "$plain"
check "#1 is caller at the call (return address - 1)" \
	"~^  #1  $addr in caller at .*/stack_crash\\.c:$call_line\$" 0 '' -- "$bin" view "$plain"
check "#2 is main" "~^  #2  $addr in main at .*/stack_crash\\.c:[0-9]+\$" 0 '' -- "$bin" view "$plain"
check "libc frames below main, by module" "~^  #[0-9]+  $addr in .*\\(libc\\.so\\.6\\+0x[0-9a-f]+\\)\$|^  #[0-9]+  $addr in .* at .*" \
	0 '' -- "$bin" view "$plain"
# The backtrace follows the crash summary.
"$bin" view "$plain" >"$tmp/plain.txt" 2>&1
crash_at=$(grep -n '^-- crash: ' "$tmp/plain.txt" | head -n 1 | cut -d: -f1)
bt_at=$(grep -n '^backtrace of thread' "$tmp/plain.txt" | head -n 1 | cut -d: -f1)
expect "backtrace after the crash line" test "${bt_at:-0}" -gt "${crash_at:-99999}"

# ---- A stack written on demand (ttlog_snapshot_with_stack) ------------------

snapshot_line=$(grep -n '/\* line:snapshot \*/' "$src" | cut -d: -f1)
mkdir -p "$tmp/ondemand"
expect "stack_crash snapshot exits normally" "$progs/stack_crash" "$tmp/ondemand" snapshot
ondemand=
for path in "$tmp/ondemand"/*.ttlog; do
	[ -f "$path" ] && ondemand=$path
done
check "on demand: the header" '~^stack of thread [0-9]+ \(stacker\), at snapshot:$' 0 '' \
	-- "$bin" view "$ondemand"
check "on demand: #0 is the call of ttlog_snapshot_with_stack" \
	"~^  #0  $addr in snapshot_here at .*/stack_crash\\.c:$snapshot_line\$" 0 '' -- "$bin" view "$ondemand"
check "on demand: #1 is caller" "~^  #1  $addr in caller at .*/stack_crash\\.c:[0-9]+\$" 0 '' \
	-- "$bin" view "$ondemand"
check "on demand: no crash, not \"crashed\"" - 0 '' -- bash -c '! "$1" view "$2" | grep -Eq "crashed|^-- crash:"' _ "$bin" "$ondemand"

# ---- --no-symbols: module+offset, and the offset is right ------------------

check "--no-symbols: #0 as module+offset" \
	"~^  #0  $addr in \\?\\? \\(stack_crash\\+0x[0-9a-f]+\\)\$" 0 '' -- "$bin" view --no-symbols "$plain"
off=$("$bin" view --no-symbols "$plain" | sed -nE 's/^  #0  0x[0-9a-f]+ in \?\? \(stack_crash\+0x([0-9a-f]+)\)$/\1/p')
# The offset is an ELF address of the program: inside crash_here's symbol.
read -r sym_start sym_size < <(nm -S "$progs/stack_crash" | awk '$4 ~ /^crash_here($|\.)/ { print $1, $2; exit }')
in_crash_here() {
	[ -n "$off" ] && [ -n "${sym_start:-}" ] &&
		(( 16#$off >= 16#$sym_start && 16#$off < 16#$sym_start + 16#$sym_size ))
}
expect "--no-symbols offset lies in crash_here (nm)" in_crash_here

# ---- --registers and --modules --------------------------------------------

check "--registers: a line of registers" "~^    [a-z0-9]+ +$addr  [a-z0-9]+ +$addr" 0 '' \
	-- "$bin" view --registers "$plain"
if [ "$(uname -m)" = x86_64 ]; then
	"$bin" view --registers "$plain" >"$tmp/regs.txt"
	pc0=$(sed -nE "s/^  #0  ($addr) in .*/\\1/p" "$tmp/regs.txt" | head -n 1)
	rip=$(grep -oE "rip +$addr" "$tmp/regs.txt" | grep -oE "$addr")
	expect "rip is the address of frame #0" test -n "$rip" -a "$rip" = "$pc0"
fi
check "--modules: a header" '~^modules \([0-9]+\):$' 0 '' -- "$bin" view --modules "$plain"
build_id=$(readelf -n "$progs/stack_crash" | sed -nE 's/^ *Build ID: ([0-9a-f]+)$/\1/p')
check "--modules: the program with its build-id" \
	"~^  $addr-$addr  .*/stack_crash  build-id $build_id\$" 0 '' -- "$bin" view --modules "$plain"
check "no registers or modules without the options" '~^backtrace' 0 '' -- "$bin" view "$plain"
expect "registers and modules only on request" \
	bash -c '! grep -Eq "^(    rip|modules \\()" "$1"' _ "$tmp/plain.txt"

# ---- -o json ---------------------------------------------------------------

"$bin" view -o json --registers --modules "$plain" >"$tmp/plain.json" 2>"$tmp/plain.json.err"
json_ok() {
	python3 - "$tmp/plain.json" "$crash_line" "$call_line" <<'PY'
import json, sys
path, crash_line, call_line = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
objs = [json.loads(line) for line in open(path)]  # every line is JSON
stacks = [o for o in objs if o.get("kind") == "stack"]
mods = [o for o in objs if o.get("kind") == "modules"]
assert len(stacks) >= 1 and len(mods) == 1, (len(stacks), len(mods))
s = stacks[0]
assert s["crashed"] is True and s["thread"] == "stacker" and isinstance(s["tid"], int), s
f0, f1 = s["frames"][0], s["frames"][1]
keys = {"index", "address", "function", "file", "line", "module", "offset", "inlined"}
assert all(set(f) == keys for f in s["frames"]), s["frames"]
assert [f["index"] for f in s["frames"]] == list(range(len(s["frames"])))
assert f0["function"] == "crash_here" and f0["file"].endswith("/stack_crash.c"), f0
assert f0["line"] == crash_line and f0["inlined"] is False, f0
assert f1["function"] == "caller" and f1["line"] == call_line, f1
assert f0["module"].endswith("/stack_crash") and f0["offset"].startswith("0x"), f0
assert int(f0["address"], 16) > int(f0["offset"], 16)
assert isinstance(s["registers"], dict) and s["registers"], s.get("registers")
m = [x for x in mods[0]["modules"] if x["path"] == f0["module"]]
assert len(m) == 1 and int(m[0]["start"], 16) <= int(f0["address"], 16) < int(m[0]["end"], 16), m
assert int(f0["address"], 16) - int(m[0]["bias"], 16) == int(f0["offset"], 16)
PY
}
expect "-o json: stack and modules objects" json_ok

# ---- --debug-dir and a rebuilt binary ---------------------------------------

# A stripped copy of the program, its debug information in a .build-id tree.
mkdir -p "$tmp/bin" "$tmp/debug/.build-id/${build_id:0:2}"
strip -g -o "$tmp/bin/stack_crash" "$progs/stack_crash"
objcopy --only-keep-debug "$progs/stack_crash" "$tmp/debug/.build-id/${build_id:0:2}/${build_id:2}.debug"
crash_into "$tmp/bin/stack_crash" "$tmp/stripped"
stripped=$snap

# (The symbol table's name, which may have gcc's clone suffixes: crash_here.constprop.0.)
check "stripped: a name from the symbol table, no line" \
	"~^  #0  $addr in crash_here(\\.[a-z_]+(\\.[0-9]+)?)* \\(stack_crash\\+0x[0-9a-f]+\\)\$" 0 '' \
	-- "$bin" view "$stripped"
check "stripped + --debug-dir: the line again" \
	"~^  #0  $addr in crash_here at .*/stack_crash\\.c:$crash_line\$" 0 '' \
	-- "$bin" view --debug-dir "$tmp/debug" "$stripped"
check "--debug-dir is repeatable" \
	"~^  #1  $addr in caller at .*/stack_crash\\.c:$call_line\$" 0 '' \
	-- "$bin" view --debug-dir "$tmp/nowhere" --debug-dir "$tmp/debug" "$stripped"

# The program is rebuilt after the crash: another ELF file at its path.
cp "$progs/crasher" "$tmp/bin/stack_crash"
check "rebuilt: module+offset only" "~^  #0  $addr in \\?\\? \\(stack_crash\\+0x[0-9a-f]+\\)\$" 0 '' \
	-- "$bin" view "$stripped"
check "rebuilt: a note says why" "~^-- symbols: build-id mismatch for .*/bin/stack_crash " 0 '' \
	-- "$bin" view "$stripped"
"$bin" view "$stripped" >"$tmp/rebuilt.txt"
expect "rebuilt: said once" test "$(grep -c 'build-id mismatch' "$tmp/rebuilt.txt")" -eq 1
# Two snapshots of the same modules share one symboliser; each still has
# its backtrace and its note. A third with other modules gets its own.
"$bin" view "$stripped" "$stripped" "$plain" >"$tmp/three.txt"
expect "several files: a backtrace each" test "$(grep -c '^  #0  ' "$tmp/three.txt")" -eq 3
expect "several files: the note for each file of that module" \
	test "$(grep -c 'build-id mismatch' "$tmp/three.txt")" -eq 2
expect "several files: the third has its lines" \
	grep -Eq "^  #0  $addr in crash_here at .*/stack_crash\.c:$crash_line\$" "$tmp/three.txt"
check "rebuilt + --debug-dir: the recorded build, found by build-id" \
	"~^  #0  $addr in crash_here at .*/stack_crash\\.c:$crash_line\$" 0 '' \
	-- "$bin" view --debug-dir "$tmp/debug" "$stripped"
check "-o json: the note on stderr" - 0 'symbols: build-id mismatch' -- "$bin" view -o json "$stripped"

# The file is gone.
rm "$tmp/bin/stack_crash"
check "missing file: module+offset" "~^  #0  $addr in \\?\\? \\(stack_crash\\+0x[0-9a-f]+\\)\$" 0 '' \
	-- "$bin" view "$stripped"

# ---- Usage -------------------------------------------------------------------

check "--debug-dir needs a directory" - 1 'debug-dir' -- "$bin" view --debug-dir "" "$plain"
check "--help lists the stack options" '~--no-symbols' 0 '' -- "$bin" view --help

finish
