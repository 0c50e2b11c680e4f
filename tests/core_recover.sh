#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# core_recover.sh - `ttlog recover --core CORE [--exe PROGRAM]`: a snapshot
# from a real core dump of a process in private mode (tests/progs/
# core_dumper: three threads log 3000 events each into 16 KiB rings, the
# main thread one more). Its last events, of every thread, must be in the
# snapshot, with the reason 'core'.
#
# Two cores: the kernel's (the child raises RLIMIT_CORE and aborts; used
# when /proc/sys/kernel/core_pattern writes a file in the working
# directory, not when it pipes to systemd-coredump or apport, which is
# said), and gdb's gcore of the running process (except in a sanitizer
# build, where gcore would write the sanitizer's shadow memory, terabytes
# of address space that the kernel leaves out; said too). At least one of
# them must work. Then, on one of those cores patched in place, damaged
# structures; then the refusals, each with its message: a core of a
# program without ttlog, of one that had not called ttlog_init(), a
# truncated core (what it holds is still written), garbage, an ELF file
# that is not a core, a missing file, and the usage errors. Every process
# started is stopped by an EXIT trap.

set -u

# shellcheck source=support/cli_lib.sh
source "$(dirname "$0")/support/cli_lib.sh"

command -v gcore >/dev/null ||
	{ fail "gcore" "gdb's gcore is needed (scripts/install-deps.sh --test installs gdb)"; finish; }

dumper=$progs/core_dumper
out=$tmp/out
mkdir -p "$out"
pids=()
# shellcheck disable=SC2317 # the EXIT trap runs it
stop_all() {
	local p
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
}
trap stop_all EXIT

# Starts "$@" in the background, waits for its "ready PID" line; sets $ready.
start_ready() {
	local log=$tmp/ready.$RANDOM _
	"$@" >"$log" 2>&1 &
	pids+=($!)
	ready=
	for _ in $(seq 1 100); do
		ready=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$log")
		[ -n "$ready" ] && return 0
		sleep 0.1
	done
	return 1
}

# gcore of process $1 into $2 (gcore adds .PID), then the process is killed.
dump_with_gcore() {
	gcore -o "$2" "$1" >"$tmp/gcore.log" 2>&1
	local rc=$?
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	[ $rc = 0 ] && [ -s "$2.$1" ] && mv "$2.$1" "$2"
}

# The checks of a recovered snapshot of core_dumper: $1 names the core.
check_snapshot() {
	local name=$1 file=$2
	expect "$name: file named ...-core.ttlog" bash -c "[[ '$file' == $out/ttlog-*-core.ttlog ]]"
	"$bin" view --utc "$file" >"$tmp/view" 2>&1
	"$bin" stats "$file" >"$tmp/stats" 2>&1
	expect "$name: reason core" grep -Eq '^  reason +core$' "$tmp/stats"
	expect "$name: complete" grep -Eq '^  state +complete$' "$tmp/stats"
	local w
	for w in 0 1 2; do
		expect "$name: thread core-w$w ends with seq=2999" \
			bash -c "grep ' core-w$w\\] ' '$tmp/view' | tail -n 1 | grep -q ' w$w seq=2999\$'"
		expect "$name: thread core-w$w's last 100 in order" \
			bash -c "grep ' core-w$w\\] ' '$tmp/view' | tail -n 100 | sed 's/.* seq=//' | diff -q - <(seq 2900 2999) >/dev/null"
	done
	expect "$name: the main thread's last event, last" \
		bash -c "grep -v '^--' '$tmp/view' | tail -n 1 | grep -q '\\[[0-9]* core_dumper\\] .* main last=42\$'"
	expect "$name: losses counted" grep -Eq '^-- lost: [1-9][0-9]* overwritten, 0 torn' "$tmp/view"
}

# Does the kernel write core files here? ($kernel: 1 or 0.)
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
# A sanitizer build: gcore is not used (see the top).
sanitized=0
if ldd "$dumper" 2>/dev/null | grep -Eq 'lib(asan|tsan|ubsan)' ||
	nm "$dumper" 2>/dev/null | grep -q '__asan_init\|__tsan_init'; then
	sanitized=1
fi

# A kernel core of `"$@"` (run in a fresh directory with RLIMIT_CORE
# raised) into $1; 0 if there is one.
kernel_core() {
	local to=$1 dir=$tmp/kdir.$RANDOM f
	shift
	mkdir -p "$dir"
	( cd "$dir" && ulimit -c unlimited 2>/dev/null; exec "$@" ) >/dev/null 2>&1
	f=$(find "$dir" -maxdepth 1 -name 'core*' -type f | head -n 1)
	[ -n "$f" ] && mv "$f" "$to"
	rm -rf "$dir"
	[ -s "$to" ]
}

