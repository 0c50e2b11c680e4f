#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# soak.sh - a long unattended run of ttlog under the memory checkers
# (`make soak`), with every kind of snapshot, kill and pruning going on at
# once, and a verdict at the end. Not part of `make test`.
#
#   scripts/soak.sh [--asan-build DIR] [--plain-build DIR] [--out DIR]
#
# Two phases, each in its own directory under --out (default
# ASAN_BUILD/soak):
#
# 1. SOAK_SECONDS (default 600; 0 skips it) under ASan+UBSan: the shop example
#    (examples/shop, three processes, chaos, streaming) built with
#    TTLOG_SANITIZE=address in its own build directory, and beside it:
#    - small rings (TTLOG_RING_SIZE=SOAK_RING_SIZE, default 64K), which
#      wrap within seconds: overwriting runs all the time, and the rings'
#      memory is all touched during the warm-up (with 1 MiB rings the
#      shop's resident memory rises for minutes as its quieter threads'
#      rings fill for the first time, which is not a leak);
#    - every SOAK_SNAPSHOT_EVERY seconds (default 3) a snapshot of each of
#      its three processes through TTLOG_SNAPSHOT_SIGNAL=USR2, on top of
#      the shop's own snapshots through the API;
#    - kill/recover cycles: tests/progs/shm_logger in shared-memory mode
#      (four threads logging without pause), `ttlog snap` of it while it
#      runs, SIGKILL, `ttlog recover`, again and again;
#    - retention pruning: TTLOG_MAX_SNAPSHOTS=SOAK_MAX_SNAPSHOTS (default
#      20) for the snapshots, 64 KiB stream segments with at most 4 kept
#      per service;
#    - every snapshot is checked with `ttlog stats` as soon as it appears
#      (hard-linked first, so that pruning cannot take it away half-read);
#      every file left at the end (snapshots and stream segments) with
#      `ttlog stats` and `ttlog view`;
#    - the resident memory (VmRSS) of the shop's three processes sampled
#      every 10 s.
# 2. SOAK_VALGRIND_SECONDS (default 90; 0 skips it) under valgrind's
#    memcheck with the plain build: the shop at a low rate, a snapshot
#    signal every 5 s, kill/recover cycles (the logger, `ttlog snap` and
#    `ttlog recover` under memcheck), and one `ttlog stats` of every file
#    left, under memcheck too, at the end. scripts/soak.supp suppresses
#    what is no defect of ttlog (each entry says why).
#
# The verdict (exit status 1 when any fails, 2 for a usage or setup error):
# - no ASan/UBSan/LeakSanitizer report (reports go to REPORTS/*: each file
#   there is one) and no memcheck error, leaks "definitely lost" included
#   (ERROR SUMMARY of every process that got to print one; SIGKILLed
#   processes print none);
# - the shop ends as it should (status 0: checkout crashed, backoffice was
#   SIGKILLed, the edge ended normally) and its processes wrote snapshots;
# - every snapshot, recovered snapshot and segment opens without error,
#   every snapshot complete; each recovered snapshot holds events of all
#   four threads of the killed process;
# - memory flat after warm-up: for each of the three processes, the
#   samples of the first 20% of the run (at least a minute) are warm-up; the
#   lowest sample of the last quarter of the run must not exceed the
#   highest of the first quarter after warm-up by more than
#   SOAK_RSS_BOUND_KIB (default 8192) and 10% of it. A process whose
#   memory grows all the time fails; one that breathes with the load does
#   not. Reported: first, last and highest sample of each;
# - the events lost (overwritten, torn, dropped, lost by the stream) are
#   reported from the last files of each process, the segments and the
#   recovered snapshots; they are counted, not a failure.
#
# Always stops what it started (trap), also when interrupted.
set -u

