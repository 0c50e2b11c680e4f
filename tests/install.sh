#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install.sh - `make install` gives what an application and a tool need:
# installs the build into a scratch prefix, then builds against it, once
# with CMake's find_package(ttlog) and once with pkg-config, a program that
# logs (ttlog::ttlog, ttlog) and a tool that reads (ttlog::read, ttlog-read).
# Each writer must write a snapshot that the installed ttlog and each reader
# read back; the tool also uses the unstable ttlog_tools.h, which must refuse
# to compile without TTLOG_TOOLS_UNSTABLE. The installed `ttlog run` must
# find the installed shim.
#
# Sanitizer and fuzzing builds are not installable as such (the consumer
# would need the same -fsanitize flags), so this test only runs in plain
# builds and reports itself skipped in the others.
set -euo pipefail

build=$(dirname "$TTLOG_BIN")
tmp=${TTLOG_TEST_TMP:-$(mktemp -d)}
prefix=$tmp/prefix
passed=0

# 77: CTest reports the test as skipped.
if grep -q -e '^TTLOG_SANITIZE:STRING=..*' -e '^TTLOG_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
	echo "install: sanitizer or fuzzing build, not installable as such: skipped"
	exit 77
fi

fail() {
	echo "FAIL $*" >&2
	echo "$passed passed, 1 failed"
	exit 1
}

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || fail "cmake --install: $(cat "$tmp/install.log")"
for f in include/ttlog.h include/ttlog.hpp include/ttlog_compat.h include/ttlog/impl.h include/ttlog_reader.h include/ttlog_tools.h bin/ttlog; do
	[ -e "$prefix/$f" ] || fail "not installed: $f"
done
pc=$(find "$prefix" -name ttlog.pc | head -n 1)
[ -n "$pc" ] || fail "not installed: ttlog.pc"
[ -e "$(dirname "$pc")/ttlog-read.pc" ] || fail "not installed: ttlog-read.pc"
libdir=$(dirname "$(find "$prefix" -name 'libttlog.so*' | head -n 1)")
for f in libttlog.a libttlog-read.a "libttlog-read.so"; do
	[ -e "$libdir/$f" ] || fail "not installed: $f"
done
passed=$((passed + 1))

mkdir -p "$tmp/app"
cat >"$tmp/app/app.c" <<'EOF'
#include <stdio.h>
#include <ttlog.h>
int main(int argc, char **argv)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = argv[1];
	if (argc != 2 || ttlog_init(&cfg) != TTLOG_OK)
		return 1;
	TTLOG_INFO("installed %s works", "ttlog");
	return ttlog_snapshot("installed") == TTLOG_OK ? 0 : 1;
}
EOF
# The tool: reads the snapshot back through libttlog-read, and calls one
# function of ttlog_tools.h from each library (ttlog__signal_name is
# libttlog's, ttlog__shm_snapshot libttlog-read's).
cat >"$tmp/app/tool.c" <<'EOF'
#define TTLOG_TOOLS_UNSTABLE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ttlog_reader.h>
#include <ttlog_tools.h>
int main(int argc, char **argv)
{
	ttlog_reader *r = NULL;
	struct ttlog_event ev;
	char text[256], missing[4096], path[4096], err[512];
	int found = 0;
	if (argc != 2)
		return 2;
	int rc = ttlog_reader_open(argv[1], &r);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], r ? ttlog_reader_error(r) : ttlog_strerror(rc));
		ttlog_reader_close(r);
		return 1;
	}
	while (ttlog_reader_next(r, &ev)) {
		ttlog_event_format(&ev, text, sizeof text);
		found |= strcmp(text, "installed ttlog works") == 0;
	}
	ttlog_reader_close(r);
	const char *name = ttlog__signal_name(SIGSEGV);
	snprintf(missing, sizeof missing, "%s.no-such-mapping", argv[1]);
	rc = ttlog__shm_snapshot(missing, NULL, NULL, path, sizeof path, err, sizeof err);
	printf("event: %s, signal: %s, mapping: %s\n", found ? "found" : "missing", name ? name : "?",
	       ttlog_strerror(rc));
	return found && name && strcmp(name, "SIGSEGV") == 0 && rc == TTLOG_E_OPEN ? 0 : 1;
}
EOF
cat >"$tmp/app/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(ttlog REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE ttlog::ttlog)
add_executable(tool tool.c)
target_link_libraries(tool PRIVATE ttlog::read)
add_executable(tool_static tool.c)
target_link_libraries(tool_static PRIVATE ttlog::read_static)
EOF

