#!/usr/bin/env bash
# Build the book strictly in a scratch copy, executing only the named chapter(s);
# the other notebooks are rendered from their stored outputs.  For authors who
# want to see one chapter quickly without touching _build/ of the working tree.
#
#   scripts/preview_chapter.sh notebooks/batch_norm.ipynb [more.ipynb ...]
#   scripts/preview_chapter.sh --none      (execute nothing; every page from stored outputs)
#   -> /tmp/book-preview-<name>/_build/html (or $PREVIEW_DIR), warnings printed, exit 1 on any
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 notebooks/NAME.ipynb [...] | --none" >&2; exit 2; }
JB="$ROOT/.venv/bin/jupyter-book"
[ -x "$JB" ] || { echo "error: $JB missing; run ./build.sh once first" >&2; exit 2; }
DEST="${PREVIEW_DIR:-/tmp/book-preview-$(basename "$1" .ipynb)}"
rm -rf "$DEST"; mkdir -p "$DEST"
tar -C "$ROOT" --exclude=./.venv --exclude=./_build --exclude=./.git -cf - . | tar -C "$DEST" -xf -
# every notebook not named on the command line: render stored outputs, do not execute
keep=(); for nb in "$@"; do [ "$nb" = "--none" ] || keep+=("$(basename "$nb")"); done
{
  echo "execute:"
  echo "  exclude_patterns:"
  for nb in "$ROOT"/notebooks/*.ipynb; do
    b="$(basename "$nb")"
    [[ " ${keep[*]} " == *" $b "* ]] || echo "    - \"*$b\""
  done
} > "$DEST/_preview.yml"
"$ROOT/.venv/bin/python" - "$DEST" <<'PY'
import sys, yaml, pathlib
d = pathlib.Path(sys.argv[1])
cfg = yaml.safe_load((d / "_config.yml").read_text())
extra = yaml.safe_load((d / "_preview.yml").read_text())
cfg["execute"]["exclude_patterns"] = extra["execute"]["exclude_patterns"]
(d / "_config.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
PY
cd "$DEST"
set +e
"$JB" build . -W -n --keep-going > build.log 2>&1
rc=$?
set -e
grep -E "WARNING|ERROR|Error" build.log || true
echo "preview: $DEST/_build/html (exit $rc)"
exit $rc
