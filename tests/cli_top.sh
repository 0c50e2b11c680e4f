#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_top.sh - tests of the live views of a running process in shared-memory
# mode: `ttlog query --pid PID|all` (SQL over its rings, nothing written,
# the process undisturbed) and `ttlog top` (batch frames checked line by
# line; the terminal view driven in tmux: the busiest site with a plausible
# rate on the screen, sorting by a key, 'q', and the terminal restored
# after 'q' and after SIGTERM).
#
# The process is tests/progs/top_load: "paced tick N" at most 1000 times a
# second (a 1 ms sleep between), an error every 20 ms, a span
# "handle_request" of about 2 ms every 10 ms. Rates are checked only for
# being plausible (wide bounds), never timed.

# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

for var in TTLOG_DIR TTLOG_SNAPSHOT_SIGNAL TTLOG_SIGNALS TTLOG_SHARED_MEMORY TTLOG_SHARED_DIR \
	TTLOG_RING_SIZE TTLOG_MEMORY_CAP TTLOG_WINDOW TTLOG_LEVEL TTLOG_SAMPLE TTLOG_CLOCK; do
	unset "$var"
done

shm=$tmp/shm          # the base directory of the mappings
snaps=$tmp/snaps      # the program's snapshot directory: must stay empty
private=$tmp/private  # TMPDIR of the commands: must be left empty
mkdir -p "$shm" "$snaps" "$private"
export TTLOG_SHARED_DIR=$shm TMPDIR=$private

sock=ttlog-top-test-$$
load=
load_fd=
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null
	[ -n "$load" ] && kill -KILL "$load" 2>/dev/null
	return 0
}
trap cleanup EXIT

# Starts top_load and waits for its "ready PID" line; sets load.
start_load() {
	rm -f "$tmp/load.in" "$tmp/load.out"
	mkfifo "$tmp/load.in" "$tmp/load.out"
	TTLOG_SHARED_MEMORY=1 TTLOG_DIR=$snaps "$progs/top_load" <"$tmp/load.in" >"$tmp/load.out" &
	load=$!
	exec {load_fd}>"$tmp/load.in"
	local ready=
	read -r ready <"$tmp/load.out" || true
	if [ "$ready" != "ready $load" ]; then
		fail "top_load got ready" "it wrote '$ready'"
		finish
	fi
}

stop_load() {
	exec {load_fd}>&-
	local rc=0
	wait "$load" || rc=$?
	load=
	return $rc
}

