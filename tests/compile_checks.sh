#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compile_checks.sh - what the compiler must accept and refuse in code that
# logs: the format is checked like printf's (a wrong argument type is a
# -Wformat warning), the format must be a string literal, a level must be
# one of the six, a field name, a span name and a span field's key must be
# string literals, and correct uses compile without a warning under
# -Wall -Wextra. Uses the compiler the build was configured with.
set -euo pipefail

build=$(dirname "$TTLOG_BIN")
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
tmp=${TTLOG_TEST_TMP:-$(mktemp -d)}
passed=0 failed=0

# check NAME accept|refuse PATTERN CODE: compiles CODE (a function body);
# a refusal must print a diagnostic matching PATTERN.
check() {
	local name=$1 want=$2 pattern=$3 code=$4
	printf '#include <stdbool.h>\n#include <stdint.h>\n#include "ttlog.h"\nvoid f(int i, const char *s, double d, bool b);\nvoid f(int i, const char *s, double d, bool b)\n{\n\t(void)i; (void)s; (void)d; (void)b;\n\t%s\n}\n' "$code" >"$tmp/case.c"
	local out status=0
	out=$("$cc" -std=gnu11 -Wall -Wextra -Werror -I"$TTLOG_SRC/include" -c "$tmp/case.c" -o "$tmp/case.o" 2>&1) || status=$?
	if [ "$want" = accept ] && [ "$status" -eq 0 ] && [ -z "$out" ]; then
		passed=$((passed + 1))
	elif [ "$want" = refuse ] && [ "$status" -ne 0 ] && grep -qE "$pattern" <<<"$out"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL $name: expected the compiler to $want it"
		echo "$out" | sed 's/^/     /'
	fi
}

check "every supported type" accept "" \
	'TTLOG_INFO("%d %s %f %d %c %hhu %hd %ld %llu %zu %p %Lf %u", i, s, d, b, (char)65, (unsigned char)1, (short)2, 3L, 4ULL, (size_t)5, (void *)s, 1.0L, 6u);'
check "no arguments" accept "" 'TTLOG_WARN("plain text");'
check "star width and precision" accept "" 'TTLOG_DEBUG("%*.*f|%-*s", 8, 2, d, 5, s);'
check "char array" accept "" 'char buf[8] = "abc"; TTLOG_TRACE("%s", buf);'
check "sixteen arguments" accept "" \
	'TTLOG_ERROR("%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d", i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i);'
check "TTLOG_LOG with a level" accept "" 'TTLOG_LOG(TTLOG_LEVEL_FATAL, "x=%d", i);'
check "int given to %s" refuse "format" 'TTLOG_INFO("%s", i);'
check "string given to %d" refuse "format" 'TTLOG_INFO("%d", s);'
check "missing argument" refuse "format" 'TTLOG_INFO("%d %d", i);'
# An argument the format does not use is accepted since TTLOG_F() fields
# (which the format check cannot tell from it) follow the format's
# arguments; the viewer shows it as a field argN, so it is not lost.
check "extra argument" accept "" 'TTLOG_INFO("%d", i, i);'
check "fields of every type" accept "" \
	'TTLOG_INFO("login %s", s, TTLOG_F("id", i), TTLOG_F("ratio", d), TTLOG_F("ok", b), TTLOG_F("who", s), TTLOG_F("p", (void *)s), TTLOG_F("u8", (uint8_t)1));'
check "fields only" accept "" 'TTLOG_DEBUG("event", TTLOG_F("a", i), TTLOG_F("b", -1LL));'
check "field name not a literal" refuse "expected|error" 'TTLOG_INFO("x", TTLOG_F(s, i));'
check "field before a format argument" refuse "format" 'TTLOG_INFO("%s", TTLOG_F("n", i), s);'
check "format not a literal" refuse "constant|initializer" 'TTLOG_INFO(s);'
check "level out of range" refuse "level must be" 'TTLOG_LOG(6, "x");'
check "struct argument" refuse "incompatible|invalid|error" 'struct { int a; } v = {1}; TTLOG_INFO("%p", v);'
check "spans: scoped, explicit, fields" accept "" \
	'{ TTLOG_SPAN("a"); TTLOG_SPAN("b", TTLOG_F("id", i), TTLOG_F("who", s)); TTLOG_SPAN_FIELD("rows", d); } TTLOG_SPAN_BEGIN("c"); TTLOG_SPAN_END();'
check "two scopes on one line" accept "" 'TTLOG_CONTEXT("k", i); TTLOG_CONTEXT("l", i); TTLOG_SPAN("a"); TTLOG_SPAN("b");'
check "span name not a literal" refuse "expected|error" 'TTLOG_SPAN(s);'
check "span field key not a literal" refuse "expected|error" 'TTLOG_SPAN_FIELD(s, i);'
check "struct span field" refuse "incompatible|invalid|error" 'struct { int a; } v = {1}; TTLOG_SPAN_FIELD("v", v);'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
