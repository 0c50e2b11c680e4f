#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs_check.sh - the documents hold together:
#   - every relative link in README.md and docs/*.md names a file that
#     exists and, with a #fragment, a heading of that file (as GitHub makes
#     anchors of headings), so that moving a section cannot leave a link
#     behind;
#   - docs/FORMAT.md's table of contents lists its numbered sections, all
#     of them, in order, each with the right anchor;
#   - docs/FORMAT.md has a top-level section for every chunk type the
#     format header defines (TTLOG__FMT_CHUNK_*), so that a new chunk type
#     cannot go undocumented.
set -euo pipefail

: "${TTLOG_SRC:?}"
if ! command -v python3 >/dev/null; then
	echo "docs_check: python3 is needed (scripts/install-deps.sh installs it)" >&2
	exit 77
fi

# The chunk types, found wherever the format header lives in src/.
header=$(grep -rl --include='*.h' 'define TTLOG__FMT_CHUNK_HEAD ' "$TTLOG_SRC/src" | head -n 1)
if [[ -z $header ]]; then
	echo "docs_check: no header in src/ defines TTLOG__FMT_CHUNK_HEAD" >&2
	exit 1
fi
chunks=$(sed -n "s/.*define TTLOG__FMT_CHUNK_[A-Z]* TTLOG__FMT_FOURCC('\(.\)', '\(.\)', '\(.\)', '\(.\)').*/\1\2\3\4/p" \
	"$header" | sed 's/ *$//')
if [[ -z $chunks ]]; then
	echo "docs_check: no chunk type found in $header" >&2
	exit 1
fi

python3 - "$TTLOG_SRC" $chunks <<'EOF'
import os
import re
import sys

top, chunks = sys.argv[1], sys.argv[2:]
docs = [os.path.join(top, "README.md")] + sorted(
    os.path.join(top, "docs", f) for f in os.listdir(os.path.join(top, "docs")) if f.endswith(".md"))
errors = []


def without_code(text):
    """The text without fenced blocks, whose lines are not headings or links."""
    out, fenced = [], False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
            out.append("")
        else:
            out.append("" if fenced else line)
    return out


def slug(title):
    """GitHub's anchor for a heading: lower case, punctuation dropped
    (hyphens and underscores kept), spaces made hyphens."""
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    title = title.lower()
    title = re.sub(r"[^\w\- ]", "", title)
    return title.replace(" ", "-")


def headings(lines):
    """(level, title, anchor) of each heading, anchors made unique as GitHub does."""
    seen, out = {}, []
    for line in lines:
        m = re.match(r"(#{1,6}) +(.*?) *#*$", line)
        if not m:
            continue
        a = slug(m.group(2))
        n = seen.get(a, 0)
        seen[a] = n + 1
        out.append((len(m.group(1)), m.group(2), a if n == 0 else f"{a}-{n}"))
    return out


cache = {}


def anchors(path):
    if path not in cache:
        with open(path, encoding="utf-8") as f:
            cache[path] = {a for _, _, a in headings(without_code(f.read()))}
    return cache[path]


for doc in docs:
    with open(doc, encoding="utf-8") as f:
        lines = without_code(f.read())
    name = os.path.relpath(doc, top)
    for no, line in enumerate(lines, 1):
        line = re.sub(r"`[^`]*`", "", line)
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
            if not os.path.exists(dest):
                errors.append(f"{name}:{no}: link to a missing file: {target}")
            elif frag and dest.endswith(".md") and frag not in anchors(dest):
                errors.append(f"{name}:{no}: link to a missing heading: {target}")

# FORMAT.md: the contents list against the numbered headings.
fmt = os.path.join(top, "docs", "FORMAT.md")
with open(fmt, encoding="utf-8") as f:
    lines = without_code(f.read())
numbered = [(t, a) for lvl, t, a in headings(lines) if lvl in (2, 3) and re.match(r"\d+(\.\d+)*\.? ", t)]
start = lines.index("Contents") if "Contents" in lines else -1
if start < 0:
    errors.append("docs/FORMAT.md: no 'Contents' paragraph")
else:
    listed = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        listed += re.findall(r"\[([^\]]+)\]\(#([^)]+)\)", line)
    # Titles without their numbers (a link's text may leave it out); the
    # anchor holds the number.
    unnumbered = lambda t: re.sub(r"^\d+(\.\d+)*\.? ", "", t)
    want = [(unnumbered(t), a) for t, a in numbered]
    got = [(unnumbered(t), a) for t, a in listed]
    if got != want:
        errors.append("docs/FORMAT.md: the contents do not match the sections:")
        for (t1, a1), (t2, a2) in zip(got + [("", "")] * len(want), want + [("", "")] * len(got)):
            if (t1, a1) != (t2, a2):
                errors.append(f"    contents: {t1!r} #{a1}  section: {t2!r} #{a2}")
                break

# FORMAT.md: a numbered section per chunk type, its title starting with
# the type: top-level ("## 12. MTRC: metrics"), or a subsection for the
# chunks that belong to one kind of file ("### 17.2 PRMT: promoted records").
tops = [t for lvl, t, _ in headings(lines) if lvl in (2, 3)]
for c in chunks:
    if not any(re.match(r"\d+(\.\d+)*\.? " + re.escape(c) + r"\b", t) for t in tops):
        errors.append(f"docs/FORMAT.md: no numbered section for the chunk type {c}")

if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(f"docs_check: links of {len(docs)} documents, FORMAT.md's contents and {len(chunks)} chunk types")
EOF