here=$(cd "$(dirname "$0")" && pwd)
asan_build="build-soak"
plain_build=build
out=
while [ $# -gt 0 ]; do
	case $1 in
	--asan-build) asan_build=${2:?--asan-build needs a directory}; shift 2 ;;
	--plain-build) plain_build=${2:?--plain-build needs a directory}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) awk 'NR >= 3 && !/^#/ { exit } NR >= 3 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) echo "soak: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
seconds=${SOAK_SECONDS:-600}
vg_seconds=${SOAK_VALGRIND_SECONDS:-90}
snap_every=${SOAK_SNAPSHOT_EVERY:-3}
max_snapshots=${SOAK_MAX_SNAPSHOTS:-20}
rss_bound=${SOAK_RSS_BOUND_KIB:-8192}
ring_size=${SOAK_RING_SIZE:-64K}
for v in SOAK_SECONDS SOAK_VALGRIND_SECONDS SOAK_SNAPSHOT_EVERY SOAK_MAX_SNAPSHOTS SOAK_RSS_BOUND_KIB; do
	[ -n "${!v+set}" ] || continue
	case ${!v} in
	'' | *[!0-9]*) echo "soak: $v must be a whole number, not '${!v}'" >&2; exit 2 ;;
	esac
done
[ "$seconds" -gt 0 ] || [ "$vg_seconds" -gt 0 ] ||
	{ echo "soak: SOAK_SECONDS and SOAK_VALGRIND_SECONDS are both 0: nothing to run" >&2; exit 2; }
[ "$seconds" = 0 ] || [ "$seconds" -ge 10 ] ||
	{ echo "soak: SOAK_SECONDS must be 0 (no ASan phase) or at least 10" >&2; exit 2; }
[ "$snap_every" -ge 1 ] || { echo "soak: SOAK_SNAPSHOT_EVERY must be at least 1" >&2; exit 2; }
out=${out:-$asan_build/soak}
if [ "$seconds" -gt 0 ]; then
	for p in "$asan_build/ttlog" "$asan_build/examples/shop" "$asan_build/tests/progs/shm_logger"; do
		[ -x "$p" ] || { echo "soak: $p is not built (make soak builds it)" >&2; exit 2; }
	done
fi
if [ "$vg_seconds" -gt 0 ]; then
	command -v valgrind >/dev/null ||
		{ echo "soak: valgrind is not installed (scripts/install-deps.sh --soak)" >&2; exit 2; }
	for p in "$plain_build/ttlog" "$plain_build/examples/shop" "$plain_build/tests/progs/shm_logger"; do
		[ -x "$p" ] || { echo "soak: $p is not built (make soak builds it)" >&2; exit 2; }
	done
fi
[ "$seconds" -gt 0 ] && asan_build=$(cd "$asan_build" && pwd)
[ "$vg_seconds" -gt 0 ] && plain_build=$(cd "$plain_build" && pwd)
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Nothing of the caller's ttlog configuration may change the run.
for var in $(env | sed -n 's/^\(TTLOG_[A-Z_]*\)=.*/\1/p'); do
	unset "$var"
done

# ---------------------------------------------------------------------------
# Processes: each one started is remembered and stopped by the trap.

started=()
cleanup() {
	local p
	# TERM first: the subshells stop what they started (their trap).
	for p in "${started[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 1
	for p in "${started[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${started[@]}"; do
		wait "$p" 2>/dev/null
	done
	started=()
}
forget() { # PID: no longer running
	local p keep=()
	for p in "${started[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	started=("${keep[@]}")
}
trap cleanup EXIT
trap 'echo "soak: interrupted" >&2; exit 130' INT TERM

# A failure is a line in OUT/failures.txt (the kill/recover cycles run in a
# subshell of their own).
fail() {
	echo "soak: FAIL: $*" >&2
	echo "FAIL: $*" >>"$out/failures.txt"
}

# ---------------------------------------------------------------------------
# Checking files

