#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install_deps.sh - scripts/install-deps.sh installs per make target what
# that target needs: a plain build (make, make install) needs neither clang
# nor the fuzzing runtimes nor the benchmark peers, while the test, clang,
# fuzz, bench and soak groups add theirs. Checked through --list, which installs
# nothing.
set -euo pipefail

script=$TTLOG_SRC/scripts/install-deps.sh
passed=0 failed=0

# The list of each group, asked once.
declare -A lists
for args in "" --test --clang --fuzz --bench --soak; do
	# shellcheck disable=SC2086 # the group option, split on purpose
	lists[x$args]=$(bash "$script" --list $args)
done

# has GROUP-ARG PACKAGE yes|no
has() {
	local args=$1 pkg=$2 want=$3 got=no
	grep -qx -- "$pkg" <<<"${lists[x$args]}" && got=yes
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL install-deps.sh --list $args: $pkg listed: $got, expected $want"
	fi
}

for pkg in cmake gcc pkg-config liblz4-dev libunwind-dev libcmocka-dev python3; do
	has "" "$pkg" yes
	has "--test" "$pkg" yes
done
for pkg in clang g++ libclang-rt-14-dev valgrind libspdlog-dev chromium tmux; do
	has "" "$pkg" no
done
for pkg in clang g++ sqlite3 curl chromium tmux; do
	has "--test" "$pkg" yes
	has "--clang" "$pkg" yes
done
has "--test" libclang-rt-14-dev no
has "--fuzz" clang yes
has "--fuzz" libclang-rt-14-dev yes
has "--fuzz" chromium no
has "--bench" valgrind yes
has "--bench" libspdlog-dev yes
has "--bench" clang no
has "--soak" valgrind yes
has "--soak" clang no

if bash "$script" --bogus >/dev/null 2>&1; then
	failed=$((failed + 1))
	echo "FAIL install-deps.sh --bogus: accepted"
else
	passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
