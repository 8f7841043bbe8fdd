"""The minimal environment of tests/test_minimal_env.py: a venv with only numpy, sympy,
matplotlib and ipykernel (and what they depend on), at the versions requirements.txt pins.

A student who downloads one chapter may have only those four packages; the test runs every
chapter there.  ./test.sh makes the venv before the tests start, as it makes .venv: it is
kept inside .venv (so it is made again whenever .venv is) and only made when missing.

    .venv/bin/python scripts/minimal_env.py    # make it if needed, print its python
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = ("numpy", "sympy", "matplotlib", "ipykernel")


def minimal_pins() -> list[str]:
    """The requirements.txt lines that pin the four packages, e.g. 'numpy==2.4.6'."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if m and m.group(1).lower() in MINIMAL:
            pins[m.group(1).lower()] = line.strip()
    missing = set(MINIMAL) - set(pins)
    if missing:
        raise RuntimeError(f"requirements.txt does not pin {sorted(missing)}")
    return [pins[name] for name in MINIMAL]


def venv_dir() -> Path:
    """Where the venv for these pins and this Python lives (a new key, a new venv)."""
    key = hashlib.sha256("\n".join(minimal_pins() + [sys.version]).encode()).hexdigest()[:12]
    return ROOT / ".venv" / f"minimal-{key}"


def ensure() -> Path:
    """The venv's python, after making the venv if it is missing or was left half made.
    Raises RuntimeError, naming the log, if pip fails."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return python
    pins = minimal_pins()
    log = venv.parent / f"{venv.name}-install.log"
    print(f"setting up the minimal environment {venv} (numpy, sympy, matplotlib, ipykernel; log: {log})",
          file=sys.stderr)
    with open(log, "w") as out:
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            # -c requirements.txt: the dependencies the book also pins get the same versions.
            [str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "requirements.txt"), *pins],
        ]
        for cmd in steps:
            if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise RuntimeError(f"making the minimal environment failed ({' '.join(cmd[:4])} ...); see {log}")
    (venv / ".complete").write_text("\n".join(pins) + "\n")
    return python


def main() -> int:
    try:
        print(ensure())
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
