# SPDX-License-Identifier: MIT
# cli_lib.sh - what the shell tests of the `ttlog` command share: exact
# output checks against golden files, property checks, the final summary,
# and making a snapshot with tests/progs/cli_snapshot. Sourced, not run.
#
#   check NAME STDOUT EXIT STDERR -- COMMAND [ARGS...]
#     STDOUT  a golden file in tests/cli/golden/ that stdout must equal after
#             normalisation (see normalise), or ~REGEX that some line of
#             stdout must match, or - to ignore stdout
#     EXIT    the exit code the command must return
#     STDERR  an extended regular expression that stderr must match, or ''
#             for an empty stderr
#   expect NAME COMMAND [ARGS...]   the command must succeed
#   finish                          prints the counts; exits 1 if any failed
#   same_jobs NAME ARGS...          `ttlog ARGS` prints the same with --jobs 1
#                                   and --jobs 4
#
# Environment (set by CTest): TTLOG_BIN (the ttlog command), TTLOG_PROGS
# (the test programs), TTLOG_TEST_TMP (a scratch directory).
# UPDATE_GOLDEN=1 writes the golden files from the current output instead of
# comparing them; review the difference before committing it.

# shellcheck shell=bash
bin=${TTLOG_BIN:?TTLOG_BIN must name the ttlog command}
progs=${TTLOG_PROGS:?TTLOG_PROGS must name the directory of the test programs}
tmp=${TTLOG_TEST_TMP:-$(mktemp -d)}
golden_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cli/golden
update=${UPDATE_GOLDEN:-}
[ -z "$update" ] || mkdir -p "$golden_dir"

# Times print in local time unless --utc: pin the zone (POSIX TZ strings
# need no time zone database). Colour is off when stdout is not a terminal,
# which it never is here.
export TZ=UTC0 LC_ALL=C
unset NO_COLOR

passed=0
failed=0

# Backtraces hold addresses, and names and lines that depend on the build:
# normalise leaves them out of what is compared, unless a test empties this
# (tests/cli_stack.sh, which checks them).
stack_filter='/^(backtrace|stack) of thread [0-9]+.*:$/d
/^  #[0-9]+  0x[0-9a-f]+ in /d
/^  \((stack truncated|unwinding stopped|no frames)/d
/^-- symbols: /d
/^\{"kind":"(stack|modules)",/d'

# Replaces what changes from run to run: thread ids in text lines, notes and
# JSON, and the directory of the test program's source in JSON "file".
normalise() {
	sed -E \
		-e "$stack_filter" \
		-e 's/^([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [A-Z]+ +)\[[0-9]+/\1[TID/' \
		-e 's/(\x1b\[[0-9;]*m[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [A-Z]+ +)\[[0-9]+/\1[TID/' \
		-e 's/ in thread [0-9]+/ in thread TID/' \
		-e 's/^-- thread [0-9]+/-- thread TID/' \
		-e 's/"tid":[0-9]+/"tid":TID/' \
		-e 's#"file":"[^"]*/(tests/progs/[^"/]*)"#"file":"\1"#'
}

fail() {
	failed=$((failed + 1))
	printf 'FAIL %s\n' "$1"
	shift
	printf '     %s\n' "$@"
}

check() {
	local name=$1 want_out=$2 want_rc=$3 want_err=$4
	shift 4
	[ "$1" = -- ] && shift
	local raw=$tmp/case.raw out=$tmp/case.out err=$tmp/case.err rc=0
	local problems=()

	"$@" >"$raw" 2>"$err" </dev/null || rc=$?
	normalise <"$raw" >"$out"

	[ "$rc" = "$want_rc" ] || problems+=("exit code $rc, expected $want_rc")
	if [ -z "$want_err" ]; then
		[ -s "$err" ] && problems+=("stderr is not empty: $(head -c 300 "$err")")
	elif ! grep -Eq -- "$want_err" "$err"; then
		problems+=("stderr does not match /$want_err/: $(head -c 300 "$err")")
	fi
	case $want_out in
	-) ;;
	~*)
		grep -Eq -- "${want_out:1}" "$out" ||
			problems+=("stdout has no line matching /${want_out:1}/")
		;;
	*)
		if [ -n "$update" ]; then
			cp "$out" "$golden_dir/$want_out"
		elif [ ! -f "$golden_dir/$want_out" ]; then
			problems+=("missing golden file tests/cli/golden/$want_out")
		elif ! cmp -s "$out" "$golden_dir/$want_out"; then
			problems+=("stdout differs from tests/cli/golden/$want_out:")
			while IFS= read -r line; do
				problems+=("$line")
			done < <(diff -u "$golden_dir/$want_out" "$out" | head -n 30)
		fi
		;;
	esac

	if [ ${#problems[@]} -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok   %s\n' "$name"
	else
		fail "$name: $*" "${problems[@]}"
	fi
}

# A check that is not a command's output (a precondition or a property).
expect() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		printf 'ok   %s\n' "$name"
	else
		fail "$name" "failed: $*"
	fi
}

