#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# many_sites.sh - the site table's limit (TTLOG_MAX_SITES) and what is lost
# past it (tests/progs/many_sites.c: 24 distinct log sites, each called
# three times, then one snapshot):
#   - under the default limit every site registers: nothing is counted,
#     `ttlog stats` has no "sites without an id" line;
#   - with TTLOG_MAX_SITES=10 and 24 sites, the 14 sites past the limit are
#     disabled and counted: ttlog_get_stats(), `ttlog stats` (text and
#     JSON lost.dropped_sites) say 14, and every one of the 10 registered
#     sites is in the snapshot with its three calls, the others with none;
#   - a limit of 0 or above 65535 is refused by ttlog_init with a message
#     naming the variable.
set -u
# shellcheck source=support/cli_lib.sh
. "$(dirname "$0")/support/cli_lib.sh"

for var in TTLOG_DIR TTLOG_MAX_SITES TTLOG_TRIGGER TTLOG_WATCHDOG TTLOG_STREAM TTLOG_LEVEL \
	TTLOG_WINDOW TTLOG_SHARED_MEMORY TTLOG_SAMPLE; do
	unset "$var"
done
prog=$progs/many_sites
[ -x "$prog" ] || { echo "many_sites.sh: $prog is not built" >&2; exit 1; }

# run NAME LIMIT: runs the program with 24 sites in $tmp/NAME (LIMIT
# empty: the default); its stdout in $tmp/NAME.out, the snapshot's path
# in $snap.
run() {
	local dir=$tmp/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	if [ -n "$2" ]; then
		TTLOG_DIR=$dir TTLOG_MAX_SITES=$2 "$prog" 24 >"$tmp/$1.out" 2>"$tmp/$1.err"
	else
		TTLOG_DIR=$dir "$prog" 24 >"$tmp/$1.out" 2>"$tmp/$1.err"
	fi || fail "$1: the program runs" "exit $?: $(head -c 300 "$tmp/$1.err")"
	snap=$(find "$dir" -maxdepth 1 -name 'ttlog-*-sites.ttlog' | head -n 1)
	[ -n "$snap" ] || fail "$1: a snapshot is written" "none in $dir"
}

# same NAME GOT WANT
same() {
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
	else
		fail "$1" "got '$2', expected '$3'"
	fi
}

# The count of events of each site in a snapshot, "K N" per line, for the
# sites that have events.
site_counts() {
	"$bin" view "$1" | sed -nE 's/.* site ([0-9]+) call [0-9]+$/\1/p' | sort -n | uniq -c |
		awk '{print $2, $1}'
}

# --- The default limit: all 24 sites register. ---
run default ""
same "default: nothing dropped" "$(cat "$tmp/default.out")" "dropped_sites=0"
check "default: no sites-without-id line" - 0 '' -- "$bin" stats "$snap"
if grep -q "sites without an id" "$tmp/case.out"; then
	fail "default: stats has no sites-without-id line" "$(grep "sites without" "$tmp/case.out")"
else
	passed=$((passed + 1))
fi
check "default: JSON dropped_sites 0" '~"dropped_sites":0[,}]' 0 '' -- "$bin" stats -o json "$snap"
same "default: every site has its three events" "$(site_counts "$snap" | awk '$2 == 3' | wc -l)" 24

# --- A limit of 10 with 24 sites: 14 disabled and counted. ---
run limited 10
same "limit 10: ttlog_get_stats counts 14 sites" "$(cat "$tmp/limited.out")" "dropped_sites=14"
check "limit 10: stats text" '~^ *sites without an id +14 \(disabled for good' 0 '' -- "$bin" stats "$snap"
check "limit 10: stats JSON" '~"lost":\{[^}]*"dropped_sites":14\}' 0 '' -- "$bin" stats -o json "$snap"
same "limit 10: sites 0 to 9 each have three events, no other site has any" \
	"$(site_counts "$snap" | tr '\n' ' ')" "0 3 1 3 2 3 3 3 4 3 5 3 6 3 7 3 8 3 9 3 "
check "limit 10: the file reads completely" - 0 '' -- "$bin" view "$snap"

# --- Bad limits: refused, named. ---
for bad in 0 65536 10x -1; do
	check "TTLOG_MAX_SITES=$bad is refused" - 2 "TTLOG_MAX_SITES.*1 to 65535" -- \
		env TTLOG_DIR="$tmp/bad" TTLOG_MAX_SITES="$bad" "$prog" 24
done

finish
