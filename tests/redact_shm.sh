#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# redact_shm.sh - redaction of the snapshots written from a shared mapping
# (README "Safe files"): `ttlog snap PID` and `ttlog recover` of a process
# in shared-memory mode apply the rules of their --redact option, else of
# their own TTLOG_REDACT, so no byte of the files they write nor of their
# views holds a secret (field keys, positions, patterns); without rules the
# same check finds them. A bad --redact is a usage error.
set -uo pipefail
# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"
# shellcheck source=support/logger_lib.sh
source "$(dirname "$0")/support/logger_lib.sh"
trap cleanup_loggers EXIT

src=${TTLOG_SRC:?TTLOG_SRC must name the source tree}
line=$(grep -n 'REDACT-ARG-2' "$src/tests/progs/redact_secrets.c" | cut -d: -f1)
rules="password,token,card*,ssn,arg:2@redact_secrets.c:$line,re:[0-9]{13,19},re:AKIA[A-Z0-9]{16}"
secrets=(hunter2-SECRET-PW 4111111111111111 tok_SECRET_ABC123 DBPASS-SECRET-XYZ
	5500000000000004 AKIAIOSFODNN7EXAMPLE)
shm=$tmp/shm
user_dir=$shm/ttlog-$(id -u)
shm_env=(TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$shm")
export LOGGER_PROG=redact_secrets

has_secret() {
	local s
	for s in "${secrets[@]}"; do
		grep -a -q -F -e "$s" "$@" && return 0
	done
	return 1
}

# The file's view and JSON view into $2.txt and $2.json.
views() {
	"$bin" view "$1" >"$2.txt" && "$bin" view -o json "$1" >"$2.json"
}

no_secret() {
	local what=$1
	shift
	if has_secret "$@"; then
		fail "$what" "a secret is in $*"
	else
		passed=$((passed + 1))
		printf 'ok   %s\n' "$what"
	fi
}

mkdir -p "$tmp/snaps"
if start_logger "${shm_env[@]}" TTLOG_DIR="$tmp/snaps" -- wait 500; then
	p=$pid
	# Control: without rules, a snapshot of the mapping holds the secrets.
	f=$(env -u TTLOG_REDACT "$bin" snap --shm-dir "$shm" --dir "$tmp/plain" "$p")
	expect "snap without rules writes a file" test -f "$f"
	expect "without rules the secrets are in it" has_secret "$f"

	f=$(TTLOG_REDACT="$rules" "$bin" snap --shm-dir "$shm" --dir "$tmp/env" "$p")
	expect "snap with TTLOG_REDACT writes a file" test -f "$f"
	no_secret "snap with TTLOG_REDACT: no secret in any byte of the file" "$f"
	expect "snap with TTLOG_REDACT: its views" views "$f" "$tmp/env-view"
	no_secret "snap with TTLOG_REDACT: no secret in view, view -o json" "$tmp"/env-view.*
	expect "snap with TTLOG_REDACT: markers, text kept" sh -c '
		grep -q "password=\[REDACTED 17\]" "$1" && grep -q "user=alice" "$1" &&
		grep -q "db connect db.example.org as \[REDACTED 17\]" "$1" &&
		grep -q "paid by card \*\{16\}, thanks" "$1" && grep -q "key \*\{20\} in use" "$1"' \
		sh "$tmp/env-view.txt"

	f=$(env -u TTLOG_REDACT "$bin" snap --shm-dir "$shm" --dir "$tmp/opt" --redact "$rules" "$p")
	expect "snap --redact writes a file" test -f "$f"
	no_secret "snap --redact: no secret in any byte of the file" "$f"

	check "snap --redact with a bad pattern" - 1 "re:\[0-9': expected '\]' to close this class at position 4" \
		-- "$bin" snap --shm-dir "$shm" --dir "$tmp/bad" --redact 're:[0-9' "$p"

	kill_logger "$p"
	expect "SIGKILL leaves the mapping" test -f "$user_dir/$p.ttshm"
	f=$(TTLOG_REDACT="$rules" "$bin" recover --shm-dir "$shm" --dir "$tmp/rec" --keep "$p")
	expect "recover with TTLOG_REDACT writes a file" test -f "$f"
	no_secret "recover with TTLOG_REDACT: no secret in any byte of the file" "$f"
	expect "recover: its views" views "$f" "$tmp/rec-view"
	no_secret "recover: no secret in view, view -o json" "$tmp"/rec-view.*
	expect "recover: markers" grep -q "password=\[REDACTED 17\]" "$tmp/rec-view.txt"

	check "recover --redact with a bad rule" - 1 "--redact: TTLOG_REDACT: expected field keys" \
		-- "$bin" recover --shm-dir "$shm" --dir "$tmp/rec2" --redact 'a b' "$p"
	f=$(env -u TTLOG_REDACT "$bin" recover --shm-dir "$shm" --dir "$tmp/rec3" --redact "$rules" "$p")
	expect "recover --redact writes a file" test -f "$f"
	no_secret "recover --redact: no secret in any byte of the file" "$f"
fi

# The process's own rules travel in its mapping (SHM-FORMAT.md 1.2): snap
# and recover apply them with no --redact and no TTLOG_REDACT of their own.
mkdir -p "$tmp/own"
if start_logger "${shm_env[@]}" TTLOG_DIR="$tmp/own" TTLOG_REDACT="$rules" -- wait 500; then
	p=$pid
	f=$(env -u TTLOG_REDACT "$bin" snap --shm-dir "$shm" --dir "$tmp/own-snap" "$p")
	expect "snap of a process with rules, none given: a file" test -f "$f"
	no_secret "snap applies the process's own rules: no secret in any byte of the file" "$f"
	expect "snap with the process's rules: markers" sh -c \
		'"$1" view "$2" | grep -q "password=\[REDACTED 17\]"' sh "$bin" "$f"
	kill_logger "$p"
	f=$(env -u TTLOG_REDACT "$bin" recover --shm-dir "$shm" --dir "$tmp/own-rec" "$p")
	expect "recover of a process with rules, none given: a file" test -f "$f"
	no_secret "recover applies the process's own rules: no secret in any byte of the file" "$f"
fi

# Rules too long for the mapping: the tool must be given them.
long=$rules
for i in $(seq 1 12); do long="$long,key$i-which-is-rather-long-indeed"; done
mkdir -p "$tmp/long"
if start_logger "${shm_env[@]}" TTLOG_DIR="$tmp/long" TTLOG_REDACT="$long" -- wait 500; then
	p=$pid
	check "snap: the process's rules did not fit in its mapping" - 2 \
		"too long for its mapping; give them with --redact" -- \
		env -u TTLOG_REDACT "$bin" snap --shm-dir "$shm" --dir "$tmp/long-snap" "$p"
	f=$(env -u TTLOG_REDACT "$bin" snap --shm-dir "$shm" --dir "$tmp/long-snap2" --redact "$rules" "$p")
	expect "snap --redact of a process whose rules did not fit: a file" test -f "$f"
	no_secret "snap --redact of a process whose rules did not fit: no secret" "$f"
	kill_logger "$p"
fi

finish
