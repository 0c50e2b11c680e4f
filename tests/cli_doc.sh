#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli_doc.sh - docs/CLI.md holds the help text of every `ttlog` command as
# the command prints it: scripts/gen-cli-doc.sh --check fails on any
# difference, and on a command that has no block in the document.
set -euo pipefail

: "${TTLOG_BIN:?}" "${TTLOG_SRC:?}"

bash "$TTLOG_SRC/scripts/gen-cli-doc.sh" --check "$TTLOG_BIN"
echo "cli_doc: docs/CLI.md matches the help of $TTLOG_BIN"