finish() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ] || exit 1
	exit 0
}

# Runs cli_snapshot in MODE and prints the path of the snapshot; ends the
# tests if there is none, since every case needs it.
make_snapshot() {
	local path
	mkdir -p "$tmp/$1"
	path=$("$progs/cli_snapshot" "$tmp/$1" "$1")
	if [ ! -f "$path" ]; then
		fail "cli_snapshot $1" "the test program could not write its snapshot" >&2
		printf '0 passed, 1 failed\n' >&2
		exit 1
	fi
	printf '%s\n' "$path"
}

# Runs cli_snapshot in crash mode and sets crash to the path of its snapshot,
# the only file in its directory (checked). The program dies of SIGSEGV; the
# subshell waits for it (the `true` keeps bash from exec'ing it directly) and
# so reports the signal into /dev/null, not into the log.
make_crash_snapshot() {
	mkdir -p "$tmp/crash"
	("$progs/cli_snapshot" "$tmp/crash" crash; true) >/dev/null 2>&1
	crash=
	for path in "$tmp/crash"/*.ttlog; do
		[ -f "$path" ] && crash=$path
	done
	expect "cli_snapshot crash wrote a snapshot" test -n "$crash"
}

# snapshot_reason FILE: the reason recorded in a snapshot's header (from
# `ttlog ls -o json` of its directory).
snapshot_reason() {
	"$bin" ls -o json "$(dirname "$1")" |
		python3 -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["path"] == sys.argv[1]:
        print(r["reason"])' "$1"
}

# threads_opening FILE ARGS...: how many threads of `ttlog ARGS --jobs 4`
# other than the main one open a path that has FILE in it (strace).
threads_opening() {
	local file=$1 main
	shift
	strace -f -qq -e trace=openat,execve -o "$tmp/strace.log" "$bin" "$@" --jobs 4 >/dev/null 2>&1
	main=$(awk 'NR == 1 {print $1}' "$tmp/strace.log")
	grep -F -- "$file" "$tmp/strace.log" | awk -v main="$main" '$1 != main {print $1}' | sort -u | wc -l
}

# same_jobs NAME ARGS...: `ttlog ARGS` with --jobs 1 and --jobs 4 prints
# the same on stdout and stderr and exits the same (the reading, checking
# and rendering threads change nothing of what is printed). Leaves the
# outputs in $tmp/j1.out, j1.err, j4.out and j4.err, and --jobs 1's exit
# status in last_s1.
same_jobs() {
	local name=$1 s4
	shift
	"$bin" "$@" --jobs 1 >"$tmp/j1.out" 2>"$tmp/j1.err"
	last_s1=$?
	"$bin" "$@" --jobs 4 >"$tmp/j4.out" 2>"$tmp/j4.err"
	s4=$?
	expect "$name: has events" test -s "$tmp/j1.out"
	expect "$name: stdout of --jobs 4 is that of --jobs 1" cmp -s "$tmp/j1.out" "$tmp/j4.out"
	expect "$name: stderr of --jobs 4 is that of --jobs 1" cmp -s "$tmp/j1.err" "$tmp/j4.err"
	expect "$name: exit status of --jobs 4 is that of --jobs 1" test "$last_s1" = "$s4"
}
