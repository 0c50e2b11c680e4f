# SPDX-License-Identifier: MIT
# serve_lib.sh - what the tests of `ttlog serve` share: starting a server on
# 127.0.0.1 with a free port (the kernel's choice, read back from
# --port-file), stopping every server started (an EXIT trap), and asking it
# for a status code or a JSON value. Sourced after cli_lib.sh.
#
#   serve_start NAME [OPTIONS...] DIR|FILE...   sets url_NAME and pid_NAME
#   status URL [CURL ARGS...]                   prints the HTTP status
#   jq_py URL PYTHON-EXPR                       prints EXPR over the JSON (as j)

# shellcheck shell=bash
serve_pids=()

serve_stop_all() {
	local p
	for p in "${serve_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${serve_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	serve_pids=()
}
trap serve_stop_all EXIT

serve_start() {
	local name=$1
	shift
	local pf="$tmp/port.$name" i
	rm -f "$pf"
	# A later --listen among the options wins over this one.
	"$bin" serve --listen 127.0.0.1:0 --port-file "$pf" "$@" >"$tmp/serve.$name.out" \
		2>"$tmp/serve.$name.err" &
	local pid=$!
	serve_pids+=("$pid")
	for i in $(seq 1 100); do
		[ -s "$pf" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$pf" ]; then
		fail "serve $name started" "no port file; stderr: $(head -c 300 "$tmp/serve.$name.err")"
		finish
	fi
	printf -v "url_$name" 'http://127.0.0.1:%s' "$(cat "$pf")"
	printf -v "pid_$name" '%s' "$pid"
}

status() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$@" "$url"
}

jq_py() {
	curl -s --max-time 30 "$1" | python3 -c "
import json, sys
j = json.load(sys.stdin)
print($2)"
}
