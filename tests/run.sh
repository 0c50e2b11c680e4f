#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - `ttlog run -- CMD`: unmodified programs recorded through the
# preload shim libttlog-run.so.
#
#   - tests/progs/plain_output (built without ttlog) writes interleaved
#     stdout/stderr lines through printf, puts, fwrite, write(2), fprintf,
#     dprintf and perror, calls syslog and warn/warnx, and then exits, dies
#     of SIGSEGV or calls err(3). Its output through `ttlog run` must be
#     byte for byte what it is without, in the same order, on a pipe (both
#     streams into one) and on a terminal (script(1)'s pseudo-terminal);
#     the exit status is the program's (128+N for signal N);
#   - the crash snapshot holds every line with its level (stdout info,
#     stderr warn or --level-regex's, syslog by priority, warn warn), the
#     source field, and the symbolised backtrace ending in crash_here; the
#     snapshot's path is printed on stderr, and nothing when none was
#     written; without --stdout no stdout line is recorded;
#   - err(3) through --stream: the segment holds its event at error;
#   - Debian's sh: a shell's output, its crash, --follow-children (the
#     shell's child is recorded, LD_PRELOAD kept) and without it (the child
#     runs without the shim, LD_PRELOAD gone);
#   - refusals before exec: a statically linked program (built here with
#     gcc -static), setuid and setgid copies, a damaged ELF file, one for
#     another machine, a missing command, bad options, a shim that is not
#     there.
set -u

bin=${TTLOG_BIN:?TTLOG_BIN must name the ttlog command}
progs=${TTLOG_PROGS:?TTLOG_PROGS must name the directory of the test programs}
tmp=${TTLOG_TEST_TMP:-$(mktemp -d)}
prog=$progs/plain_output
export TZ=UTC0 LC_ALL=C
passed=0 failed=0

fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 30 | sed 's/^/     /'
}
ok() { passed=$((passed + 1)); }

[ -x "$prog" ] || { echo "FAIL: $prog was not built"; exit 1; }

# In a sanitizer build the shim and libttlog are instrumented: the
# sanitizer's runtime must be loaded first into the uninstrumented programs.
shim_dir=$(dirname "$bin")
runtime=$(ldd "$shim_dir/libttlog-run.so" 2>/dev/null | grep -oE '/[^ ]*lib(a|t)san\.so[^ ]*' | head -n 1)
# Only the programs started through ttlog run get it; in them, leaks of
# Debian's programs are not this test's business.
run=("$bin" run)
# The crash must reach ttlog's handler and then kill the program, as without
# the sanitizer (TSan would report the re-raised signal and exit 66).
if [ -n "$runtime" ]; then
	run=(env "LD_PRELOAD=$runtime" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
		"TSAN_OPTIONS=${TSAN_OPTIONS:+$TSAN_OPTIONS:}handle_segv=0" "$bin" run)
fi
plain_env=(env -u LD_PRELOAD "TSAN_OPTIONS=${TSAN_OPTIONS:+$TSAN_OPTIONS:}handle_segv=0")

# ---- Output unchanged and in order -------------------------------------------

for mode in exit segv err; do
	{ "${plain_env[@]}" "$prog" "$mode" >"$tmp/plain.$mode" 2>&1; } 2>/dev/null
	plain_rc=$?
	"${run[@]}" --dir "$tmp/snaps.$mode" --stdout -- "$prog" "$mode" >"$tmp/run.$mode" 2>"$tmp/run.$mode.err" </dev/null
	# Both streams into one pipe, as 2>&1 does.
	"${run[@]}" --dir "$tmp/snaps-pipe.$mode" --stdout -- "$prog" "$mode" 2>&1 |
		sed '/^ttlog run: snapshot written/d' >"$tmp/pipe.$mode"
	rc=${PIPESTATUS[0]}
	if cmp -s "$tmp/plain.$mode" "$tmp/pipe.$mode"; then ok; else
		fail "$mode: output through a pipe differs from the program's own" "$(diff "$tmp/plain.$mode" "$tmp/pipe.$mode")"
	fi
	if [ "$rc" = "$plain_rc" ]; then ok; else fail "$mode: exit status $rc, the program's is $plain_rc"; fi
