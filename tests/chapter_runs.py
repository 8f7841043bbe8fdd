"""Each chapter run once as a reader who downloads it would run it, for two tests.

The notebook is copied alone into an empty folder and executed there on other
numpy/OpenBLAS code paths (cpu_paths.py), its kernel started with
collect_figure_text.py, which records the text of every figure as it is drawn.
tests/test_figures_reproducible.py compares the outputs with the stored ones;
tests/test_figure_labels.py reads the words on the figures.  Both files run on the same
worker (SHARED in the top-level conftest.py), so a chapter runs once per test session.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import run_notebooks
from cpu_paths import other_cpu_env

COLLECTOR = Path(__file__).with_name("collect_figure_text.py")


@dataclass
class Run:
    notebook: nbformat.NotebookNode  # executed and normalized
    figures: dict[int, list[list[str]]]  # {code cell index: [texts drawn on each of its figures]}


_runs: dict[Path, Run] = {}


def run_alone(path: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    if path not in _runs:
        folder = tmp_path_factory.mktemp(path.stem)
        alone = folder / path.name
        shutil.copy2(path, alone)
        record = folder / "figure-text.jsonl"
        with pytest.MonkeyPatch.context() as mp:
            for key, value in other_cpu_env().items():
                mp.setenv(key, value)  # inherited by the kernel
            mp.delenv("PYTHONPATH", raising=False)
            mp.setenv("BOOK_FIGURE_TEXT", str(record))
            nb = run_notebooks.execute_notebook(
                alone, kernel_arguments=[f"--IPKernelApp.exec_files={COLLECTOR}"])
        # The cells nbclient runs, in order (it skips empty ones).
        code_cells = [i for i, cell in enumerate(nb.cells)
                      if cell.cell_type == "code" and cell.source.strip()
                      and "skip-execution" not in cell.metadata.get("tags", [])]
        figures: dict[int, list[list[str]]] = {}
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        for line in lines:
            entry = json.loads(line)
            figures.setdefault(code_cells[entry["run"] - 1], []).append(entry["texts"])
        _runs[path] = Run(nb, figures)
    return _runs[path]
