#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_dump.sh - one request out of every process: a three-process
# pipeline (tests/progs/trace_pipeline.c: A calls B calls C over pipes,
# passing traceparent; C fails the last request and returns the tracestate
# ttlog=dump, which B and A pass on) in shared-memory mode, each stage
# logging DEBUG lines inside its span and lines of other requests and of no
# request. Then:
#   - `ttlog snap --trace ID --all` writes ONE file whose `ttlog view` (and
#     `view --trace ID`) shows the failed request's lines of all three
#     processes in causal order, each by its process, and nothing of the
#     other requests, which are counted as left out;
#   - B and A, told by the tracestate, wrote their own trace snapshots
#     (ttlog_trace_dump()), each with its own lines of the request only;
#   - an id without events: a clear message and exit status 3, no file;
#     a bad id: refused as a usage error.
# Nothing here waits on time: the pipeline says when it is ready on a
# fifo, and ends when its stdin closes.
set -u
# shellcheck source=support/cli_lib.sh
. "$(dirname "$0")/support/cli_lib.sh"

for var in TTLOG_DIR TTLOG_SNAPSHOT_SIGNAL TTLOG_SIGNALS TTLOG_SHARED_MEMORY TTLOG_SHARED_DIR \
	TTLOG_WATCHDOG TTLOG_LEVEL TTLOG_SERVICE TRACEPARENT TTLOG_ENCRYPT_KEY; do
	unset "$var"
done

shm=$tmp/shm
own=$tmp/own
out=$tmp/out
mkdir -p "$shm" "$own" "$out"

pid=
cleanup() {
	exec 3>&- 2>/dev/null
	if [ -n "$pid" ]; then
		wait "$pid" 2>/dev/null
	fi
	pkill -KILL -P "$$" 2>/dev/null
}
trap cleanup EXIT

# ---- Usage -------------------------------------------------------------------

help_text=$("$bin" snap --help)
for option in --trace --all --all-users; do
	expect "snap --help mentions $option" grep -q -- "$option" <<<"$help_text"
done
check "a bad trace id is refused" - 1 "bad trace id 'xyz' for --trace" \
	-- "$bin" snap --trace xyz --all
check "an all-zero trace id is refused" - 1 "bad trace id" \
	-- "$bin" snap --trace 00000000000000000000000000000000 --all
check "--trace without --all" - 1 '--trace ID needs --all' \
	-- "$bin" snap --trace 0123456789abcdef0123456789abcdef
check "--trace --all with a PID" - 1 'takes no PID' \
	-- "$bin" snap --trace 0123456789abcdef0123456789abcdef --all 12

# ---- The pipeline ------------------------------------------------------------

mkfifo "$tmp/in" "$tmp/ready"
TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR=$shm TTLOG_DIR=$own TTLOG_LEVEL=debug \
	"$progs/trace_pipeline" a <"$tmp/in" >"$tmp/ready" 2>"$tmp/pipeline.err" &
pid=$!
exec 3>"$tmp/in"
line=
read -r line <"$tmp/ready" || true
read -r word id own_dump <<<"$line"
if [ "${word:-}" != trace ] || ! [[ ${id:-} =~ ^[0-9a-f]{32}$ ]]; then
	fail "the pipeline got ready" "it wrote '$line', stderr: $(head -c 400 "$tmp/pipeline.err")"
	finish
fi
mapfile -t maps < <(ls "$shm"/ttlog-*/)
expect "three processes in shared-memory mode (${maps[*]})" test "${#maps[@]}" = 3

"$bin" snap --trace "$id" --all --shm-dir "$shm" --dir "$out" >"$tmp/snap.out" 2>"$tmp/snap.err"
rc=$?
expect "snap --trace --all exits 0 (stderr: $(head -c 400 "$tmp/snap.err"))" test "$rc" = 0
mapfile -t files < <(ls "$out")
expect "one file (${files[*]})" test "${#files[@]}" = 1
file=$(head -n 1 "$tmp/snap.out")
expect "its path is printed" test -f "$file"
[ -f "$file" ] || finish
expect "the summary counts 3 processes" \
	grep -Eq "^ttlog snap: trace $id: [0-9]+ events from 3 of 3 processes; [1-9][0-9]* events of other requests left out\$" \
	"$tmp/snap.err"

"$bin" view "$file" >"$tmp/view.txt" 2>"$tmp/view.err"
expect "view of the bundle exits 0 ($(head -c 300 "$tmp/view.err"))" test $? = 0
"$bin" view --trace "$id" "$file" >"$tmp/trace.txt" 2>&1
expect "view --trace ID shows the same events" \
	cmp <(grep -v '^--' "$tmp/view.txt") <(grep -v '^--' "$tmp/trace.txt")

