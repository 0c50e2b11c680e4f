#!/usr/bin/env bash
# install.sh - `make install` gives what an application needs: installs the
# build into a scratch prefix, then builds a small program against it twice,
# once with CMake's find_package(ttlog) and once with pkg-config, runs both,
# and checks that each wrote a snapshot that the installed ttlog can read.
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
for f in include/ttlog.h include/ttlog/impl.h include/ttlog_reader.h bin/ttlog; do
	[ -e "$prefix/$f" ] || fail "not installed: $f"
done
pc=$(find "$prefix" -name ttlog.pc | head -n 1)
[ -n "$pc" ] || fail "not installed: ttlog.pc"
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
cat >"$tmp/app/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(ttlog REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE ttlog::ttlog)
EOF

# check_snapshot DIR: exactly one snapshot, and the installed ttlog reads it.
check_snapshot() {
	local snap
	snap=$(ls "$1"/*.ttlog)
	[ "$(echo "$snap" | wc -l)" -eq 1 ] || fail "expected one snapshot in $1"
	"$prefix/bin/ttlog" view "$snap" | grep -q 'installed ttlog works' || fail "ttlog view $snap"
}

cmake -S "$tmp/app" -B "$tmp/app-build" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/app.log" 2>&1 ||
	fail "find_package(ttlog): $(cat "$tmp/app.log")"
cmake --build "$tmp/app-build" >>"$tmp/app.log" 2>&1 || fail "building against ttlog::ttlog: $(cat "$tmp/app.log")"
mkdir -p "$tmp/snap-cmake"
LD_LIBRARY_PATH="$(dirname "$(find "$prefix" -name 'libttlog.so*' | head -n 1)")" \
	"$tmp/app-build/app" "$tmp/snap-cmake" || fail "the find_package program failed"
check_snapshot "$tmp/snap-cmake"
passed=$((passed + 1))

export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046 # pkg-config's output is a list of words
cc -std=gnu11 -o "$tmp/app-pc" "$tmp/app/app.c" $(pkg-config --cflags --libs --static ttlog) ||
	fail "building with pkg-config"
mkdir -p "$tmp/snap-pc"
LD_LIBRARY_PATH="$(dirname "$(find "$prefix" -name 'libttlog.so*' | head -n 1)")" \
	"$tmp/app-pc" "$tmp/snap-pc" || fail "the pkg-config program failed"
check_snapshot "$tmp/snap-pc"
passed=$((passed + 1))

echo "$passed passed, 0 failed"
