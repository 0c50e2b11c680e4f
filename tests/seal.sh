# SPDX-License-Identifier: MIT
# seal.sh - encryption at rest (docs/FORMAT.md section 21): `ttlog keygen`,
# a crash snapshot and a stream written with TTLOG_ENCRYPT_KEY by a child
# process that dies of SIGSEGV (tests/progs/seal_crash.c), read back with
# --key and TTLOG_KEY; no plain message in any file; no key, a wrong key, a
# flipped byte, a file cut inside a message and one cut at a message
# boundary each give a clear error, after every event before the damage.
# shellcheck shell=bash
# shellcheck source=support/cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/support/cli_lib.sh"

prog=$progs/seal_crash
N=20000
SIGSEGV=11
cd "$tmp" || exit 1

# ---- keygen -------------------------------------------------------------
check "keygen writes a pair" '~^key id [0-9a-f]{16}$' 0 '' -- "$bin" keygen -o "$tmp/k"
expect "private key has mode 0600" test "$(stat -c %a "$tmp/k.key")" = 600
expect "public key is one line of the public word" grep -Eqx 'ttlog-x25519-public [0-9a-f]{64}' "$tmp/k.pub"
sum=$(cksum <"$tmp/k.key")
check "keygen refuses to overwrite" - 1 'k.key exists: a key is never replaced' -- "$bin" keygen -o "$tmp/k"
expect "the refused keygen changed nothing" test "$(cksum <"$tmp/k.key")" = "$sum"
rm -f "$tmp/lone.key"
: >"$tmp/lone.pub"
check "keygen refuses when the .pub exists" - 1 'lone.pub exists' -- "$bin" keygen -o "$tmp/lone"
expect "and writes no .key" test ! -e "$tmp/lone.key"
"$bin" keygen -o "$tmp/other" >/dev/null

# run NAME MODE [VAR=VALUE...]: seal_crash N MODE with snapshots in
# NAME/snaps and the stream in NAME/stream; sets rc.
run() {
	local name=$1 mode=$2
	shift 2
	mkdir -p "$tmp/$name"
	rc=0
	env TTLOG_DIR="$tmp/$name/snaps" TTLOG_STREAM="$tmp/$name/stream" "$@" \
		timeout 60 "$prog" "$N" "$mode" >"$tmp/$name/out" 2>"$tmp/$name/err" </dev/null || rc=$?
}

# plain_in DIR: some file under DIR holds a message or an argument in clear.
plain_in() {
	grep -rlaE 'secret-message|hunter2' "$1" >/dev/null
}

# ---- the same program without a key: the check below can fail ------------
run plain crash
expect "plain: died of SIGSEGV (status $rc)" test "$rc" = $((128 + SIGSEGV))
expect "plain: the files show the messages (the grep can see them)" plain_in "$tmp/plain"

