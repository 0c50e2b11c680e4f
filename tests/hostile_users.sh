#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hostile_users.sh - another local user against a process's ttlog
# directories. The test creates a user (useradd; removed at exit), runs
# tests/progs/hostile_victim as that user (setpriv), and as root plays the
# other user: it plants, before the victim starts, the victim's default
# snapshot directory and shared-memory directory (another user's directory,
# a symbolic link, a regular file, a FIFO, a directory open to all), and
# temporaries named as snapshot temporaries were (symbolic links, a FIFO).
# What must hold:
#   - a planted default directory never switches ttlog off: init succeeds,
#     one stderr line says what was refused and why, ttlog_refused_dirs()
#     and the snapshot's self metrics (ttlog stats) say so, the snapshot
#     goes to a new private directory (or the rings to private memory);
#     nothing planted is followed, truncated, written or read;
#   - an explicit TTLOG_DIR or TTLOG_STREAM that is /tmp, writable by
#     others, or a link to another user's directory is an init error that
#     names it;
#   - planted temporaries do not stop a snapshot and are never followed;
#     init and `ttlog recover --clean` remove stale temporaries of this
#     user only;
#   - `ttlog snap` and `ttlog recover` of the second user do not act on
#     root's process or files;
#   - everything the library and the commands create is 0600 (files) or
#     0700 (directories), whatever the umask.
# Runs as root (CI does): without root, or without useradd/setpriv, it
# fails with a message saying so.

set -u
# A write to a victim's FIFO after it ended is an error to report, not a
# signal that ends the test without a word.
trap '' PIPE

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

victim_prog=$progs/hostile_victim
other=65534 # the planting user: files of theirs are chowned to it

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: this test creates a second user and must run as root (uid $(id -u) here)"
	exit 1
fi
for tool in useradd userdel setpriv mkfifo; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: $tool is missing (scripts/install-deps.sh installs it)"
		exit 1
	fi
done

user=ttlogh$$
if ! useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
	"$user" 2>"$tmp/useradd.err"; then
	echo "FAIL: cannot create the test user $user: $(cat "$tmp/useradd.err")"
	exit 1
fi
cleanup() {
	local pid
	for pid in $(jobs -p); do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	userdel "$user" 2>/dev/null
}
trap cleanup EXIT
vuid=$(id -u "$user")
vgid=$(id -g "$user")

# The victim's world: $work is traversable by all; each case gets a base
# that, like /tmp, everyone may write (sticky).
work=$tmp/hostile
rm -rf "$work"
mkdir -p "$work"
chmod 0755 "$tmp" "$work"
unset TTLOG_DIR TTLOG_STREAM TTLOG_SHARED_MEMORY TTLOG_SHARED_DIR TTLOG_SNAPSHOT_SIGNAL

as_victim() {
	setpriv --reuid="$vuid" --regid="$vgid" --clear-groups "$@"
}

# new_base NAME: a fresh world-writable sticky directory, as /tmp is.
new_base() {
	local d=$work/$1
	mkdir -p "$d"
	chmod 1777 "$d"
	printf '%s\n' "$d"
}

# victim OUT ENV...: runs the victim as the second user with the
# environment given, stdout to OUT, stderr to OUT.err; its exit status.
victim() {
	local out=$1 rc=0
	shift
	as_victim env "$@" timeout 30 "$victim_prog" >"$out" 2>"$out.err" </dev/null || rc=$?
	return "$rc"
}

# The snapshot path the victim printed in OUT.
snapshot_of() {
	sed -n 's/^snapshot \(\/.*\)$/\1/p' "$1"
}

mode_of() { stat -c %a "$1"; }
owner_of() { stat -c %u "$1"; }

# ---------------------------------------------------------------------------
# The default snapshot directory, planted

# plant KIND PATH: what another user leaves where the victim's directory goes.
plant() {
	local kind=$1 path=$2
	case $kind in
	others-dir)
		mkdir "$path" && chmod 0777 "$path" && chown "$other" "$path"
		;;
	link-to-others)
		mkdir "$path.target" && chmod 0777 "$path.target" && chown "$other" "$path.target"
		ln -s "$path.target" "$path" && chown -h "$other" "$path"
		;;
	file)
		printf 'precious\n' >"$path" && chmod 0666 "$path" && chown "$other" "$path"
		;;
	fifo)
		mkfifo -m 0666 "$path" && chown "$other" "$path"
		;;
	own-open-dir)
		mkdir "$path" && chmod 0777 "$path" && chown "$vuid" "$path"
		;;
	esac
}

