#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gen-cli-doc.sh - copies the help texts of the `ttlog` command into
# docs/CLI.md, so that the reference cannot fall behind the command.
#
# Usage: scripts/gen-cli-doc.sh [--check] [TTLOG]
#   TTLOG    the command to ask (default: build/ttlog)
#   --check  change nothing: print what differs and exit 1 if anything does
#            (the test sh_cli_doc runs this)
#
# docs/CLI.md is written by hand, except between a pair of lines
#
#   <!-- generated: ttlog ARGS -->
#   <!-- end generated -->
#
# which this script fills with the output of `TTLOG ARGS` in a text block.
# Every command that `ttlog --help` lists must have a `ttlog COMMAND --help`
# block, so a new command cannot be left out of the reference.
set -euo pipefail

check=0
if [[ ${1-} == --check ]]; then
	check=1
	shift
fi
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ttlog=${1:-$top/build/ttlog}
doc=$top/docs/CLI.md

if [[ ! -x $ttlog ]]; then
	echo "gen-cli-doc.sh: $ttlog is not an executable; build it first (make build)" >&2
	exit 2
fi

new=$(mktemp)
trap 'rm -f "$new"' EXIT

# Rewrites the generated blocks; the hand-written lines pass through as
# they are. An unended block is an error, not a silently truncated file.
inside=0
generated=()
while IFS= read -r line || [[ -n $line ]]; do
	if ((inside)); then
		if [[ $line == '<!-- end generated -->' ]]; then
			inside=0
			printf '%s\n' "$line"
		fi
		continue
	fi
	printf '%s\n' "$line"
	if [[ $line =~ ^'<!-- generated: ttlog'(.*)' -->'$ ]]; then
		read -r -a args <<<"${BASH_REMATCH[1]}"
		generated+=("${args[*]}")
		echo '```text'
		if ! "$ttlog" "${args[@]}"; then
			echo "gen-cli-doc.sh: 'ttlog ${args[*]}' failed" >&2
			exit 2
		fi
		echo '```'
		inside=1
	fi
done <"$doc" >"$new"
if ((inside)); then
	echo "gen-cli-doc.sh: docs/CLI.md: a generated block has no '<!-- end generated -->'" >&2
	exit 2
fi

# The commands `ttlog --help` lists: the first word of each line of its
# "Commands:" paragraph that starts with two spaces and a name.
commands=$("$ttlog" --help | awk '
	/^Commands:/ { on = 1; next }
	on && /^$/ { exit }
	on && /^  [a-z]/ { print $1 }')
missing=0
for want in "--help" "help env" $(for c in $commands; do [[ $c == help ]] || echo "$c"; done); do
	[[ $want == --help || $want == "help env" ]] || want="$want --help"
	found=0
	for g in "${generated[@]}"; do
		[[ $g == "$want" ]] && found=1
	done
	if ((!found)); then
		echo "gen-cli-doc.sh: docs/CLI.md has no block for 'ttlog $want'" >&2
		missing=1
	fi
done
((missing)) && exit 1

if ((check)); then
	if ! diff -u --label docs/CLI.md --label "what $ttlog prints" "$doc" "$new"; then
		echo "gen-cli-doc.sh: docs/CLI.md is out of date; run scripts/gen-cli-doc.sh" >&2
		exit 1
	fi
	exit 0
fi
if ! cmp -s "$doc" "$new"; then
	cp "$new" "$doc"
	echo "gen-cli-doc.sh: docs/CLI.md updated"
fi
