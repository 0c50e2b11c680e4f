#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# redact_re.sh - TTLOG_REDACT's re: patterns (README "Safe files"): a card
# number inside a longer string argument and an AWS key id inside a field's
# value are gone from every byte of the snapshot and the stream segment,
# written with each codec, and from ttlog view and every export; '*' bytes
# of the same length stand in their place and the text around them stays;
# ttlog stats counts the matches. Without the patterns the same check finds
# them (so it can fail). Bad patterns fail ttlog_init naming the position.
set -uo pipefail
# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

rules='re:[0-9]{13,19},re:AKIA[A-Z0-9]{16}'
secrets=(5500000000000004 AKIAIOSFODNN7EXAMPLE 4111111111111111)
exports=(jsonl csv logfmt chrome otlp-json)

has_secret() {
	local s
	for s in "${secrets[@]}"; do
		grep -a -q -F -e "$s" "$@" && return 0
	done
	return 1
}

run_prog() {
	local name=$1
	shift
	mkdir -p "$tmp/$name/snap" "$tmp/$name/stream"
	env "$@" TTLOG_STREAM="$tmp/$name/stream" "$progs/redact_secrets" "$tmp/$name/snap" >/dev/null
}

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

run_prog plain TTLOG_COMPRESSION=none
outputs plain
for s in "${secrets[@]}"; do
	expect "without patterns $s is in the raw snapshot" grep -a -q -F -e "$s" "$tmp"/plain/snap/*.ttlog
	expect "without patterns $s is in the view" grep -q -F -e "$s" "$tmp"/plain/out/view1.txt
done

for codec in lz4 packed zstd none; do
	run_prog "$codec" TTLOG_COMPRESSION="$codec" TTLOG_REDACT="$rules"
	expect "$codec: one snapshot and one segment" \
		test -f "$(echo "$tmp/$codec"/snap/*.ttlog)" -a -f "$(echo "$tmp/$codec"/stream/*.ttseg)"
	if has_secret "$tmp/$codec"/snap/*.ttlog "$tmp/$codec"/stream/*.ttseg; then
		fail "$codec: a match in the files" "grep found one"
	else
		passed=$((passed + 1))
		printf 'ok   %s\n' "$codec: no match in any byte of the snapshot or the segment"
	fi
	expect "$codec: view and every export" outputs "$codec"
	if has_secret "$tmp/$codec"/out/*; then
		fail "$codec: a match in an output" "$(grep -l -F -e 5500000000000004 -e AKIAIOSFODNN7EXAMPLE -e 4111111111111111 "$tmp/$codec"/out/* | head -3)"
	else
		passed=$((passed + 1))
		printf 'ok   %s\n' "$codec: no match in view, view -o json, ${exports[*]}"
	fi
	expect "$codec: same-length replacement, the text around kept" sh -c '
		grep -q "order note=paid by card \*\{16\}, thanks" "$1" &&
		grep -q "env=\"key \*\{20\} in use\"" "$1" &&
		grep -q "password=hunter2-SECRET-PW" "$1" &&
		grep -q "card_number=\"\*\{16\}\"" "$1" &&
		grep -q "amount=499" "$1"' sh "$tmp/$codec/out/view1.txt"
	expect "$codec: the segment has them replaced too" \
		grep -q "order note=paid by card \*\{16\}, thanks" "$tmp/$codec/out/view2.txt"
	# 500 card numbers in the note, 500 in the card_number field, 500
	# keys; the ssn is a number, not a string, and too short anyway.
	expect "$codec: stats counts the matches" sh -c '
		"$1" stats "$2" | grep -Eq "^  redacted +1500 values \(TTLOG_REDACT\)$"' sh "$bin" "$(echo "$tmp/$codec"/snap/*.ttlog)"
done

# Both kinds of rule together.
run_prog both TTLOG_REDACT="password,$rules"
outputs both
expect "keys and patterns together" sh -c '
	grep -q "password=\[REDACTED 17\]" "$1" && grep -q "paid by card \*\{16\}, thanks" "$1"' \
	sh "$tmp/both/out/view1.txt"

# Bad patterns: ttlog_init fails, naming the position (1 = the first byte
# of the rule).
mkdir -p "$tmp/bad"
bad() {
	check "TTLOG_REDACT='$1' is refused" - 1 "$2" \
		-- env TTLOG_REDACT="$1" "$progs/redact_secrets" "$tmp/bad"
}
bad 're:[0-9' "pattern 're:\[0-9': expected '\]' to close this class at position 4"
bad 're:a{3,1}' "pattern 're:a\{3,1\}': \{m,n\} with n below m at position 5"
bad 're:*a' "pattern 're:\*a': quantifier without an atom before it at position 4"
bad 're:a*' "pattern 're:a\*': matches the empty string at position 4"
bad 're:[z-a]' "pattern 're:\[z-a\]': range out of order at position 7"
bad 're:a{99}' "pattern 're:a\{99\}': count above 64 at position 5"
bad 're:' "pattern 're:': expected a pattern at position 4"

finish