# The planted thing is as it was: nothing written into, through or over it.
untouched() {
	local kind=$1 path=$2
	case $kind in
	others-dir | own-open-dir)
		[ -d "$path" ] && [ -z "$(ls -A "$path")" ]
		;;
	link-to-others)
		[ -L "$path" ] && [ -z "$(ls -A "$path.target")" ]
		;;
	file)
		[ -f "$path" ] && [ "$(cat "$path")" = precious ] && [ "$(owner_of "$path")" = "$other" ]
		;;
	fifo)
		[ -p "$path" ]
		;;
	esac
}

declare -A why=(
	[others-dir]="is owned by uid $other, not by this user \\(uid $vuid\\)"
	[link-to-others]="is a symbolic link \\(owned by uid $other\\)"
	[file]="is a regular file, not a directory"
	[fifo]="is a FIFO, not a directory"
	[own-open-dir]="is writable by every user \\(mode 0777\\)"
)

for kind in others-dir link-to-others file fifo own-open-dir; do
	base=$(new_base "snap-$kind")
	plant "$kind" "$base/ttlog"
	rc=0
	victim "$work/$kind.out" XDG_RUNTIME_DIR="$base" || rc=$?
	expect "default dir $kind: init goes on, snapshot written (exit 0)" test "$rc" = 0
	expect "default dir $kind: one stderr line naming the directory and why" \
		grep -Eq "^ttlog: snapshot directory $base/ttlog refused: it ${why[$kind]}; snapshots go to $base/ttlog-[A-Za-z0-9]{6} instead\$" \
		"$work/$kind.out.err"
	expect "default dir $kind: only that line on stderr" test "$(wc -l <"$work/$kind.out.err")" = 1
	expect "default dir $kind: ttlog_refused_dirs() says snapshot" grep -qx 'refused 1' "$work/$kind.out"
	snap=$(snapshot_of "$work/$kind.out")
	expect "default dir $kind: the snapshot is in the private directory" \
		test -n "$snap" -a "$(dirname "$snap")" != "$base/ttlog"
	if [ -n "$snap" ]; then
		expect "default dir $kind: the private directory is the victim's, 0700" \
			test "$(owner_of "$(dirname "$snap")")" = "$vuid" -a "$(mode_of "$(dirname "$snap")")" = 700
		expect "default dir $kind: the snapshot is the victim's, 0600" \
			test "$(owner_of "$snap")" = "$vuid" -a "$(mode_of "$snap")" = 600
		check "default dir $kind: ttlog stats shows the refused directory" \
			'~^  refused dirs +snapshot \(unsafe at ttlog_init' 0 '' -- "$bin" stats "$snap"
		check "default dir $kind: ttlog stats -o json too" '~"refused_dirs":\["snapshot"\]' 0 '' -- \
			"$bin" stats -o json "$snap"
	fi
	expect "default dir $kind: what was planted is untouched" untouched "$kind" "$base/ttlog"
done

# A process whose directory is its own writes no such line and no metric.
base=$(new_base snap-clean)
victim "$work/clean.out" XDG_RUNTIME_DIR="$base"
expect "default dir, not planted: no stderr" test ! -s "$work/clean.out.err"
expect "default dir, not planted: refused 0" grep -qx 'refused 0' "$work/clean.out"
expect "default dir, not planted: made 0700" test "$(mode_of "$base/ttlog")" = 700
snap=$(snapshot_of "$work/clean.out")
check "default dir, not planted: ttlog stats has no refused line" \
	'~^  events ' 0 '' -- "$bin" stats "$snap"
expect "default dir, not planted: no refused dirs row" \
	bash -c '! "$1" stats "$2" | grep -q "refused dirs"' _ "$bin" "$snap"

