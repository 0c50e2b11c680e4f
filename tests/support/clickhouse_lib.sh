# SPDX-License-Identifier: MIT
# clickhouse_lib.sh - a ClickHouse server of the test's own: Debian's
# clickhouse-server started as the current user with a configuration
# generated into the test's scratch directory (listening on 127.0.0.1 only,
# on a free HTTP port and a free native port, no interserver or MySQL port,
# data, temporary files and logs under the scratch directory), waited for
# until `SELECT 1` answers, and stopped by an EXIT trap however the test
# ends. Sourced after cli_lib.sh (which sets $tmp, expect and fail).
#
#   ch_start            starts the server; sets ch_url (http://127.0.0.1:PORT)
#   ch_stop             stops it (SIGTERM, then SIGKILL after 20 s); data stays
#   ch_kill             kills it (SIGKILL: a server gone at once, as in a crash)
#   ch_start_again      starts it again on the same port and data
#   ch_sql SQL          prints the answer of a query (TabSeparated), or fails
#
# A server that cannot start fails the test with what its log says: the
# test never skips silently.

# shellcheck shell=bash
ch_pid=
ch_url=
ch_dir=

ch_stop() {
	[ -n "$ch_pid" ] || return 0
	kill -TERM "$ch_pid" 2>/dev/null
	local i
	for i in $(seq 1 200); do
		kill -0 "$ch_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$ch_pid" 2>/dev/null
	wait "$ch_pid" 2>/dev/null
	ch_pid=
}
trap ch_stop EXIT

ch_kill() {
	[ -n "$ch_pid" ] || return 0
	kill -KILL "$ch_pid" 2>/dev/null
	wait "$ch_pid" 2>/dev/null
	ch_pid=
}

# A port nobody listens on now: the kernel's choice for a socket bound to
# port 0, closed again (the server binds it a moment later).
ch_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

ch_write_config() {
	local http=$1 tcp=$2
	mkdir -p "$ch_dir/data" "$ch_dir/tmp" "$ch_dir/user_files" "$ch_dir/log" "$ch_dir/format_schemas"
	cat >"$ch_dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$ch_dir/log/server.log</log>
        <errorlog>$ch_dir/log/server.err.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    <max_connections>64</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>16</max_concurrent_queries>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <path>$ch_dir/data/</path>
    <tmp_path>$ch_dir/tmp/</tmp_path>
    <user_files_path>$ch_dir/user_files/</user_files_path>
    <format_schema_path>$ch_dir/format_schemas/</format_schema_path>
    <users_config>$ch_dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
XML
	cat >"$ch_dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <max_threads>2</max_threads>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
XML
}

# Starts the server of ch_dir's configuration and waits up to 60 s for it.
ch_launch() {
	local server
	server=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
	if [ ! -x "$server" ]; then
		fail "clickhouse-server is installed" \
			"not found (Debian: clickhouse-server; scripts/install-deps.sh installs it)"
		finish
	fi
	"$server" --config-file="$ch_dir/config.xml" >"$ch_dir/log/stdout" 2>&1 &
	ch_pid=$!
	local i
	for i in $(seq 1 600); do
		if [ "$(curl -s --max-time 2 "$ch_url/?query=SELECT%201" 2>/dev/null)" = 1 ]; then
			return 0
		fi
		if ! kill -0 "$ch_pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	fail "clickhouse-server answers SELECT 1 on $ch_url" \
		"it did not; its log: $(tail -n 5 "$ch_dir/log/server.err.log" "$ch_dir/log/stdout" 2>/dev/null | head -c 800)"
	ch_stop
	finish
}

ch_start() {
	ch_dir=$tmp/clickhouse
	rm -rf "$ch_dir"
	mkdir -p "$ch_dir"
	local http tcp
	http=$(ch_free_port) tcp=$(ch_free_port)
	ch_write_config "$http" "$tcp"
	ch_url=http://127.0.0.1:$http
	ch_launch
}

ch_start_again() {
	ch_launch
}

# The answer of a query, TabSeparated; a failed query prints the server's
# message on stderr and returns non-zero.
ch_sql() {
	local out code
	out=$(curl -s --max-time 60 -w '\n%{http_code}' --data-binary "$1" "$ch_url/")
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ "$code" != 200 ]; then
		echo "ClickHouse: $code: $out" >&2
		return 1
	fi
	printf '%s\n' "$out"
}
