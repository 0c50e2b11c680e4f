#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# serve_api.sh - the JSON API of `ttlog serve` over HTTP: status codes,
# paging by cursor, the filters, spans, metrics, the crash, SQL (read-only,
# time limit, row cap), the token, traversal attempts, oversized and
# malformed requests (the server must answer 4xx and keep serving), the
# live tail (server-sent events) and a clean stop on SIGTERM.
#
# The data are the deterministic snapshots of tests/progs/cli_snapshot
# (spans, fields, crash) and a metrics snapshot, in one directory. Every
# server listens on 127.0.0.1 on a port the kernel picks, and is stopped by
# an EXIT trap whatever happens.

# shellcheck disable=SC2154
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/serve_lib.sh
source "$(dirname "$0")/support/serve_lib.sh"

command -v curl >/dev/null || { fail "curl" "curl is needed (scripts/install-deps.sh)"; finish; }

data=$tmp/data
mkdir -p "$data"
"$progs/cli_snapshot" "$data" spans >/dev/null || fail "spans snapshot" "cli_snapshot failed"
"$progs/cli_snapshot" "$data" fields >/dev/null || fail "fields snapshot" "cli_snapshot failed"
("$progs/cli_snapshot" "$data" crash; true) >/dev/null 2>&1
"$progs/metrics_snapshot" "$data" >/dev/null || fail "metrics snapshot" "metrics_snapshot failed"

# ---------------------------------------------------------------------------
# Usage

check "serve --help" '~^Usage: ttlog serve' 0 '' -- "$bin" serve --help
check "help lists serve" '~^  serve ' 0 '' -- "$bin" --help
check "serve without files" - 1 "expected one or more DIR\|FILE" -- "$bin" serve
check "serve bad --listen" - 1 "--listen takes ADDR:PORT" -- "$bin" serve --listen nowhere "$data"
check "serve short token" - 1 "--token must be 8 to 256" -- "$bin" serve --token abc "$data"
check "serve missing file" - 2 "no-such-dir: no such file" -- "$bin" serve --listen 127.0.0.1:0 "$tmp/no-such-dir"
check "serve name as address" - 1 "not a numeric IPv4 or IPv6" -- "$bin" serve --listen localhost:0 "$data"

serve_start main --time-limit 400ms --sql-rows 5 "$data"
u=$url_main

# The source whose label contains $1.
src_of() {
	jq_py "$u/api/files" "[s['id'] for s in j['sources'] if '$1' in s['label']][0]"
}

# ---------------------------------------------------------------------------
# Files and the page

check "GET / is the page" '~<title>ttlog</title>' 0 '' -- curl -s "$u/"
check "app.js" '~^/\*' 0 '' -- curl -s "$u/app.js"
hdr=$(curl -s -D - -o /dev/null "$u/")
expect "CSP allows only its own scripts" grep -q "Content-Security-Policy: default-src 'none'; script-src 'self'" <<<"$hdr"
expect "nosniff" grep -qi "X-Content-Type-Options: nosniff" <<<"$hdr"
expect "files lists 5 sources" test "$(jq_py "$u/api/files" "len(j['sources'])")" = 5
expect "source 0 is the directory as a store" \
	test "$(jq_py "$u/api/files" "j['sources'][0]['kind'] + ' ' + str(j['sources'][0]['files'])")" = "store 4"
spans=$(src_of -spans.ttlog)
fields=$(src_of -fields.ttlog)
crash=$(src_of -SIGSEGV.ttlog)
metrics=$(src_of -metrics.ttlog)
expect "ls columns of the crash file" test "$(jq_py "$u/api/files" \
	"[(s['reason'], s['signal'], s['events'], s['status']) for s in j['sources'] if s['id'] == $crash][0]")" \
	= "('SIGSEGV', 'SIGSEGV', 3, 'ok')"

# ---------------------------------------------------------------------------
# Events: paging and filters

