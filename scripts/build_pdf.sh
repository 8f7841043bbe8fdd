#!/usr/bin/env bash
# Build the PDF edition into _build/pdf/book.pdf (called by ./build.sh --pdf).
# XeLaTeX with kotex, from the same sources as the HTML, offline.  The notebooks are
# not executed again when the HTML build has cached them.
#   scripts/build_pdf.sh [BOOKDIR]
# Needs Debian's TeX packages (installed here when running as root with apt-get,
# otherwise it stops with one line naming them).
set -euo pipefail
source "$(dirname "$0")/setup_env.sh"
BOOK="$(cd "${1:-$ROOT}" && pwd)"
TEX_PACKAGES="texlive-xetex texlive-lang-korean texlive-latex-extra texlive-fonts-recommended latexmk fonts-nanum poppler-utils"

tex_ready() {
  command -v xelatex >/dev/null 2>&1 && command -v latexmk >/dev/null 2>&1 \
    && command -v pdftotext >/dev/null 2>&1 && kpsewhich kotex.sty >/dev/null 2>&1 \
    && fc-list 2>/dev/null | grep -q NanumMyeongjo
}

if ! tex_ready; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing TeX for the PDF (about 170 MB; log: /tmp/apt-tex.log): $TEX_PACKAGES"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update && apt-get install -y --no-install-recommends $TEX_PACKAGES; } 2>&1 \
      | tee /tmp/apt-tex.log | grep --line-buffered -E '^(Get:|Unpacking|Setting up)' \
      | awk '{ n++; if (n % 20 == 1) { print "  apt: " $0; fflush() } }'
    tex_ready || die "installing TeX failed; see /tmp/apt-tex.log (needs: apt-get install $TEX_PACKAGES)"
  else
    die "the PDF needs TeX; install it as root: apt-get install --no-install-recommends $TEX_PACKAGES"
  fi
fi

OUT="$BOOK/_build/pdf"
LATEX="$BOOK/_build/latex"
mkdir -p "$OUT"
# Skip everything when no source changed since the last PDF (as build.sh does for HTML).
digest="$(cd "$BOOK" && find . \( -name _build -o -name .venv -o -name node_modules -o -name .git -o -name __pycache__ \
            -o -name .hypothesis -o -name .pytest_cache -o -name .ipynb_checkpoints \
            -o -path ./tests -o -path ./.ci \) -prune \
            -o -type f ! -path ./README.md ! -path ./conftest.py ! -path ./pytest.ini -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if [ -z "${FORCE:-}" ] && [ -f "$OUT/book.pdf" ] && [ "$(cat "$OUT/.inputs.sha256" 2>/dev/null)" = "$digest" ]; then
  echo "PDF is up to date: no input changed since $OUT/book.pdf was built"
  exit 0
fi
rm -f "$OUT/.inputs.sha256"
echo "writing LaTeX sources into $LATEX"
"$VENV/bin/jupyter-book" build "$BOOK" --builder latex -W -n --keep-going
echo "typesetting with XeLaTeX (log: $LATEX/book.log)"
( cd "$LATEX" && latexmk -xelatex -interaction=nonstopmode -halt-on-error -file-line-error book.tex \
    > latexmk.out 2>&1 ) || { tail -40 "$LATEX/latexmk.out" >&2; die "XeLaTeX failed; see $LATEX/book.log"; }
# A glyph the fonts lack is printed as nothing; XeTeX only logs it.
if grep -n "Missing character" "$LATEX/book.log" | head -5 >&2; then
  die "some characters have no glyph in the PDF's fonts (see $LATEX/book.log)"
fi
cp "$LATEX/book.pdf" "$OUT/book.pdf"
echo "$digest" > "$OUT/.inputs.sha256"
echo "PDF: $OUT/book.pdf ($(pdfinfo "$OUT/book.pdf" | awk '/^Pages:/ {print $2}') pages)"
