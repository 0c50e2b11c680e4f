#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_layers.py - every #include "dir/..." in src/ against the layer table.

The table is the one in docs/DESIGN.md, section "Layers": one row per folder
of src/, in order from the bottom layer up, its last column the folders it
may include. This script fails (exit 1, one line per problem) when:
  - a folder of src/ has no row, or a row names a folder that does not exist;
  - a row allows a folder that is not in an earlier row (the table itself
    would then allow a cycle);
  - a source file includes a folder its row does not allow.

Usage: check_layers.py [SOURCE_ROOT]   (default: the checkout this file is in)
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
design = os.path.join(root, "docs", "DESIGN.md")
src = os.path.join(root, "src")

problems = []

# ---- the table
text = open(design, encoding="utf-8").read()
m = re.search(r"^## Layers\n(.*?)(?=^## )", text, re.S | re.M)
if not m:
    sys.exit(f"{design}: no section '## Layers'")
rows = []  # (folder, allowed set), bottom first
for line in m.group(1).splitlines():
    row = re.match(r"\|\s*`src/([a-z_]+)/`\s*\|(.*)\|\s*$", line)
    if not row:
        continue
    cells = row.group(2).split("|")
    allowed = {a.strip() for a in cells[-1].split(",")} - {"—", "-", ""}
    rows.append((row.group(1), allowed))
if not rows:
    sys.exit(f"{design}: the Layers section has no rows of the form | `src/DIR/` | ... |")

order = {}
for i, (folder, allowed) in enumerate(rows):
    if folder in order:
        problems.append(f"DESIGN.md: src/{folder}/ has two rows")
    for a in sorted(allowed):
        if a not in order:
            problems.append(f"DESIGN.md: src/{folder}/ may include '{a}', which is not a folder "
                            f"in an earlier row")
    order[folder] = i
allowed_of = dict(rows)

folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
for d in folders:
    if d not in order:
        problems.append(f"src/{d}/ has no row in the Layers table of docs/DESIGN.md")
for d in order:
    if d not in folders:
        problems.append(f"DESIGN.md: row src/{d}/ names a folder that does not exist")

# ---- the includes
include = re.compile(r'\s*#\s*include\s+"(?:\.\./)*([a-z_]+)/')
checked = 0
for d in folders:
    for name in sorted(os.listdir(os.path.join(src, d))):
        if not name.endswith((".c", ".h", ".inc")):
            continue
        path = os.path.join(src, d, name)
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                inc = include.match(line)
                if not inc:
                    continue
                target = inc.group(1)
                if target == d or not os.path.isdir(os.path.join(src, target)):
                    continue
                checked += 1
                if target not in allowed_of.get(d, set()):
                    where = "above it" if order.get(target, -1) > order.get(d, -1) else "not in its row"
                    problems.append(f"src/{d}/{name}:{n}: includes {target}/, {where} "
                                    f"(src/{d}/ may include: {', '.join(sorted(allowed_of.get(d, ()))) or 'nothing'})")

for p in problems:
    print(p)
if problems:
    print(f"layers: {len(problems)} problem(s); the table is in docs/DESIGN.md, section Layers")
    sys.exit(1)
print(f"layers: {len(rows)} layers, {checked} includes across folders, all allowed")
