#!/usr/bin/env bash
# install-deps.sh - install the Debian packages that building and testing
# ttlog need, and only those that are missing.
#
# Usage: scripts/install-deps.sh [--fuzz] [--bench]
#   --fuzz   also install clang's sanitizer and libFuzzer runtimes, which only
#            the libFuzzer build (make fuzz) needs
#   --bench  also install what the benchmark suite (make bench) needs: the
#            driver (python3), callgrind and its client-request headers
#            (valgrind), the peer loggers spdlog and glog, and LTTng-UST with
#            the lttng command and session daemon
#
# Prints one line when everything is present, so that it can run before
# every build. Runs apt-get non-interactively, through sudo when not root;
# exits non-zero, saying what to install, when it cannot install.
set -euo pipefail

# Debian 12's clang is clang 14; its runtimes come in a versioned package.
clang_rt=libclang-rt-14-dev

# libsqlite3-dev: `ttlog query` and the SQLite extension; sqlite3 (the shell)
# and python3: tests that load the extension and parse exported files back.
# libunwind-dev: the crash handler's stack unwinder (the library links it);
# libdw-dev: `ttlog view` symbolises stack traces with elfutils' libdw.
# libmicrohttpd-dev: the HTTP server of `ttlog serve`. chromium, firefox-esr,
# nodejs and npm: the browser tests of its page drive Debian's chromium
# (through playwright-core) and firefox-esr (through puppeteer-core, over
# WebDriver BiDi) headless; the test installs both from npm into the build
# tree (tests/browser/package-lock.json pins them). curl: the API tests of
# `ttlog serve` (tests/serve_api.sh). util-linux (flock): the two browser
# tests install the npm packages one at a time.
packages=(cmake make gcc g++ clang pkg-config liblz4-dev libcmocka-dev libsqlite3-dev sqlite3 python3
	libunwind-dev libdw-dev libmicrohttpd-dev chromium firefox-esr curl util-linux)
# Node may come from elsewhere than Debian (its own packages bring npm):
# Debian's are installed only when there is no npm at all.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

for arg in "$@"; do
	case "$arg" in
	--fuzz) packages+=("$clang_rt") ;;
	--bench) packages+=(python3 valgrind libspdlog-dev libgoogle-glog-dev liblttng-ust-dev lttng-tools) ;;
	-h | --help)
		sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "install-deps.sh: unknown argument: $arg (try --help)" >&2
		exit 2
		;;
	esac
done

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
