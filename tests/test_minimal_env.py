"""Every chapter runs top to bottom with the scientific stack alone.

A student who downloads one chapter from its page may have only numpy, sympy,
matplotlib and a Jupyter kernel: no myst-nb (the book's `glue`) and no
koreanize-matplotlib (the Korean figure font).  This test uses such an
environment (a venv with exactly those four packages, at the versions
requirements.txt pins: scripts/minimal_env.py, which ./test.sh runs first),
copies each notebook alone into an empty folder and executes it there.  A cell
that raises, or anything on stderr, fails it.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
import pytest

import minimal_env
import run_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="session")
def minimal_kernel(tmp_path_factory) -> str:
    """Name of a Jupyter kernel whose Python has only the four packages (and their dependencies)."""
    python = minimal_env.ensure()  # made by ./test.sh before the tests start; here if it was not
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
    absent = ("myst_nb", "koreanize_matplotlib")
    result = subprocess.run([str(python), "-c", probe, *absent, *minimal_env.MINIMAL],
                            capture_output=True, text=True, check=True)
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
