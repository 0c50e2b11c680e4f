#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - the browser test of `ttlog serve` and `ttlog report` (ctest
# browser_page for chromium, browser_firefox for firefox; label browser):
# installs playwright-core and puppeteer-core from package-lock.json into
# the build tree (npm ci, once per lock, under a lock file since both tests
# may start at once), makes the test snapshots, starts a server on
# 127.0.0.1 and runs page_test.mjs in Debian's headless chromium or
# firefox-esr. Screenshots go to the test's scratch directory in the build
# tree (shots/). A browser that cannot start, or a missing node or npm, is
# a failure with a message, never a skip.
#
# Usage: run.sh [chromium|firefox]   (default chromium)

# shellcheck disable=SC2154
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../support/cli_lib.sh
source "$here/../support/cli_lib.sh"
# shellcheck source=../support/serve_lib.sh
source "$here/../support/serve_lib.sh"
# shellcheck source=../support/logger_lib.sh
source "$here/../support/logger_lib.sh"
trap 'serve_stop_all; cleanup_loggers' EXIT

which=${1:-chromium}
for tool in node npm curl flock; do
	command -v "$tool" >/dev/null || { fail "$tool" "$tool is needed: run scripts/install-deps.sh"; finish; }
done

# The drivers, into the build tree; npm ci again only when the lock changed.
# No browser download: the tests use Debian's.
modules=$(cd "$(dirname "$bin")" && pwd)/browser-test
mkdir -p "$modules"
export PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if ! (
	flock 9
	if ! cmp -s "$here/package-lock.json" "$modules/package-lock.json" ||
		[ ! -f "$modules/node_modules/playwright-core/package.json" ] ||
		[ ! -f "$modules/node_modules/puppeteer-core/package.json" ]; then
		cp "$here/package.json" "$here/package-lock.json" "$modules/"
		# A failed install leaves no lock behind, so the next run tries again.
		(cd "$modules" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1 ||
			{ rm -f "$modules/package-lock.json"; exit 1; }
	fi
) 9>"$modules.lock"; then
	fail "npm ci" "could not install playwright-core and puppeteer-core:" "$(tail -5 "$tmp/npm.log")"
	finish
fi

data=$tmp/data
mkdir -p "$data" "$tmp/shots"
"$progs/cli_snapshot" "$data" spans >/dev/null
"$progs/cli_snapshot" "$data" fields >/dev/null
("$progs/cli_snapshot" "$data" crash; true) >/dev/null 2>&1
"$progs/metrics_snapshot" "$data" >/dev/null

# A running process in shared-memory mode for the live tail: it logs a
# line of its input when the page test writes one (tests/progs/shm_echo).
LOGGER_PROG=shm_echo start_logger TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$tmp/shm" \
	TTLOG_DIR="$tmp/echo-snaps" -- 0 3 || finish
echo_pid=$pid
serve_start page --shm-dir "$tmp/shm" "$data" "pid:$echo_pid"
u=$url_page
src_of() {
	jq_py "$u/api/files" "[s['id'] for s in j['sources'] if '$1' in s['label']][0]"
}
spans_file=$(ls "$data"/*-spans.ttlog)
report=
if "$bin" help report >/dev/null 2>&1; then
	report=$tmp/report.html
	"$bin" report "$spans_file" >"$report" || fail "ttlog report" "exit status $?"
fi
cat >"$tmp/config.json" <<JSON
{"url": "$u", "store": 0, "spans": $(src_of -spans.ttlog), "fields": $(src_of -fields.ttlog),
 "crash": $(src_of -SIGSEGV.ttlog), "metrics": $(src_of -metrics.ttlog),
 "live": $(src_of "pid:$echo_pid"), "live_input": "$tmp/logger$loggers.in",
 "shots": "$tmp/shots", "report": "$report"}
JSON

node "$here/page_test.mjs" "$modules/node_modules" "$tmp/config.json" "$which" >"$tmp/node.out" 2>&1
rc=$?
cat "$tmp/node.out"
counts=$(tail -1 "$tmp/node.out")
if [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	passed=$((passed + BASH_REMATCH[1]))
	failed=$((failed + BASH_REMATCH[2]))
fi
[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || fail "page_test.mjs" "exit status $rc"
echo "screenshots: $tmp/shots"
finish
