#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# redact.sh - TTLOG_REDACT (README "Safe files"): a program logs secrets in
# fields (key= in the format, TTLOG_F), a number and an argument named by
# position; with the rules set, no byte of its snapshot or its stream
# segment, written with each codec (lz4, packed, zstd, none), holds a
# secret, nor does `ttlog view` or any export format; the markers
# "[REDACTED n]" are shown instead, the values that are not secret stay,
# and `ttlog stats` counts the values replaced. Without the rules the same
# check finds the secrets (so the check itself can fail). Bad rules are a
# clear error at init.
set -uo pipefail
# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

src=${TTLOG_SRC:?TTLOG_SRC must name the source tree}
line=$(grep -n 'REDACT-ARG-2' "$src/tests/progs/redact_secrets.c" | cut -d: -f1)
rules="password,token,card*,ssn,arg:2@redact_secrets.c:$line"
secrets=(hunter2-SECRET-PW 4111111111111111 tok_SECRET_ABC123 DBPASS-SECRET-XYZ)
exports=(jsonl csv logfmt chrome otlp-json)

# Whether any secret (or, in text, the ssn) is in the files named.
has_secret() {
	local s
	for s in "${secrets[@]}"; do
		grep -a -q -F -e "$s" "$@" && return 0
	done
	return 1
}

# Writes a snapshot and a segment into $tmp/$1/{snap,stream}.
run_prog() {
	local name=$1
	shift
	mkdir -p "$tmp/$name/snap" "$tmp/$name/stream"
	env "$@" TTLOG_STREAM="$tmp/$name/stream" "$progs/redact_secrets" "$tmp/$name/snap" >/dev/null
}

# Every output a reader of the file gives, into $tmp/$1/out/.
outputs() {
	local name=$1 f fmt i=0
	mkdir -p "$tmp/$name/out"
	for f in "$tmp/$name"/snap/*.ttlog "$tmp/$name"/stream/*.ttseg; do
		i=$((i + 1))
		"$bin" view "$f" >"$tmp/$name/out/view$i.txt" || return 1
		"$bin" view -o json "$f" >"$tmp/$name/out/view$i.json" || return 1
		for fmt in "${exports[@]}"; do
			"$bin" export --format "$fmt" "$f" >"$tmp/$name/out/$i.$fmt" || return 1
		done
	done
}

# Control: without rules, the same checks find every secret.
run_prog plain TTLOG_COMPRESSION=none
outputs plain
expect "without rules the secrets are in the raw snapshot" has_secret "$tmp"/plain/snap/*.ttlog
for s in "${secrets[@]}"; do
	expect "without rules $s is in the view" grep -q -F -e "$s" "$tmp"/plain/out/view1.txt
done

for codec in lz4 packed zstd none; do
	run_prog "$codec" TTLOG_COMPRESSION="$codec" TTLOG_REDACT="$rules"
	expect "$codec: one snapshot and one segment" \
		test -f "$(echo "$tmp/$codec"/snap/*.ttlog)" -a -f "$(echo "$tmp/$codec"/stream/*.ttseg)"
	if has_secret "$tmp/$codec"/snap/*.ttlog "$tmp/$codec"/stream/*.ttseg; then
		fail "$codec: a secret in the files" "grep found one"
	else
		passed=$((passed + 1))
		printf 'ok   %s\n' "$codec: no secret in any byte of the snapshot or the segment"
	fi
	expect "$codec: view and every export" outputs "$codec"
	if has_secret "$tmp/$codec"/out/* || grep -q -F 987654321 "$tmp/$codec"/out/*; then
		fail "$codec: a secret in an output" "$(grep -l -F -e 987654321 -e SECRET -e 4111111111111111 "$tmp/$codec"/out/* | head -3)"
	else
		passed=$((passed + 1))
		printf 'ok   %s\n' "$codec: no secret in view, view -o json, ${exports[*]}"
	fi
	expect "$codec: markers with the lengths" sh -c '
		grep -q "password=\[REDACTED 17\]" "$1" &&
		grep -q "card_number=\"\[REDACTED 16\]\"" "$1" &&
		grep -q "token=\"\[REDACTED 17\]\"" "$1" &&
		grep -q "db connect db.example.org as \[REDACTED 17\]" "$1" &&
		grep -q "ssn check ssn=0" "$1" &&
		grep -q "user=alice" "$1" && grep -q "amount=499" "$1"' sh "$tmp/$codec/out/view1.txt"
	expect "$codec: the segment has the markers too" grep -q "password=\[REDACTED 17\]" "$tmp/$codec/out/view2.txt"
	expect "$codec: stats counts the values replaced" sh -c '
		"$1" stats "$2" | grep -Eq "^  redacted +2500 values \(TTLOG_REDACT\)$"' sh "$bin" "$(echo "$tmp/$codec"/snap/*.ttlog)"
done

# Bad rules: ttlog_init fails, naming the rule.
mkdir -p "$tmp/bad"
for rule in "arg:0@x.c:1" "arg:2@x.c" "arg:2@:5" "a b" "arg:17@x.c:3"; do
	check "TTLOG_REDACT='$rule' is refused" - 1 \
		"redact_secrets: ttlog_init: TTLOG_REDACT: expected field keys \(globs such as card\*\), arg:N@FILE:LINE or re:PATTERN, separated by commas, got '$rule'" \
		-- env TTLOG_REDACT="$rule" "$progs/redact_secrets" "$tmp/bad"
done

finish
