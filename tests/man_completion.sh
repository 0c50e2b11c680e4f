#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# man_completion.sh - the man pages and the bash completion that the build
# makes from the --help texts (scripts/gen-man.py, gen-completion.py): a
# page for `ttlog` and for every command `ttlog --help` lists, each one
# rendered by `man -l` without a warning, with the command's Usage line as
# its synopsis; the completion offers the commands as the first word and,
# after a command, its options (each option of its help text); both are
# installed by `cmake --install` (what `make install` runs) where man and
# bash-completion look for them.
set -euo pipefail

build=$(dirname "$TTLOG_BIN")
tmp=${TTLOG_TEST_TMP:-$(mktemp -d)}
passed=0 failed=0

fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2:-}" ] || echo "$2" | head -n 20 | sed 's/^/     /'
}
ok() { passed=$((passed + 1)); }

command -v man >/dev/null || { echo "FAIL: man not found: install man-db (scripts/install-deps.sh --test)"; exit 1; }

commands=$("$TTLOG_BIN" --help | awk '/^Commands:/ { s = 1; next } s && /^$/ { exit } s && /^  [a-z]/ { print $1 }' | grep -vx help)
[ -n "$commands" ] || { echo "FAIL: ttlog --help lists no command"; exit 1; }

# ---- Man pages -------------------------------------------------------------

for name in ttlog $(printf 'ttlog-%s\n' $commands); do
	page=$build/man/$name.1
	if [ ! -f "$page" ]; then
		fail "$name: no page $page"
		continue
	fi
	if ! out=$(MANWIDTH=100 man --warnings -l "$page" 2>"$tmp/man.err"); then
		fail "$name: man -l failed" "$(cat "$tmp/man.err")"
		continue
	fi
	[ ! -s "$tmp/man.err" ] || { fail "$name: man -l warned" "$(cat "$tmp/man.err")"; continue; }
	if [ "$name" = ttlog ]; then
		usage=$("$TTLOG_BIN" --help | sed -n 's/^Usage: //p')
		grep -q "TTLOG_DIR" <<<"$out" || { fail "$name: no ENVIRONMENT section (ttlog help env)" "$out"; continue; }
	else
		usage=$("$TTLOG_BIN" "${name#ttlog-}" --help | sed -n 's/^Usage: //p')
	fi
	grep -qF -- "$usage" <<<"$out" || { fail "$name: the rendered page lacks '$usage'" "$out"; continue; }
	grep -q "^NAME" <<<"$out" && grep -qE "^ *$name +- " <<<"$out" ||
		{ fail "$name: no NAME line '$name - ...'" "$out"; continue; }
	ok
done

# ---- Bash completion ------------------------------------------------------

comp=$build/completion/ttlog
# complete WORDS...: what the completion offers for the last word.
complete_words() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ttlog; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$comp" "$@"
}
if [ ! -f "$comp" ]; then
	fail "no completion file $comp"
else
	got=$(complete_words ttlog "")
	for c in $commands; do
		grep -qx -- "$c" <<<"$got" || fail "completion of the first word lacks '$c'" "$got"
	done
	[ "$(complete_words ttlog vi)" = view ] || fail "completion of 'vi' is not 'view'" "$(complete_words ttlog vi)"
	for c in $commands; do
		got=$(complete_words ttlog "$c" -)
		missing=""
		for opt in $("$TTLOG_BIN" "$c" --help | grep -oE '^ {2,8}(-[A-Za-z0-9], +)?--[a-z0-9][a-z0-9-]*' | grep -oE -- '-{1,2}[A-Za-z0-9][a-z0-9-]*'); do
			grep -qx -- "$opt" <<<"$got" || missing="$missing $opt"
		done
		if [ -n "$missing" ]; then
			fail "completion of 'ttlog $c -' lacks:$missing" "$got"
		else
			ok
		fi
	done
	[ "$(complete_words ttlog view --thr)" = --thread ] || fail "completion of 'view --thr' is not --thread"
	got=$(complete_words ttlog help "")
	grep -qx env <<<"$got" && grep -qx view <<<"$got" || fail "completion after 'help' lacks env or view" "$got"
	ok
fi

# ---- Installed ------------------------------------------------------------

if grep -q -e '^TTLOG_SANITIZE:STRING=..*' -e '^TTLOG_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
	echo "(sanitizer or fuzzing build: not installable as such, install not checked)"
else
	prefix=$tmp/prefix
	cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || fail "cmake --install" "$(cat "$tmp/install.log")"
	for name in ttlog $(printf 'ttlog-%s\n' $commands); do
		[ -f "$prefix/share/man/man1/$name.1" ] || fail "not installed: share/man/man1/$name.1"
	done
	[ -f "$prefix/share/bash-completion/completions/ttlog" ] || fail "not installed: share/bash-completion/completions/ttlog"
	MANPATH=$prefix/share/man man -w ttlog-view >/dev/null 2>&1 || fail "man does not find the installed ttlog-view page through MANPATH"
	ok
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