done
[ "$(head -n 2 "$tmp/plain.exit")" = $'out printf 0\nerr fprintf 0' ] && ok ||
	fail "the program's own output is not interleaved as expected" "$(cat "$tmp/plain.exit")"

# On a terminal stdout is line-buffered: the same bytes, CRs added by the tty.
if command -v script >/dev/null; then
	"${plain_env[@]}" script -qec "$prog exit" /dev/null >"$tmp/tty.plain" </dev/null
	script -qec "${run[*]} --dir $tmp/snaps.tty --stdout -- $prog exit" /dev/null >"$tmp/tty.run" </dev/null
	if cmp -s "$tmp/tty.plain" "$tmp/tty.run" && grep -q 'out unflushed' "$tmp/tty.run"; then ok; else
		fail "output on a terminal differs" "$(diff "$tmp/tty.plain" "$tmp/tty.run")"
	fi
else
	fail "script(1) not found: install util-linux/bsdutils (scripts/install-deps.sh --test)"
fi

# ---- The crash snapshot --------------------------------------------------------

"${run[@]}" --dir "$tmp/lv" --stdout --level-regex '^ERROR:=error,^WARN =warn,fprintf 1$=debug' \
	-- "$prog" segv >/dev/null 2>"$tmp/lv.err"
rc=$?
[ "$rc" = 139 ] && ok || fail "segv: exit status $rc, not 139"
snap=$(ls "$tmp"/lv/ttlog-*-SIGSEGV.ttlog 2>/dev/null | head -n 1)
if [ -n "$snap" ] && grep -qx "ttlog run: snapshot written: $snap" "$tmp/lv.err"; then ok; else
	fail "segv: no snapshot, or its path not printed" "$(cat "$tmp/lv.err"; ls -l "$tmp/lv")"
fi
"$bin" view "$snap" >"$tmp/lv.txt" 2>&1 || fail "view of the crash snapshot failed" "$(cat "$tmp/lv.txt")"
expect_line() { # NAME REGEX: some line of the snapshot's text matches
	if grep -Eq -- "$2" "$tmp/lv.txt"; then ok; else fail "snapshot: $1" "$(cat "$tmp/lv.txt")"; fi
}
expect_line "stdout printf at info" ' INFO  .* out printf 0 source=stdout$'
expect_line "stdout puts" ' INFO  .* out puts source=stdout$'
expect_line "stdout fwrite" ' INFO  .* out fwrite source=stdout$'
expect_line "stdout write(2)" ' INFO  .* out write source=stdout$'
expect_line "stderr default warn" ' WARN  .* err fprintf 0 source=stderr$'
expect_line "stderr regex to debug" ' DEBUG .* err fprintf 1 source=stderr$'
expect_line "stderr regex to error (raw write)" ' ERROR .* ERROR: raw write to stderr source=stderr$'
expect_line "stderr dprintf, regex to warn" ' WARN  .* WARN dprintf 5 source=stderr$'
expect_line "a line written in two pieces" ' WARN  .* partial line joined source=stderr$'
expect_line "perror" ' WARN  .* perror says: No such file or directory source=stderr$'
expect_line "syslog LOG_ERR" ' ERROR .* syslog error 7 source=syslog$'
expect_line "syslog LOG_INFO" ' INFO  .* syslog info here source=syslog$'
expect_line "syslog LOG_CRIT" ' FATAL .* syslog crit source=syslog$'
expect_line "warn(3)" ' WARN  .* plain_output: warn call 1: Permission denied source=err$'
expect_line "warnx(3)" ' WARN  .* plain_output: warnx call 2 source=err$'
expect_line "the last line before the crash" ' WARN  .* about to crash source=stderr$'
expect_line "the crash" '^-- crash: SIGSEGV'
expect_line "the symbolised backtrace" '^  #0  0x[0-9a-f]+ in crash_here at .*plain_output\.c:[0-9]+$'
expect_line "main in the backtrace" '^  #1  0x[0-9a-f]+ in main at '
# Once each: warn's own stderr line is not recorded a second time.
n=$(grep -c 'warn call 1' "$tmp/lv.txt")
[ "$n" = 1 ] && ok || fail "warn(3) recorded $n times, not once"
# Events in the order the program wrote them.
order=$(grep -oE '(out printf 0|err fprintf 0|out printf 1|out puts|out last|about to crash) source' "$tmp/lv.txt" | tr '\n' ,)
[ "$order" = "out printf 0 source,err fprintf 0 source,out printf 1 source,out puts source,out last source,about to crash source," ] &&
	ok || fail "events out of order: $order"

