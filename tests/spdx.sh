#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# spdx.sh - the licence is stated: LICENSE holds the MIT licence, and every
# source file of the tree (C, C++, Python, shell, CMake, Make, the page's
# HTML, JS and CSS) says so in its first lines with an SPDX identifier.
# Data files (fuzz seeds, golden outputs, JSON, generated .inc tables) are
# not sources.
set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

src=$(cd "$(dirname "$0")/.." && pwd)
expect "LICENSE is the MIT licence" grep -q '^MIT License$' "$src/LICENSE"

missing=$(cd "$src" && find src include tests fuzz scripts examples bench cmake .ci \
	-path tests/cli/golden -prune -o -path fuzz/corpus -prune -o -path '*/node_modules' -prune -o \
	-type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' -o -name '*.py' \
	-o -name '*.sh' -o -name '*.js' -o -name '*.mjs' -o -name '*.css' -o -name '*.html' \
	-o -name 'CMakeLists.txt' -o -name '*.cmake' -o -name run \) -print |
	while read -r f; do
		head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
	done)
for f in CMakeLists.txt Makefile; do
	head -n 3 "$src/$f" | grep -q 'SPDX-License-Identifier: MIT' || missing="$missing $f"
done
expect "every source file has an SPDX line${missing:+ (missing: $missing)}" test -z "$missing"

finish
