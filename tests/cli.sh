#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.sh - tests of the `ttlog` command, as exact expected output.
#
# Each case is one command with what it must produce (check, expect and
# the rest are in support/cli_lib.sh, shared with the other scripts).
#
# The snapshots come from tests/progs/cli_snapshot, which uses the fake
# clock, so event times and order are fixed; thread ids are not, and are
# replaced by TID before comparing.

# Commands for `sh -c` are in single quotes on purpose: they expand there.
# shellcheck disable=SC2016
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

# ---------------------------------------------------------------------------
# Snapshots

snap=$(make_snapshot golden) || exit 1
lost=$(make_snapshot lost) || exit 1
fields=$(make_snapshot fields) || exit 1
spans=$(make_snapshot spans) || exit 1
make_crash_snapshot

# ---------------------------------------------------------------------------
# The command itself

check "--help" '~^Usage: ttlog COMMAND' 0 '' -- "$bin" --help
check "help" '~^  view ' 0 '' -- "$bin" help
check "--version" '~^ttlog [0-9]+\.[0-9]+\.[0-9]+$' 0 '' -- "$bin" --version
check "no command" - 1 'Usage: ttlog' -- "$bin"
check "unknown command" - 1 "unknown command 'frobnicate'" -- "$bin" frobnicate
check "unknown global option" - 1 "unknown option '--frobnicate'" -- "$bin" --frobnicate

# view --help lists every option.
check "view --help" '~^Usage: ttlog view' 0 '' -- "$bin" view --help
check "help view" '~^Usage: ttlog view' 0 '' -- "$bin" help view
help_text=$("$bin" view --help)
for option in --level --since --until --last --grep --thread --field --output --utc --color --header \
	--sampling --help YYYY-MM-DD HH:MM DURATION; do
	expect "view --help mentions $option" grep -q -- "$option" <<<"$help_text"
done

# ---------------------------------------------------------------------------
# Text output and filters

check "all events" all.txt 0 '' -- "$bin" view --utc "$snap"
check "--level warn" level-warn.txt 0 '' -- "$bin" view --utc --level warn "$snap"
check "--level WARNING" level-warn.txt 0 '' -- "$bin" view --utc --level WARNING "$snap"
check "-l fatal" level-fatal.txt 0 '' -- "$bin" view --utc -l fatal "$snap"
check "--since/--until absolute" since-until.txt 0 '' -- \
	"$bin" view --utc --since '2026-01-01 00:00:00.000005' --until 2026-01-01T00:00:00.000012Z "$snap"
check "--until time of day" until-time-of-day.txt 0 '' -- \
	"$bin" view --utc --until 00:00:00.000003 "$snap"
check "--since relative to the end" since-relative.txt 0 '' -- \
	"$bin" view --utc --since -3us "$snap"
check "--last" last.txt 0 '' -- "$bin" view --utc --last 5us "$snap"
check "--last with a fraction" last.txt 0 '' -- "$bin" view --utc --last 0.005ms "$snap"
check "--grep" grep.txt 0 '' -- "$bin" view --utc --grep 'step [23] of|quoted' "$snap"
check "--grep twice: both must match" grep-twice.txt 0 '' -- \
	"$bin" view --utc --grep '^worker' --grep 'step 2' "$snap"
check "--grep with no match" empty.txt 0 '' -- "$bin" view --utc --grep 'no such text' "$snap"
check "--thread by name" thread-worker-1.txt 0 '' -- "$bin" view --utc --thread worker-1 "$snap"
tid=$("$bin" view --utc "$snap" | sed -nE 's/^.* [A-Z]+ +\[([0-9]+) worker-1\].*$/\1/p' | head -n 1)
expect "worker-1 has a thread id" test -n "$tid"
check "--thread by id" thread-worker-1.txt 0 '' -- "$bin" view --utc --thread "${tid:-0}" "$snap"
check "--thread twice: either may match" thread-two.txt 0 '' -- \
	"$bin" view --utc -t worker-2 -t main --level error "$snap"
check "filters combined" combined.txt 0 '' -- \
	"$bin" view --utc --level debug --thread worker-2 --since -5us --grep step "$snap"
check "options after the file" level-fatal.txt 0 '' -- "$bin" view "$snap" --utc --level fatal
check "two files, in the order given" two-files.txt 0 '' -- \
	"$bin" view --utc --level fatal "$snap" "$snap"

# ---------------------------------------------------------------------------
# Fields

