#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_recover.sh - tests of `ttlog recover`: the mapping of a process killed
# with SIGKILL turned into a snapshot holding exactly the events it had
# logged; --list with a dead and a live mapping; --all and --clean leaving
# the live one alone; a normal exit leaving no mapping; a process that
# called exec (its old mapping left behind: exec'd, recovered, cleaned; or
# taken over by shared mode again); and bad input
# (damaged, truncated, missing mappings, an unwritable directory) giving a
# one-line error and exit status 2, never a crash.
#
# The processes are tests/progs/shm_logger in shared-memory mode, with their
# mappings under the scratch directory (TTLOG_SHARED_DIR, --shm-dir), never
# in /dev/shm. Each is killed only after it said "ready", when the last
# event of each of its threads is known.

# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/logger_lib.sh
source "$(dirname "$0")/support/logger_lib.sh"

shm=$tmp/shm
user_dir=$shm/ttlog-$(id -u)
snaps=$tmp/snaps
mkdir -p "$snaps"
shm_env=(TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm")

recover() {
	"$bin" recover --shm-dir "$shm" "$@"
}

# The snapshot at $1 holds, for main and each of $3 workers, the events
# "... event 1" to "... event $2", in order, and nothing logged after them.
has_all_events() {
	local file=$1 events=$2 workers=$3 text w who
	text=$("$bin" view "$file") || return 1
	for w in main $(seq 1 "$workers"); do
		who="worker $w"
		[ "$w" = main ] && who=main
		[ "$(grep -c " $who event [0-9]*\$" <<<"$text")" = "$events" ] || return 1
		[ "$(grep " $who event [0-9]*\$" <<<"$text" | tail -n 1 | sed 's/.* event //')" = "$events" ] ||
			return 1
	done
	! grep -q ' main done$' <<<"$text"
}


# ---------------------------------------------------------------------------
# Help and usage

check "help lists recover" '~^  recover ' 0 '' -- "$bin" help
check "recover --help" '~^Usage: ttlog recover \[OPTIONS\] \[PID\|FILE\]' 0 '' -- "$bin" recover --help
help_text=$("$bin" recover --help)
for option in --all --list --clean --keep --live --dir --shm-dir --output --utc recovered \
	"ttlog snap PID" fsync; do
	expect "recover --help mentions $option" grep -q -- "$option" <<<"$help_text"
done
for word in "exec'd" /proc/PID/maps maps_checked; do
	expect "recover --help mentions $word" grep -qF -- "$word" <<<"$help_text"
done
check "recover --list --all" empty.txt 1 '--list takes no PID or FILE' -- recover --list --all
check "recover --list PID" empty.txt 1 '--list takes no PID or FILE' -- recover --list 1
check "recover --all PID" empty.txt 1 '--all recovers every mapping .*give it no PID' -- \
	recover --all 1
check "recover --clean --keep" empty.txt 1 '--clean recovers nothing' -- recover --clean --keep
check "recover -o json without --list" empty.txt 1 '--output and --utc are options of --list' -- \
	recover -o json
check "recover --list -o xml" empty.txt 1 "unknown output format 'xml'" -- recover --list -o xml
check "recover --dir ''" empty.txt 1 "needs a directory" -- recover --dir '' 1

# Nothing there yet: not an error.
check "recover with no mappings" empty.txt 0 "^ttlog recover: no mappings in $user_dir\$" -- recover
check "recover --list with no mappings" empty.txt 0 "no mappings in $user_dir" -- recover --list
check "recover --list -o json with no mappings" empty.txt 0 '' -- recover --list -o json
check "recover of a pid with no mapping" empty.txt 2 \
	"^ttlog recover: no mapping for pid 99999999 in $user_dir: No such file or directory .*TTLOG_SHARED_MEMORY=1" -- \
	recover 99999999

# ---------------------------------------------------------------------------
# SIGKILL, then recover PID

if start_logger "${shm_env[@]}" TTLOG_DIR="$snaps/kill" -- 3 1000; then
	killed=$pid
	expect "the logger has a mapping" test -f "$user_dir/$killed.ttshm"
	kill_logger "$killed"
	expect "the killed logger is gone" test ! -d "/proc/$killed"
	expect "SIGKILL leaves the mapping" test -f "$user_dir/$killed.ttshm"
	check "recover PID" "~^$snaps/kill/ttlog-$killed-[0-9T.]+Z-recovered\\.ttlog\$" 0 '' -- \
		recover "$killed"
	file=$(ls "$snaps/kill/ttlog-$killed-"*-recovered.ttlog 2>/dev/null | head -n 1)
	expect "recover PID wrote one snapshot" test "$(ls "$snaps/kill" | wc -l)" = 1
	expect "the recovered snapshot has reason recovered" test "$(snapshot_reason "$file")" = recovered
	expect "the recovered snapshot ends with the last event of each thread" \
		has_all_events "$file" 1000 3
	check "the recovered snapshot is valid" - 0 '' -- "$bin" view "$file"
	expect "the recovered mapping is removed" test ! -e "$user_dir/$killed.ttshm"
	check "recover PID again: no mapping" empty.txt 2 "no mapping for pid $killed" -- \
		recover "$killed"
fi

# Killed, but not yet reaped by its parent: a zombie keeps its pid and
# start time but runs no more, so its mapping is dead. The parent is a
# `sleep` that the logger's shell became, which never reaps anything.
zin=$tmp/zombie.in
zout=$tmp/zombie.out
mkfifo "$zin" "$zout"
env "${shm_env[@]}" TTLOG_DIR="$snaps/zombie" \
	sh -c '"$0" 1 20 <"$1" >"$2" & exec sleep 100000' "$progs/shm_logger" "$zin" "$zout" &
zparent=$!
exec {zfd}>"$zin"
ready=
read -r ready <"$zout" || true
zombie=${ready#ready }
zombie=${zombie%% *}
if [ -n "$zombie" ] && [ "$ready" = "ready $zombie 20" ]; then
	kill -KILL "$zombie"
	# Returns once the process has exited: a pidfd polls readable then,
	# before (and without) the parent reaping it.
	python3 -c 'import os, select, sys
fd = os.pidfd_open(int(sys.argv[1]))
select.select([fd], [], [])' "$zombie"
	expect "the killed logger is a zombie" \
		test "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$zombie/stat")" = Z
	check "recover --list: a zombie's mapping is dead" "~^ *$zombie  dead " 0 '' -- recover --list
	check "recover of a zombie's mapping" "~^$snaps/zombie/ttlog-$zombie-[0-9T.]+Z-recovered\\.ttlog\$" 0 '' -- \
		recover "$zombie"
	file=$(ls "$snaps/zombie/ttlog-$zombie-"*-recovered.ttlog 2>/dev/null | head -n 1)
	expect "the zombie's snapshot has its events" has_all_events "$file" 20 1
else
	fail "zombie logger got ready" "it wrote '$ready'"
fi
exec {zfd}>&-
kill "$zparent" 2>/dev/null
wait "$zparent" 2>/dev/null

# The same by FILE, into --dir, and --keep.
if start_logger "${shm_env[@]}" TTLOG_DIR="$snaps/unused" -- 1 50; then
	killed=$pid
	kill_logger "$killed"
	check "recover FILE --dir DIR --keep" "~^$snaps/bydir/ttlog-$killed-[0-9T.]+Z-recovered\\.ttlog\$" 0 '' -- \
		recover --keep --dir "$snaps/bydir" "$user_dir/$killed.ttshm"
	expect "--keep keeps the mapping" test -f "$user_dir/$killed.ttshm"
	file=$(ls "$snaps/bydir/ttlog-$killed-"*-recovered.ttlog 2>/dev/null | head -n 1)
	expect "recover FILE: every event" has_all_events "$file" 50 1

	# A directory that cannot be written: an error, and the mapping stays.
	echo "a file" >"$tmp/not-a-dir"
	check "recover into a directory that cannot be made" empty.txt 2 '^ttlog recover: .*' -- \
		recover --dir "$tmp/not-a-dir/sub" "$killed"
	expect "a failed recover keeps the mapping" test -f "$user_dir/$killed.ttshm"
	rm -f "$user_dir/$killed.ttshm"
fi

# ---------------------------------------------------------------------------
# A dead and a live mapping: --list, --all, refusals, --live, --clean

dead=
live=
if start_logger "${shm_env[@]}" TTLOG_DIR="$snaps/all" -- 2 100; then
	dead=$pid
	kill_logger "$dead"
	cp --sparse=always "$user_dir/$dead.ttshm" "$tmp/dead-copy.ttshm"
fi
if start_logger "${shm_env[@]}" TTLOG_DIR="$snaps/live" -- 2 100 busy; then
	live=$pid
fi

if [ -n "$dead" ] && [ -n "$live" ]; then
	# PID and STATE columns; the rows by pid.
	recover --list >"$tmp/list.txt" 2>"$tmp/list.err"
	expect "recover --list: exit 0" test $? = 0
	expect "recover --list: header" grep -Eq '^ +PID  STATE +EXECUTABLE +CREATED +THREADS +SIZE +MAPPING$' "$tmp/list.txt"
	expect "recover --list: the dead one" grep -Eq "^ *$dead  dead +shm_logger .*$user_dir/$dead\\.ttshm\$" "$tmp/list.txt"
	expect "recover --list: the live one" grep -Eq "^ *$live  running +shm_logger .*$user_dir/$live\\.ttshm\$" "$tmp/list.txt"
	expect "recover --list: two mappings" test "$(wc -l <"$tmp/list.txt")" = 3
	recover --list -o json >"$tmp/list.json"
	expect "recover --list -o json" python3 - "$tmp/list.json" "$dead" "$live" "$user_dir" <<'PY'
import json, os, sys
rows = {r["pid"]: r for r in map(json.loads, open(sys.argv[1]))}
dead, live, user_dir = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
assert set(rows) == {dead, live}, rows
for pid, state, alive in ((dead, "dead", False), (live, "running", True)):
    r = rows[pid]
    assert r["state"] == state and r["alive"] is alive, r
    assert r["path"] == os.path.join(user_dir, "%d.ttshm" % pid), r
    assert r["executable"].endswith("/shm_logger"), r
    assert r["size"] == os.path.getsize(r["path"]) and r["threads"] >= 3, r
    assert r["created"].endswith("Z") and r["created_ns"] > 0, r
    assert r["error"] is None and r["snapshot_signal"] is None, r
assert rows[dead]["snapshot_dir"].endswith("/snaps/all"), rows[dead]
PY

	# A live process's mapping, by PID: refused without --live.
	check "recover of a live process" empty.txt 1 \
		"^ttlog recover: .*$live\\.ttshm: process $live \\(shm_logger\\) is still running: .*'ttlog snap $live'.*--live" -- \
		recover "$live"
	check "recover --clean of a live process" empty.txt 2 "kept: process $live \\(shm_logger\\) is running" -- \
		recover --clean "$live"

	# --all: the dead one only.
	check "recover --all recovers the dead one" \
		"~^$snaps/all/ttlog-$dead-[0-9T.]+Z-recovered\\.ttlog\$" 0 \
		"skipped: process $live \\(shm_logger\\) is still running" -- recover --all
	expect "recover --all wrote one snapshot" test "$(ls "$snaps/all" | wc -l)" = 1
	expect "recover --all removed the dead mapping" test ! -e "$user_dir/$dead.ttshm"
	expect "recover --all kept the live mapping" test -f "$user_dir/$live.ttshm"
	expect "recover --all left the live process alone" test -z "$(ls "$snaps/live")"
	file=$(ls "$snaps/all/ttlog-$dead-"*-recovered.ttlog 2>/dev/null | head -n 1)
	expect "recover --all: every event of the dead one" has_all_events "$file" 100 2
	check "recover --all again: nothing to do" empty.txt 0 "no mapping of a process that is gone" -- \
		recover --all

	# --live: a snapshot of the running one, and its mapping stays.
	check "recover --live" "~^$snaps/live/ttlog-$live-[0-9T.]+Z-recovered\\.ttlog\$" 0 '' -- \
		recover --live "$live"
	expect "recover --live keeps the mapping" test -f "$user_dir/$live.ttshm"
	expect "recover --live leaves the process running" alive "$live"

	# --clean: a dead one goes (unread), the live one stays.
	if start_logger "${shm_env[@]}" TTLOG_DIR="$snaps/clean" -- 1 10; then
		dead=$pid
		kill_logger "$dead"
		check "recover --clean" "~^$user_dir/$dead\\.ttshm\$" 0 \
			"^ttlog recover: $user_dir/$live\\.ttshm: kept: process $live \\(shm_logger\\) is running\$" -- \
			recover --clean
		expect "recover --clean removed the dead mapping" test ! -e "$user_dir/$dead.ttshm"
		expect "recover --clean kept the live mapping" test -f "$user_dir/$live.ttshm"
		expect "recover --clean wrote no snapshot" test -z "$(ls "$snaps/clean")"
		expect "recover --clean left the live process alone" alive "$live"
	fi

	# Damaged mappings: one named after a pid that is gone, one after a
	# running process (this shell), which may be making its mapping.
	true &
	gone=$!
	wait "$gone"
	printf 'junk' >"$user_dir/$gone.ttshm"
	printf 'junk' >"$user_dir/$$.ttshm"
	cp "$user_dir/$live.ttshm" "$tmp/live-copy.ttshm"
	recover --list >"$tmp/list2.txt" 2>"$tmp/list2.err"
	expect "recover --list with damaged mappings: exit 2" test $? = 2
	expect "recover --list shows a damaged one as invalid" \
		grep -Eq "^ *$gone  invalid +- +- +- +4  $user_dir/$gone\\.ttshm\$" "$tmp/list2.txt"
	expect "recover --list shows the other damaged one" grep -Eq "^ *$$  invalid " "$tmp/list2.txt"
	expect "recover --list: the error of each damaged one on stderr" \
		test "$(grep -c "^ttlog recover: .*\\.ttshm" "$tmp/list2.err")" = 2
	recover --list -o json >"$tmp/list2.json" 2>/dev/null
	expect "recover --list -o json: a damaged mapping" python3 - "$tmp/list2.json" "$gone" "$user_dir" <<'PY'
import json, sys
rows = {r["pid"]: r for r in map(json.loads, open(sys.argv[1]))}
r = rows[int(sys.argv[2])]
assert r["state"] == "invalid" and r["alive"] is False and r["size"] == 4, r
assert r["path"] == "%s/%s.ttshm" % (sys.argv[3], sys.argv[2]), r
assert r["error"] and r["path"] in r["error"], r
assert r["executable"] is None and r["created"] is None and r["threads"] is None, r
PY
	check "recover --all with damaged mappings" empty.txt 2 "^ttlog recover: .*$gone\\.ttshm" -- \
		recover --all
	check "recover --all skips a damaged mapping of a running pid" empty.txt 2 \
		"$$\\.ttshm: skipped: its header cannot be read yet .* process $$ is running" -- recover --all
	expect "recover --all keeps the damaged mappings" test -f "$user_dir/$gone.ttshm" -a -f "$user_dir/$$.ttshm"
	check "recover --clean removes a damaged mapping of a pid that is gone" \
		"~^$user_dir/$gone\\.ttshm\$" 0 "$$\\.ttshm: kept: its header cannot be read .* process $$ is running" -- \
		recover --clean
	expect "the damaged mapping of a pid that is gone is removed" test ! -e "$user_dir/$gone.ttshm"
	printf 'junk' >"$user_dir/$gone.ttshm"
	check "recover --clean PID of a damaged mapping of a pid that is gone" \
		"~^$user_dir/$gone\\.ttshm\$" 0 '' -- recover --clean "$gone"
	check "recover --clean PID of a damaged mapping of a running pid" empty.txt 2 \
		"$$\\.ttshm: kept: its header cannot be read .* process $$ is running" -- recover --clean "$$"
	expect "the damaged mapping of a running pid is kept" test -f "$user_dir/$$.ttshm"
	expect "the live mapping is still there" test -f "$user_dir/$live.ttshm"
	rm -f "$user_dir/$$.ttshm"

	# A reused pid: the mapping of the dead process, its header saying pid
	# $$ (this shell, which runs but started at another time), is dead.
	cp --sparse=always "$tmp/dead-copy.ttshm" "$user_dir/$$.ttshm"
	le32=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($$ & 255)) $(($$ >> 8 & 255)) \
		$(($$ >> 16 & 255)) $(($$ >> 24 & 255)))
	# shellcheck disable=SC2059
	printf "$le32" | dd of="$user_dir/$$.ttshm" bs=1 seek=32 conv=notrunc 2>/dev/null
	check "recover --list: a pid in use by another process is dead" "~^ *$$  dead +shm_logger " 0 '' -- \
		recover --list
	check "recover of a mapping whose pid was reused" "~^$snaps/reused/ttlog-$$-[0-9T.]+Z-recovered\\.ttlog\$" 0 '' -- \
		recover --dir "$snaps/reused" "$$"
	expect "the mapping whose pid was reused is removed" test ! -e "$user_dir/$$.ttshm"
	expect "the shell whose pid it named is fine" alive $$

	# A normal exit removes the mapping.
	stop_logger "$live"
	expect "the live logger ended normally" test $? = 0
	expect "a normal exit leaves no mapping" test ! -e "$user_dir/$live.ttshm"