# ---- a crash, encrypted ---------------------------------------------------
run sealed crash TTLOG_ENCRYPT_KEY="$tmp/k.pub"
expect "sealed: died of SIGSEGV (status $rc)" test "$rc" = $((128 + SIGSEGV))
snaps=("$tmp"/sealed/snaps/*.ttlog)
snap=${snaps[0]}
expect "sealed: one crash snapshot" test "${#snaps[@]}" = 1 -a -f "$snap"
expect "sealed: segments were written" compgen -G "$tmp/sealed/stream/*.ttseg"
expect "sealed: no message or argument in clear in any file" eval '! plain_in "$tmp/sealed"'
expect "sealed: the snapshot has the container's magic" \
	test "$(head -c 8 "$snap" | od -An -c | tr -d ' ')" = '211TTENC\r\n'

check "no key: a clear error" - 2 "$snap: encrypted; give --key" -- "$bin" view "$snap"
check "wrong key: a clear error" - 2 "encrypted to key [0-9a-f]{16}, and the key given is [0-9a-f]{16}: wrong key" \
	-- "$bin" view --key "$tmp/other.key" "$snap"
check "the public key is not a private key" - 1 'this is the public key' \
	-- "$bin" view --key "$tmp/k.pub" "$snap"
check "--key reads the crash snapshot" "~secret-message i=$((N - 1)) word=hunter2-$((N - 1))" 0 '' \
	-- "$bin" view --key "$tmp/k.key" "$snap"
events=$("$bin" view --key "$tmp/k.key" "$snap" | grep -c 'secret-message')
expect "every event of the crash snapshot ($events)" test "$events" = "$N"
expect "the crash is in it" grep -q 'SIGSEGV' "$tmp/case.out"
check "TTLOG_KEY reads it too" "~secret-message i=0 " 0 '' -- env TTLOG_KEY="$tmp/k.key" "$bin" view "$snap"
# Read on one thread, and in parts on several whose readers share the
# decrypted bytes (the snapshot has no spans: it is cut): the same output.
same_jobs "view json, decrypted" view -o json --key "$tmp/k.key" "$snap"
same_jobs "export jsonl, decrypted" export --format jsonl --key "$tmp/k.key" "$snap" "$snap"
check "stats --key" '~events +' 0 '' -- "$bin" stats --key "$tmp/k.key" "$snap"
check "ls --key" '~ SIGSEGV +SIGSEGV +' 0 '' -- "$bin" ls --key "$tmp/k.key" "$tmp/sealed/snaps"
check "export --key" '~secret-message i=7 ' 0 '' -- "$bin" export --key "$tmp/k.key" --format jsonl "$snap"
check "query --key" "~^$N\$" 0 '' -- "$bin" query --key "$tmp/k.key" -o csv \
	"SELECT count(*) FROM events WHERE message LIKE 'secret-message%'" "$snap"
# The segments the stream wrote, the last one closed by the crash handler.
stream_events=$("$bin" view --key "$tmp/k.key" "$tmp/sealed/stream" 2>"$tmp/stream.err" | grep -c 'secret-message')
expect "the stream's segments hold every event ($stream_events)" test "$stream_events" = "$N"
expect "the stream's segments read without error" test ! -s "$tmp/stream.err"

# ---- damage ---------------------------------------------------------------
size=$(stat -c %s "$snap")
# a byte flipped in the middle: the events of the messages before it, then the error
cp "$snap" "$tmp/flip.ttlog"
mid=$((size / 2))
byte=$(od -An -tu1 -j "$mid" -N1 "$snap" | tr -d ' ')
printf "\\$(printf %03o $((byte ^ 1)))" | dd of="$tmp/flip.ttlog" bs=1 seek="$mid" conv=notrunc 2>/dev/null
check "a flipped byte: a precise error" "~secret-message i=0 " 2 \
	"flip.ttlog: offset [0-9]+: encrypted message [0-9]+ fails authentication \(the file was changed or damaged\)" \
	-- "$bin" view --key "$tmp/k.key" "$tmp/flip.ttlog"
got=$(grep -c 'secret-message' "$tmp/case.out")
expect "a flipped byte: the events before it are read ($got)" test "$got" -gt 0 -a "$got" -lt "$N"
# cut inside a message
head -c "$mid" "$snap" >"$tmp/cut.ttlog"
check "cut inside a message: truncated" "~secret-message i=0 " 2 \
	"cut.ttlog: offset [0-9]+: the encrypted file ends inside a message" \
	-- "$bin" view --key "$tmp/k.key" "$tmp/cut.ttlog"
got=$(grep -c 'secret-message' "$tmp/case.out")
expect "cut inside a message: the whole messages are read ($got)" test "$got" -gt 0 -a "$got" -lt "$N"
# cut at a message boundary: without the final message (the last 4 + 17 bytes)
head -c $((size - 21)) "$snap" >"$tmp/nofinal.ttlog"
check "cut at a message boundary: truncated" - 2 \
	"nofinal.ttlog: offset $((size - 21)): the encrypted file ends without its final message" \
	-- "$bin" view --key "$tmp/k.key" "$tmp/nofinal.ttlog"
got=$(grep -c 'secret-message' "$tmp/case.out")
expect "cut at a message boundary: every event is read ($got)" test "$got" = "$N"
# bytes after the final message
cp "$snap" "$tmp/tail.ttlog"
printf 'xx' >>"$tmp/tail.ttlog"
check "data after the final message" - 2 "tail.ttlog: offset $size: 2 bytes after the encrypted file's final message" \
	-- "$bin" view --key "$tmp/k.key" "$tmp/tail.ttlog"

# ---- a normal exit: an on-demand snapshot, the stream closed at exit ----------
run exit snapshot TTLOG_ENCRYPT_KEY="$tmp/k.pub"
expect "exit: status 0 ($rc)" test "$rc" = 0
expect "exit: no message in clear" eval '! plain_in "$tmp/exit"'
check "exit: the snapshot reads" "~secret-message i=$((N - 1)) " 0 '' \
	-- "$bin" view --key "$tmp/k.key" "$tmp/exit/snaps"
check "exit: the closed segments read without error" "~secret-message i=$((N - 1)) " 0 '' \
	-- "$bin" view --key "$tmp/k.key" "$tmp/exit/stream"

# ---- a mapping recovered by `ttlog recover`, with the key in its environment --
mkdir -p "$tmp/rec"
env TTLOG_DIR="$tmp/rec/snaps" TTLOG_SHARED_MEMORY=1 TTLOG_SHARED_DIR="$tmp/rec/shm" \
	TTLOG_ENCRYPT_KEY="$tmp/k.pub" "$prog" "$N" hang >"$tmp/rec/out" 2>"$tmp/rec/err" </dev/null &
pid=$!
for _ in $(seq 1 200); do
	grep -q ready "$tmp/rec/out" && break
	sleep 0.05
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
check "recover: a bad TTLOG_ENCRYPT_KEY writes nothing" - 2 'TTLOG_ENCRYPT_KEY=.*k.key is not a readable ttlog public key file' \
	-- env TTLOG_ENCRYPT_KEY="$tmp/k.key" "$bin" recover --shm-dir "$tmp/rec/shm" --dir "$tmp/rec/bad" --keep "$pid"
expect "recover: nothing written with the bad key" eval '! compgen -G "$tmp/rec/bad/*.ttlog"'
check "recover with TTLOG_ENCRYPT_KEY" - 0 '' -- env TTLOG_ENCRYPT_KEY="$tmp/k.pub" \
	"$bin" recover --shm-dir "$tmp/rec/shm" --dir "$tmp/rec/out-snaps" "$pid"
rec=("$tmp"/rec/out-snaps/*.ttlog)
expect "recover: the snapshot is encrypted" \
	test "$(head -c 8 "${rec[0]}" | od -An -c | tr -d ' ')" = '211TTENC\r\n'
expect "recover: no message in clear" eval '! plain_in "$tmp/rec/out-snaps"'
check "recover: the snapshot reads with --key" "~secret-message i=$((N - 1)) " 0 '' \
	-- "$bin" view --key "$tmp/k.key" "${rec[0]}"

# ---- a bad key setting: ttlog_init fails, naming the file ------------------
run badkey snapshot TTLOG_ENCRYPT_KEY="$tmp/k.key"
expect "a private key as TTLOG_ENCRYPT_KEY: init fails ($rc)" test "$rc" = 3
expect "... saying so" grep -q "TTLOG_ENCRYPT_KEY: $tmp/k.key: not a ttlog public key file (this is a private key" "$tmp/badkey/err"
run nokey snapshot TTLOG_ENCRYPT_KEY="$tmp/missing.pub"
expect "a missing key file: init fails ($rc)" test "$rc" = 3
expect "... naming it" grep -q "TTLOG_ENCRYPT_KEY: $tmp/missing.pub: cannot open" "$tmp/nokey/err"

finish