# check_snapshot DIR TOOL...: exactly one snapshot, and the installed ttlog
# and each tool read it.
check_snapshot() {
	local snap dir=$1 tool
	shift
	snap=$(ls "$dir"/*.ttlog)
	[ "$(echo "$snap" | wc -l)" -eq 1 ] || fail "expected one snapshot in $dir"
	"$prefix/bin/ttlog" view "$snap" | grep -q 'installed ttlog works' || fail "ttlog view $snap"
	for tool in "$@"; do
		LD_LIBRARY_PATH="$libdir" "$tool" "$snap" >"$tmp/tool.log" 2>&1 ||
			fail "$tool $snap: $(cat "$tmp/tool.log")"
	done
}

# The header that promises nothing must be asked for.
printf '#include <ttlog_tools.h>\n' >"$tmp/app/unasked.c"
if cc -std=gnu11 -I"$prefix/include" -fsyntax-only "$tmp/app/unasked.c" >"$tmp/unasked.log" 2>&1 ||
	! grep -q TTLOG_TOOLS_UNSTABLE "$tmp/unasked.log"; then
	fail "ttlog_tools.h without TTLOG_TOOLS_UNSTABLE: $(cat "$tmp/unasked.log")"
fi
passed=$((passed + 1))

cmake -S "$tmp/app" -B "$tmp/app-build" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/app.log" 2>&1 ||
	fail "find_package(ttlog): $(cat "$tmp/app.log")"
cmake --build "$tmp/app-build" >>"$tmp/app.log" 2>&1 ||
	fail "building against ttlog::ttlog and ttlog::read: $(cat "$tmp/app.log")"
# ttlog::read_static is the two archives: the tool needs no libttlog*.so.
if readelf -d "$tmp/app-build/tool_static" | grep -q 'NEEDED.*libttlog'; then
	fail "tool_static (ttlog::read_static) needs a shared libttlog: $(readelf -d "$tmp/app-build/tool_static")"
fi
mkdir -p "$tmp/snap-cmake"
LD_LIBRARY_PATH="$libdir" "$tmp/app-build/app" "$tmp/snap-cmake" || fail "the find_package program failed"
check_snapshot "$tmp/snap-cmake" "$tmp/app-build/tool" "$tmp/app-build/tool_static"
passed=$((passed + 1))

export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046 # pkg-config's output is a list of words
cc -std=gnu11 -o "$tmp/app-pc" "$tmp/app/app.c" $(pkg-config --cflags --libs --static ttlog) ||
	fail "building with pkg-config ttlog"
# shellcheck disable=SC2046
cc -std=gnu11 -o "$tmp/tool-pc" "$tmp/app/tool.c" $(pkg-config --cflags --libs ttlog-read) ||
	fail "building with pkg-config ttlog-read"
mkdir -p "$tmp/snap-pc"
LD_LIBRARY_PATH="$libdir" "$tmp/app-pc" "$tmp/snap-pc" || fail "the pkg-config program failed"
check_snapshot "$tmp/snap-pc" "$tmp/tool-pc"
passed=$((passed + 1))

# `ttlog run` finds the installed shim (libttlog-run.so in libdir, beside
# libttlog.so, which it finds through its $ORIGIN run path) from the
# installed command, with nothing in the environment pointing there.
[ -e "$libdir/libttlog-run.so" ] || fail "not installed: libttlog-run.so"
mkdir -p "$tmp/snap-run"
out=$(env -u TTLOG_RUN_SHIM -u LD_LIBRARY_PATH "$prefix/bin/ttlog" run --dir "$tmp/snap-run" -- \
	sh -c 'cd /installed-run-missing; kill -SEGV $$' 2>&1) && fail "ttlog run: exit status 0 after SIGSEGV: $out"
snap=$(ls "$tmp"/snap-run/*.ttlog 2>/dev/null | head -n 1)
[ -n "$snap" ] || fail "installed ttlog run wrote no snapshot: $out"
"$prefix/bin/ttlog" view "$snap" | grep -q "can't cd to /installed-run-missing" ||
	fail "the installed shim did not record sh's stderr: $("$prefix/bin/ttlog" view "$snap")"
passed=$((passed + 1))

# libttlog-instrument: installed with its header, and a program built with
# -finstrument-functions against the install records its functions.
[ -e "$libdir/libttlog-instrument.so" ] || fail "not installed: libttlog-instrument.so"
[ -e "$prefix/include/ttlog_instrument.h" ] || fail "not installed: ttlog_instrument.h"
cat >"$tmp/app/instr.c" <<'INSTR'
#include <stdio.h>
#include <ttlog.h>
__attribute__((noinline)) void installed_leaf(void);
__attribute__((noinline)) void installed_leaf(void) { puts("leaf"); }
int main(void)
{
	if (ttlog_init(NULL) != TTLOG_OK)
		return 1;
	installed_leaf();
	return ttlog_snapshot("instr") == TTLOG_OK ? 0 : 1;
}
INSTR
cc -std=gnu11 -finstrument-functions -rdynamic -I"$prefix/include" -o "$tmp/instr" "$tmp/app/instr.c" \
	-L"$libdir" -Wl,-rpath,"$libdir" -lttlog-instrument -lttlog || fail "building against libttlog-instrument"
mkdir -p "$tmp/snap-instr"
TTLOG_DIR="$tmp/snap-instr" "$tmp/instr" >/dev/null || fail "the instrumented program failed"
snap=$(ls "$tmp"/snap-instr/*.ttlog 2>/dev/null | head -n 1)
[ -n "$snap" ] && "$prefix/bin/ttlog" view "$snap" | grep -q "begin installed_leaf" ||
	fail "no span of installed_leaf: $([ -n "$snap" ] && "$prefix/bin/ttlog" view "$snap")"
passed=$((passed + 1))

echo "$passed passed, 0 failed"
