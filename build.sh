#!/usr/bin/env bash
# Build the book into _build/html, strictly: any warning (a failing or slow cell,
# stderr output, a broken reference, an unknown citation) fails the build.
#   ./build.sh            build this book
#   ./build.sh DIR        build the book in DIR (used by the tests on broken copies)
#   FORCE=1 ./build.sh    run Sphinx even if no input changed
#   ./build.sh --pdf      also build the PDF edition into _build/pdf/book.pdf
# After a successful build the digest of every input file is stored next to the
# site; when nothing has changed since, Sphinx is not started at all (starting it
# costs about 2.5 s of imports on 2 cores before it finds there is nothing to do).
set -euo pipefail
if [ "${1:-}" = "--pdf" ]; then
  # ./build.sh --pdf [DIR]: the PDF edition (_build/pdf/book.pdf), then the HTML,
  # whose introduction page links to it.
  shift
  "$(dirname "$0")/scripts/build_pdf.sh" "$@"
  exec "$0" "$@"
fi
source "$(dirname "$0")/scripts/setup_env.sh"
BOOK="$(cd "${1:-$ROOT}" && pwd)"
STAMP="$BOOK/_build/html/.inputs.sha256"

# Every file of the book counts, except what Sphinx never reads: the tests, CI and
# pytest set-up, the README (excluded in _config.yml).  (benchmarks/ counts: the
# status page includes benchmarks/RESULTS.md.)
inputs_digest() {
  (cd "$BOOK" && find . \( -name _build -o -name .venv -o -name node_modules -o -name .git -o -name .hypothesis \
      -o -name __pycache__ -o -name .ipynb_checkpoints -o -name .pytest_cache \
      -o -path ./tests -o -path ./.ci \) -prune \
      -o -type f ! -path ./README.md ! -path ./conftest.py ! -path ./pytest.ini -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
   "$PY" --version; cat "$VENV/.requirements.sha256"; cat "$NODE_MODULES/.package-lock.sha256" 2>/dev/null || true
   sha256sum "$BOOK/_build/pdf/book.pdf" 2>/dev/null || true
  ) | sha256sum | cut -d' ' -f1
}

digest="$(inputs_digest)"
if [ -z "${FORCE:-}" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ]; then
  echo "book is up to date: no input changed since the last successful build ($BOOK/_build/html)"
  exit 0
fi
rm -f "$STAMP"
"$VENV/bin/jupyter-book" build "$BOOK" -W -n --keep-going
echo "$digest" > "$STAMP"
