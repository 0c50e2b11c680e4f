# SPDX-License-Identifier: MIT
# cli_hard_crash.sh - crashes that are hard on the crash handler
# (tests/progs/hard_crash.c), each in a child process under `timeout`: a
# handler that deadlocked (say on malloc's lock) or looped would show up as
# exit status 124 instead of death by the signal.
#
# Each crash must leave exactly one snapshot that `ttlog view` reads without
# error, with the crash and the events before it; the backtrace's top frames
# must be the function that crashed and its caller. Backtraces are checked
# whenever `ttlog view` prints them, and required once the library captures
# stacks and the command symbolises them (src/proc/stack.c and
# src/cli/symbolize.c in the source tree).
# shellcheck shell=bash
# shellcheck source=support/cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/support/cli_lib.sh"

hard=$progs/hard_crash
SIGSEGV=11
SIGABRT=6

# run MODE: runs hard_crash in $tmp/MODE/snaps; sets rc, dir, out, err.
run() {
	local mode=$1
	dir=$tmp/$mode/snaps
	out=$tmp/$mode/stdout
	err=$tmp/$mode/stderr
	mkdir -p "$tmp/$mode"
	rc=0
	timeout 60 "$hard" "$dir" "$mode" >"$out" 2>"$err" </dev/null || rc=$?
}