# lost_py: reads the JSON lines of `ttlog stats -o json` on stdin; appends
# each file's lost counters to LOG (argv 1) as "NAME OVERWRITTEN TORN
# DROPPED STREAM_LOST EVENTS", prints "PATH: WHY" of each file that is not
# good (an error, a snapshot not complete, chunks the reader skipped) and
# exits 1 if there is one.
lost_py=$(cat <<'EOF'
import json, sys
bad = 0
with open(sys.argv[1], "a") as log:
    for line in sys.stdin:
        if not line.strip():
            continue
        d = json.loads(line)
        path = d["path"]
        why = None
        if d.get("error"):
            why = "error: %s" % d["error"]
        elif not path.endswith(".ttseg") and not d.get("complete"):
            why = "not complete"
        elif d.get("chunks_unknown"):
            why = "%d unknown chunks skipped" % d["chunks_unknown"]
        if why:
            print("%s: %s" % (path, why))
            bad = 1
            continue
        lost = d.get("lost") or {}
        if path.endswith(".ttseg"):
            # A segment counts what the stream could not read, per thread.
            lost = {"stream_lost": sum(t.get("stream_lost", 0) for t in d.get("threads", []))}
        log.write("%s %d %d %d %d %d\n" % (path.rsplit("/", 1)[-1], lost.get("overwritten", 0),
                  lost.get("torn", 0), lost.get("dropped", 0), lost.get("stream_lost", 0),
                  d.get("events", 0)))
sys.exit(bad)
EOF
)

# The programs of a phase run under ${run[@]}: nothing for ASan, valgrind
# for the memcheck phase; `ttlog stats` in check_files under
# ${stats_run[@]} (the files are checked by a plain `ttlog` while the
# memcheck phase runs, whose pace valgrind would slow to a crawl, and by
# `ttlog stats` under valgrind, all in one process, at its end).
run=()
stats_run=()

# check_files TTLOG LOG VIEW FILE...: every FILE opens with one `ttlog stats`
# without an error, and a snapshot is complete; with VIEW=1 `ttlog view`
# reads each one too. Appends their lost counters to LOG; leaves the JSON
# lines in checked_json.
checked_json=
check_files() {
	local ttlog=$1 log=$2 view=$3 json err f status=0
	shift 3
	err=$(mktemp "$out/err.XXXXXX")
	if ! json=$("${stats_run[@]}" "$ttlog" stats --top 0 -o json "$@" 2>"$err") || [ -s "$err" ]; then
		fail "ttlog stats: $(grep -m1 -v '^==' "$err")"
		status=1
	fi
	checked_json=$json
	local why
	if ! why=$(python3 -c "$lost_py" "$log" <<<"$json"); then
		while read -r f; do fail "$f"; done <<<"$why"
		status=1
	fi
	if [ "$view" = 1 ]; then
		for f in "$@"; do
			if ! "$ttlog" view "$f" >/dev/null 2>"$err" || [ -s "$err" ]; then
				fail "ttlog view $f: $(grep -m1 -v '^==' "$err")"
				status=1
			fi
		done
	fi
	rm -f "$err"
	return $status
}

# sum_lost LOG [PATTERN]: "overwritten O, torn T, dropped D, stream lost S
# (N files, E events)" over the lines of LOG whose file matches PATTERN.
sum_lost() {
	awk -v pat="${2:-.}" '$1 ~ pat { o += $2; t += $3; d += $4; s += $5; e += $6; n++ }
		END { printf "overwritten %.0f, torn %.0f, dropped %.0f, stream lost %.0f (%d files, %.0f events)\n", o, t, d, s, n, e }' "$1"
}

# ---------------------------------------------------------------------------
# workers_missing FILE: names the threads worker-1 ... worker-4 that have no
# event in FILE, from checked_json (the `ttlog stats` of FILE).
workers_missing() {
	python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
have = {t["name"] for t in d.get("threads", []) if t.get("events", 0) > 0}
gone = [w for w in ("worker-1", "worker-2", "worker-3", "worker-4") if w not in have]
if gone:
    print("%s has no event of %s" % (sys.argv[1], ", ".join(gone)))
' "$1" <<<"$checked_json"
}

