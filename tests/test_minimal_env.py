"""Every chapter runs top to bottom with the scientific stack alone.

A student who downloads one chapter from its page may have only numpy, sympy,
matplotlib and a Jupyter kernel: no myst-nb (the book's `glue`) and no
koreanize-matplotlib (the Korean figure font).  This test makes such an
environment (a venv with exactly those four packages, at the versions
requirements.txt pins), copies each notebook alone into an empty folder and
executes it there.  A cell that raises, or anything on stderr, fails it.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import run_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MINIMAL = ("numpy", "sympy", "matplotlib", "ipykernel")


def minimal_pins() -> list[str]:
    """The requirements.txt lines that pin the four packages, e.g. 'numpy==2.4.6'."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if m and m.group(1).lower() in MINIMAL:
            pins[m.group(1).lower()] = line.strip()
    missing = set(MINIMAL) - set(pins)
    assert not missing, f"requirements.txt does not pin {sorted(missing)}"
    return [pins[name] for name in MINIMAL]


@pytest.fixture(scope="session")
def minimal_kernel(tmp_path_factory) -> str:
    """Name of a Jupyter kernel whose Python has only the four packages (and their dependencies)."""
    pins = minimal_pins()
    key = hashlib.sha256("\n".join(pins + [sys.version]).encode()).hexdigest()[:12]
    # Kept inside .venv, so it is rebuilt whenever .venv is (requirements.txt changed).
    venv = ROOT / ".venv" / f"minimal-{key}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        # -c requirements.txt: the dependencies the book also pins get the same versions.
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "requirements.txt"), *pins],
            check=True,
        )
        (venv / ".complete").write_text("\n".join(pins) + "\n")
    spec_dir = tmp_path_factory.mktemp("jupyter") / "kernels" / "minimal"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "numpy, sympy, matplotlib only",
        "language": "python",
    }))
    return str(spec_dir.parent.parent)


def test_minimal_environment_lacks_the_book_packages(minimal_kernel):
    python = Path(json.loads((Path(minimal_kernel) / "kernels" / "minimal" / "kernel.json").read_text())["argv"][0])
    # One interpreter imports each module and reports which ones failed.
    probe = (
        "import importlib, json, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError:\n"
        "        failed.append(name)\n"
        "print(json.dumps(failed))\n"
    )
    absent, present = ("myst_nb", "koreanize_matplotlib"), ("numpy", "sympy", "matplotlib", "ipykernel")
    result = subprocess.run([str(python), "-c", probe, *absent, *present], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == list(absent), f"not importable in the minimal environment: {result.stdout}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_runs_alone_with_numpy_sympy_matplotlib_only(path, minimal_kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", minimal_kernel)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    alone = tmp_path / path.name
    alone.write_bytes(path.read_bytes())
    nb = run_notebooks.execute_notebook(alone, kernel_name="minimal")
    stderr = [
        (index, out.text)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stderr"
    ]
    assert stderr == [], f"stderr output in {path.name}: {stderr[:3]}"
    figures = sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    stored = sum(
        "image/png" in out.get("data", {})
        for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code" for out in cell.outputs
    )
    assert figures == stored, f"{path.name}: {figures} figures drawn, {stored} in the book's copy"