# A core of core_dumper MODE (abort or noinit) into $2, by the kernel when
# it writes core files, else by gcore; 0 if there is one.
dumper_core() {
	if [ "$kernel" = 1 ]; then
		kernel_core "$2" "$dumper" "$1-abort"
		return
	fi
	[ "$sanitized" = 0 ] || return 1
	local wait_mode=wait
	[ "$1" = noinit ] && wait_mode=noinit
	start_ready "$dumper" "$wait_mode" && dump_with_gcore "$ready" "$2"
}

# ---- The kernel's core dump -------------------------------------------------
kernel=0
if kernel_core "$tmp/kcore" "$dumper" abort; then
	kernel=1
	check "kernel core: recovered" "~^$out/ttlog-[0-9]+-.*-core\\.ttlog$" 0 '' -- \
		"$bin" recover --core "$tmp/kcore" --dir "$out"
	check_snapshot "kernel core" "$(ls -t "$out"/*.ttlog | head -n 1)"
else
	echo "note: no core file from the kernel (core_pattern '$pattern', or core dumps not allowed):" \
		"the kernel's core is not checked here"
fi

# ---- gcore ---------------------------------------------------------------------
rm -f "$out"/*
if [ "$sanitized" = 1 ]; then
	echo "note: a sanitizer build: gcore's core is not checked here (it would hold the shadow memory)"
elif start_ready "$dumper" wait && dump_with_gcore "$ready" "$tmp/gcore"; then
	check "gcore: recovered" "~^$out/ttlog-$ready-.*-core\\.ttlog$" 0 '' -- \
		"$bin" recover --core "$tmp/gcore" --exe "$dumper" --dir "$out"
	check_snapshot "gcore" "$(ls -t "$out"/*.ttlog | head -n 1)"
	if [ "$kernel" = 1 ]; then
		rm -f "$tmp/gcore" # the kernel's, smaller, is damaged below
	else
		mv "$tmp/gcore" "$tmp/kcore"
	fi
else
	fail "gcore" "could not dump core_dumper: $(cat "$tmp/gcore.log" 2>/dev/null)"
fi
if [ ! -s "$tmp/kcore" ]; then
	fail "a core" "neither the kernel nor gcore made a core of core_dumper: nothing to recover"
	finish
fi

# ---- Damage ------------------------------------------------------------------
# A damaged anchor or damaged structures behind it: a clear error, the
# rest still written where there is a rest. Each patch is undone after.
core=$tmp/kcore
damage() { # FIELD VALUE: prints the old value (to undo it)
	python3 - "$core" "$1" "$2" <<'PY'
import mmap, struct, sys
path, field, value = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
with open(path, "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    phoff, = struct.unpack_from("<Q", m, 32)
    phnum, = struct.unpack_from("<H", m, 56)
    segs = []
    for i in range(phnum):
        t, _, off, va, _, fsz = struct.unpack_from("<IIQQQQ", m, phoff + 56 * i)
        if t == 1:
            segs.append((va, off, fsz))
    def at(addr):
        for va, off, fsz in segs:
            if va <= addr < va + fsz:
                return off + addr - va
        raise SystemExit("address %#x not in the core" % addr)
    a = m.find(b"\x89TTLOG-ANCHOR\r\n\x1a")
    while a >= 0 and struct.unpack_from("<Q", m, a + 24)[0] == 0:
        a = m.find(b"\x89TTLOG-ANCHOR\r\n\x1a", a + 1)
    if field == "first_ring_next":  # the first ring's next: the ring itself
        head, = struct.unpack_from("<Q", m, at(struct.unpack_from("<Q", m, a + 72)[0]))
        where, size = at(head + struct.unpack_from("<I", m, a + 92)[0]), 8
        value = head if value == -1 else value
    else:
        where, size = a + {"version": 16, "ring_list": 72, "site_descs": 112}[field], 8
        if field == "version":
            size = 4
    fmt = "<I" if size == 4 else "<Q"
    print(struct.unpack_from(fmt, m, where)[0])
    struct.pack_into(fmt, m, where, value)
    m.flush()
PY
}
old=$(damage ring_list 0x10)
check "anchor: ring list head not in the core" - 2 "kcore: the ring list's head at 0x10 is not in the core \\(the rest is in $out/" -- \
	"$bin" recover --core "$core" --dir "$out"
damage ring_list "$old" >/dev/null
old=$(damage first_ring_next -1)
check "rings: a loop" - 2 "kcore: ring 1 at 0x[0-9a-f]+ was met before: the list loops" -- \
	"$bin" recover --core "$core" --dir "$out"
damage first_ring_next "$old" >/dev/null
old=$(damage site_descs 0x11)
check "sites: descriptions not in the core" - 2 "kcore: call site [0-9]+ \\(description at 0x[0-9a-f]+\\): not in the core; its events are left out" -- \
	"$bin" recover --core "$core" --dir "$out"
expect "sites: the events left out are counted as torn" \
	bash -c "'$bin' stats \"\$(ls -t '$out'/*.ttlog | head -n 1)\" | grep -Eq '^  torn +[1-9]'"
damage site_descs "$old" >/dev/null
old=$(damage version 9)
check "anchor: another layout" - 2 "kcore: the process used ttlog [0-9.]+, whose memory layout this ttlog \\([0-9.]+\\) cannot read" -- \
	"$bin" recover --core "$core" --dir "$out"
damage version "$old" >/dev/null
check "undamaged again" "~^$out/ttlog-[0-9]+-" 0 '' -- "$bin" recover --core "$core" --dir "$out"
# Truncated: the headers and the first part are kept.
head -c $(($(stat -c %s "$core") / 2)) "$core" >"$tmp/cut"
check "truncated core" - 2 "cut: truncated: the segment at 0x[0-9a-f]+ runs past the end of the file \\([0-9]+ bytes\\)" -- \
	"$bin" recover --core "$tmp/cut" --dir "$out"
rm -f "$tmp/cut" "$core"

# ---- Refusals ----------------------------------------------------------------
if dumper_core noinit "$tmp/noinit"; then
	check "ttlog_init not called" - 2 "noinit: the process linked ttlog but had not finished ttlog_init\\(\\)" -- \
		"$bin" recover --core "$tmp/noinit" --dir "$out"
	rm -f "$tmp/noinit"
else
	fail "noinit core" "could not dump core_dumper noinit"
fi
# A program without ttlog: sleep, dumped by the kernel (SIGQUIT) or gcore.
made=0
if [ "$kernel" = 1 ]; then
	mkdir -p "$tmp/sleepdir"
	( cd "$tmp/sleepdir" && ulimit -c unlimited 2>/dev/null; exec sleep 30 ) >/dev/null 2>&1 &
	sleeper=$!
	pids+=("$sleeper")
	sleep 0.3
	kill -QUIT "$sleeper"
	wait "$sleeper" 2>/dev/null
	f=$(find "$tmp/sleepdir" -maxdepth 1 -name 'core*' -type f | head -n 1)
	[ -n "$f" ] && mv "$f" "$tmp/nottlog" && made=1
	rm -rf "$tmp/sleepdir"
elif [ "$sanitized" = 0 ]; then
	sleep 60 &
	sleeper=$!
	pids+=("$sleeper")
	dump_with_gcore "$sleeper" "$tmp/nottlog" && made=1
fi
if [ "$made" = 1 ]; then
	check "no ttlog in the process" - 2 "nottlog: no ttlog anchor in the core: the process did not link ttlog" -- \
		"$bin" recover --core "$tmp/nottlog" --dir "$out"
	rm -f "$tmp/nottlog"
else
	fail "core of sleep" "could not dump sleep"
fi
head -c 65536 /dev/urandom >"$tmp/garbage"
check "garbage" - 2 "garbage: not a core dump \\(not an ELF file\\)" -- \
	"$bin" recover --core "$tmp/garbage" --dir "$out"
printf '\177ELF' >"$tmp/tiny"
check "tiny ELF" - 2 "tiny: truncated: 4 bytes, an ELF header needs 64" -- \
	"$bin" recover --core "$tmp/tiny" --dir "$out"
check "a program, not a core" - 2 "not a core dump: ELF type 3 .*give the program with --exe" -- \
	"$bin" recover --core "$dumper" --dir "$out"
check "missing core" - 2 "nowhere: cannot read: No such file or directory" -- \
	"$bin" recover --core "$tmp/nowhere" --dir "$out"
check "--exe without --core" - 1 "--exe names the program of a core: it goes with --core" -- \
	"$bin" recover --exe "$dumper"
check "--core with a PID" - 1 "--core takes no PID or FILE" -- \
	"$bin" recover --core "$tmp/garbage" 123
check "--core ''" - 1 "option '--core' needs a file" -- \
	"$bin" recover --core ''
finish