# one_snapshot MODE: the directory holds exactly one snapshot and no
# temporary; sets snap to it and writes its view to $tmp/MODE/view.
one_snapshot() {
	local mode=$1 files=("$dir"/*.ttlog) temps=("$dir"/.ttlog-*.tmp)
	snap=
	expect "$mode: exactly one snapshot" test "${#files[@]}" -eq 1 -a -f "${files[0]}"
	expect "$mode: no temporary left" test ! -e "${temps[0]}"
	[ -f "${files[0]}" ] || return 1
	snap=${files[0]}
	view=$tmp/$mode/view
	local vrc=0
	"$bin" view --utc "$snap" >"$view" 2>"$tmp/$mode/view.err" || vrc=$?
	expect "$mode: ttlog view reads it (status $vrc)" test "$vrc" = 0
	expect "$mode: nothing on view's stderr" test ! -s "$tmp/$mode/view.err"
}

# frames FILE: the function names of the first backtrace in a view, one a
# line ("??" when unknown).
frames() {
	awk '/^backtrace of thread /{n++} n == 1' "$1" |
		grep -E '^  #[0-9]+  0x[0-9a-f]{16} in ' | awk '{print $4}' # (mawk: no {16})
}

name_has_pid() {
	[[ $(basename "$1") == ttlog-"$2"-* ]]
}

# have_backtrace MODE: the view has a backtrace (a failure if not).
have_backtrace() {
	if grep -q '^backtrace of thread ' "$view"; then
		return 0
	fi
	fail "$1: the view has a backtrace" "no 'backtrace of thread' line in $view"
	return 1
}

# top_frames MODE F0 F1: frames #0 and #1 of the first backtrace.
top_frames() {
	local mode=$1 got
	got=$(frames "$view" | head -n 2 | tr '\n' ' ')
	expect "$mode: top frames are $2, $3 (got: $got)" test "$got" = "$2 $3 "
}

# ---- a stack overflow -----------------------------------------------------
run overflow
if [ "$rc" = 77 ]; then
	printf 'skip overflow: not in this build (sanitizer)\n'
else
	expect "overflow: died of SIGSEGV (status $rc)" test "$rc" = $((128 + SIGSEGV))
	if one_snapshot overflow; then
		expect "overflow: crash line" grep -q '^-- crash: SIGSEGV' "$view"
		expect "overflow: the events before it" grep -q 'marker 49 of main' "$view"
		have_backtrace overflow && top_frames overflow overflow_recurse overflow_recurse
	fi
fi

# ---- a crash inside malloc, with a corrupt heap -----------------------------
run malloc
if [ "$rc" = 77 ]; then
	printf 'skip malloc: not in this build (sanitizer)\n'
else
	expect "malloc: died of SIGSEGV or SIGABRT (status $rc)" \
		test "$rc" = $((128 + SIGSEGV)) -o "$rc" = $((128 + SIGABRT))
	if one_snapshot malloc; then
		expect "malloc: crash line" grep -Eq '^-- crash: SIG(SEGV|ABRT)' "$view"
		expect "malloc: the events before it" grep -q 'marker 49 of main' "$view"
		if have_backtrace malloc; then
			# The top frames are libc's (malloc, or abort's); below them
			# heap_victim, then its caller.
			mapfile -t fn < <(frames "$view")
			at=-1
			for i in "${!fn[@]}"; do
				[ "${fn[$i]}" = heap_victim ] && at=$i && break
			done
			expect "malloc: heap_victim is in the backtrace, below frame #0" test "$at" -gt 0
			expect "malloc: heap_caller is right below heap_victim" \
				test "$at" -gt 0 -a "${fn[$((at + 1))]:-}" = heap_caller
			ours=$(awk '/^backtrace of thread /{n++} n == 1' "$view" |
				grep -E '^  #[0-9]+  ' | head -n "$((at > 0 ? at : 1))" |
				grep -cE 'hard_crash\.c|\(hard_crash\+' || true)
			expect "malloc: the frames above heap_victim are not the program's" test "$ours" = 0
		fi
	fi
fi

# ---- a crash while eight threads log flat out -------------------------------
run busy
expect "busy: died of SIGSEGV (status $rc)" test "$rc" = $((128 + SIGSEGV))
if one_snapshot busy; then
	expect "busy: crash in hard-main" grep -Eq '^-- crash: SIGSEGV .* in thread [0-9]+ \(hard-main\)' "$view"
	expect "busy: the crashing thread's last events" grep -q 'marker 49 of main' "$view"
	"$bin" stats "$snap" >"$tmp/busy/stats"
	# Threads table rows: TID NAME EVENTS ...; all nine threads have events.
	with_events=$(awk '/^Threads:/{t=1; next} t && /^$/{t=0} t && $1 ~ /^[0-9]+$/ && $3 > 0 {print $2}' \
		"$tmp/busy/stats" | sort | tr '\n' ' ')
	expect "busy: events of all nine threads (got: $with_events)" test "$with_events" = \
		"hard-main logger-0 logger-1 logger-2 logger-3 logger-4 logger-5 logger-6 logger-7 "
	# The rings are frozen while the crash snapshot copies them: the busy
	# threads cannot overwrite what is being saved; their refused calls
	# are counted as dropped instead.
	expect "busy: nothing torn while the rings were copied" \
		grep -Eq '^  torn +0 \(0 bytes\)' "$tmp/busy/stats"
	expect "busy: the calls refused meanwhile are counted as dropped" \
		grep -Eq '^  dropped +[1-9][0-9]*' "$tmp/busy/stats"
	if have_backtrace busy; then
		expect "busy: the first backtrace is the crashed thread's" \
			grep -Eq '^backtrace of thread [0-9]+ \(hard-main\), crashed:' \
			<(grep -m1 '^backtrace of thread ' "$view")
		top_frames busy busy_crash busy_caller
	fi
fi

# ---- two threads crashing at once ------------------------------------------
run double
expect "double: died of SIGSEGV (status $rc)" test "$rc" = $((128 + SIGSEGV))
if one_snapshot double; then
	expect "double: crash in one of the two" grep -Eq '^-- crash: SIGSEGV .* \(crash-[ab]\)' "$view"
	expect "double: events of crash-a" grep -q 'marker 49 of crash-a' "$view"
	expect "double: events of crash-b" grep -q 'marker 49 of crash-b' "$view"
	if have_backtrace double; then
		got=$(frames "$view" | head -n 2 | tr '\n' ' ')
		expect "double: top frames are a crash function and double_thread (got: $got)" \
			test "$got" = "double_crash_a double_thread " -o "$got" = "double_crash_b double_thread "
	fi
fi

# ---- a crash in a forked child ---------------------------------------------
run fork
expect "fork: the parent went on and exited 0 (status $rc)" test "$rc" = 0
child=$(sed -nE 's/^child ([0-9]+) status signal 11$/\1/p' "$out")
expect "fork: the child died of SIGSEGV ($(cat "$out"))" test -n "$child"
if one_snapshot fork; then
	expect "fork: the file name has the child's pid" name_has_pid "$snap" "$child"
	expect "fork: HEAD has the child's pid" grep -Eq "^  process +pid $child," \
		<("$bin" stats "$snap")
	expect "fork: the child's events" grep -q 'marker 49 of child' "$view"
	expect "fork: crash line" grep -q '^-- crash: SIGSEGV' "$view"
	have_backtrace fork && top_frames fork child_crash child_caller
fi

# ---- a snapshot directory that became a regular file ------------------------
run unwritable
expect "unwritable: died of SIGSEGV (status $rc)" test "$rc" = $((128 + SIGSEGV))
expect "unwritable: the one line on stderr" test "$(cat "$err")" = \
	"ttlog: crash snapshot not written: cannot create a file in $dir (ENOTDIR)"
expect "unwritable: the directory is still the regular file" test -f "$dir"
leftovers=$(find "$tmp/unwritable" -name '*ttlog*' | wc -l)
expect "unwritable: no snapshot or temporary anywhere" test "$leftovers" = 0

# ---- a snapshot directory without write permission --------------------------
if [ "$(id -u)" = 0 ]; then
	printf 'skip readonly: root writes to a mode 0500 directory\n'
else
	run readonly
	expect "readonly: died of SIGSEGV (status $rc)" test "$rc" = $((128 + SIGSEGV))
	expect "readonly: the one line on stderr" test "$(cat "$err")" = \
		"ttlog: crash snapshot not written: cannot create a file in $dir (EACCES)"
	leftovers=$(find "$dir" -name '*ttlog*' | wc -l)
	expect "readonly: no snapshot or temporary" test "$leftovers" = 0
	chmod 0700 "$dir"
fi

finish
