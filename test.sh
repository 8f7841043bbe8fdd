#!/usr/bin/env bash
# Run every test: build the book strictly (HTML and PDF), then nbval (strict) on every notebook,
# the figure, normalization, fault-injection and browser tests.
#   ./test.sh [extra pytest arguments]
set -euo pipefail
source "$(dirname "$0")/scripts/setup_env.sh"
cd "$ROOT"
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  die "chromium not found (needed by the browser tests); install it: apt-get install --no-install-recommends chromium"
fi
./build.sh --pdf   # the PDF edition first, then the HTML that links to it
exec "$PY" -m pytest --nbval --nbval-current-env "$@"