# Without --stdout, stdout is not recorded; stderr is.
"${run[@]}" --dir "$tmp/nostdout" -- "$prog" segv >/dev/null 2>&1
snap=$(ls "$tmp"/nostdout/*.ttlog 2>/dev/null | head -n 1)
text=$("$bin" view "$snap" 2>&1)
if ! grep -q 'source=stdout' <<<"$text" && grep -q 'err fprintf 2 source=stderr' <<<"$text"; then ok; else
	fail "without --stdout: stdout recorded, or stderr not" "$text"
fi

# No snapshot, no line about one.
if ! grep -q 'snapshot' "$tmp/run.exit.err" && [ ! -e "$tmp/snaps.exit" ] || [ -z "$(ls "$tmp/snaps.exit")" ]; then ok; else
	fail "a run without a snapshot said something about one" "$(cat "$tmp/run.exit.err")"
fi

# err(3) at error, seen through a stream segment (no snapshot at a normal exit).
"${run[@]}" --dir "$tmp/errs" --stream "$tmp/stream" -- "$prog" err >/dev/null 2>&1
rc=$?
[ "$rc" = 4 ] && ok || fail "err: exit status $rc, not 4"
text=$("$bin" view "$tmp/stream" 2>&1)
if grep -Eq ' ERROR .* plain_output: err call 3: Operation not permitted source=err$' <<<"$text"; then ok; else
	fail "err(3) not in the stream at error" "$text"
fi

# ---- Debian's sh, --follow-children --------------------------------------------------

# dash writes its own errors to fd 2 ("cd: can't cd to ..."); `echo x >&2`
# is a write to fd 1 made a copy of fd 2, which counts as stdout.
out=$("${run[@]}" --dir "$tmp/sh1" -- sh -c 'echo to-out; cd /outer-missing; echo "preload=${LD_PRELOAD:-none}"; sh -c "cd /inner-missing; kill -SEGV \$\$"; kill -SEGV $$' 2>"$tmp/sh1.err")
rc=$?
[ "$rc" = 139 ] && ok || fail "sh: exit status $rc, not 139" "$(cat "$tmp/sh1.err")"
case $out in *"preload=${runtime:-none}"*) ok ;; *) fail "sh without --follow-children: the shim stayed in LD_PRELOAD" "$out" ;; esac
n=$(ls "$tmp"/sh1/*.ttlog 2>/dev/null | wc -l)
[ "$n" = 1 ] && ok || fail "sh without --follow-children: $n snapshots, not 1 (the outer shell's)" "$(ls "$tmp/sh1")"
text=$("$bin" view "$tmp"/sh1/*.ttlog 2>&1)
if grep -q "can't cd to /outer-missing source=stderr" <<<"$text" && ! grep -q 'inner-missing source' <<<"$text"; then ok; else
	fail "sh: the shell's stderr not recorded, or its child's recorded" "$text"
fi
case $runtime in
*libtsan*)
	# Debian's dash with only the TSan runtime preloaded dies of SIGSEGV
	# before its first line, shim or no shim in its parent.
	echo "note: TSan build: the output of the child that runs without the shim is not checked"
	;;
*)
	grep -q "can't cd to /inner-missing" "$tmp/sh1.err" && ok ||
		fail "sh: the child without the shim did not run" "$(cat "$tmp/sh1.err")"
	;;
esac

out=$("${run[@]}" --dir "$tmp/sh2" --follow-children -- sh -c 'sh -c "cd /inner-missing; echo \"inner-preload=\$LD_PRELOAD\"; kill -SEGV \$\$"; cd /outer-missing' 2>"$tmp/sh2.err")
rc=$?
[ "$rc" = 2 ] && ok || fail "sh --follow-children: exit status $rc, not 2 (cd's)" "$(cat "$tmp/sh2.err")"
case $out in *inner-preload=*libttlog-run.so*) ok ;; *) fail "--follow-children: LD_PRELOAD lost" "$out" ;; esac
snap=$(ls "$tmp"/sh2/*.ttlog 2>/dev/null | head -n 1)
text=$("$bin" view "$snap" 2>&1)
if grep -q "can't cd to /inner-missing source=stderr" <<<"$text" && grep -qx "ttlog run: snapshot written: $snap" "$tmp/sh2.err"; then ok; else
	fail "--follow-children: the child's crash snapshot missing or not named" "$(cat "$tmp/sh2.err"; echo "$text")"
fi

# ---- Refusals ------------------------------------------------------------------------

refused() { # NAME EXIT REGEX -- ARGS...: ttlog run refuses, the program does not run
	local name=$1 want=$2 re=$3
	shift 4
	"${run[@]}" --dir "$tmp/refused" "$@" >"$tmp/ref.out" 2>"$tmp/ref.err"
	local rc=$?
	if [ "$rc" = "$want" ] && grep -Eq -- "$re" "$tmp/ref.err" && [ ! -s "$tmp/ref.out" ]; then ok; else
		fail "$name: exit $rc (want $want), stderr:" "$(cat "$tmp/ref.err" "$tmp/ref.out")"
	fi
}
printf 'int main(void) { return 0; }\n' >"$tmp/static.c"
if gcc -static -o "$tmp/static_prog" "$tmp/static.c" 2>"$tmp/gcc.err"; then
	refused "static binary" 126 'statically linked .*refused' -- "$tmp/static_prog"
else
	fail "gcc -static failed (libc6-dev's libc.a): cannot build the static program" "$(cat "$tmp/gcc.err")"
fi
cp "$prog" "$tmp/setuid_prog" && chmod u+s "$tmp/setuid_prog"
refused "setuid copy" 126 'is setuid: .*refused' -- "$tmp/setuid_prog" exit
cp "$prog" "$tmp/setgid_prog" && chmod g+s "$tmp/setgid_prog"
refused "setgid copy" 126 'is setgid: .*refused' -- "$tmp/setgid_prog" exit
# A script whose interpreter is static is refused through it.
printf '#!%s\n' "$tmp/static_prog" >"$tmp/script" && chmod +x "$tmp/script"
[ -x "$tmp/static_prog" ] && refused "script of a static interpreter" 126 'statically linked' -- "$tmp/script"
# A copy of the program whose program headers are said to lie past the end
# of the file (e_phoff, 8 bytes at offset 32).
cp "$prog" "$tmp/bad_elf"
printf '\000\000\000\000\000\001\000\000' | dd of="$tmp/bad_elf" bs=1 seek=32 conv=notrunc status=none
refused "damaged ELF" 126 'damaged ELF file' -- "$tmp/bad_elf"
# A program for another machine (e_machine, 2 bytes at offset 18: AArch64).
cp "$prog" "$tmp/other_machine"
printf '\267\000' | dd of="$tmp/other_machine" bs=1 seek=18 conv=notrunc status=none
refused "another machine" 126 'built for another machine .*machine 183\) .*refused' -- "$tmp/other_machine"
refused "missing command" 127 'no-such-command-here: command not found' -- no-such-command-here
refused "no command" 125 'no program to run' --
refused "bad level" 125 "unknown level 'loud'" -- --level-regex 'x=loud' -- true
refused "bad regex" 125 'level-regex: .*\(' -- --level-regex '(=error' -- true
refused "unknown option" 125 "unknown option '--nope'" -- --nope -- true
TTLOG_RUN_SHIM=$tmp/none.so refused "shim not there" 125 'TTLOG_RUN_SHIM=.*none.so' -- true
if "${run[@]}" --help | grep -q '^Usage: ttlog run'; then ok; else fail "ttlog run --help"; fi

echo "run.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
