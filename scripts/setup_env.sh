# Sourced by build.sh and test.sh: make .venv from requirements.txt if it is missing
# or stale, and stop with one clear line when that cannot be done.
# Sets $VENV and $PY.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

die() { echo "error: $*" >&2; exit 1; }

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3 python3.14 python3.13 python3.12 python3.11; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

want="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$PY" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  base="$(find_python)" || die "Python 3.11 or newer is required and was not found; install it (Debian: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3.11+"
  echo "setting up $VENV with $("$base" --version 2>&1) (log: $VENV/install.log)"
  rm -rf "$VENV"
  "$base" -m venv "$VENV" >/dev/null 2>&1 \
    || die "could not create a virtual environment with $base (Debian: apt-get install python3-venv)"
  "$PY" -m pip install -r "$ROOT/requirements.txt" > "$VENV/install.log" 2>&1 \
    || die "pip install -r requirements.txt failed; see $VENV/install.log (PyPI must be reachable)"
  echo "$want" > "$VENV/.requirements.sha256"
fi