check "fields: text" fields.txt 0 '' -- "$bin" view --utc "$fields"
check "fields: json" fields.json 0 '' -- "$bin" view --utc -o json "$fields"
check "--field KEY=VALUE on a format field" field-user.txt 0 '' -- \
	"$bin" view --utc --field user=42 "$fields"
check "--field on an explicit field" field-user-id.txt 0 '' -- \
	"$bin" view --utc --field user_id=42.0 "$fields"
check "--field string and boolean" field-user-id.txt 0 '' -- \
	"$bin" view --utc --field ip=10.0.0.2 -f ok=true -f 'note=two words' "$fields"
check "--field KEY>N and KEY<=N" field-range.txt 0 '' -- \
	"$bin" view --utc --field 'user>41' --field 'ms<=84' "$fields"
check "--field KEY!=VALUE" field-ne.txt 0 '' -- "$bin" view --utc --field 'user!=42' "$fields"
check "--field on a 64-bit value, exactly" field-user-id.txt 0 '' -- \
	"$bin" view --utc --field big=18446744073709551615 --field 'big>18446744073709551614' "$fields"
check "--field on a negative value" field-user-id.txt 0 '' -- \
	"$bin" view --utc --field 'delta<-2' "$fields"
check "--field repeated key" field-a2.txt 0 '' -- "$bin" view --utc --field a_2=2 --field a_3=6 "$fields"
check "--field unused argument" field-unused.txt 0 '' -- "$bin" view --utc --field arg2=2 "$fields"
check "--field with no match" empty.txt 0 '' -- "$bin" view --utc --field nosuch=1 "$fields"
# tests/data/ttlog-0.2-golden.ttlog was written by ttlog 0.2.0 (the
# cli_snapshot golden mode), before SITX existed; its executable and host
# names were then replaced and the HEAD CRC recomputed. Old files must keep
# opening, and names in their formats are fields too.
old02=${TTLOG_SRC:?TTLOG_SRC must name the source tree}/tests/data/ttlog-0.2-golden.ttlog
check "a ttlog 0.2 snapshot still opens" old-0.2.txt 0 '' -- "$bin" view --utc "$old02"
check "a ttlog 0.2 snapshot has format fields" old-0.2-field.json 0 '' -- \
	"$bin" view --utc -o json --field u=200 --field 'h<0' "$old02"
check "--field without an operator" - 1 "expected KEY=VALUE" -- "$bin" view --field user "$fields"
check "--field without a key" - 1 "expected a field name" -- "$bin" view --field '=3' "$fields"
check "--field KEY>text" - 1 "expected a number after '>', found 'abc'" -- \
	"$bin" view --field 'user>abc' "$fields"

# Spans: begins and ends indented by depth, with durations (the fake clock
# makes them fixed), --trace across threads, --no-spans; the JSON members
# checked for consistency, since span ids are random.
check "spans: text" spans.txt 0 '' -- "$bin" view --utc "$spans"
check "--trace: one trace across threads" spans-trace.txt 0 '' -- \
	"$bin" view --utc --trace 4BF92F3577B34DA6A3CE929D0E0E4736 "$spans"
check "--trace takes a traceparent" spans-trace.txt 0 '' -- \
	"$bin" view --utc --trace 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 "$spans"
check "--no-spans" spans-none.txt 0 '' -- "$bin" view --utc --no-spans "$spans"
check "--trace with a bad id" - 1 "bad trace id '4bf92f' for --trace" -- \
	"$bin" view --trace 4bf92f "$spans"
check "spans: json ids, parents and durations" - 0 '' -- sh -c \
	"\"\$1\" view -o json \"\$2\" | python3 -c \"
import json, sys
ev = [json.loads(line) for line in sys.stdin]
begin = {e['span_id']: e for e in ev if e['kind'] == 'span_begin'}
end = {e['span_id']: e for e in ev if e['kind'] == 'span_end'}
assert sorted(b['span_name'] for b in begin.values()) == \
    ['db.query', 'http.request', 'other.request', 'worker.job'], begin
assert begin.keys() == end.keys()
by_name = {b['span_name']: b for b in begin.values()}
req = by_name['http.request']
assert req['trace_id'] == '4bf92f3577b34da6a3ce929d0e0e4736'
assert req['parent_span_id'] == '00f067aa0ba902b7'
assert by_name['db.query']['parent_span_id'] == req['span_id']
assert by_name['worker.job']['parent_span_id'] == req['span_id']
assert by_name['worker.job']['trace_id'] == req['trace_id']
assert by_name['worker.job']['tid'] != req['tid']
assert by_name['other.request']['trace_id'] == '0af7651916cd43dd8448eb211c80319c'
assert end[by_name['db.query']['span_id']]['fields'] == {'rows': 3}
assert end[by_name['db.query']['span_id']]['duration_ns'] == 3000
for e in end.values():
    assert e['duration_ns'] > 0 and e['file'].endswith('cli_snapshot.c'), e
