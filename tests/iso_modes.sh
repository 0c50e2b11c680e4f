#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# iso_modes.sh - the public header in every language mode a user builds
# with: ISO C (-std=c99, c11, c17: what CMake gives with C_EXTENSIONS OFF),
# GNU C, ISO C++ (-std=c++17, c++20) and GNU C++, each with gcc/g++ and
# clang/clang++, under -Wall -Wextra -pedantic -Werror (c99 without
# -pedantic: the header uses C11's _Atomic and _Generic, which gcc and
# clang accept in c99 mode as extensions). The program uses every macro
# form that has no arguments after its first: a log call with no
# arguments, scoped and explicit spans without fields, label-less metrics,
# next to the same forms with arguments; in C++ also <ttlog.hpp> (scoped
# spans and contexts, stream lines), and <ttlog_compat.h>; and
# <ttlog_reader.h>, whose struct ttlog_event holds an anonymous union (its
# functions are not called: the program links libttlog only). Each build
# must compile without a diagnostic, link against the library, run, and
# write a snapshot in which `ttlog view` finds every event and span and
# `ttlog view --metrics` every metric.
set -euo pipefail

build=$(dirname "$TTLOG_BIN")
sanitize=$(sed -n 's/^TTLOG_SANITIZE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
tmp=${TTLOG_TEST_TMP:-$(mktemp -d)}
passed=0 failed=0

lib=$(find "$build" -maxdepth 1 -name 'libttlog.so' | head -n 1)
if [ -z "$lib" ]; then
	echo "FAIL: no libttlog.so in $build (the shared library is needed to link the programs)"
	exit 1
fi
for c in gcc clang g++ clang++; do
	if ! command -v "$c" >/dev/null; then
		echo "FAIL: $c not found: install it with scripts/install-deps.sh --test"
		exit 1
	fi
done

# Valid C and C++ alike.
cat >"$tmp/modes.c" <<'EOF'
#include <string.h>

#include "ttlog.h"
#include "ttlog_compat.h"
#include "ttlog_reader.h"
#ifdef __cplusplus
#include "ttlog.hpp"

static void wrappers(int n)
{
	ttlog::span s("iso.cpp_span");
	ttlog::context c("iso_key", n);
	ttlog::context k(std::string("iso_text"), "v");
	ttlog::info() << "iso stream n=" << n;
	TTLOG_STREAM(TTLOG_LEVEL_WARN) << "iso stream macro " << 1.5;
}
#endif

static int event_without_plan(void)
{
	struct ttlog_event ev;
	memset(&ev, 0, sizeof ev);
	return ev.format_plan == NULL && ev.reserved[1] == 0;
}

static int work(int n)
{
	TTLOG_SPAN("iso.scoped");
	TTLOG_SPAN("iso.scoped_fields", TTLOG_F("n", n));
	TTLOG_SPAN_FIELD("rows", n);
	TTLOG_INFO("iso no arguments");
	TTLOG_DEBUG("iso n=%d", n);
	TTLOG_WARN("iso field only", TTLOG_F("k", n));
	return n + 1;
}

int main(int argc, char **argv)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	if (argc != 2 || !event_without_plan())
		return 2;
	cfg.dir = argv[1];
	if (ttlog_init(&cfg) != TTLOG_OK)
		return 1;
	int n = work(41);
	ttlog_syslog(3, "iso syslog n=%d", n);
	ttlog_printf("iso printf");
#ifdef __cplusplus
	wrappers(n);
#endif
	TTLOG_SPAN_BEGIN("iso.explicit");
	TTLOG_SPAN_BEGIN("iso.explicit_fields", TTLOG_F("n", n));
	TTLOG_SPAN_END();
	TTLOG_SPAN_END();
	{
		TTLOG_CONTEXT("req", n);
		TTLOG_ERROR("iso in context");
	}
	TTLOG_CONTEXT_PUSH("user", "u1");
	ttlog_context_pop();
	TTLOG_COUNTER_ADD("iso_counter", 3);
	TTLOG_COUNTER_ADD("iso_counter_labelled", 1, "kind=a");
	TTLOG_GAUGE_SET("iso_gauge", 2.5);
	TTLOG_GAUGE_SET("iso_gauge_labelled", 1.0, "a=b", "c=d");
	TTLOG_HISTOGRAM_RECORD("iso_histogram", 7.0);
	TTLOG_HISTOGRAM_RECORD("iso_histogram_labelled", 8.0, "a=b");
	TTLOG_LOG(TTLOG_LEVEL_FATAL, "iso done");
	return ttlog_snapshot("iso") == TTLOG_OK ? 0 : 1;
}
EOF
cp "$tmp/modes.c" "$tmp/modes.cpp"

fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2:-}" ] || echo "$2" | sed 's/^/     /'
}

# mode COMPILER STD [FLAGS...]
mode() {
	local cc=$1 std=$2
	shift 2
	local name="$cc -std=$std $*" src=$tmp/modes.c dir out status=0
	case $std in *++*) src=$tmp/modes.cpp ;; esac
	dir=$tmp/$cc-$std
	rm -rf "$dir" && mkdir -p "$dir/snap"
	# Compiling must give no diagnostic at all; linking is separate, since
	# a sanitizer build's library brings the runtime's own linker warnings
	# (libasan's tmpnam), which are not the header's.
	out=$("$cc" -std="$std" "$@" -Wall -Wextra -Werror -I"$TTLOG_SRC/include" -c "$src" \
		-o "$dir/prog.o" 2>&1) || status=$?
	if [ "$status" -ne 0 ] || [ -n "$out" ]; then
		fail "$name: does not compile without a diagnostic" "$out"
		return
	fi
	# In a sanitizer build the library needs its runtime loaded first: the
	# program is linked with gcc's (the build's); clang would bring its own
	# runtime beside it, so there the compile check is all.
	local link=()
	if [ -n "$sanitize" ]; then
		case $cc in
		clang*)
			printf 'ok   %s: compiles (sanitizer build: not linked)\n' "$name"
			passed=$((passed + 1))
			return
			;;
		esac
		link=(-fsanitize="$sanitize")
	fi
	if ! "$cc" "${link[@]}" "$dir/prog.o" -o "$dir/prog" -L"$build" -lttlog -Wl,-rpath,"$build" \
		>"$dir/link.out" 2>&1; then
		fail "$name: does not link" "$(cat "$dir/link.out")"
		return
	fi
	if ! out=$("$dir/prog" "$dir/snap" 2>&1); then
		fail "$name: the program failed" "$out"
		return
	fi
	local snap
	snap=$(ls "$dir"/snap/*.ttlog 2>/dev/null | head -n 1)
	if [ -z "$snap" ]; then
		fail "$name: no snapshot written"
		return
	fi
	local view metrics want missing="" cpp_wants=()
	case $std in *++*) cpp_wants=("iso stream n=42" "iso stream macro 1.5" iso.cpp_span) ;; esac
	view=$("$TTLOG_BIN" view --color=never "$snap" 2>&1) || { fail "$name: ttlog view failed" "$view"; return; }
	metrics=$("$TTLOG_BIN" view --metrics "$snap" 2>&1) || { fail "$name: ttlog view --metrics failed" "$metrics"; return; }
	for want in "iso no arguments" "iso n=41" "iso field only" "iso in context" "iso done" \
		"iso syslog n=42" "iso printf" \
		iso.scoped iso.scoped_fields iso.explicit iso.explicit_fields "${cpp_wants[@]}"; do
		grep -qF -- "$want" <<<"$view" || missing="$missing '$want'"
	done
	for want in iso_counter iso_counter_labelled iso_gauge iso_gauge_labelled \
		iso_histogram iso_histogram_labelled; do
		grep -qF -- "$want" <<<"$metrics" || missing="$missing '$want'"
	done
	if [ -n "$missing" ]; then
		fail "$name: missing from the snapshot:$missing" "$view"
		return
	fi
	passed=$((passed + 1))
}

for cc in gcc clang; do
	mode "$cc" c99
	for std in c11 c17 gnu11; do
		mode "$cc" "$std" -pedantic
	done
done
for cxx in g++ clang++; do
	for std in c++17 c++20 gnu++17; do
		mode "$cxx" "$std" -pedantic
	done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
