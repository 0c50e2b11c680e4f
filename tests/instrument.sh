#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# instrument.sh - libttlog-instrument: a span per function call of code
# built with -finstrument-functions (tests/progs/instrument/instrumented.c).
#
#   - main -> outer -> middle -> inner, twice: `ttlog export --format
#     jsonl` has the begins of outer, middle and inner in that order, each
#     span's parent the one before it, and `ttlog view` shows the names;
#   - TTLOG_INSTRUMENT_EXCLUDE=secret_*: secret_step leaves no span, and
#     the inner() it calls is a child of middle; without the variable it
#     has its span, between middle and that inner;
#   - TTLOG_INSTRUMENT_INCLUDE=gen_1*: only those of the 300 functions;
#   - 300 generated functions, each called once: 300 spans named gen_00 ..
#     gen_299, through the address table;
#   - a library whose table has 64 slots: the functions beyond it are
#     spans named ttlog.function with their address, counted as uncached;
#   - `ttlog run --instrument` on tests/progs/plain_instrumented (built
#     with -finstrument-functions, no ttlog in it) that crashes in third():
#     the crash snapshot has first, second, third nested; without
#     --instrument no span; a shim with no libttlog-instrument.so beside it
#     is a clear error (exit 125) before the program runs.
set -u

bin=${TTLOG_BIN:?TTLOG_BIN must name the ttlog command}
progs=${TTLOG_PROGS:?TTLOG_PROGS must name the directory of the test programs}
export TZ=UTC0 LC_ALL=C
passed=0 failed=0

fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 30 | sed 's/^/     /'
}
ok() { passed=$((passed + 1)); }

for p in instrumented instrumented_small plain_instrumented; do
	if [ ! -x "$progs/$p" ]; then
		echo "FAIL $progs/$p was not built"
		exit 1
	fi
done
command -v jq >/dev/null || { echo "FAIL jq is needed (scripts/install-deps.sh)"; exit 1; }

# run VAR=VALUE... PROG [ARG]: runs the program, sets $snap and $stats.
run() {
	local out
	out=$(env "$@") || { fail "run $*" "$out"; snap=; stats=; return 1; }
	snap=$(sed -n 1p <<<"$out")
	stats=$(sed -n 2p <<<"$out")
	[ -f "$snap" ] || { fail "run $*: no snapshot" "$out"; return 1; }
}

# begins FILE: "name id parent" of every span begin, in order.
begins() {
	"$bin" export --format jsonl "$1" |
		jq -r 'select(.kind == "span_begin") | "\(.span_name) \(.span_id) \(.parent_span_id)"'
}

# ---- nesting, names, parents, order, exclusion --------------------------------
if run TTLOG_INSTRUMENT_EXCLUDE='secret_*' "$progs/instrumented"; then
	b=$(begins "$snap")
	names=$(awk '{print $1}' <<<"$b" | tr '\n' ' ')
	# main began before ttlog_init(): it is not recorded.
	want="outer middle inner inner outer middle inner inner "
	[ "$names" = "$want" ] && ok || fail "span names and order with secret_* excluded" "$names
$b"
	# parent links: outer's children are middle, middle's the two inners
	read -r -a rows <<<"$(tr '\n' ' ' <<<"$b")"
	# rows: name id parent, 3 words each
	bad=
	for base in 0 12; do
		o_id=${rows[base + 1]}
		m_id=${rows[base + 4]} m_par=${rows[base + 5]}
		i1_par=${rows[base + 8]} i2_par=${rows[base + 11]}
		[ "$m_par" = "$o_id" ] && [ "$i1_par" = "$m_id" ] && [ "$i2_par" = "$m_id" ] || bad=1
	done
	[ -z "$bad" ] && ok || fail "parent links" "$b"
	grep -q 'excluded=1 ' <<<"$stats" && ok || fail "one function excluded" "$stats"
	v=$("$bin" view "$snap" 2>&1)
	for n in outer middle inner; do
		grep -q "$n" <<<"$v" && ok || fail "ttlog view names $n" "$v"
	done
	grep -q secret_step <<<"$v" && fail "ttlog view shows the excluded secret_step" "$v" || ok
fi

# ---- without the exclusion secret_step has its span ------------------------
if run "$progs/instrumented"; then
	names=$(begins "$snap" | awk '{print $1}' | tr '\n' ' ')
	want="outer middle inner secret_step inner outer middle inner secret_step inner "
	[ "$names" = "$want" ] && ok || fail "span names without exclusion" "$names"
fi

