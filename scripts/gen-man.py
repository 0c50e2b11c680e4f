#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen-man.py - man pages of the `ttlog` command, made from its --help texts
so that they cannot fall behind it (the build runs this; `make install`
installs the pages).

Usage: scripts/gen-man.py TTLOG OUTDIR

Writes OUTDIR/ttlog.1 (`ttlog --help`, with `ttlog help env` as its
ENVIRONMENT section) and OUTDIR/ttlog-COMMAND.1 for every command that
`ttlog --help` lists under "Commands:" (`ttlog COMMAND --help`). A page is
NAME (the command's line in the list), SYNOPSIS (the "Usage:" line),
DESCRIPTION (the rest of the help text, kept as it is laid out: the texts are
written for an 80-column terminal) and SEE ALSO. Exits 1, saying why, when
the command cannot be run or a help text has no "Usage:" line.
"""
import os
import re
import sys

from ttlog_help import commands, run


def roff_text(line):
    """One line of help text as roff: backslashes escaped, and a line that
    starts with '.' or an apostrophe kept from being read as a request."""
    line = line.replace("\\", "\\e").replace("-", "\\-")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def page(name, section_title, version, description, help_text, extra=(), see_also=()):
    lines = help_text.rstrip("\n").splitlines()
    usage = next((i for i, l in enumerate(lines) if l.startswith("Usage:")), None)
    if usage is None:
        sys.exit(f"gen-man.py: the help text of {name} has no 'Usage:' line")
    synopsis = lines[usage][len("Usage:"):].strip()
    body = lines[usage + 1:]
    while body and not body[0].strip():
        body.pop(0)
    out = [
        f'.TH {name.upper()} 1 "" "ttlog {version}" "{section_title}"',
        ".SH NAME",
        f"{name} \\- {roff_text(description)}",
        ".SH SYNOPSIS",
        ".nf",
        roff_text(synopsis),
        ".fi",
        ".SH DESCRIPTION",
        ".nf",
    ]
    out += [roff_text(l) for l in body]
    out.append(".fi")
    for title, text in extra:
        out += [f".SH {title}", ".nf"] + [roff_text(l) for l in text.rstrip("\n").splitlines()] + [".fi"]
    if see_also:
        out += [".SH SEE ALSO", ",\n".join(f".BR {p} (1)" for p in see_also)]
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen-man.py TTLOG OUTDIR")
    ttlog, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    version = run("gen-man.py", ttlog, "--version").split()[-1]
    top = run("gen-man.py", ttlog, "--help")
    cmds = commands(top)
    if not cmds:
        sys.exit("gen-man.py: `ttlog --help` lists no command")
    env = run("gen-man.py", ttlog, "help", "env")
    env_body = "\n".join(l for l in env.splitlines() if not l.startswith("Usage:"))
    pages = {
        "ttlog": page("ttlog", "ttlog manual", version,
                      "read the snapshot files and stream segments of programs that use ttlog",
                      top, extra=[("ENVIRONMENT", env_body.lstrip("\n"))],
                      see_also=[f"ttlog-{n}" for n, _ in cmds])
    }
    for name, desc in cmds:
        pages[f"ttlog-{name}"] = page(f"ttlog-{name}", "ttlog manual", version, desc,
                                      run("gen-man.py", ttlog, name, "--help"), see_also=["ttlog"])
    for name, text in pages.items():
        path = os.path.join(outdir, f"{name}.1")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
