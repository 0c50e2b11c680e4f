#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# readme_example.sh - the C example of README.md ("Using it from C")
# compiles as pasted and works, built the way the README says against a
# private install prefix: the ```c block is taken from README.md as it is,
# the build is installed into a scratch $HOME/opt/ttlog, and the ```sh
# block after it runs line by line (its `make install PREFIX=...` done by
# `cmake --install` of this build, which is what that target runs). The
# program must run, and `ttlog view` without a FILE must show its events.
#
# Sanitizer and fuzzing builds are not installable as such (see
# install.sh): skipped there, saying so.
set -euo pipefail

build=$(dirname "$TTLOG_BIN")
tmp=${TTLOG_TEST_TMP:-$(mktemp -d)}
readme=$TTLOG_SRC/README.md

if grep -q -e '^TTLOG_SANITIZE:STRING=..*' -e '^TTLOG_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
	echo "readme_example: sanitizer or fuzzing build, not installable as such: skipped"
	exit 77
fi

fail() {
	echo "FAIL $*" >&2
	exit 1
}

# The first ```c block after the heading, and the first ```sh block after
# the sentence about a private prefix.
awk '/^## Using it from C/ { s = 1 } s == 1 && /^```c$/ { s = 2; next } s == 2 && /^```$/ { exit } s == 2 { print }' \
	"$readme" >"$tmp/app.c"
awk '/^## Using it from C/ { s = 1 } s == 1 && /private prefix/ { s = 2 } s == 2 && /^```sh$/ { s = 3; next } s == 3 && /^```$/ { exit } s == 3 { print }' \
	"$readme" >"$tmp/steps.sh"
grep -q 'int main' "$tmp/app.c" || fail "no \`\`\`c block with main() under 'Using it from C' in README.md"
grep -q '^make install PREFIX=' "$tmp/steps.sh" ||
	fail "no \`\`\`sh block starting with 'make install PREFIX=' after 'private prefix' in README.md"

export HOME=$tmp/home TTLOG_DIR=$tmp/snapshots
mkdir -p "$HOME" "$TTLOG_DIR"
cd "$tmp"
while IFS= read -r line; do
	case $line in
	"make install PREFIX="*)
		prefix=$(eval "echo ${line#make install PREFIX=}")
		cmake --install "$build" --prefix "$prefix" >install.log || fail "cmake --install: $(cat install.log)"
		;;
	*)
		echo "+ $line"
		eval "$line" >step.out 2>&1 || fail "README step failed: $line" "$(cat step.out)"
		cat step.out
		;;
	esac
done <"$tmp/steps.sh"

grep -q 'request id=42 latency=1.500000 path=/api/v1/users' step.out ||
	fail "ttlog view of the example's snapshot lacks its INFO event"
grep -q 'cache miss for key user:42' step.out ||
	fail "ttlog view of the example's snapshot lacks its DEBUG event"
echo "1 passed, 0 failed"