# No directory can be made beside it (the base is not writable for the
# victim): init still goes on; snapshots fail and are counted, not lost
# silently.
base=$work/snap-nowhere
mkdir -p "$base"
chmod 0755 "$base"
plant others-dir "$base/ttlog"
rc=0
victim "$work/nowhere.out" XDG_RUNTIME_DIR="$base" || rc=$?
expect "default dir refused, no other: init goes on (refused 1)" grep -qx 'refused 1' "$work/nowhere.out"
expect "default dir refused, no other: the snapshot fails (exit 4)" test "$rc" = 4
expect "default dir refused, no other: stderr says no snapshot will be written" \
	grep -Eq "^ttlog: snapshot directory $base/ttlog refused: it .*; no other could be made \(Permission denied\), so no snapshot will be written\$" \
	"$work/nowhere.out.err"

# ---------------------------------------------------------------------------
# The shared-memory directory, planted

for kind in others-dir link-to-others file fifo own-open-dir; do
	base=$(new_base "shm-$kind")
	snaps=$(new_base "shm-$kind-snaps")
	plant "$kind" "$base/ttlog-$vuid"
	rc=0
	victim "$work/shm-$kind.out" XDG_RUNTIME_DIR="$snaps" TTLOG_SHARED_MEMORY=1 \
		TTLOG_SHARED_DIR="$base" || rc=$?
	expect "shm dir $kind: init goes on, snapshot written (exit 0)" test "$rc" = 0
	expect "shm dir $kind: one stderr line naming the directory and why" \
		grep -Eq "^ttlog: shared memory directory $base/ttlog-$vuid refused: it ${why[$kind]}; the rings are in private memory, so ttlog snap and ttlog recover cannot reach this process\$" \
		"$work/shm-$kind.out.err"
	expect "shm dir $kind: ttlog_refused_dirs() says shared memory" \
		grep -qx 'refused 2' "$work/shm-$kind.out"
	snap=$(snapshot_of "$work/shm-$kind.out")
	expect "shm dir $kind: the snapshot has the events" \
		test "$("$bin" view "$snap" 2>/dev/null | grep -c 'victim event')" = 5
	check "shm dir $kind: ttlog stats shows the refused directory" \
		'~^  refused dirs +shared_memory ' 0 '' -- "$bin" stats "$snap"
	expect "shm dir $kind: what was planted is untouched" untouched "$kind" "$base/ttlog-$vuid"
	expect "shm dir $kind: no mapping anywhere in the base" \
		test -z "$(find "$base" -name '*.ttshm' 2>/dev/null)"
done

# ---------------------------------------------------------------------------
# Explicit directories get the same rules: an error, naming the directory

mkdir -p "$work/open-dir" "$work/others-0700" "$work/mine"
chmod 0777 "$work/open-dir"
chown "$vuid" "$work/open-dir" "$work/mine"
chmod 0700 "$work/others-0700" "$work/mine"
chown "$other" "$work/others-0700"
ln -sfn "$work/others-0700" "$work/link-to-others"
ln -sfn "$work/mine" "$work/link-to-mine"

expect_refused() {
	local name=$1 var=$2 dir=$3 reason=$4 rc=0
	victim "$work/explicit.out" XDG_RUNTIME_DIR="$work/mine" "$var=$dir" || rc=$?
	expect "$name: init fails (exit 3)" test "$rc" = 3
	expect "$name: the error names the directory and why" \
		grep -Eq "^init failed: $5 $dir: refused: it $reason \(it must be owned by this user and not writable by every user\)\$" \
		"$work/explicit.out"
}
expect_refused "TTLOG_DIR=/tmp" TTLOG_DIR /tmp "is owned by uid 0, not by this user \(uid $vuid\)" \
	"snapshot directory"
expect_refused "TTLOG_DIR open to all" TTLOG_DIR "$work/open-dir" \
	"is writable by every user \(mode 0777\)" "snapshot directory"
expect_refused "TTLOG_DIR link to another user's directory" TTLOG_DIR "$work/link-to-others" \
	"is a symbolic link to a directory owned by uid $other, not by this user \(uid $vuid\)" \
	"snapshot directory"
expect_refused "TTLOG_STREAM=/tmp" TTLOG_STREAM /tmp "is owned by uid 0, not by this user \(uid $vuid\)" \
	"stream directory"