logs = [e for e in ev if e['kind'] == 'log']
assert 'span_id' not in logs[0] and logs[1]['span_id'] == req['span_id'], logs
\"" sh "$bin" "$spans"

# Local time: the zone of TZ, for output and for parsing.
check "local time output" local-time.txt 0 '' -- \
	env TZ=JST-9 "$bin" view --level fatal "$snap"
check "local time --since" local-since.txt 0 '' -- \
	env TZ=JST-9 "$bin" view --since '2026-01-01 09:00:00.000023' "$snap"
check "Z overrides local time" local-since.txt 0 '' -- \
	env TZ=JST-9 "$bin" view --since 2026-01-01T00:00:00.000023Z "$snap"

check "--color=always" color.txt 0 '' -- "$bin" view --utc --color=always --level warn "$snap"
check "--color=auto, not a terminal" level-warn.txt 0 '' -- \
	"$bin" view --utc --color=auto --level warn "$snap"
check "--header" '~^-- pid [0-9]+, executable .*cli_snapshot, host ' 0 '' -- \
	"$bin" view --utc --header "$snap"
check "--header thread list" '~^-- thread TID worker-2: 7 events, exited$' 0 '' -- \
	"$bin" view --utc --header "$snap"

# Crash and loss summaries.
if [ -n "$crash" ]; then
	check "crash summary" crash.txt 0 '' -- "$bin" view --utc "$crash"
	check "crash summary, JSON mode: on stderr" crash.json 0 \
		'^ttlog: .*: crash: SIGSEGV \(SEGV_MAPERR: address not mapped\) at address 0x0 in thread [0-9]+ \(main\)$' -- \
		"$bin" view -o json "$crash"
fi
check "lost summary" lost.txt 0 '' -- "$bin" view --utc --last 2us "$lost"
check "lost summary with every event filtered out" lost-only.txt 0 '' -- \
	"$bin" view --utc --level error "$lost"
check "lost summary, JSON mode: on stderr" empty.txt 0 \
	'^ttlog: .*: lost: [0-9]+ overwritten, 0 torn \(0 bytes\), 1 dropped$' -- \
	"$bin" view -o json --level error "$lost"

# Sampling: tests/progs/sampled_snapshot keeps 1 in 10 of 100 calls at one
# site and 5 of 100 at another (a rate limit), then takes a snapshot.
mkdir -p "$tmp/sampled"
sampled=$("$progs/sampled_snapshot" "$tmp/sampled")
expect "sampled_snapshot wrote a snapshot" test -f "$sampled"
check "sampled-out summary" '~^-- sampled out: 185 events \(1-in-N: 90, rate limit: 95\)$' 0 '' -- \
	"$bin" view --utc "$sampled"
check "sampled-out summary, JSON mode: on stderr" empty.txt 0 \
	'^ttlog: .*: sampled out: 185 events \(1-in-N: 90, rate limit: 95\)$' -- \
	"$bin" view -o json --level fatal "$sampled"
check "--sampling: a 1-in-N site" \
	'~^-- sampling: sampled_snapshot\.c:[0-9]+ 1/10: kept 10, dropped 90 by 1-in-N, 0 by the rate limit$' \
	0 '' -- "$bin" view --utc --sampling --level fatal "$sampled"
check "--sampling: a rate-limited site" \
	'~^-- sampling: sampled_snapshot\.c:[0-9]+ 5/s: kept 5, dropped 0 by 1-in-N, 95 by the rate limit$' \
	0 '' -- "$bin" view --utc --sampling --level fatal "$sampled"
check "--sampling with no sampled site" empty.txt 0 '' -- \
	"$bin" view --utc --sampling --level fatal --grep 'no such text' "$snap"

# ---------------------------------------------------------------------------
# JSON output

check "-o json" json.txt 0 '' -- "$bin" view -o json "$snap"
check "--output=json with a filter" json-fatal.txt 0 '' -- \
	"$bin" view --output=json --level fatal "$snap"
