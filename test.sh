#!/usr/bin/env bash
# Run every test: build the book strictly (HTML and PDF), then nbval (strict) on every notebook,
# the figure, normalization, fault-injection and browser tests.
#   ./test.sh [extra pytest arguments]
# The tests run on one worker per CPU (pytest-xdist; TEST_WORKERS=0 runs them in one
# process), each test file on one worker, in order (tests/conftest.py).
set -euo pipefail
source "$(dirname "$0")/scripts/setup_env.sh"
cd "$ROOT"
# The browser tests run in chromium-headless-shell, else in chromium (tests/booksite.py, chromium_path).
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium-headless-shell >/dev/null 2>&1 \
    && ! command -v chromium >/dev/null 2>&1; then
  die "chromium not found (needed by the browser tests); install it: apt-get install --no-install-recommends chromium-headless-shell"
fi
./build.sh --pdf   # the PDF edition first, then the HTML that links to it
"$PY" scripts/minimal_env.py > /dev/null   # the venv test_minimal_env.py runs the chapters in
exec "$PY" -m pytest --nbval --nbval-current-env -n "${TEST_WORKERS:-auto}" "$@"