# Root's own /tmp is refused too: it is writable by everyone.
rc=0
env TTLOG_DIR=/tmp timeout 30 "$victim_prog" >"$work/root-tmp.out" 2>&1 </dev/null || rc=$?
expect "TTLOG_DIR=/tmp as root: refused (exit 3)" test "$rc" = 3
expect "TTLOG_DIR=/tmp as root: writable by every user" \
	grep -q "^init failed: snapshot directory /tmp: refused: it is writable by every user (mode 1777)" \
	"$work/root-tmp.out"
rc=0
victim "$work/link-mine.out" TTLOG_DIR="$work/link-to-mine" || rc=$?
expect "TTLOG_DIR link to the user's own directory: accepted" test "$rc" = 0
expect "TTLOG_DIR link to the user's own directory: the snapshot is there" \
	test -n "$(find "$work/mine" -name 'ttlog-*-victim.ttlog')"

# ---------------------------------------------------------------------------
# Temporaries: planted under the old predictable names, stale ones

tdir=$work/temps
mkdir -p "$tdir"
chown "$vuid" "$tdir"
chmod 0700 "$tdir"
printf 'precious\n' >"$work/precious"
chown "$other" "$work/precious"
chmod 0666 "$work/precious"
# Stale temporaries of a process that is gone (pid 4194303 is above any
# pid_max a test machine uses), an hour old: the victim's own, and root's.
dead=4194303
touch -d '-1 hour' "$tdir/.ttlog-$dead-1-0123456789abcdef.tmp" "$tdir/.ttlog-$dead-2-0123456789abcdef.tmp"
chown "$vuid" "$tdir/.ttlog-$dead-1-0123456789abcdef.tmp"
touch -h -d '-1 hour' "$tdir/.ttlog-$dead-1-0123456789abcdef.tmp"

fifo_in=$work/victim.in
rm -f "$fifo_in"
mkfifo "$fifo_in"
as_victim env TTLOG_DIR="$tdir" timeout 120 "$victim_prog" wait <"$fifo_in" >"$work/temps.out" 2>"$work/temps.err" &
vpid=$!
exec 7>"$fifo_in"
for _ in $(seq 1 600); do
	grep -q '^ready ' "$work/temps.out" 2>/dev/null && break
	sleep 0.05
done
pid=$(sed -n 's/^ready //p' "$work/temps.out")
expect "temporaries: the victim is ready" test -n "$pid"
expect "init removed the victim's own stale temporary" test ! -e "$tdir/.ttlog-$dead-1-0123456789abcdef.tmp"
expect "init left root's stale temporary alone" test -e "$tdir/.ttlog-$dead-2-0123456789abcdef.tmp"
# Every name the old writer would have tried, planted: links to another
# user's file, a FIFO for the first and a regular file of theirs for the
# second.
python3 - "$work/precious" "$tdir" "$pid" "$other" <<'PLANT'
import os, sys
target, tdir, pid, other = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for n in range(100):
    name = "%s/.ttlog-%s-%s-%d.tmp" % (tdir, pid, pid, n)
    os.symlink(target, name)
    os.lchown(name, other, -1)
PLANT
rm -f "$tdir/.ttlog-$pid-$pid-0.tmp" "$tdir/.ttlog-$pid-$pid-1.tmp"
mkfifo "$tdir/.ttlog-$pid-$pid-0.tmp"
printf 'theirs\n' >"$tdir/.ttlog-$pid-$pid-1.tmp"
chown "$other" "$tdir/.ttlog-$pid-$pid-1.tmp"
chmod 0666 "$tdir/.ttlog-$pid-$pid-1.tmp"
echo go >&7 || fail "planted temporaries: the victim ended before it was told to go"
exec 7>&-
rc=0
wait "$vpid" || rc=$?
expect "planted temporaries: the snapshot is written (exit 0)" test "$rc" = 0
expect "planted temporaries: nothing on stderr" test ! -s "$work/temps.err"
snap=$(snapshot_of "$work/temps.out")
expect "planted temporaries: the snapshot reads back" \
	test "$("$bin" view "$snap" 2>/dev/null | grep -c 'victim event')" = 5
expect "planted temporaries: the linked-to file is untouched" \
	test "$(cat "$work/precious")" = precious -a "$(owner_of "$work/precious")" = "$other"
expect "planted temporaries: their regular file is untouched" \
	test "$(cat "$tdir/.ttlog-$pid-$pid-1.tmp")" = theirs