# The pids of the three stages, from their mappings' names.
mapfile -t pids < <(printf '%s\n' "${maps[@]}" | sed -E 's/\.ttshm$//')
mapfile -t debug < <(grep -E ' DEBUG ' "$tmp/view.txt")
order=(
	'a: request in, fail=1'
	'b: request in, fail=1'
	'c: request in, fail=1'
	'c: working on it'
	'b: reply from downstream: failed ttlog=dump,vendor=x'
	'b: downstream asks for a dump'
	'a: reply from downstream: failed ttlog=dump,vendor=x'
	'a: downstream asks for a dump'
	'a: request 3 done: failed ttlog=dump,vendor=x'
)
got=$(printf '%s\n' "${debug[@]}" | sed -E 's/^.*trace_pipeline\.c:[0-9]+ +//')
expect "the DEBUG lines of A, B and C in causal order: $(tr '\n' '|' <<<"$got")" \
	test "$got" = "$(printf '%s\n' "${order[@]}")"
# Each line by the process that ran it: the tid of a main thread is its pid.
for stage in a b c; do
	tids=$(printf '%s\n' "${debug[@]}" | grep -E "trace_pipeline\\.c:[0-9]+ +$stage: " |
		sed -E 's/^.*\[([0-9]+) .*$/\1/' | sort -u)
	expect "stage $stage: its lines from one process ($tids)" test "$(wc -l <<<"$tids")" = 1
	eval "tid_$stage=\$tids"
done
# shellcheck disable=SC2154
expect "three processes, three pids" test "$(printf '%s\n' "$tid_a" "$tid_b" "$tid_c" | sort -u | wc -l)" = 3
expect "the stages' pids are the pipeline's ($tid_a)" test "$tid_a" = "$pid"
expect "the lines are of the three mapped processes (${pids[*]:-none})" \
	test "$(printf '%s\n' "${pids[@]}" | sort -u | tr '\n' ' ')" = "$(printf '%s\n' "$tid_a" "$tid_b" "$tid_c" | sort -u | tr '\n' ' ')"
expect "C's error is there" grep -Eq ' ERROR .* c: the request failed$' "$tmp/view.txt"
expect "the spans that enclose them" grep -Eq ' begin stage\.b trace=' "$tmp/view.txt"
expect "nothing of the other requests" \
	bash -c '! grep -Eq "fail=0|request [012] done|outside" "$1"' _ "$tmp/view.txt"
expect "only events of the trace (JSON trace_id)" \
	bash -c '! "$1" view -o json "$2" | grep -v "\"trace_id\":\"$3\"" | grep -q .' _ "$bin" "$file" "$id"
expect "the events left out are counted" \
	grep -Eq "^-- trace $id only \\(3 of 3 snapshots\\): [1-9][0-9]* events of other requests \\(or of none\\) left out by the trace filter\$" \
	"$tmp/view.txt"
left=$(sed -nE 's/.*events from 3 of 3 processes; ([0-9]+) events.*/\1/p' "$tmp/snap.err")
expect "view counts what snap left out ($left)" grep -q "): $left events of other requests" "$tmp/view.txt"

# A command that reads one file at a time says that it read one process.
"$bin" stats "$file" >/dev/null 2>"$tmp/stats.err"
expect "stats of the bundle says it read only the first process" \
	grep -q 'note: a bundle of several processes' "$tmp/stats.err"

# ---- The callers' own dumps (ttlog_trace_dump, told by the tracestate) ----------

mapfile -t dumps < <(ls "$own"/ttlog-*-trace-"$id".ttlog 2>/dev/null)
expect "A and B wrote their own trace snapshot (${dumps[*]:-none})" test "${#dumps[@]}" = 2
expect "A's own dump is the file it named" test -f "$own_dump"
"$bin" view "$own_dump" >"$tmp/own.txt" 2>&1
expect "A's dump holds its lines of the request" grep -q 'a: downstream asks for a dump' "$tmp/own.txt"
expect "A's dump holds nothing of B, C or other requests" \
	bash -c '! grep -Eq "fail=0|outside| [bc]: " "$1"' _ "$tmp/own.txt"
expect "A's dump counts what it left out" grep -Eq "^-- trace $id only: [1-9][0-9]* events" "$tmp/own.txt"

# ---- An id without events ------------------------------------------------------

check "an id without events: exit 3, nothing written" - 3 \
	"no event of trace 0123456789abcdef0123456789abcdef in 3 shared-memory processes of this user: nothing written" \
	-- "$bin" snap --trace 0123456789abcdef0123456789abcdef --all --shm-dir "$shm" --dir "$out"
mapfile -t files < <(ls -A "$out")
expect "still one file, no temporary left (${files[*]})" test "${#files[@]}" = 1

exec 3>&-
wait "$pid"
expect "the pipeline ends normally" test $? = 0
pid=
finish
