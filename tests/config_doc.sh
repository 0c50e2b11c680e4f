#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# config_doc.sh - README.md's configuration table and the library's table of
# TTLOG_* variables (src/core/config.c, printed by `ttlog help env`) list the
# same variables, in the same order, with the same fields and defaults. The
# library's table is what ttlog_init() runs on, so a variable added,
# renamed or given another default there fails here until the README says
# so too, and a row of the README that the library does not have fails as
# well.
set -euo pipefail

: "${TTLOG_BIN:?}" "${TTLOG_SRC:?}"

# NAME<TAB>FIELD<TAB>DEFAULT per variable, from `ttlog help env`.
"$TTLOG_BIN" help env | awk '
	/^TTLOG_/ { name = $1; next }
	name && /^  field:/ { sub(/^  field: +/, ""); field = $0; next }
	name && /^  default:/ {
		sub(/^  default: +/, "")
		printf "%s\t%s\t%s\n", name, field, $0
		name = ""
	}' >library.tsv

# The same from the README: the rows of the table under "## Configuration",
# without the Markdown quoting; "—" is the README's way of saying no field.
awk -F'|' '
	/^## / { on = ($0 == "## Configuration") }
	on && /^\| `TTLOG_/ {
		for (i = 2; i <= 4; i++) {
			gsub(/`/, "", $i)
			gsub(/^ +| +$/, "", $i)
		}
		if ($3 == "—")
			$3 = "(none)"
		printf "%s\t%s\t%s\n", $2, $3, $4
	}' "$TTLOG_SRC/README.md" >readme.tsv

if [[ ! -s library.tsv ]]; then
	echo "config_doc: 'ttlog help env' listed no variable" >&2
	exit 1
fi
if ! diff -u --label "README.md (Variable, Field, Default)" --label "ttlog help env" \
	readme.tsv library.tsv; then
	echo "config_doc: README.md's configuration table and the library's table differ" >&2
	exit 1
fi
echo "config_doc: $(wc -l <library.tsv) variables agree"
