#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen-completion.py - bash completion for the `ttlog` command, made from its
--help texts so that it offers what the command takes (the build runs this;
`make install` installs the result where bash-completion looks for it).

Usage: scripts/gen-completion.py TTLOG OUTFILE

The completion offers: the commands (and -h/--help, -V/--version) as the
first word; after `help`, the commands and `env`; for a word starting with
'-', the options of the command given (those its help text defines: lines
"  -x, --long ..." and "      --long ..."), and otherwise file names. Exits
1, saying why, when the command cannot be run or lists no command.
"""
import os
import re
import sys

from ttlog_help import commands, run






OPTION_LINE = re.compile(r"^\s{2,8}(?:(-[A-Za-z0-9]),\s+)?(--[a-z0-9][a-z0-9-]*)")


def options(help_text):
    found = []
    for line in help_text.splitlines():
        m = OPTION_LINE.match(line)
        if m:
            for opt in m.groups():
                if opt and opt not in found:
                    found.append(opt)
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen-completion.py TTLOG OUTFILE")
    ttlog, outfile = sys.argv[1], sys.argv[2]
    cmds = [name for name, _ in commands(run("gen-completion.py", ttlog, "--help"))] + ["help"]
    if not cmds:
        sys.exit("gen-completion.py: `ttlog --help` lists no command")
    cases = []
    for name in cmds:
        if name == "help":
            continue
        opts = options(run("gen-completion.py", ttlog, name, "--help"))
        cases.append(f"\t{name}) opts='{' '.join(opts)}' ;;")
    text = f"""# bash completion for ttlog -*- shell-script -*-
# Generated from the command's --help texts by scripts/gen-completion.py.

_ttlog()
{{
	local cur=${{COMP_WORDS[COMP_CWORD]}}
	local commands='{' '.join(cmds)}'
	local opts=''
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$commands -h --help -V --version" -- "$cur"))
		return 0
	fi
	case ${{COMP_WORDS[1]}} in
	help)
		[ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "$commands env" -- "$cur"))
		return 0
		;;
{chr(10).join(cases)}
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	fi
	# Anything else: file names (complete -o default).
	return 0
}} &&
	complete -o default -F _ttlog ttlog
"""
    tmp = outfile + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(outfile)), exist_ok=True)
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, outfile)


if __name__ == "__main__":
    main()