# Kill/recover cycles: run_cycles TTLOG LOGGER DIR END_EPOCH
# until END_EPOCH; one line per cycle in DIR/cycles.txt ("ok PID FILE" or
# "bad PID WHY"). A cycle: shm_logger with 4 threads logging without pause
# in shared-memory mode; `ttlog snap` of it; SIGKILL; `ttlog recover`; the
# recovered snapshot must open and hold events of every worker, and the
# mapping must be gone.
run_cycles() {
	local ttlog=$1 logger=$2 dir=$3 end=$4 pid='' holder='' i file why
	trap 'kill -KILL $pid $holder 2>/dev/null; exit 130' TERM
	mkdir -p "$dir/shm" "$dir/snaps"
	: >"$dir/cycles.txt"
	i=0
	while [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1))
		rm -f "$dir/in" "$dir/logger.out"
		mkfifo "$dir/in"
		# The fifo is held open for writing by a sleeping process, so the
		# logger never sees the end of its input: it only ever dies by
		# SIGKILL.
		TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$dir/shm" TTLOG_DIR="$dir/snaps" \
			TTLOG_MAX_SNAPSHOTS="$max_snapshots" \
			"${run[@]}" "$logger" 4 2000 busy <"$dir/in" >"$dir/logger.out" 2>"$dir/logger.err.$i" &
		pid=$!
		sleep 100000 >"$dir/in" &
		holder=$!
		for _ in $(seq 1 600); do
			grep -q '^ready' "$dir/logger.out" 2>/dev/null && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		why=
		if ! grep -q '^ready' "$dir/logger.out"; then
			why="never said ready: $(head -n 1 "$dir/logger.err.$i")"
		else
			sleep $((1 + RANDOM % 3))
			if ! file=$("${run[@]}" "$ttlog" snap --shm-dir "$dir/shm" --dir "$dir/snaps" "$pid" 2>"$dir/snap.err"); then
				why="ttlog snap: $(head -n 1 "$dir/snap.err")"
			elif ! check_files "$ttlog" "$dir/lost.txt" 0 "$file"; then
				why="the live snapshot does not open"
			else
				why=$(workers_missing "$file")
			fi
		fi
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		kill "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
		# Recovered whatever happened before, so that no mapping is left.
		local rwhy=
		if ! file=$("${run[@]}" "$ttlog" recover --shm-dir "$dir/shm" --dir "$dir/snaps" "$pid" 2>"$dir/recover.err"); then
			rwhy="ttlog recover: $(head -n 1 "$dir/recover.err")"
		elif ! check_files "$ttlog" "$dir/lost.txt" 0 "$file"; then
			rwhy="the recovered snapshot does not open"
		else
			rwhy=$(workers_missing "$file")
			[ -e "$dir/shm/ttlog-$(id -u)/$pid.ttshm" ] && rwhy="${rwhy:+$rwhy; }its mapping was left behind"
		fi
		[ -n "$rwhy" ] && why="${why:+$why; }$rwhy"
		if [ -z "$why" ]; then
			echo "ok $pid $file" >>"$dir/cycles.txt"
			rm -f "$dir/logger.err.$i"
		else
			echo "bad $pid $why" >>"$dir/cycles.txt"
		fi
	done
	rm -f "$dir/in"
}

# ---------------------------------------------------------------------------
# The shop with snapshots: run_shop BUILD DIR SECONDS RATE SNAP_EVERY TTLOG
# CHECK_LOG. Sends the snapshot signal, checks each new snapshot
# as it appears, samples RSS into DIR/rss.txt ("SECONDS edge checkout
# backoffice", KiB). Sets shop_status.