alive() {
	local state
	state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# ---------------------------------------------------------------------------
# Help and usage

check "help lists top" '~^  top \[PID\] ' 0 '' -- "$bin" help
check "top --help" '~^Usage: ttlog top \[OPTIONS\] \[PID\|all\]' 0 '' -- "$bin" top --help
help_text=$("$bin" top --help)
for word in --delay --batch --iterations --sort --shm-dir 'q quit' Metrics SIGTERM; do
	expect "top --help mentions $word" grep -q -- "$word" <<<"$help_text"
done
check "query --help has --pid" '~^  -p, --pid PID\|all ' 0 '' -- "$bin" query --help
check "top of two pids" empty.txt 1 'expected at most one PID' -- "$bin" top -b 1 2
check "top of a word" empty.txt 1 "'abc' is not a process id \(or 'all'\)" -- "$bin" top -b abc
check "top -d 0" empty.txt 1 "-d '0': expected seconds from 0.1 to 3600" -- "$bin" top -b -d 0
check "top --sort bogus" empty.txt 1 "--sort 'bogus': expected rate, errors or site" -- \
	"$bin" top -b --sort bogus
check "top -n 0" empty.txt 1 "-n '0'" -- "$bin" top -b -n 0
check "top not on a terminal" empty.txt 1 'the output is not a terminal: use -b' -- "$bin" top
check "query --pid with a file" empty.txt 1 '--pid reads a process: give no FILE' -- \
	"$bin" query --pid 1 "select 1" x.ttlog

# ---------------------------------------------------------------------------
# Processes that cannot be read

true &
gone=$!
wait "$gone"
check "query --pid of no process" empty.txt 2 "^ttlog query: no process with pid $gone\$" -- \
	"$bin" query --pid "$gone" "select 1"
check "top of no process" empty.txt 2 "^ttlog top: no process with pid $gone\$" -- \
	"$bin" top -b -n 1 "$gone"
check "query --pid of a process not in shared-memory mode" empty.txt 2 \
	"^ttlog query: process $$ is not in shared-memory mode: it has no mapping $shm/ttlog-$(id -u)/$$.ttshm" -- \
	"$bin" query --pid $$ "select 1"
check "top of a process not in shared-memory mode" empty.txt 2 \
	"^ttlog top: process $$ is not in shared-memory mode" -- "$bin" top -b -n 1 $$
check "query --pid all with none" empty.txt 2 \
	'no process of this user is in shared-memory mode' -- "$bin" query --pid all "select 1"
check "top all with none" '~^no process of this user is in shared-memory mode' 0 '' -- \
	"$bin" top -b -n 1 all

start_load

# Another user's process: as root, read ours as nobody; otherwise read init's.
if [ "$(id -u)" = 0 ]; then
	other=$load
	as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
	other=1
	as_other=()
fi
check "query --pid of another user's process" empty.txt 2 \
	"^ttlog query: process $other belongs to another user: not permitted to read its mapping\$" -- \
	"${as_other[@]}" "$bin" query --pid "$other" "select 1"

# ---------------------------------------------------------------------------
# ttlog query --pid

check "query --pid: events of the process" '~^[1-9][0-9]*$' 0 '' -- \
	"$bin" query -o csv --pid "$load" "select count(*) from events where message like 'paced tick %'"
check "query --pid: the pid column" '~^'"$load"'$' 0 '' -- \
	"$bin" query -o csv --pid "$load" "select distinct pid from events"
check "query --pid: its threads" '~^failer pacer spanner$' 0 '' -- \
	"$bin" query -o csv --pid "$load" \
	"select group_concat(name, ' ') from (select name from threads order by name)"
check "query --pid: errors" '~^ERROR,request failed code=50[0-3]$' 0 '' -- \
	"$bin" query -o csv --pid "$load" "select upper(level), message from events where level_num >= 4 limit 1"
check "query --pid all: the process is among them" '~^'"$load"',1$' 0 '' -- \
	"$bin" query -o csv --pid all "select pid, count(*) > 0 from snapshots group by pid"
check "query --pid: spans" '~^handle_request,1$' 0 '' -- \
	"$bin" query -o csv --pid "$load" "select name, min(duration) >= 2000000 from spans where name = 'handle_request' and clipped is not 'end' group by name"
check "query --pid finds the process's own base directory" '~^'"$load"'$' 0 '' -- \
	env -u TTLOG_SHARED_DIR "$bin" query -o csv --pid "$load" "select distinct pid from events"
check "query --pid --shm-dir elsewhere" empty.txt 2 \
	"^ttlog query: process $load is not in shared-memory mode: it has no mapping $tmp/ttlog-$(id -u)/$load.ttshm" -- \
	"$bin" query --shm-dir "$tmp" --pid "$load" "select 1"
expect "query --pid left no file in TMPDIR" test -z "$(ls -A "$private")"
expect "query --pid wrote no snapshot of the process" test -z "$(ls -A "$snaps")"
expect "query --pid left the process running" alive "$load"

# ---------------------------------------------------------------------------
# ttlog top -b: exact structure

"$bin" top -b -n 2 -d 0.5 "$load" >"$tmp/batch.txt" 2>"$tmp/batch.err"
rc=$?
expect "top -b -n 2 succeeded" test "$rc" = 0
expect "top -b -n 2 said nothing on stderr" test ! -s "$tmp/batch.err"

# check_frames FILE PID FRAMES SORT: every frame's lines, in order; the
# last frame's rows checked for what top_load logs.
check_frames() {
	python3 - "$@" <<'EOF'
import re, sys
path, pid, frames, sort = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
text = open(path).read()
assert text.endswith("\n\n"), "the output does not end with an empty line"
blocks = text[:-1].split("\nttlog top - ")
assert len(blocks) == frames, "%d frames, expected %d" % (len(blocks), frames)
num = r"[0-9]+\.[0-9]"
lvl = r"(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)"
for k, b in enumerate(blocks):
    if k:
        b = "ttlog top - " + b
    lines = b.split("\n")
    assert lines[-1] == "", "frame %d does not end with an empty line" % k
    lines = lines[:-1]
    def take(pattern, what):
        line = lines.pop(0) if lines else "(end of frame)"
        m = re.fullmatch(pattern, line)
        assert m, "frame %d, %s: %r does not match %r" % (k, what, line, pattern)
        return m
    take(r"ttlog top - [0-2][0-9]:[0-5][0-9]:[0-6][0-9] UTC - every 0\.5 s - sort: %s - 1 process" % sort, "title")
    take(r"PID %s  \S*/top_load  threads 3  events/s %s  errors/s %s  lost/s %s  dropped 0" % (pid, num, num, num), "process")
    take("", "blank")
    nsites = int(take(r"SITES \(([0-9]+) with events in the interval\)", "sites").group(1))
    take(r"    PID    EVENTS/S   ERRORS/S  LEVEL  SITE                      FORMAT", "sites heading")
    sites = [take(r" *%s +(%s) +(%s)  %s +(\S+) +(.*)" % (pid, num, num, lvl), "site").groups() for _ in range(nsites)]
    take("", "blank")
    nspans = int(take(r"SPANS \(([0-9]+) names ended in the interval\)", "spans").group(1))
    take(r"    PID    COUNT        P50        P99  NAME", "spans heading")
    spans = [take(r" *%s +([0-9]+) +(\S+) +(\S+)  (.*)" % pid, "span").groups() for _ in range(nspans)]
    take("", "blank")
    nthreads = int(take(r"THREADS \(([0-9]+)\)", "threads").group(1))
    take(r"    PID      TID     EVENTS     BYTES   HISTORY  OVERWRITTEN   LOST/S   TORN  THREAD", "threads heading")
    threads = [take(r" *%s +[0-9]+ +[0-9]+ +\S+ +\S+ +[0-9]+ +%s +[0-9]+  (.*)" % (pid, num), "thread").group(1) for _ in range(nthreads)]
    take("", "blank")
    take(r"METRICS: not shown here: 'ttlog metrics PID' prints them", "metrics")
    assert not lines, "frame %d: lines after METRICS: %r" % (k, lines)

# The last frame: what top_load does.
assert nsites == 4, "%d sites, expected 4: %r" % (nsites, sites)
formats = [s[4] for s in sites]
for f in ["paced tick %d", "request failed code=%d", "handle_request", "(span ends)"]:
    assert f in formats, "no site %r in %r" % (f, formats)
if sort == "rate":
    assert sites[0][4] == "paced tick %d", "the busiest site is %r" % (sites[0],)
    rate = float(sites[0][0])
    assert 50 <= rate <= 1100, "paced tick at %.1f events/s" % rate
if sort == "errors":
    assert sites[0][4] == "request failed code=%d", "the first site is %r" % (sites[0],)
if sort == "site":
    assert [s[3] for s in sites] == sorted(s[3] for s in sites), "not sorted by site: %r" % sites
err = [s for s in sites if s[4] == "request failed code=%d"][0]
assert err[2] == "ERROR" and err[0] == err[1] and 5 <= float(err[1]) <= 60, "the error site: %r" % (err,)
for s in sites:
    if s[4] != "request failed code=%d":
        assert float(s[1]) == 0, "errors/s of %r" % (s,)
assert [s[3] for s in spans] == ["handle_request"], "spans: %r" % spans
assert int(spans[0][0]) >= 1 and spans[0][1].endswith("ms"), "the span row: %r" % (spans[0],)
assert sorted(threads) == ["failer", "pacer", "spanner"], "threads: %r" % threads
EOF
}
expect "top -b: two frames of the exact structure, paced tick busiest" \
	check_frames "$tmp/batch.txt" "$load" 2 rate
"$bin" top -b -n 1 -d 0.5 --sort errors "$load" >"$tmp/errors.txt" 2>&1
expect "top -b --sort errors: the error site first" check_frames "$tmp/errors.txt" "$load" 1 errors
"$bin" top -b -n 1 -d 0.5 -s site all >"$tmp/site.txt" 2>&1
expect "top -b -s site all: sorted by site" check_frames "$tmp/site.txt" "$load" 1 site
expect "top left no file in TMPDIR" test -z "$(ls -A "$private")"
expect "top wrote no snapshot of the process" test -z "$(ls -A "$snaps")"
expect "top left the process running" alive "$load"

# ---------------------------------------------------------------------------
# The terminal view, in tmux

if ! command -v tmux >/dev/null 2>&1; then
	fail "tmux is installed" "the terminal tests need tmux (scripts/install-deps.sh --test installs it)"
	finish
fi

tm() { tmux -L "$sock" "$@"; }

# wait_for WHAT COMMAND...: retries the command for up to 30 s.
wait_for() {
	local what=$1 i
	shift
	for i in $(seq 1 150); do
		"$@" && return 0
		sleep 0.2
	done
	fail "$what" "not within 30 s: $*"
	return 1
}

screen_has() { tm capture-pane -p -t top | grep -Eq -- "$1"; }
alternate() { [ "$(tm display-message -p -t top '#{alternate_on}')" = "$1" ]; }

tm -f /dev/null new-session -d -s top -x 160 -y 40 "env PS1='$ ' bash --norc --noprofile"
run_top() {
	rm -f "$tmp/top.exit" "$tmp/top.pid"
	tm send-keys -t top "stty -g >'$tmp/stty.before'; sh -c 'echo \$\$ >\"$tmp/top.pid\"; exec \"$bin\" top -d 0.5 $load'; echo \"exit=\$?\" >'$tmp/top.exit'; stty -g >'$tmp/stty.after'" Enter
}

run_top
wait_for "the screen shows paced tick" screen_has ' INFO +top_load\.c:[0-9]+ +paced tick %d'
# The first frame counts from before top started; the busiest site is
# checked on a frame of its own interval.
wait_for "a second frame" screen_has "lost/s"
sleep 1.2
tm capture-pane -p -t top >"$tmp/screen.txt"
first=$(grep -A2 '^SITES' "$tmp/screen.txt" | tail -n 1)
expect "the screen's busiest site is paced tick ($first)" grep -Eq 'paced tick %d$' <<<"$first"
rate=$(awk '{ print int($2) }' <<<"$first")
expect "its rate is plausible (${rate:-none} events/s)" test "${rate:-0}" -ge 50 -a "${rate:-0}" -le 1100
expect "the screen says the keys" grep -q 'keys: r rate, e errors, s site, q quit' "$tmp/screen.txt"
expect "the view is on the alternate screen" alternate 1
tm send-keys -t top e
expect "key e sorts by errors" wait_for "sort: errors" screen_has 'sort: errors'
wait_for "the error site first" sh -c "tmux -L '$sock' capture-pane -p -t top | grep -A2 '^SITES' | tail -n 1 | grep -q 'request failed'"
tm send-keys -t top q
wait_for "top ended on q" test -s "$tmp/stty.after"
expect "top exited 0 on q" grep -qx 'exit=0' "$tmp/top.exit"
expect "the terminal left the alternate screen after q" alternate 0
expect "the terminal settings are restored after q" cmp -s "$tmp/stty.before" "$tmp/stty.after"

rm -f "$tmp/stty.after"
run_top
wait_for "the screen shows paced tick again" screen_has 'paced tick %d'
kill -TERM "$(cat "$tmp/top.pid")"
wait_for "top ended on SIGTERM" test -s "$tmp/stty.after"
expect "top died of SIGTERM" grep -qx 'exit=143' "$tmp/top.exit"
expect "the terminal left the alternate screen after SIGTERM" alternate 0
expect "the terminal settings are restored after SIGTERM" cmp -s "$tmp/stty.before" "$tmp/stty.after"
tm kill-server

expect "the process is undisturbed by it all" alive "$load"
expect "no file left in TMPDIR" test -z "$(ls -A "$private")"
expect "top_load ends normally" stop_load

# ---------------------------------------------------------------------------
# A process that ends while top watches it

start_load
# (The watcher must not hold the write end of the program's input.)
(
	exec {load_fd}>&-
	"$bin" top -b -d 0.2 "$load" >"$tmp/ends.txt" 2>"$tmp/ends.err"
	echo "$?" >"$tmp/ends.rc"
) &
watcher=$!
wait_for "top showed the process" grep -q 'paced tick' "$tmp/ends.txt"
stop_load
wait "$watcher"
expect "top exits 0 when the process ends" grep -qx 0 "$tmp/ends.rc"
expect "top says the process ended" grep -qx "ttlog top: process [0-9]* has ended" "$tmp/ends.err"

finish