expect "planted temporaries: the links, the FIFO and the file are still there" \
	test "$(find "$tdir" -name ".ttlog-$pid-$pid-*.tmp" | wc -l)" = 100
expect "planted temporaries: no temporary of the victim left behind" \
	test -z "$(find "$tdir" -name ".ttlog-$pid-*" -user "$vuid")"

# recover --clean as the victim: its own stale temporary goes, root's stays.
touch -d '-1 hour' "$tdir/.ttlog-$dead-3-fedcba9876543210.tmp"
chown "$vuid" "$tdir/.ttlog-$dead-3-fedcba9876543210.tmp"
as_victim "$bin" recover --clean --dir "$tdir" --shm-dir "$work/mine" >"$work/clean.out" 2>"$work/clean.err"
expect "recover --clean removes the user's stale temporary" \
	test ! -e "$tdir/.ttlog-$dead-3-fedcba9876543210.tmp"
expect "recover --clean names it" grep -q "fedcba9876543210" "$work/clean.out"
expect "recover --clean leaves root's alone" test -e "$tdir/.ttlog-$dead-2-0123456789abcdef.tmp"

# How the temporary is made, seen by strace: an unnamed file (O_TMPFILE)
# linked through /proc/self/fd; where that cannot be (no /proc: a mount
# namespace with an empty one), a named one whose 16 hex digits differ
# from run to run, created O_EXCL|O_NOFOLLOW with mode 0600.
asan_options=${ASAN_OPTIONS:-}
if ! command -v strace >/dev/null || ! command -v unshare >/dev/null; then
	fail "temporaries seen by strace" "strace and unshare are needed (scripts/install-deps.sh --test)"
else
	# LeakSanitizer cannot run under ptrace (the ASan build of this test).
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	rc=0
	strace -f -o "$work/tmpfile.trace" -e trace=openat,link,linkat \
		setpriv --reuid="$vuid" --regid="$vgid" --clear-groups env TTLOG_DIR="$tdir" \
		"$victim_prog" >"$work/tmpfile.out" 2>&1 </dev/null || rc=$?
	expect "unnamed temporary: the snapshot is written" test "$rc" = 0
	expect "unnamed temporary: opened O_TMPFILE in the directory, mode 0600" \
		grep -Eq "openat\(AT_FDCWD, \"$tdir\", O_WRONLY\|O_CLOEXEC\|O_TMPFILE, 0600\) = [0-9]+" \
		"$work/tmpfile.trace"
	expect "unnamed temporary: linked through /proc/self/fd" \
		grep -Eq "linkat\(AT_FDCWD, \"/proc/self/fd/[0-9]+\", AT_FDCWD, \"$tdir/ttlog-[0-9]+-.*-victim\.ttlog\", AT_SYMLINK_FOLLOW\) = 0" \
		"$work/tmpfile.trace"
	# AddressSanitizer's runtime reads its options and the threads from
	# /proc: under it the case without /proc cannot run, and says so.
	no_proc_runs="1 2"
	if ldd "$victim_prog" 2>/dev/null | grep -q 'libasan'; then
		echo "note: the named-temporary case (no /proc) is not run in an AddressSanitizer build"
		no_proc_runs=
	fi
	for run in $no_proc_runs; do
		rc=0
		unshare --mount --propagation private bash -c '
			mount -t tmpfs none /proc || exit 9
			exec strace -f -o "$1" -e trace=openat,link,linkat \
				setpriv --reuid="$2" --regid="$3" --clear-groups env TTLOG_DIR="$4" "$5"' \
			_ "$work/named$run.trace" "$vuid" "$vgid" "$tdir" "$victim_prog" \
			>"$work/named$run.out" 2>&1 </dev/null || rc=$?
		expect "named temporary, run $run: the snapshot is written without /proc" test "$rc" = 0
	done
	if [ -n "$no_proc_runs" ]; then
		named1=$(grep -Eo "$tdir/\.ttlog-[0-9]+-[0-9]+-[0-9a-f]{16}\.tmp\", O_WRONLY\|O_CREAT\|O_EXCL\|O_NOFOLLOW\|O_CLOEXEC, 0600\) = [0-9]+" \
			"$work/named1.trace" | sed -E 's/.*-([0-9a-f]{16})\.tmp.*/\1/')
		named2=$(grep -Eo "$tdir/\.ttlog-[0-9]+-[0-9]+-[0-9a-f]{16}\.tmp\", O_WRONLY\|O_CREAT\|O_EXCL\|O_NOFOLLOW\|O_CLOEXEC, 0600\) = [0-9]+" \
			"$work/named2.trace" | sed -E 's/.*-([0-9a-f]{16})\.tmp.*/\1/')
		expect "named temporary: created O_EXCL|O_NOFOLLOW, 0600, with 16 hex digits" \
			test -n "$named1" -a -n "$named2"
		expect "named temporary: the digits differ between runs ($named1, $named2)" \
			test "$named1" != "$named2"
		expect "named temporary: linked, then unlinked (none left)" \
			test -z "$(find "$tdir" -name "*-$named1.tmp" -o -name "*-$named2.tmp")"
	fi
	export ASAN_OPTIONS=$asan_options