shop_status=
run_shop() {
	local build=$1 dir=$2 secs=$3 rate=$4 every=$5 ttlog=$6 log=$7 shop_pid now last_rss=-10 last_snap=0
	local shopdir=$dir/shop pids=() seen=$dir/seen.txt
	mkdir -p "$shopdir" "$dir/check"
	: >"$seen"
	: >"$dir/rss.txt"
	(
		ulimit -c 0
		TTLOG_SNAPSHOT_SIGNAL=USR2 TTLOG_MAX_SNAPSHOTS="$max_snapshots" TTLOG_RING_SIZE="$ring_size" \
			TTLOG_SEGMENT_SIZE=64K TTLOG_STREAM_MAX_FILES=4 \
			exec "${run[@]}" "$build/examples/shop" --duration "$secs" --seed 7 --rate "$rate" --dir "$shopdir"
	) >"$dir/shop-output.txt" 2>&1 &
	shop_pid=$!
	started+=("$shop_pid")
	# The checker runs beside the loop below, so that reading files never
	# delays the signals.
	(
		while [ ! -e "$dir/stop-checker" ]; do
			check_new "$shopdir" "$dir/check" "$seen" "$ttlog" "$log"
			sleep 0.5
		done
		check_new "$shopdir" "$dir/check" "$seen" "$ttlog" "$log"
	) &
	local checker=$!
	started+=("$checker")
	local start signals=0 p line kb
	start=$(date +%s)
	while kill -0 "$shop_pid" 2>/dev/null; do
		now=$(($(date +%s) - start))
		if [ ${#pids[@]} -lt 3 ]; then
			read -r -a pids < <(sed -n 's/^shop: edge pid \([0-9]*\) .*checkout pid \([0-9]*\) .*backoffice pid \([0-9]*\) .*/\1 \2 \3/p' \
				"$dir/shop-output.txt")
		fi
		# Snapshots on demand while the traffic runs (not in the end phase,
		# where the processes end one by one). A process gets the signal
		# once it has a stream segment: ttlog_init() installs the handler
		# before it starts the stream (SigCgt in /proc/PID/status would
		# not do: valgrind catches every signal itself).
		if [ ${#pids[@]} -eq 3 ] && [ "$now" -lt "$secs" ] && [ $((now - last_snap)) -ge "$every" ]; then
			last_snap=$now
			for p in "${pids[@]}"; do
				compgen -G "$shopdir/stream/*-$p-*.ttseg" >/dev/null || continue
				kill -USR2 "$p" 2>/dev/null && signals=$((signals + 1))
			done
		fi
		if [ ${#pids[@]} -eq 3 ] && [ "$now" -lt "$secs" ] && [ $((now - last_rss)) -ge 10 ]; then
			last_rss=$now
			line=$now
			for p in "${pids[@]}"; do
				kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
				line="$line ${kb:-0}"
			done
			echo "$line" >>"$dir/rss.txt"
		fi
		sleep 0.25
	done
	wait "$shop_pid"
	shop_status=$?
	forget "$shop_pid"
	touch "$dir/stop-checker"
	wait "$checker"
	forget "$checker"
	echo "$signals" >"$dir/signals.txt"
}

# check_new SNAPDIR CHECKDIR SEEN TTLOG LOG: checks the snapshots in SNAPDIR
# not yet in SEEN with one `ttlog stats`. Hard links keep the files while
# they are read, whatever retention does meanwhile; one pruned before it
# was linked is counted in SEEN.gone.
check_new() {
	local snapdir=$1 checkdir=$2 seen=$3 ttlog=$4 log=$5 f name new=()
	for f in "$snapdir"/*.ttlog; do
		[ -e "$f" ] || continue
		name=${f##*/}
		grep -qxF "$name" "$seen" && continue
		echo "$name" >>"$seen"
		if ln "$f" "$checkdir/$name" 2>/dev/null; then
			new+=("$checkdir/$name")
		else
			echo "$name" >>"$seen.gone"
		fi
	done
	[ ${#new[@]} -gt 0 ] || return 0
	check_files "$ttlog" "$log" 0 "${new[@]}"
	rm -f "${new[@]}"
}

# rss_verdict RSS_FILE SECONDS: prints first/last/max per process and
# fails on sustained growth (see the header).
rss_verdict() {
	local verdict
	verdict=$(python3 - "$1" "$2" "$rss_bound" <<'EOF'
import sys
path, secs, bound = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [list(map(int, l.split())) for l in open(path) if l.strip()]
names = ["edge", "checkout", "backoffice"]
warm = max(60, secs // 5)
bad = []
for i, name in enumerate(names, 1):
    s = [(r[0], r[i]) for r in rows if r[i] > 0]
    if not s:
        print("  %-10s no samples" % name); bad.append(name); continue
    kib = [v for _, v in s]
    after = [(t, v) for t, v in s if t >= warm]
    line = "  %-10s first %7d KiB  last %7d KiB  max %7d KiB" % (name, kib[0], kib[-1], max(kib))
    if len(after) >= 8:
        span = secs - warm
        early = [v for t, v in after if t < warm + span / 4]
        late = [v for t, v in after if t >= secs - span / 4]
        if early and late:
            base, low = max(early), min(late)
            limit = base + max(bound, base // 10)
            line += "  after warm-up: early max %d, late min %d (limit %d)" % (base, low, limit)
            if low > limit:
                bad.append(name); line += "  GROWING"
    else:
        line += "  (too few samples after warm-up to judge)"
    print(line)
if bad:
    print("BAD " + " ".join(bad))
EOF
)
	grep -v '^BAD ' <<<"$verdict"
	if grep -q '^BAD ' <<<"$verdict"; then
		fail "resident memory grew after warm-up: $(sed -n 's/^BAD //p' <<<"$verdict")"
	fi
}

# The shop's end: recover the backoffice process (SIGKILLed by the chaos
# monkey) and check the last files of the three processes and the segments.
# shop_end DIR TTLOG LOG
shop_end() {
	local dir=$1 ttlog=$2 log=$3 back file
	local shopdir=$dir/shop
	[ "$shop_status" = 0 ] || fail "the shop exited with status $shop_status (see $dir/shop-output.txt)"
	back=$(sed -n 's/^pids .*backoffice=\([0-9]*\)$/\1/p' "$dir/shop-output.txt")
	if [ -n "$back" ]; then
		if file=$("${run[@]}" "$ttlog" recover --shm-dir "$shopdir/shm" --dir "$shopdir" "$back" 2>"$dir/recover.err"); then
			check_files "$ttlog" "$log" 0 "$file"
		else
			fail "ttlog recover of the shop's backoffice: $(head -n 1 "$dir/recover.err")"
		fi
	fi
	local kept
	kept=$(find "$shopdir" -maxdepth 1 -name '*.ttlog' | wc -l)
	# The pruning keeps max_snapshots files; the recovered one (written by
	# the command, which does not prune) may make one more.
	[ "$kept" -le $((max_snapshots + 1)) ] ||
		fail "$kept snapshots kept in $shopdir, more than TTLOG_MAX_SNAPSHOTS=$max_snapshots"
	# Every file left, with `ttlog view` too; the last files of each
	# process and the segments are the figures of loss.
	: >"$dir/final-lost.txt"
	local left=()
	for file in "$shopdir"/*.ttlog "$shopdir"/stream/*.ttseg; do
		[ -e "$file" ] && left+=("$file")
	done
	[ ${#left[@]} -gt 0 ] && check_files "$ttlog" "$dir/final-lost.txt" 1 "${left[@]}"
	local segs
	segs=$(find "$shopdir/stream" -name '*.ttseg' | wc -l)
	echo "  segments kept: $segs (4 per service at most, 64 KiB each: the older ones pruned)"
	[ "$segs" -le 12 ] || fail "$segs segments kept, more than 4 for each of the 3 services"
}

report_shop() {
	local dir=$1 ttlog_bin=$2
	local seen gone snaps
	seen=$(grep -c . "$dir/seen.txt")
	gone=$(grep -c . "$dir/seen.txt.gone" 2>/dev/null)
	grep -E '^shop: (checkout|edge|backoffice) \(pid' "$dir/shop-output.txt" | sed 's/^/  /'
	grep -E '^total (gateway|snapshots)' "$dir/shop-output.txt" | sed 's/^/  shop: /'
	echo "  snapshot signals sent: $(cat "$dir/signals.txt")"
	echo "  snapshot files seen: ${seen:-0} (checked by \`ttlog stats\` as they appeared: $((seen - ${gone:-0})); pruned between being seen and being checked: ${gone:-0}; a file pruned before the checker looked again is not seen: ttlog's own count is below)"
	snaps=$(grep -c 'SIGUSR2\.ttlog ' "$dir/lost.txt" 2>/dev/null)
	echo "    of them by the snapshot signal: ${snaps:-0} (one that comes while another snapshot is being written is refused, counted as busy below, or merged by the kernel with one still pending)"
	# ttlog's own counters, from each process's last snapshot with metrics.
	local finals
	finals=$(find "$dir/shop" -maxdepth 1 \( -name '*-end_of_run.ttlog' -o -name '*-SIGSEGV.ttlog' \
		-o -name '*-end_of_day.ttlog' \) | tr '\n' ' ')
	if [ -n "$finals" ]; then
		# shellcheck disable=SC2086 # the file names, split on purpose
		echo "  ttlog's counters in the last snapshots: $("$ttlog_bin" query -o csv \
			"SELECT name, sum(value) AS v FROM metrics WHERE name LIKE 'ttlog_snapshots_%' GROUP BY name ORDER BY name" \
			$finals | sed 1d | sed 's/^ttlog_snapshots_\(.*\)_total,/\1 /' | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
	fi
	echo "  events lost, the last files of each process: $(sum_lost "$dir/final-lost.txt" '(end_of_run|SIGSEGV|end_of_day|recovered)')"
	echo "  events lost, the stream segments kept: $(sum_lost "$dir/final-lost.txt" '[.]ttseg$')"
	[ "${seen:-0}" -gt 0 ] || fail "the shop wrote no snapshot"
}

report_cycles() {
	local dir=$1 ok bad
	ok=$(grep -c '^ok ' "$dir/cycles.txt")
	bad=$(grep -c '^bad ' "$dir/cycles.txt")
	echo "  kill/recover cycles: $((ok + bad)) ($ok good, $bad bad)"
	echo "  events lost, live and recovered snapshots of the killed process: $(sum_lost "$dir/lost.txt" .)"
	[ "$((ok + bad))" -gt 0 ] || fail "no kill/recover cycle ran"
	[ "$bad" = 0 ] && return
	sed -n 's/^bad /    /p' "$dir/cycles.txt" | head -n 5
	fail "$bad kill/recover cycles went wrong (see $dir/cycles.txt)"
}

# ---------------------------------------------------------------------------
# Phase 1: ASan + UBSan

if [ "$seconds" -gt 0 ]; then
	echo "soak: $seconds s under ASan+UBSan ($asan_build), files in $out/asan"
	echo "      snapshot signal every $snap_every s, TTLOG_MAX_SNAPSHOTS=$max_snapshots, rings $ring_size, RSS bound $rss_bound KiB"
	a=$out/asan
	reports=$a/reports
	mkdir -p "$a/cycles" "$reports"
	# The crash signals are left to ttlog (as in the test suite: the shop's
	# checkout process must die of its SIGSEGV, after its crash snapshot);
	# every sanitizer report goes to a file of its own in REPORTS. ASan's
	# quarantine (freed memory held back to catch use after free) is made
	# small, 2 MiB and 64 KiB per thread: at the default 256 MiB it fills
	# for the whole run and the resident memory it adds grows steadily
	# (edge +1.7 MiB a minute), which would hide a leak or look like one.
	export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:quarantine_size_mb=2:thread_local_quarantine_size_kb=64"
	export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
	: >"$a/lost.txt"
	end=$(($(date +%s) + seconds))
	run=()
	run_cycles "$asan_build/ttlog" "$asan_build/tests/progs/shm_logger" "$a/cycles" "$end" &
	cycles_pid=$!
	started+=("$cycles_pid")
	run_shop "$asan_build" "$a" "$seconds" 120 "$snap_every" "$asan_build/ttlog" "$a/lost.txt"
	wait "$cycles_pid"
	forget "$cycles_pid"
	shop_end "$a" "$asan_build/ttlog" "$a/lost.txt"
	report_shop "$a" "$asan_build/ttlog"
	report_cycles "$a/cycles"
	echo "  resident memory (VmRSS, sampled every 10 s; warm-up: the first $((seconds / 5 > 60 ? seconds / 5 : 60)) s):"
	rss_verdict "$a/rss.txt" "$seconds"
	unset ASAN_OPTIONS UBSAN_OPTIONS
	nrep=$(find "$reports" -type f | wc -l)
	echo "  sanitizer reports: $nrep"
	if [ "$nrep" -gt 0 ]; then
		for f in "$reports"/*; do
			echo "    $f: $(grep -m1 -E 'ERROR|runtime error' "$f")"
		done
		fail "$nrep sanitizer reports in $reports"
	fi
fi

# ---------------------------------------------------------------------------
# Phase 2: valgrind memcheck

if [ "$vg_seconds" -gt 0 ]; then
	v=$out/valgrind
	mkdir -p "$v/cycles" "$v/logs"
	echo "soak: $vg_seconds s under valgrind memcheck ($plain_build), files in $v"
	vg=(valgrind --log-file="$v/logs/vg.%p" --leak-check=full --show-leak-kinds=definite
		--errors-for-leak-kinds=definite --suppressions="$here/soak.supp")
	: >"$v/lost.txt"
	end=$(($(date +%s) + vg_seconds))
	run=("${vg[@]}")
	run_cycles "$plain_build/ttlog" "$plain_build/tests/progs/shm_logger" "$v/cycles" "$end" &
	cycles_pid=$!
	started+=("$cycles_pid")
	run_shop "$plain_build" "$v" "$vg_seconds" 10 5 "$plain_build/ttlog" "$v/lost.txt"
	wait "$cycles_pid"
	forget "$cycles_pid"
	stats_run=("${vg[@]}")
	shop_end "$v" "$plain_build/ttlog" "$v/lost.txt"
	stats_run=()
	report_shop "$v" "$plain_build/ttlog"
	report_cycles "$v/cycles"
	logs=$(find "$v/logs" -type f | wc -l)
	summaries=$(cat "$v"/logs/* | grep -c 'ERROR SUMMARY')
	errors=$(cat "$v"/logs/* | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	suppressed=$(cat "$v"/logs/* | sed -n 's/.*ERROR SUMMARY: .*(suppressed: \([0-9]*\) from.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	echo "  memcheck: $logs processes, $summaries ERROR SUMMARY lines (SIGKILLed ones print none), $errors errors ($suppressed suppressed by scripts/soak.supp)"
	if [ "$errors" -gt 0 ]; then
		grep -l 'ERROR SUMMARY: [1-9]' "$v"/logs/* | head -n 5 | sed 's/^/    /'
		fail "memcheck found $errors errors (logs in $v/logs)"
	fi
fi

if [ -s "$out/failures.txt" ]; then
	echo "soak: $(grep -c . "$out/failures.txt") checks failed (listed in $out/failures.txt)"
	exit 1
fi
echo "soak: passed"
