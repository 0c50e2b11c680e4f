# SPDX-License-Identifier: MIT
"""ttlog_help.py - reading the `ttlog` command's --help texts, shared by
gen-man.py and gen-completion.py (imported: they sit in the same folder)."""
import re
import subprocess
import sys


def run(who, ttlog, *args):
    """Standard output of `ttlog ARGS...`; exits naming `who` if it fails."""
    try:
        out = subprocess.run([ttlog, *args], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"{who}: `ttlog {' '.join(args)}` failed: {e}")
    return out.stdout


def commands(top_help):
    """(name, description) of each command in `ttlog --help`'s list, but
    help. An entry may name arguments after the command (`snap PID`) or a
    subcommand (`ship clickhouse`); a description may go on over the
    following indented lines."""
    found, inside = [], False
    for line in top_help.splitlines():
        if line.startswith("Commands:"):
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            m = re.match(r"^  ([a-z][a-z0-9-]*)(?: [A-Za-z\[\]]+)*\s{2,}(\S.*)$", line)
            if m:
                found.append([m.group(1), m.group(2)])
            elif found and line.startswith("   "):
                found[-1][1] += " " + line.strip()
    return [(n, d) for n, d in found if n != "help"]
