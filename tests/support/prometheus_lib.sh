# SPDX-License-Identifier: MIT
# prometheus_lib.sh - Debian's Prometheus tools for the tests: promtool's
# check of an exposition, and a prometheus server of the test's own that
# scrapes one target every second (listening on 127.0.0.1 only, on a free
# port, its data under the scratch directory). Sourced after cli_lib.sh
# (which sets $tmp, fail and passed); the test stops the server in its
# EXIT trap with prometheus_stop.
#
#   promtool_clean NAME FILE     promtool check metrics: exit 0, nothing said
#   prometheus_start JOB TARGET  starts the server scraping TARGET (host:port)
#                                as job JOB; sets prom_pid and purl
#   promql QUERY                 the first result's value, or nothing
#   prometheus_wait QUERY        waits (up to 60 s) until QUERY has a value;
#                                sets got; 1 if it never had one (or the
#                                server died)
#   prometheus_stop              stops the server, if it runs

# shellcheck shell=bash
prom_pid=
purl=

promtool_clean() {
	local said rc
	said=$(promtool check metrics <"$2" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$said" ]; then
		fail "$1" "promtool check metrics exited $rc: $said"
	else
		passed=$((passed + 1))
		printf 'ok   %s\n' "$1"
	fi
}

prometheus_start() {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: $1
    static_configs:
      - targets: ['$2']
YML
	promtool check config "$tmp/prometheus.yml" >"$tmp/config.out" 2>&1 ||
		fail "promtool check config" "$(cat "$tmp/config.out")"
	prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
	prom_pid=$!
	purl="http://127.0.0.1:$port"
}

promql() {
	curl -s --max-time 5 --data-urlencode "query=$1" "$purl/api/v1/query" | python3 -c '
import json, sys
try:
    j = json.load(sys.stdin)
    r = j["data"]["result"]
    print(r[0]["value"][1] if j["status"] == "success" and r else "")
except Exception:
    print("")'
}

prometheus_wait() {
	local _
	got=
	for _ in $(seq 1 300); do
		kill -0 "$prom_pid" 2>/dev/null || return 1
		got=$(promql "$1")
		[ -n "$got" ] && return 0
		sleep 0.2
	done
	return 1
}

prometheus_stop() {
	if [ -n "$prom_pid" ]; then
		kill -TERM "$prom_pid" 2>/dev/null
		wait "$prom_pid" 2>/dev/null
	fi
	prom_pid=
}
