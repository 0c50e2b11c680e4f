#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# session.sh - run a command under a private LTTng snapshot-mode session, for
# the LTTng-UST peer of the ttlog benchmark suite (ttlog-bench-lttng).
#
# LTTng-UST records nothing unless a session daemon has a session with the
# events enabled, so the LTTng benchmark cannot run alone the way ttlog's
# does. This script provides that environment, configured as the closest
# match to ttlog's default flight recorder: a snapshot-mode session whose
# per-CPU ring buffers (4 sub-buffers of 256 KiB = 1 MiB per CPU, overwrite
# mode) keep the recent history in memory, and one snapshot written after
# the command ends. Run `session.sh --help` for the usage.
#
# It never uses a session daemon it did not start: the daemon, its sockets
# and its shared memory are private to this run, and the daemon is stopped
# on every way out (trap). As root, LTTng ignores LTTNG_HOME and always uses
# the system-wide /var/run/lttng, so the run moves into a private mount
# namespace (unshare) where /var/run/lttng and /dev/shm are fresh tmpfs
# mounts; as any other user, a private LTTNG_HOME is enough.

set -u

readonly SKIP=77
readonly PROG=${0##*/}

# Channel geometry: ttlog's default ring is 1 MiB per thread; LTTng's
# buffers are per CPU, so each CPU gets 1 MiB, as 4 sub-buffers of 256 KiB.
readonly SUBBUF_SIZE=256K
readonly NUM_SUBBUF=4
readonly CHANNEL=bench

usage() {
	cat <<EOF
Usage: $PROG run [--output DIR] [--count] -- COMMAND [ARG...]
       $PROG snapshot-time [--output DIR] [--count] -- COMMAND [ARG...]
       $PROG --help

Starts a private lttng-sessiond (userspace only), creates a snapshot-mode
session with one userspace channel (per-user buffers, overwrite mode,
$NUM_SUBBUF sub-buffers of $SUBBUF_SIZE per CPU) enabling the ttlog_bench:*
events, starts it and runs COMMAND. After COMMAND ends it records one
snapshot (lttng snapshot record), reports the snapshot's size on stderr,
then destroys the session and stops the daemon.

Modes:
  run            as above; stdout is COMMAND's alone.
  snapshot-time  the same, and also times \`lttng snapshot record\` and prints
                 {"bench":"lttng-snapshot","ms":MS,"bytes":BYTES} on stdout
                 (MS includes starting the lttng client, a few ms).

Options:
  --output DIR   keep the snapshot in DIR (must not exist yet or be empty);
                 by default it goes to a temporary directory that is removed.
  --count        also count the recorded events per name with babeltrace2
                 (when installed) and report the counts on stderr.

Environment: LTTNG_UST_REGISTER_TIMEOUT (default here 10000 ms) is passed
to COMMAND so that it waits for the daemon before main().

Exit status: COMMAND's; 1 if COMMAND succeeded but the snapshot could not
be recorded; 77 (skip) when the LTTng tools are missing or the session
daemon or the session cannot be set up here; 2 for a usage error.
EOF
}

# One line on stderr, then exit with the skip status.
skip() {
	echo "$PROG: skipped: $*" >&2
	exit "$SKIP"
}

usage_error() {
	echo "$PROG: $*" >&2
	echo "Run '$PROG --help' for the usage." >&2
	exit 2
}

# ---------------------------------------------------------------------------
# Arguments

[ $# -ge 1 ] || usage_error "missing mode"
case $1 in
-h | --help | help)
	usage
	exit 0
	;;
run | snapshot-time) ;;
*) usage_error "unknown mode '$1'" ;;
esac
readonly ALL_ARGS=("$@")
mode=$1
shift

output=
count=0
while [ $# -gt 0 ]; do
	case $1 in
	--output)
		[ $# -ge 2 ] || usage_error "--output needs a directory"
		output=$2
		shift 2
		;;
	--output=*)
		output=${1#--output=}
		shift
		;;
	--count)
		count=1
		shift
		;;
	--)
		shift
		break
		;;
	*) usage_error "unknown option '$1' (put the command after --)" ;;
	esac
done
[ $# -ge 1 ] || usage_error "missing COMMAND after --"

for tool in lttng lttng-sessiond; do
	command -v "$tool" >/dev/null 2>&1 ||
		skip "$tool not found (install the lttng-tools package)"
done

if [ -n "$output" ]; then
	mkdir -p -- "$output" || skip "cannot create the output directory $output"
	[ -z "$(ls -A -- "$output")" ] || usage_error "--output $output is not empty"
	# The consumer daemon writes there from another working directory.
	output=$(cd -- "$output" && pwd) || exit 2
fi

# ---------------------------------------------------------------------------
# Isolation for root

readonly GLOBAL_RUNDIR=/var/run/lttng

if [ "$(id -u)" = 0 ] && [ -z "${TTLOG_LTTNG_PRIVATE_NS:-}" ]; then
	if command -v unshare >/dev/null 2>&1 &&
		unshare --mount --propagation private true 2>/dev/null; then
		# The mount point must exist outside the namespace too; it is the
		# directory a system session daemon would create, and is left in
		# place (removing it could break a concurrent run's mount).
		mkdir -p "$GLOBAL_RUNDIR" || skip "cannot create $GLOBAL_RUNDIR"
		TTLOG_LTTNG_PRIVATE_NS=1 exec unshare --mount --propagation private \
			bash "$0" "${ALL_ARGS[@]}"
	fi
	# No namespace to be had: run on the system paths, but only when no
	# session daemon is there already (ours would fail to start, and
	# sharing one is what this script must never do).
	if lttng --no-sessiond list >/dev/null 2>&1; then
		skip "a system lttng-sessiond is running and unshare(1) cannot give this run a private one"
	fi
fi

# The marker alone is not trusted: the mounts below would hide the system's
# own /var/run/lttng and /dev/shm if this were not a new namespace. Since
# unshare exec'd this script, its parent is still the caller, outside.
private_ns=0
if [ -n "${TTLOG_LTTNG_PRIVATE_NS:-}" ]; then
	unset TTLOG_LTTNG_PRIVATE_NS
	[ "$(readlink /proc/self/ns/mnt)" != "$(readlink "/proc/$PPID/ns/mnt")" ] ||
		usage_error "TTLOG_LTTNG_PRIVATE_NS is set, but this is not a private mount namespace"
	private_ns=1
fi

if [ "$private_ns" = 1 ]; then
	# Inside the private namespace: a fresh, empty LTTng run directory and
	# shared-memory directory that no other daemon or application sees.
	mount -t tmpfs -o mode=0755 ttlog-lttng-run "$GLOBAL_RUNDIR" 2>/dev/null ||
		skip "cannot mount a private $GLOBAL_RUNDIR in a mount namespace"
	mount -t tmpfs -o mode=1777 ttlog-lttng-shm /dev/shm 2>/dev/null ||
		skip "cannot mount a private /dev/shm in a mount namespace"
fi

# ---------------------------------------------------------------------------
# Private daemon

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ttlog-lttng.XXXXXX") || skip "cannot create a temporary directory"
daemon_pid=
session=
cmd_pid=
status=0

# Stops what this run started, in reverse order, whatever the way out.
# (Called through the EXIT trap, which shellcheck cannot see.)
# shellcheck disable=SC2317
cleanup() {
	if [ -n "$session" ]; then
		lttng --no-sessiond destroy "$session" >>"$tmp/lttng.log" 2>&1
	fi
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		# SIGTERM makes the daemon stop its consumer daemons too; if it
		# does not exit in 5 s, its own children and it are killed.
		kill -TERM "$daemon_pid" 2>/dev/null
		local _
		for _ in $(seq 50); do
			kill -0 "$daemon_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$daemon_pid" 2>/dev/null; then
			echo "$PROG: lttng-sessiond $daemon_pid ignored SIGTERM; killing it" >&2
			local child
			for child in $(pgrep -P "$daemon_pid"); do
				kill -KILL "$child" 2>/dev/null
			done
			kill -KILL "$daemon_pid" 2>/dev/null
		fi
		wait "$daemon_pid" 2>/dev/null
	fi
	rm -rf -- "$tmp"
}
trap cleanup EXIT
# A signal ends COMMAND first (the daemon may be needed until it exits),
# then the EXIT trap cleans up.
# shellcheck disable=SC2317
on_signal() {
	if [ -n "$cmd_pid" ]; then
		kill -TERM "$cmd_pid" 2>/dev/null
		wait "$cmd_pid" 2>/dev/null
	fi
	exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# Everything LTTng keeps per user (client state, user sockets, the default
# trace directory) goes under the temporary directory.
export LTTNG_HOME=$tmp/home
mkdir -p "$LTTNG_HOME" "$tmp/no-sessions"

# --load: an empty directory, so that no auto-load session configuration of
# the user or the system is loaded into this daemon.
lttng-sessiond --no-kernel --load="$tmp/no-sessions" >"$tmp/sessiond.log" 2>&1 &
daemon_pid=$!

# The daemon is ready when a client can talk to it; --no-sessiond stops the
# client from spawning a daemon of its own meanwhile.
ready=0
for _ in $(seq 100); do
	kill -0 "$daemon_pid" 2>/dev/null || break
	if lttng --no-sessiond list >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.1
done
if [ "$ready" != 1 ]; then
	why=$(grep -m1 -i error "$tmp/sessiond.log")
	kill -0 "$daemon_pid" 2>/dev/null || daemon_pid=
	skip "lttng-sessiond did not start${why:+: $why}"
fi

# Runs one lttng command against our daemon, its output kept in the log.
ctl() {
	lttng --no-sessiond "$@" >>"$tmp/lttng.log" 2>&1
}

# Names the failing step and the client's last error line, then skips.
setup_failed() {
	skip "lttng $1 failed: $(grep -i error "$tmp/lttng.log" | tail -n1)"
}

snapdir=${output:-$tmp/snapshots}
name=ttlog-bench-$$
ctl create "$name" --snapshot --output="$snapdir" || setup_failed create
session=$name
# Per-user buffers outlive the traced process, so the snapshot taken after
# COMMAND has exited still holds its events (per-process buffers would be
# torn down with it).
ctl enable-channel --userspace --session="$name" --buffers-uid --overwrite \
	--subbuf-size="$SUBBUF_SIZE" --num-subbuf="$NUM_SUBBUF" "$CHANNEL" ||
	setup_failed enable-channel
ctl enable-event --userspace --session="$name" --channel="$CHANNEL" 'ttlog_bench:*' ||
	setup_failed enable-event
ctl start "$name" || setup_failed start

# ---------------------------------------------------------------------------
# The command

# The register timeout makes liblttng-ust hold main() back until the daemon
# has enabled the session's events in the process (the default, 3 s, can be
# short on a loaded machine). The base-address state dump is only recorded
# when its own events are enabled, which they are not here, and skipping it
# keeps that start-up work out of the measurements.
#
# COMMAND runs in the background only so that a signal to this script is
# handled at once (bash runs traps while in `wait`, not while a foreground
# command runs); `<&0` keeps it reading this script's standard input.
LTTNG_UST_REGISTER_TIMEOUT=${LTTNG_UST_REGISTER_TIMEOUT:-10000} \
	LTTNG_UST_WITHOUT_BADDR_STATEDUMP=1 "$@" <&0 &
cmd_pid=$!
wait "$cmd_pid"
status=$?
cmd_pid=

# ---------------------------------------------------------------------------
# The snapshot

t0=$(date +%s%N)
if ! ctl snapshot record --session="$name"; then
	echo "$PROG: lttng snapshot record failed: $(grep -i error "$tmp/lttng.log" | tail -n1)" >&2
	[ "$status" = 0 ] && status=1
	exit "$status"
fi
t1=$(date +%s%N)
ctl stop "$name"

bytes=$(du -sb -- "$snapdir" | cut -f1)
ms=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e6 }')
echo "$PROG: snapshot: $bytes bytes in $ms ms${output:+, kept in $output}" >&2

if [ "$count" = 1 ]; then
	if command -v babeltrace2 >/dev/null 2>&1; then
		# One text line per event record; count them per event name.
		babeltrace2 "$snapdir" 2>>"$tmp/lttng.log" |
			grep -o 'ttlog_bench:[a-z0-9_]*' | sort | uniq -c |
			awk -v p="$PROG" '{ printf "%s: events: %s %s\n", p, $2, $1 } END { if (NR == 0) printf "%s: events: none recorded\n", p }' >&2
	else
		echo "$PROG: --count: babeltrace2 not installed, events not counted" >&2
	fi
fi

if [ "$mode" = snapshot-time ]; then
	printf '{"bench":"lttng-snapshot","ms":%s,"bytes":%s}\n' "$ms" "$bytes"
fi

exit "$status"