if command -v python3 >/dev/null 2>&1; then
	check "-o json lines parse" - 0 '' -- sh -c \
		'"$1" view -o json "$2" | python3 -c "import json,sys; [json.loads(l) for l in sys.stdin]"' \
		sh "$bin" "$snap"
	check "-o json: every line an object with the fields in order" - 0 '' -- sh -c \
		'"$1" view -o json "$2" | python3 -c "
import json, sys
keys = [\"time\", \"time_ns\", \"level\", \"tid\", \"thread\", \"file\", \"line\",
        \"function\", \"target\", \"site\", \"message\", \"args\", \"fields\", \"kind\",
        \"service\"]
n = 0
for line in sys.stdin:
    obj = json.loads(line)
    assert list(obj) == keys, list(obj)
    assert obj[\"time\"].endswith(\"Z\"), obj[\"time\"]
    n += 1
assert n == 26, n
"' sh "$bin" "$snap"
else
	printf 'skip -o json lines parse: no python3\n'
fi

# ---------------------------------------------------------------------------
# Usage errors: exit 1, a message and a hint on stderr, nothing on stdout

hint="Run 'ttlog view --help'"
check "unknown option" empty.txt 1 "unknown option '--frobnicate'" -- \
	"$bin" view --frobnicate "$snap"
check "unknown short option" empty.txt 1 "unknown option '-Q'" -- "$bin" view -Q "$snap"
check "bad level" empty.txt 1 "unknown level 'loud'" -- "$bin" view --level loud "$snap"
check "bad time" empty.txt 1 "bad time '25:61' for --since" -- "$bin" view --since 25:61 "$snap"
check "bad date" empty.txt 1 "no such date" -- "$bin" view --until '2026-02-30 00:00:00' "$snap"
check "time that is not a time" empty.txt 1 "bad time 'yesterday'" -- \
	"$bin" view --since yesterday "$snap"
check "too many fraction digits" empty.txt 1 "at most 9 digits" -- \
	"$bin" view --since 00:00:00.0000000001 "$snap"
check "duration with an unknown unit" empty.txt 1 "bad duration '5x' for --last" -- \
	"$bin" view --last 5x "$snap"
check "duration with a bad unit" empty.txt 1 "unknown unit" -- "$bin" view --last 5w "$snap"
check "bad regex" empty.txt 1 "bad regular expression" -- "$bin" view --grep '(' "$snap"
# glibc's regcomp took 4 GB for 30 stacked repetitions: refused first.
check "stacked repetitions refused" empty.txt 1 "a repetition .* right after another is undefined" -- \
	"$bin" view --grep 'bug++++++++++++++++++++++++++++bug' "$snap"
check "escaped and bracketed pluses are not stacked" - 0 '' -- \
	"$bin" view --grep 'x+[+*]\+\+|worker' "$snap"
check "bad output format" empty.txt 1 "unknown output format 'xml'" -- "$bin" view -o xml "$snap"
check "bad --color" empty.txt 1 "bad value 'sometimes' for --color" -- \
	"$bin" view --color=sometimes "$snap"
check "--since with --last" empty.txt 1 "cannot be used together" -- \
	"$bin" view --since -1s --last 1s "$snap"
check "missing argument" empty.txt 1 "option '--level' needs an argument" -- "$bin" view "$snap" --level
check "flag with an argument" empty.txt 1 "takes no argument" -- "$bin" view --utc=yes "$snap"
check "no FILE" empty.txt 1 "no FILE given" -- "$bin" view --utc
for usage_case in "--level loud" "--since 25:61" "--grep (" "-o xml" ""; do
	# shellcheck disable=SC2086 # split on purpose
	check "hint after '$usage_case'" - 1 "$hint" -- "$bin" view $usage_case
done

# ---------------------------------------------------------------------------
# Files that cannot be read: exit 2, valid events first, the next file still read

check "missing file" empty.txt 2 "^ttlog: .*no-such-file\.ttlog" -- "$bin" view "$tmp/no-such-file.ttlog"
check "missing file, then a good one" level-fatal.txt 2 "no-such-file\.ttlog" -- \
	"$bin" view --utc --level fatal "$tmp/no-such-file.ttlog" "$snap"
printf 'just some text, not a snapshot\n' >"$tmp/text.ttlog"
check "not a snapshot" empty.txt 2 "^ttlog: .*text\.ttlog" -- "$bin" view "$tmp/text.ttlog"
# The end of the events (the main thread's block and its THRD chunk, which
# the MTRC and END chunks follow) is the same in every run; the start is not
# (paths, host name). The cut is 56 bytes into the main thread's block,
# before its 72-byte THRD chunk.
mtrc=$(grep -obUa MTRC "$snap" | tail -n 1 | cut -d: -f1)
head -c $((mtrc - 72 - 56)) "$snap" >"$tmp/truncated.ttlog"
check "truncated file" truncated.txt 2 "^ttlog: .*truncated\.ttlog: offset [0-9]+" -- \
	"$bin" view --utc "$tmp/truncated.ttlog"
check "truncated file, then a good one" truncated-then-good.txt 2 "offset [0-9]+" -- \
	"$bin" view --utc --level error "$tmp/truncated.ttlog" "$snap"

# ---------------------------------------------------------------------------
# Metrics (ttlog view --metrics)

mkdir -p "$tmp/metrics"
msnap=$("$progs/metrics_snapshot" "$tmp/metrics")
expect "metrics snapshot written" test -f "$msnap"
check "metrics: counter" '~^  http\.requests\{method="GET"\} +1000  metrics_snapshot\.c:[0-9]+$' 0 '' -- \
	"$bin" view --metrics "$msnap"
check "metrics: second label set" '~^  http\.requests\{method="POST"\} +5  ' 0 '' -- "$bin" view --metrics "$msnap"
check "metrics: gauge" '~^  queue\.depth +17\.5  [0-9]{4}-[0-9]{2}-[0-9]{2} ' 0 '' -- "$bin" view --metrics "$msnap"
# 1..1000: p50 is the 500th value within 1/129, and so on.
check "metrics: histogram" \
	'~^  http\.latency_ms +1000 +500500 +1 +1000 +(49[6-9]|50[0-4])(\.[0-9]+)? +(89[3-9]|90[0-7])(\.[0-9]+)? +(98[2-9]|99[0-9])(\.[0-9]+)? +(99[1-9]|1000)(\.[0-9]+)?  ' \
	0 '' -- "$bin" view --metrics "$msnap"
check "metrics: headers" '~^histograms +count +sum +min +max +p50 +p90 +p99 +p99\.9 +at$' 0 '' -- \
	"$bin" view --metrics "$msnap"
check "metrics: ttlog's own" '~^  ttlog_events_written_total +[1-9][0-9]*$' 0 '' -- "$bin" view --metrics "$msnap"
check "metrics: ring use" '~^  ttlog_ring_used_ratio\{thread="0"\} +(0\.0*[1-9]|[1-9])' 0 '' -- "$bin" view --metrics "$msnap"
check "metrics: no events" '~^ttlog.s own' 0 '' -- sh -c '! "$@" | grep -q "one event" && "$@"' sh "$bin" view --metrics "$msnap"
check "metrics: json counter" \
	'~^\{"name":"http\.requests","type":"counter","labels":\{"method":"GET"\},"self":false,"file":"[^"]*metrics_snapshot\.c","line":[0-9]+,"value":1000\}$' \
	0 '' -- "$bin" view --metrics -o json "$msnap"
check "metrics: json histogram" \
	'~^\{"name":"http\.latency_ms","type":"histogram",.*"count":1000,"sum":500500,"min":1,"max":1000,"p50":[0-9.]+,"p90":[0-9.]+,"p99":[0-9.]+,"p999":[0-9.]+,"buckets":\[\{"above":0\.9921875,"le":1,"count":1\},' \
	0 '' -- "$bin" view --metrics -o json "$msnap"
check "metrics: json self" '~^\{"name":"ttlog_snapshots_written_total","type":"counter","labels":\{\},"self":true,"value":0\}$' \
	0 '' -- "$bin" view --metrics -o json "$msnap"
check "metrics: file without metrics" '~^-- no metrics in this file' 0 '' -- \
	"$bin" view --metrics "${TTLOG_SRC:-$(dirname "$0")/..}/tests/data/ttlog-0.2-golden.ttlog"

# ---------------------------------------------------------------------------
# Output that goes away

# A reader that stops early (EPIPE) is not an error: no message, exit 0.
many=()
for _ in $(seq 400); do many+=("$snap"); done
check "closed pipe" first-line.txt 0 '' -- bash -c \
	'"$@" | head -n 1; exit "${PIPESTATUS[0]}"' sh "$bin" view --utc "${many[@]}"
if [ -w /dev/full ]; then
	check "full disk" - 2 "error writing the output" -- sh -c '"$@" >/dev/full' sh "$bin" view "$snap"
	check "full disk, --help" - 2 "error writing the output" -- sh -c '"$@" >/dev/full' sh "$bin" --help
fi

finish