fi

# ---------------------------------------------------------------------------
# The second user's commands against root's process and files

rshm=$work/root-shm
mkdir -p "$rshm" "$work/root-snaps"
chmod 0700 "$work/root-snaps"
rfifo=$work/root.in
rm -f "$rfifo"
mkfifo "$rfifo"
TTLOG_DIR="$work/root-snaps" TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$rshm" \
	timeout 120 "$victim_prog" wait <"$rfifo" >"$work/root.out" 2>&1 &
rpid_job=$!
exec 8>"$rfifo"
for _ in $(seq 1 600); do
	grep -q '^ready ' "$work/root.out" 2>/dev/null && break
	sleep 0.05
done
rpid=$(sed -n 's/^ready //p' "$work/root.out")
expect "root's process is ready" test -n "$rpid"
check "snap of root's process by the second user: refused" empty.txt 2 \
	"^ttlog snap: process $rpid belongs to another user: not permitted to signal it or to read its mapping\$" -- \
	as_victim "$bin" snap --shm-dir "$rshm" "$rpid"
check "recover of root's mapping by the second user: refused" - 2 \
	"ttlog recover: .*$rpid" -- as_victim "$bin" recover --shm-dir "$rshm" "$rpid"
expect "root's snapshot directory: the second user wrote nothing there" \
	test -z "$(ls -A "$work/root-snaps")"
echo go >&8 || fail "root's process ended before it was told to go"
exec 8>&-
wait "$rpid_job"

# ---------------------------------------------------------------------------
# Modes: 0600 files and 0700 directories, whatever the umask

mdir=$work/modes
mkdir -p "$mdir"
chown "$vuid" "$mdir"
chmod 0700 "$mdir"
rc=0
as_victim env TTLOG_DIR="$mdir/snaps/deep" TTLOG_STREAM="$mdir/stream/deep" TTLOG_SHARED_MEMORY=1 \
	TTLOG_SHARED_DIR="$mdir/shm" XDG_RUNTIME_DIR="$mdir/xdg" \
	bash -c 'umask 000; exec timeout 30 "$1"' _ "$victim_prog" >"$work/modes.out" 2>"$work/modes.err" </dev/null || rc=$?
expect "modes: the victim ran (exit 0)" test "$rc" = 0
snap=$(snapshot_of "$work/modes.out")
as_victim bash -c 'umask 000; "$1" export --format jsonl -o "$2" "$3"' _ "$bin" "$mdir/export.json" "$snap"
as_victim bash -c 'umask 000; "$1" view "$2" >/dev/null' _ "$bin" "$snap"
expect "modes: segments were written" test -n "$(find "$mdir/stream" -name '*.ttseg')"
expect "modes: the export was written" test -s "$mdir/export.json"
bad_modes=$(find "$mdir" -mindepth 1 \( -type d ! -perm 0700 \) -o \( -type f ! -perm 0600 \) \
	-printf '%m %p\n')
expect "modes: every file 0600, every directory 0700 (found: ${bad_modes:-none})" test -z "$bad_modes"
bad_owner=$(find "$mdir" ! -user "$vuid" -printf '%u %p\n')
expect "modes: everything is the victim's (found: ${bad_owner:-none})" test -z "$bad_owner"

finish
