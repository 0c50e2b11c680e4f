#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-deps.sh - install the Debian packages that the make target being
# built needs, and only those that are missing.
#
# Usage: scripts/install-deps.sh [--list] [--test] [--clang] [--fuzz] [--bench] [--soak]
#   --list   print the packages of the groups given, one a line, and install
#            nothing
#   (none)   what `make`, `make build` and `make install` need: the build of
#            the libraries, the ttlog command, the examples and the test
#            programs (CMake, gcc, pkg-config and the libraries they link)
#   --test   also what running the tests needs (make test, make asan,
#            make tsan): g++, clang and clang++ (the header is compiled in
#            every language mode with each), the sqlite3 shell, curl, and
#            chromium with node and npm for the browser test, man-db to
#            render the man pages, tmux for the test of `ttlog top`, gdb
#            (gcore) for core dumps
#   --clang  the same as --test (make clang builds with clang and runs them)
#   --fuzz   clang with its sanitizer and libFuzzer runtimes (make fuzz)
#   --bench  what the benchmark suite (make bench) needs: the driver
#            (python3), callgrind and its client-request headers (valgrind),
#            the peer loggers spdlog and glog, and LTTng-UST with the lttng
#            command and session daemon
#   --soak   what the soak run (make soak) needs: valgrind (its memcheck
#            phase) and python3
#
# Prints one line when everything is present, so that it can run before
# every build. Runs apt-get non-interactively, through sudo when not root;
# exits non-zero, saying what to install, when it cannot install.
set -euo pipefail

# Debian 12's clang is clang 14; its runtimes come in a versioned package.
clang_rt=libclang-rt-14-dev

# The build. liblz4-dev and libzstd-dev: block compression; libunwind-dev: the crash
# handler's stack unwinder (the library links it); libdw-dev: `ttlog view`
# symbolises stack traces with elfutils' libdw; libsqlite3-dev: `ttlog
# query` and the SQLite extension; libmicrohttpd-dev: the HTTP server of
# `ttlog serve`; libcurl4-openssl-dev and zlib1g-dev: the HTTP client of
# `ttlog ship` and its gzip request bodies; libprotobuf-c-dev and
# protobuf-c-compiler: the OTLP protobuf messages of `ttlog ship otlp`
# (protoc-c makes their C at build time); libsodium-dev: encryption at
# rest (sealed snapshots and segments, `ttlog keygen`); libcmocka-dev: the unit tests,
# which `make` builds too; python3: the layer check that the configure step
# sets up, and tests that parse exported files back.
packages=(cmake make gcc pkg-config liblz4-dev libzstd-dev libunwind-dev libdw-dev libsqlite3-dev
	libmicrohttpd-dev libcurl4-openssl-dev zlib1g-dev libprotobuf-c-dev protobuf-c-compiler libsodium-dev
	libcmocka-dev python3)

# Running the tests. g++, clang: the C++ tests and the header in every
# language mode (tests/iso_modes.sh); sqlite3 (the shell): tests that load
# the extension; curl: the API tests of `ttlog serve`; chromium, nodejs and
# npm: the browser test of its page drives Debian's chromium headless
# through playwright-core, and firefox-esr through puppeteer-core (over
# WebDriver BiDi), both headless; the tests install both from npm into the
# build tree (tests/browser/package-lock.json pins them), one at a time
# (util-linux: flock); node and npm also check the OTLP/JSON export with
# protobufjs and the official OpenTelemetry .proto files (npm packages
# pinned in tests/otlp_json/package-lock.json, tests/otlp_json.sh); prometheus: its promtool
# checks the Prometheus text ttlog writes, and the server itself scrapes
# `ttlog serve` (tests/prometheus.sh); clickhouse-server and
# clickhouse-client: the ClickHouse server the test of `ttlog ship` starts
# on loopback (tests/ship_clickhouse.sh, tests/support/clickhouse_lib.sh);
# tmux: the terminal the test of `ttlog top` drives it in (tests/cli_top.sh);
# libc6-dev: its libc.a, for the statically linked program that `ttlog run`
# must refuse, and bsdutils: script(1), the terminal `ttlog run`'s output
# is compared on (tests/run.sh); gdb: its gcore dumps a running process for
# the test of `ttlog recover --core` (tests/core_recover.sh) where the
# kernel's core dumps go elsewhere; passwd (useradd, userdel) and
# util-linux (setpriv, unshare): the second local user that
# tests/hostile_users.sh creates and runs the process under test as, and
# the mount namespace without /proc it also runs it in; strace: that test
# sees with it how snapshot temporaries are created.
# Node may come from elsewhere than Debian (its own packages bring npm):
# Debian's are installed only when there is no npm at all.
test_packages=(g++ clang sqlite3 curl chromium firefox-esr util-linux man-db prometheus clickhouse-server
	clickhouse-client tmux libc6-dev bsdutils gdb passwd strace)
command -v npm >/dev/null 2>&1 || test_packages+=(nodejs npm)

list=0
for arg in "$@"; do
	case "$arg" in
	--list) list=1 ;;
	--test | --clang) packages+=("${test_packages[@]}") ;;
	--fuzz) packages+=(clang "$clang_rt") ;;
	--soak) packages+=(valgrind python3) ;;
	--bench) packages+=(g++ valgrind libspdlog-dev libgoogle-glog-dev liblttng-ust-dev lttng-tools) ;;
	-h | --help)
		# The comment at the top, from its third line to its end.
		awk 'NR >= 3 && !/^#/ { exit } NR >= 3 { sub(/^# ?/, ""); print }' "$0"
		exit 0
		;;
	*)
		echo "install-deps.sh: unknown argument: $arg (try --help)" >&2
		exit 2
		;;
	esac
done

if [ "$list" -eq 1 ]; then
	printf '%s\n' "${packages[@]}" | sort -u
	exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian-based system; make sure these (or their equivalents) are installed:" >&2
	echo "      ${packages[*]}" >&2
	exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$pkg")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all present"
	exit 0
fi

echo "deps: installing ${missing[*]}"

# Root runs apt-get itself; anyone else needs sudo. Without a terminal sudo
# must not wait for a password nobody can type: -n makes it fail instead.
if [ "$(id -u)" -eq 0 ]; then
	as_root=(env)
elif command -v sudo >/dev/null 2>&1; then
	if [ -t 0 ]; then
		as_root=(sudo env)
	else
		as_root=(sudo -n env)
	fi
else
	echo "deps: not root and sudo is not available; install these as root, then run make again:" >&2
	echo "      apt-get install ${missing[*]}" >&2
	exit 1
fi

apt_env=(DEBIAN_FRONTEND=noninteractive)
if ! "${as_root[@]}" "${apt_env[@]}" apt-get update -q \
	|| ! "${as_root[@]}" "${apt_env[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
	echo "deps: could not install ${missing[*]}; install them as root, then run make again" >&2
	exit 1
fi

echo "deps: installed ${missing[*]}"