# ---- 300 functions through the address table -------------------------------
if run "$progs/instrumented" many; then
	gens=$(begins "$snap" | awk '$1 ~ /^gen_/ {print $1}')
	n=$(sort -u <<<"$gens" | wc -l)
	[ "$n" = 300 ] && [ "$(wc -l <<<"$gens")" = 300 ] && ok || fail "300 distinct gen_ spans (got $n)"
	[ "$(head -1 <<<"$gens")" = gen_00 ] && [ "$(tail -1 <<<"$gens")" = gen_299 ] && ok ||
		fail "gen_ spans in call order" "$(head -3 <<<"$gens")"
	grep -q 'uncached=0 ' <<<"$stats" && ok || fail "nothing uncached" "$stats"
fi

# ---- include list -----------------------------------------------------------
if run TTLOG_INSTRUMENT_INCLUDE='gen_1*' "$progs/instrumented" many; then
	names=$(begins "$snap" | awk '{print $1}')
	n=$(wc -l <<<"$names")
	others=$(grep -v '^gen_1' <<<"$names")
	# gen_10..gen_19 and gen_100..gen_199
	[ "$n" = 110 ] && [ -z "$others" ] && ok || fail "include gen_1* ($n spans)" "$others"
fi

# ---- a full table ---------------------------------------------------------------
if run "$progs/instrumented_small" many; then
	b=$(begins "$snap")
	total=$(grep -c . <<<"$b")
	generic=$(grep -c '^ttlog.function ' <<<"$b")
	unc=$(sed -n 's/.*uncached=\([0-9]*\).*/\1/p' <<<"$stats")
	[ "$total" = 310 ] && [ "$generic" -gt 200 ] && [ "$unc" -ge "$generic" ] && ok ||
		fail "full table: $total spans, $generic generic, uncached=$unc" "$stats"
	"$bin" export --format jsonl "$snap" | jq -s -e 'map(select(.kind == "span_begin" and .span_name == "ttlog.function")) | length > 0 and all(.fields.addr > 0)' >/dev/null &&
		ok || fail "generic spans carry addr" "$("$bin" export --format jsonl "$snap" | grep -m1 ttlog.function)"
	v=$("$bin" view "$snap" 2>&1)
	grep -q 'address table' <<<"$v" && ok || fail "the full table is reported by a warning event" "$(tail -5 <<<"$v")"
fi

# ---- ttlog run --instrument ------------------------------------------------------
# In a sanitizer build the shim, this library and libttlog are instrumented:
# the sanitizer's runtime must be loaded first into the uninstrumented
# program (as tests/run.sh does).
runtime=$(ldd "$(dirname "$bin")/libttlog-run.so" 2>/dev/null | grep -oE '/[^ ]*lib(a|t)san\.so[^ ]*' | head -n 1)
run=("$bin" run)
if [ -n "$runtime" ]; then
	run=(env "LD_PRELOAD=$runtime" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
		"TSAN_OPTIONS=${TSAN_OPTIONS:+$TSAN_OPTIONS:}handle_segv=0" "$bin" run)
fi
d=$PWD/run-instr
rm -rf "$d"
out=$("${run[@]}" --instrument --dir "$d" -- "$progs/plain_instrumented" 2>&1)
rc=$?
[ "$rc" = $((128 + 11)) ] && ok || fail "run --instrument: exit $rc, not 139" "$out"
snap=$(ls "$d"/*.ttlog 2>/dev/null | head -1)
if [ -n "$snap" ]; then
	b=$(begins "$snap")
	names=$(awk '{print $1}' <<<"$b" | tr '\n' ' ')
	[ "$names" = "main first second third " ] && ok || fail "run --instrument spans" "$b"
	read -r -a rows <<<"$(tr '\n' ' ' <<<"$b")"
	[ "${rows[5]}" = "${rows[1]}" ] && [ "${rows[8]}" = "${rows[4]}" ] && [ "${rows[11]}" = "${rows[7]}" ] &&
		ok || fail "run --instrument parent links" "$b"
else
	fail "run --instrument: no snapshot in $d" "$out"
fi
rm -rf "$d"
"${run[@]}" --dir "$d" -- "$progs/plain_instrumented" >/dev/null 2>&1
snap=$(ls "$d"/*.ttlog 2>/dev/null | head -1)
[ -n "$snap" ] && [ -z "$(begins "$snap")" ] && ok || fail "run without --instrument: no spans ($snap)"
mkdir -p lonely
cp "$(dirname "$bin")/libttlog-run.so" lonely/
out=$(TTLOG_RUN_SHIM=lonely/libttlog-run.so "${run[@]}" --instrument -- "$progs/plain_instrumented" exit 2>&1)
rc=$?
[ "$rc" = 125 ] && grep -q 'libttlog-instrument.so' <<<"$out" && ! grep -q 'third reached' <<<"$out" && ok ||
	fail "run --instrument without the library: exit $rc" "$out"

echo "instrument: $passed passed, $failed failed"
[ "$failed" = 0 ]