fi

# ---------------------------------------------------------------------------
# exec: the pid and the start time stay, the mapping goes with the old
# program. tests/progs/shm_exec logs in shared-memory mode, execs itself and
# runs on (without ttlog, in private mode, or in shared mode again), in a
# base directory of its own.

xshm=$tmp/xshm
xuser_dir=$xshm/ttlog-$(id -u)
xenv=(TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$xshm")

xrecover() {
	"$bin" recover --shm-dir "$xshm" "$@"
}

# The snapshot at $1 holds "after exec event 1" to "after exec event $2", in
# order, and nothing logged before the exec.
has_after_exec_events() {
	local text
	text=$("$bin" view "$1") || return 1
	[ "$(grep -c ' after exec event [0-9]*$' <<<"$text")" = "$2" ] &&
		[ "$(grep ' after exec event [0-9]*$' <<<"$text" | tail -n 1 | sed 's/.* event //')" = "$2" ] &&
		! grep -q ' main event [0-9]*$' <<<"$text"
}

# Without ttlog after exec: --list says exec'd, --all recovers and removes it.
if LOGGER_PROG=shm_exec start_logger "${xenv[@]}" TTLOG_DIR="$snaps/exec" -- plain 30; then
	execd=$pid
	expect "exec leaves the mapping" test -f "$xuser_dir/$execd.ttshm"
	check "recover --list: the mapping of a process that exec'd" \
		"~^ *$execd  exec'd +shm_exec .*$xuser_dir/$execd\\.ttshm\$" 0 '' -- xrecover --list
	xrecover --list -o json >"$tmp/exec.json"
	expect "recover --list -o json: exec'd, not alive" python3 - "$tmp/exec.json" "$execd" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == 1, rows
r = rows[0]
assert r["pid"] == int(sys.argv[2]) and r["state"] == "exec'd", r
assert r["alive"] is False and r["maps_checked"] is True and r["error"] is None, r
assert r["executable"].endswith("/shm_exec"), r
PY
	check "recover PID of an exec'd process needs no --live" - 0 '' -- \
		xrecover --keep --dir "$snaps/exec-pid" "$execd"
	check "recover --all recovers the mapping of a process that exec'd" \
		"~^$snaps/exec/ttlog-$execd-[0-9T.]+Z-recovered\\.ttlog\$" 0 '' -- xrecover --all
	file=$(ls "$snaps/exec/ttlog-$execd-"*-recovered.ttlog 2>/dev/null | head -n 1)
	expect "the exec'd process's snapshot: every event before exec" has_all_events "$file" 30 0
	expect "recover --all removed the exec'd mapping" test ! -e "$xuser_dir/$execd.ttshm"
	expect "recover --all left the exec'd process running" alive "$execd"
	stop_logger "$execd"
	expect "the exec'd process ended normally" test $? = 0
fi

# Private mode after exec: `snap` notes the mapping left behind and uses the
# new program's signal; --clean removes the mapping.
if LOGGER_PROG=shm_exec start_logger "${xenv[@]}" TTLOG_DIR="$snaps/exec-private" \
	TTLOG_SNAPSHOT_SIGNAL=USR2 -- private 40; then
	execd=$pid
	check "snap of a process that exec'd: through its signal" \
		"~^$snaps/exec-private/ttlog-$execd-[0-9T.]+Z-SIGUSR2\\.ttlog\$" 0 \
		"^ttlog snap: note: $xuser_dir/$execd\\.ttshm is the mapping process $execd had before it called exec" -- \
		"$bin" snap "$execd"
	file=$(ls "$snaps/exec-private/ttlog-$execd-"*-SIGUSR2.ttlog 2>/dev/null | head -n 1)
	expect "snap of a process that exec'd: the new program's events only" \
		has_after_exec_events "$file" 40
	check "recover --list: exec'd, then private mode" "~^ *$execd  exec'd " 0 '' -- xrecover --list
	check "recover --clean removes the mapping of a process that exec'd" \
		"~^$xuser_dir/$execd\\.ttshm\$" 0 '' -- xrecover --clean
	expect "recover --clean: the exec'd mapping is gone" test ! -e "$xuser_dir/$execd.ttshm"
	expect "recover --clean left the exec'd process running" alive "$execd"
	stop_logger "$execd"
	expect "the exec'd process in private mode ended normally" test $? = 0
fi

# Shared-memory mode again after exec: the new program owns the path.
if LOGGER_PROG=shm_exec start_logger "${xenv[@]}" TTLOG_DIR="$snaps/exec-shared" -- shared 50; then
	execd=$pid
	check "recover --list: shared mode again after exec is running" \
		"~^ *$execd  running +shm_exec " 0 '' -- xrecover --list
	check "recover --all: shared mode again after exec is skipped" empty.txt 0 \
		"skipped: process $execd \\(shm_exec\\) is still running" -- xrecover --all
	expect "recover --all kept the new program's mapping" test -f "$xuser_dir/$execd.ttshm"
	check "recover --live: the new program's mapping" \
		"~^$snaps/exec-shared/ttlog-$execd-[0-9T.]+Z-recovered\\.ttlog\$" 0 '' -- \
		xrecover --live "$execd"
	file=$(ls "$snaps/exec-shared/ttlog-$execd-"*-recovered.ttlog 2>/dev/null | head -n 1)
	expect "the new program's mapping holds its events only" has_after_exec_events "$file" 50
	stop_logger "$execd"
	expect "shared mode again after exec ended normally" test $? = 0
	expect "its normal exit removed the mapping" test ! -e "$xuser_dir/$execd.ttshm"
fi

# ---------------------------------------------------------------------------
# Bad input: never a crash, one line on stderr, exit 2

bad=$tmp/bad
mkdir -p "$bad"
printf 'this is not a mapping\n' >"$bad/text.ttshm"
: >"$bad/empty.ttshm"
head -c 65536 /dev/zero >"$bad/zeros.ttshm"
if [ -f "$tmp/live-copy.ttshm" ]; then
	head -c 64 "$tmp/live-copy.ttshm" >"$bad/cut.ttshm"
	# Every byte of the first 256 flipped in turn would be slow; a few
	# spread over the header are enough to reach each field's check.
	for at in 0 8 16 24 32 48 64 100 128 200; do
		cp "$tmp/live-copy.ttshm" "$bad/flip$at.ttshm"
		printf '\xff' | dd of="$bad/flip$at.ttshm" bs=1 seek=$at conv=notrunc 2>/dev/null
	done
fi
for f in "$bad"/*.ttshm; do
	name=$(basename "$f")
	rc=0
	recover --keep --dir "$snaps/bad" "$f" >"$tmp/bad.out" 2>"$tmp/bad.err" || rc=$?
	case $name in
	flip*)
		# A flipped byte may be one that is not checked (padding, a
		# name): then the file is a mapping and may be recovered.
		expect "recover $name: exit 0 or 2, no crash" test "$rc" = 0 -o "$rc" = 2
		;;
	*)
		expect "recover $name: exit 2" test "$rc" = 2
		expect "recover $name: nothing on stdout" test ! -s "$tmp/bad.out"
		;;
	esac
	if [ "$rc" = 2 ]; then
		expect "recover $name: one line naming the file" \
			test "$(wc -l <"$tmp/bad.err")" = 1 -a -n "$(grep -F "$f" "$tmp/bad.err")"
	fi
done
check "recover of a missing file" empty.txt 2 "^ttlog recover: $bad/missing\\.ttshm: No such file or directory\$" -- \
	recover "$bad/missing.ttshm"

finish
