#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_dlopen.sh - a crash inside a library loaded with dlopen() after
# ttlog_init(), which nothing but the crash handler saw
# (tests/progs/dlopen_crash.c, tests/progs/plugin/crash_plugin.c): `ttlog
# view` must name the plugin's functions at their lines, and --modules must
# list the plugin with its build-id. Then a library unloaded with dlclose()
# before the crash must not be listed any more.
set -u
# shellcheck source=support/cli_lib.sh
. "$(dirname "$0")/support/cli_lib.sh"

unset DEBUGINFOD_URLS
stack_filter=

plugin=$progs/crash_plugin.so
src=$(cd "$(dirname "$0")" && pwd)/progs/plugin/crash_plugin.c
crash_line=$(grep -n '/\* line:plugin-crash \*/' "$src" | cut -d: -f1)
call_line=$(grep -n '/\* line:plugin-call \*/' "$src" | cut -d: -f1)
addr='0x[0-9a-f]{16}'

# The one snapshot in DIR whose name has REASON, in snap.
snapshot_in() {
	snap=
	for path in "$1"/*-"$2"*.ttlog; do
		[ -f "$path" ] && snap=$path
	done
	expect "a $2 snapshot in $(basename "$1")" test -n "$snap"
	[ -n "$snap" ] || finish
}

# ---- A crash inside the plugin ----------------------------------------------

mkdir -p "$tmp/crash"
status=0
"$progs/dlopen_crash" "$tmp/crash" "$plugin" >"$tmp/crash.out" 2>&1 || status=$?
expect "dlopen_crash died of SIGSEGV (status $status)" test "$status" -eq $((128 + 11))
snapshot_in "$tmp/crash" SIGSEGV
crash=$snap

check "#0 is plugin_crash_here at the faulting line" \
	"~^  #0  $addr in plugin_crash_here at .*/crash_plugin\\.c:$crash_line\$" 0 '' -- "$bin" view "$crash"
check "#1 is plugin_entry at the call" \
	"~^  #1  $addr in plugin_entry at .*/crash_plugin\\.c:$call_line\$" 0 '' -- "$bin" view "$crash"
check "#2 is the program's main" "~^  #2  $addr in main at .*/dlopen_crash\\.c:[0-9]+\$" 0 '' \
	-- "$bin" view "$crash"
"$bin" view "$crash" >"$tmp/crash.txt" 2>&1
expect "#0 is not \"?? ()\"" bash -c '! grep -Eq "^  #0  0x[0-9a-f]+ in \?\?" "$1"' _ "$tmp/crash.txt"
check "--no-symbols: #0 as plugin+offset" \
	"~^  #0  $addr in \\?\\? \\(crash_plugin\\.so\\+0x[0-9a-f]+\\)\$" 0 '' -- "$bin" view --no-symbols "$crash"

build_id=$(readelf -n "$plugin" | sed -nE 's/^ *Build ID: ([0-9a-f]+)$/\1/p')
expect "the plugin has a build-id" test -n "$build_id"
check "--modules: the plugin with its build-id" \
	"~^  $addr-$addr  .*/crash_plugin\\.so  build-id $build_id\$" 0 '' -- "$bin" view --modules "$crash"
check "--modules: the program is still listed" "~^  $addr-$addr  .*/dlopen_crash  build-id [0-9a-f]+\$" 0 '' \
	-- "$bin" view --modules "$crash"
check "--modules: nothing missing" - 0 '' -- bash -c '! "$1" view --modules "$2" | grep -q "not recorded"' \
	_ "$bin" "$crash"

"$bin" view -o json --modules "$crash" >"$tmp/crash.json"
json_ok() {
	python3 - "$tmp/crash.json" "$crash_line" <<'PY'
import json, sys
objs = [json.loads(line) for line in open(sys.argv[1])]
stack = [o for o in objs if o.get("kind") == "stack"][0]
mods = [o for o in objs if o.get("kind") == "modules"][0]["modules"]
f0 = stack["frames"][0]
assert f0["function"] == "plugin_crash_here" and f0["line"] == int(sys.argv[2]), f0
assert f0["module"].endswith("/crash_plugin.so"), f0
m = [x for x in mods if x["path"] == f0["module"]]
assert len(m) == 1 and int(m[0]["start"], 16) <= int(f0["address"], 16) < int(m[0]["end"], 16), m
assert int(f0["address"], 16) - int(m[0]["bias"], 16) == int(f0["offset"], 16)
paths = [x["path"] for x in mods]
assert len(paths) == len(set(paths)), paths
PY
}
expect "-o json: frame 0 in the plugin's module, listed once" json_ok

# ---- A plugin unloaded before the crash ---------------------------------------

mkdir -p "$tmp/unload"
status=0
"$progs/dlopen_crash" "$tmp/unload" "$plugin" unload >"$tmp/unload.out" 2>&1 || status=$?
expect "dlopen_crash unload died of SIGSEGV (status $status)" test "$status" -eq $((128 + 11))
snapshot_in "$tmp/unload" loaded
check "while loaded: the plugin is listed" "~^  $addr-$addr  .*/crash_plugin\\.so  build-id $build_id\$" 0 '' \
	-- "$bin" view --modules "$snap"
snapshot_in "$tmp/unload" SIGSEGV
check "after dlclose: the crash lists the program" "~^  $addr-$addr  .*/dlopen_crash  build-id " 0 '' \
	-- "$bin" view --modules "$snap"
check "after dlclose: the crash does not list the plugin" - 0 '' \
	-- bash -c '! "$1" view --modules "$2" | grep -q "crash_plugin\.so"' _ "$bin" "$snap"

finish