expect "fields has 7 events" test "$(jq_py "$u/api/events?src=$fields&limit=100" "len(j['events'])")" = 7
# Pages of 2 until the cursor runs out give the same 7 events, in order.
pages=0 got=() cursor=
while :; do
	page=$(curl -s "$u/api/events?src=$fields&limit=2${cursor:+&cursor=$cursor}")
	mapfile -t lines < <(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["next"] or ""); [print(e["message"]) for e in j["events"]]' <<<"$page")
	cursor=${lines[0]}
	got+=("${lines[@]:1}")
	pages=$((pages + 1))
	[ -n "$cursor" ] && [ "$pages" -lt 20 ] || break
done
expect "paging: 4 pages" test "$pages" = 4
expect "paging: 7 events" test "${#got[@]}" = 7
expect "paging: in order" test "${got[0]} | ${got[6]}" = "auth.login ok user=41 ip=10.0.0.1 ms=82 | unused 1"
all=$(curl -s "$u/api/events?src=$fields&limit=100" | python3 -c 'import json,sys; [print(e["message"]) for e in json.load(sys.stdin)["events"]]')
expect "paging: the same events as one page" test "$(printf '%s\n' "${got[@]}")" = "$all"
expect "paging over the store with equal times" test "$(
	n=0 c=
	while :; do
		r=$(curl -s "$u/api/events?src=0&limit=1${c:+&cursor=$c}")
		c=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["next"] or "")' <<<"$r")
		n=$((n + 1))
		[ -n "$c" ] && [ $n -lt 100 ] || break
	done
	echo $n)" = "$(jq_py "$u/api/events?src=0&limit=1000" "len(j['events'])")"

expect "level=warn" test "$(jq_py "$u/api/events?src=$fields&level=warn" "[e['level'] for e in j['events']]")" = "['WARN']"
expect "level=error over the store" test "$(jq_py "$u/api/events?src=0&level=error" "[e['message'] for e in j['events']]")" = "['about to crash, 1']"
expect "field user=42" test "$(jq_py "$u/api/events?src=$fields&field=user%3D42" "[e['message'] for e in j['events']]")" = "['auth.login ok user=42 ip=10.0.0.1 ms=84']"
expect "field ip=10.0.0.1" test "$(jq_py "$u/api/events?src=$fields&field=ip%3D10.0.0.1" "len(j['events'])")" = 3
expect "text, any case" test "$(jq_py "$u/api/events?src=$fields&text=FORWARDED" "len(j['events'])")" = 1
expect "thread worker" test "$(jq_py "$u/api/events?src=$spans&thread=worker" "[e['message'] for e in j['events']]")" = "['job running']"
expect "trace" test "$(jq_py "$u/api/events?src=$spans&trace=0af7651916cd43dd8448eb211c80319c" "[e['message'] for e in j['events']]")" = "['another trace']"
expect "kind=all has span events (6 logs, 4 begins, 4 ends)" test "$(jq_py "$u/api/events?src=$spans&kind=all" "len(j['events'])")" = 14
t3=$(jq_py "$u/api/events?src=$fields" "j['events'][3]['time_ns']")
t5=$(jq_py "$u/api/events?src=$fields" "j['events'][5]['time_ns']")
expect "since and until" test "$(jq_py "$u/api/events?src=$fields&since=$t3&until=$t5" "len(j['events'])")" = 3

# ---------------------------------------------------------------------------
# Timeline, spans, metrics, crash

expect "overview: two lanes of the spans file" test "$(jq_py "$u/api/overview?src=$spans" "sorted(l['name'] for l in j['lanes'])")" = "['main', 'worker']"
# The widest range a request can give: the bins are computed without an
# integer overflow (UBSan in the sanitizer build ends the server on one).
expect "overview of the widest range: every event in a bin" \
	test "$(jq_py "$u/api/overview?src=$spans&since=-9223372036854775807&until=9223372036854775807" "j['events']")" = \
	"$(jq_py "$u/api/overview?src=$spans" "j['events']")"
expect "overview: the crash marker" test "$(jq_py "$u/api/overview?src=$crash" "[m['kind'] + ' ' + m['text'] for m in j['markers']]")" = "['crash SIGSEGV']"
expect "spans: four, nested" test "$(jq_py "$u/api/spans?src=$spans" "sorted((s['name'], s['depth'], s['duration_ns']) for s in j['spans'])")" = \
	"[('db.query', 1, 3000), ('http.request', 0, 11000), ('other.request', 0, 2000), ('worker.job', 0, 2000)]"
