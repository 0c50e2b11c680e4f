#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# serve_report.sh - `ttlog report`: options, errors, and what the HTML file
# embeds (the last N events, the count left out, spans, the crash). The
# file is opened in a browser by tests/browser/run.sh.

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

spans=$(make_snapshot spans)
make_crash_snapshot

check "report --help" '~^Usage: ttlog report' 0 '' -- "$bin" report --help
check "help lists report" '~^  report FILE ' 0 '' -- "$bin" --help
check "report without a file" - 1 "expected a FILE or DIR" -- "$bin" report
check "report of two files" - 1 "expected one FILE or DIR, got 2" -- "$bin" report "$spans" "$crash"
check "report --last 0" - 1 "--last takes 1 to" -- "$bin" report --last 0 "$spans"
check "report of a missing file" - 2 "no such file" -- "$bin" report "$tmp/missing.ttlog"

"$bin" report --last 3 "$spans" >"$tmp/r.html"
expect "report exits 0" test $? = 0
data=$(sed -n 's/^<script type="application\/json" id="ttlog-data">\(.*\)<\/script>$/\1/p' "$tmp/r.html")
expect "the data is one JSON line" test -n "$data"
summary=$(python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
e = d["events"]
print(len(e["events"]), e["total"], e["left_out"], len(d["spans"]["spans"]), [x["message"] for x in e["events"]][-1])' <<<"$data")
expect "the last 3 of 14 events, 11 left out, 4 spans ($summary)" test "$summary" = "3 14 11 4 end other.request 2.000us"
expect "two script elements and no stray close tag" test "$(grep -o '</script>' "$tmp/r.html" | wc -l)" = 2
expect "a CSP that allows no request" grep -q "default-src 'none'; script-src 'unsafe-inline'" "$tmp/r.html"
expect "no reference to the server's files" test "$(grep -c 'src="app.js"\|href="style.css"' "$tmp/r.html")" = 0

"$bin" report "$crash" >"$tmp/c.html"
cdata=$(sed -n 's/^<script type="application\/json" id="ttlog-data">\(.*\)<\/script>$/\1/p' "$tmp/c.html")
expect "the crash with a symbolised frame" test "$(python3 -c '
import json, sys
c = json.loads(sys.stdin.read())["crash"]["files"][0]
print(c["signal"], c["stacks"][0]["frames"][0]["function"])' <<<"$cdata")" = "SIGSEGV write_nowhere"

finish
