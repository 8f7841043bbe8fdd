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
  # pip's own progress lines (one per package) go to the terminal as they come;
  # the full output stays in the log.
  "$PY" -m pip install --progress-bar off -r "$ROOT/requirements.txt" 2>&1 | tee "$VENV/install.log" \
    | awk '/^(Collecting|Installing collected|Successfully installed)/ { print "  pip: " substr($0, 1, 100); fflush() }' \
    && [ "${PIPESTATUS[0]}" = 0 ] \
    || die "pip install -r requirements.txt failed; see $VENV/install.log (PyPI must be reachable)"
  echo "$want" > "$VENV/.requirements.sha256"
fi

# Build-time JavaScript (MathJax, which typesets the math while the HTML is written):
# `npm ci` installs exactly package-lock.json into node_modules/, again whenever the
# lock file changes.  Afterwards nothing needs the network.
NODE_MODULES="$ROOT/node_modules"
export BOOK_NODE_MODULES="$NODE_MODULES"
want_npm=""
if [ -f "$ROOT/package-lock.json" ]; then
  want_npm="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
fi
if [ -n "$want_npm" ] && [ "$(cat "$NODE_MODULES/.package-lock.sha256" 2>/dev/null)" != "$want_npm" ]; then
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
    || die "Node.js 18 or newer and npm are required (they typeset the math at build time); Debian: apt-get install nodejs npm"
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' \
    || die "Node.js 18 or newer is required, found $(node --version); Debian: apt-get install nodejs npm"
  echo "installing the build's npm packages into $NODE_MODULES (log: $ROOT/npm-install.log)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --ignore-scripts 2>&1) | tee "$ROOT/npm-install.log" \
    | awk '{ print "  npm: " $0; fflush() }' && [ "${PIPESTATUS[0]}" = 0 ] \
    || die "npm ci failed; see $ROOT/npm-install.log (the npm registry must be reachable)"
  echo "$want_npm" > "$NODE_MODULES/.package-lock.sha256"
  rm -f "$ROOT/npm-install.log"
fi