expect "overview with spans=1: the same spans in one pass" test "$(jq_py "$u/api/overview?src=$spans&spans=1" "sorted(s['name'] for s in j['spans'])")" = \
	"['db.query', 'http.request', 'other.request', 'worker.job']"
expect "spans of one trace across threads" test "$(jq_py "$u/api/spans?src=$spans&trace=4bf92f3577b34da6a3ce929d0e0e4736" "sorted(s['thread'] for s in j['spans'])")" = "['main', 'main', 'worker']"
expect "metrics" test "$(jq_py "$u/api/metrics?src=$metrics" "sorted(m['name'] for m in j['points'][0]['metrics'])")" = \
	"['http.latency_ms', 'http.requests', 'http.requests', 'odd.values', 'queue.depth']"
expect "crash: signal and thread" test "$(jq_py "$u/api/crash?src=$crash" "j['files'][0]['signal'] + ' ' + j['files'][0]['thread'] + ' ' + j['files'][0]['address']")" = "SIGSEGV main 0x0"
expect "crash: symbolised frame 0" test "$(jq_py "$u/api/crash?src=$crash" "j['files'][0]['stacks'][0]['frames'][0]['function'] + ' ' + j['files'][0]['stacks'][0]['frames'][0]['file'].split('/')[-1]")" = "write_nowhere cli_snapshot.c"
expect "crash: registers" test "$(jq_py "$u/api/crash?src=$crash" "len(j['files'][0]['stacks'][0]['registers']) > 10")" = True
expect "no crash in the fields file" test "$(jq_py "$u/api/crash?src=$fields" "len(j['files'])")" = 0

# ---------------------------------------------------------------------------
# SQL

expect "sql: count by level" test "$(curl -s --get "$u/api/sql" --data-urlencode "src=0" --data-urlencode "q=SELECT count(*) FROM events WHERE level='warn'" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')" = "[[3]]"
expect "sql: row cap (5)" test "$(curl -s --get "$u/api/sql" --data-urlencode "src=0" --data-urlencode "q=SELECT message FROM events" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["rows"]), j["truncated"])')" = "5 True"
for q in "DELETE FROM events" "CREATE TABLE x(a)" "ATTACH '$tmp/evil.db' AS e" "PRAGMA writable_schema=1" "SELECT 1; SELECT 2" "SELECT load_extension('x')" "SELEC 1"; do
	code=$(status "$u/api/sql" --get --data-urlencode "src=0" --data-urlencode "q=$q")
	expect "sql refused with 4xx: $q ($code)" test "${code:0:1}" = 4
done
expect "ATTACH created no file" test ! -e "$tmp/evil.db"
code=$(status "$u/api/sql" --get --data-urlencode "src=0" --data-urlencode "q=WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c")
expect "sql: an endless statement hits the time limit (408)" test "$code" = 408

# ---------------------------------------------------------------------------
# Bad and hostile requests: 4xx, and the server goes on

