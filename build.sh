#!/usr/bin/env bash
# Build the book into _build/html, strictly: any warning (a failing or slow cell,
# stderr output, a broken reference, an unknown citation) fails the build.
#   ./build.sh            build this book
#   ./build.sh DIR        build the book in DIR (used by the tests on broken copies)
set -euo pipefail
source "$(dirname "$0")/scripts/setup_env.sh"
BOOK="${1:-$ROOT}"
exec "$VENV/bin/jupyter-book" build "$BOOK" -W -n --keep-going