for case in "404 /api/events?src=99" "400 /api/events?src=abc" "400 /api/events?src=-1" "400 /api/events" \
	"400 /api/events?src=../../etc/passwd" "400 /api/events?src=/etc/passwd" "404 /etc/passwd" "404 /../../etc/passwd" \
	"404 /%2e%2e/%2e%2e/etc/passwd" "404 /api/../../etc/passwd" "404 /api/nope" "400 /api/events?src=0&path=/etc/passwd" \
	"400 /api/events?src=0&src=1" "400 /api/events?src=0&cursor=zz" "400 /api/events?src=0&cursor=0000000000000000-" \
	"400 /api/events?src=0&level=loud" "400 /api/events?src=0&limit=0" "400 /api/events?src=0&limit=100000000" \
	"400 /api/events?src=0&since=abc" "400 /api/events?src=0&since=5&until=4" "400 /api/events?src=0&trace=xyz" \
	"400 /api/events?src=0&field=novalue" "400 /api/overview?src=0&bins=0" "400 /api/overview?src=0&spans=2" "400 /api/metrics?src=0&self=2" \
	"400 /api/sql?src=0" "400 /api/events?src=99999999999999999999"; do
	want=${case%% *} path=${case#* }
	code=$(status "$u$path" --path-as-is)
	expect "$path -> $want ($code)" test "$code" = "$want"
done
expect "POST -> 405" test "$(status "$u/api/files" -X POST -d x=1)" = 405
expect "PUT -> 405" test "$(status "$u/api/files" -X PUT -d x=1)" = 405
expect "DELETE -> 405" test "$(status "$u/api/files" -X DELETE)" = 405
expect "GET with a body -> 413" test "$(status "$u/api/files" -X GET --data-binary @/dev/null -H 'Content-Length: 5' --data 'hello')" = 413
expect "foreign Host -> 421" test "$(status "$u/api/files" -H 'Host: attacker.example:80')" = 421
long=$(head -c 120000 /dev/zero | tr '\0' a)
code=$(status "$u/api/events?src=0&text=$long")
expect "a 120 KB URL -> 4xx ($code)" test "${code:0:1}" = 4
code=$(status "$u/api/files" -H "X-Big: $long")
expect "a 120 KB header -> 4xx ($code)" test "${code:0:1}" = 4
code=$(status "$u/api/events?src=0&$(for i in $(seq 30); do printf 'a%d=1&' "$i"; done)")
expect "30 parameters -> 400 ($code)" test "$code" = 400
port=${u##*:}
# A request line that is not HTTP: a 400, or the connection closed unanswered.
raw=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GARBAGE\r\n\r\n' >&3 && timeout 5 cat <&3) 2>/dev/null | head -1)
expect "a malformed request line -> 400 or closed ($raw)" test -z "$raw" -o -n "$(grep " 400 " <<<"$raw")"
raw=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /api/files HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Length: -5\r\n\r\n' "$port" >&3 && timeout 5 cat <&3) 2>/dev/null | head -1)
expect "a negative Content-Length -> 4xx ($raw)" grep -q " 4[0-9][0-9] " <<<"$raw"
expect "still serving after all that" test "$(status "$u/api/files")" = 200
expect "server still running" kill -0 "$pid_main"

# ---------------------------------------------------------------------------
# Damaged files: the valid part and the error, never a crash

bad=$tmp/bad
mkdir -p "$bad"
head -c 5000 /dev/urandom >"$bad/garbage.ttlog"
f=$(ls "$data"/*-spans.ttlog)
head -c $(($(stat -c %s "$f") * 2 / 3)) "$f" >"$bad/cut.ttlog"
printf 'TTLOG' >"$bad/tiny.ttlog"
serve_start bad "$bad"
for ep in files "events?src=0" "events?src=0&kind=all" "overview?src=0&spans=1" "spans?src=0" "metrics?src=0" "crash?src=0" \
	"events?src=1" "overview?src=1" "crash?src=2" "events?src=3&text=x" "sql?src=0&q=SELECT%20count(*)%20FROM%20events"; do
	code=$(status "$url_bad/api/$ep")
	expect "damaged files: /api/$ep answers ($code)" test "$code" = 200 -o "${code:0:1}" = 4
done
expect "damaged files: the cut file's error is reported" test "$(jq_py "$url_bad/api/files" "[s['status'] for s in j['sources'] if s['label'].endswith('cut.ttlog')][0]")" = truncated
expect "damaged files: the server still runs" kill -0 "$pid_bad"

# ---------------------------------------------------------------------------
# Token

serve_start tok --token s3cret-token-1 "$data"
expect "token: none -> 401" test "$(status "$url_tok/api/files")" = 401
expect "token: none for the page -> 401" test "$(status "$url_tok/")" = 401
expect "token: wrong -> 401" test "$(status "$url_tok/api/files?token=s3cret-token-2")" = 401
expect "token: prefix -> 401" test "$(status "$url_tok/api/files" -H "Authorization: Bearer s3cret")" = 401
expect "token: header -> 200" test "$(status "$url_tok/api/files" -H "Authorization: Bearer s3cret-token-1")" = 200
expect "token: parameter -> 200" test "$(status "$url_tok/api/files?token=s3cret-token-1")" = 200
expect "token: the printed URL carries it" grep -q "?token=s3cret-token-1" "$tmp/serve.tok.out"
# Every address (0.0.0.0) is not loopback: without --token the server makes
# one and prints it. The requests below still go to 127.0.0.1 only.
serve_start any --listen 0.0.0.0:0 "$data"
made=$(sed -n 's/.*?token=\([0-9a-f]*\)$/\1/p' "$tmp/serve.any.out")
expect "a random token is made and printed (${#made} hex digits)" test "${#made}" = 32
expect "it is said on stderr" grep -q "is not loopback: every request must carry the token $made" "$tmp/serve.any.err"
any=http://127.0.0.1:${url_any##*:}
expect "random token: none -> 401" test "$(status "$any/api/files")" = 401
expect "random token: given -> 200" test "$(status "$any/api/files?token=$made")" = 200

# ---------------------------------------------------------------------------
# Live tail: a new snapshot in the directory reaches the stream.

# The page's overview of a source is cached (computed at start, then per
# state of its files): the cached answer is the one a pass gives (kind=log
# is a filter, never cached, that changes nothing here), and a new file in
# the directory makes it computed again.
page_ov="$u/api/overview?src=0&bins=800&spans=1"
expect "overview: the cached answer equals a new pass" \
	test "$(curl -s "$page_ov")" = "$(curl -s "$page_ov&kind=log")"
ov_before=$(jq_py "$page_ov" "j['events']")

curl -s -N --max-time 4 "$u/api/tail?src=0" >"$tmp/tail.out" &
tail_pid=$!
sleep 1
mkdir -p "$tmp/late"
# metrics_snapshot runs on the real clock: its event is newer than all
# the others, as a stream's new events are.
"$progs/metrics_snapshot" "$tmp/late" >/dev/null
mv "$tmp/late"/*.ttlog "$data/"
ov_after=$(jq_py "$page_ov" "j['events']")
expect "overview: a new file in the directory is counted ($ov_before, then $ov_after)" \
	test "$ov_after" = "$((ov_before + 1))"
expect "overview: still the answer of a new pass" \
	test "$(curl -s "$page_ov")" = "$(curl -s "$page_ov&kind=log")"
wait "$tail_pid"
expect "tail: a retry hint first" grep -q '^retry: ' "$tmp/tail.out"
expect "tail: the new event as a data line" grep -q '^data: {.*"thread":"metrics_snapsho' "$tmp/tail.out"

# Live tail of a stream directory whose segment grows while it is followed:
# the events arrive in order, none missing, none twice.
mkdir -p "$tmp/stream"
TTLOG_STREAM=$tmp/stream TTLOG_DIR=$tmp/stream-snap "$progs/stream_load" 1 2500 --rate 2000 >/dev/null 2>&1 &
load_pid=$!
for i in $(seq 50); do ls "$tmp/stream"/*.ttseg >/dev/null 2>&1 && break; sleep 0.1; done
serve_start stream "$tmp/stream"
curl -s -N --max-time 1.5 "$url_stream/api/tail?src=0" >"$tmp/tail2.out"
wait "$load_pid"
seq_check=$(python3 -c '
import json, sys
ids = [json.loads(l[6:])["args"][1] for l in open(sys.argv[1]) if l.startswith("data: ")]
print(len(ids) > 100, all(b == a + 1 for a, b in zip(ids, ids[1:])))' "$tmp/tail2.out")
expect "tail of a growing segment: new events, consecutive ($seq_check)" test "$seq_check" = "True True"

# ---------------------------------------------------------------------------
# Stopping

kill -TERM "$pid_main"
for i in $(seq 50); do kill -0 "$pid_main" 2>/dev/null || break; sleep 0.1; done
expect "SIGTERM stops the server" test "$(kill -0 "$pid_main" 2>/dev/null && echo running || echo stopped)" = stopped
wait "$pid_main"
expect "it exits 0" test $? = 0
expect "it says so" grep -q "terminated, stopping" "$tmp/serve.main.err"
kill -INT "$pid_tok"
wait "$pid_tok"
expect "SIGINT stops it too, exit 0" test $? = 0

finish
