"""One run of each chapter on other numpy/OpenBLAS code paths, with the text of its figures.

tests/test_figures_reproducible.py compares the figures of that run with the stored
ones; tests/test_figure_labels.py reads the words drawn on them.  Both take the run
from here:

- Under ``pytest --nbval`` (./test.sh) the run is nbval's own.  The top-level
  conftest.py starts each notebook's nbval kernel with other_cpu_env() (cpu_paths.py)
  and with collect_figure_text.py as its start-up file, and hands every cell's outputs
  and figure text to ``Recording`` as nbval produces them.  nbval compares the text
  outputs of that run with the stored ones, strictly; the two test files then check
  the figures of the same run.  The conftest puts a notebook's nbval cells and the two
  files' tests of that notebook on one worker, nbval first, so each chapter runs once.
- Without nbval's run (``pytest tests/test_figure_labels.py``, or a notebook whose nbval
  run did not reach its last cell) ``run_of`` executes the notebook itself, copied alone
  into an empty folder, with the same environment and start-up file.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

import run_notebooks
from cpu_paths import VARIABLES, other_cpu_env

COLLECTOR = Path(__file__).with_name("collect_figure_text.py")


@dataclass
class Run:
    notebook: nbformat.NotebookNode  # executed; outputs as the kernel produced them
    figures: dict[int, list[list[str]]]  # {code cell index: [texts drawn on each of its figures]}
    by: str  # "nbval" or "alone"
    kernel_env: dict  # the code-path variables as the kernel saw them (collect_figure_text.py)


def kernel_env(record: Path) -> dict[str, str]:
    """The variables to set for a kernel that runs a chapter for these tests: numpy and
    OpenBLAS on other code paths, and collect_figure_text.py writing to ``record``."""
    env = {key: value for key, value in other_cpu_env().items() if os.environ.get(key) != value}
    env["BOOK_FIGURE_TEXT"] = str(record)
    env["BOOK_CPU_PATH_VARIABLES"] = " ".join(VARIABLES)
    env["PYTHONSTARTUP"] = str(COLLECTOR)  # ipykernel runs it before the first cell
    return env


def read_record(record: Path, offset: int = 0) -> tuple[list[dict], int]:
    """The entries collect_figure_text.py appended to ``record`` after byte ``offset``,
    and the new offset."""
    if not record.exists():
        return [], offset
    with open(record, "rb") as f:
        f.seek(offset)
        data = f.read()
    return [json.loads(line) for line in data.decode("utf-8").splitlines()], offset + len(data)


def cpu_path_env() -> dict[str, str | None]:
    """What the kernel of a run should see in the variables collect_figure_text.py reports."""
    env = other_cpu_env()
    return {key: env.get(key) for key in VARIABLES}


@dataclass
class Recording:
    """A chapter's run as nbval makes it, one cell at a time."""
    notebook: nbformat.NotebookNode  # the stored notebook, copied; outputs replaced as cells run
    record: Path
    offset: int = 0
    figures: dict[int, list[list[str]]] = field(default_factory=dict)
    pending: set[int] = field(default_factory=set)  # code cells not yet run
    kernel_env: dict = field(default_factory=dict)

    @classmethod
    def start(cls, stored: nbformat.NotebookNode, record: Path) -> "Recording":
        nb = nbformat.from_dict(json.loads(json.dumps(stored)))
        pending = {i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
        for i in pending:
            nb.cells[i].outputs = []
        return cls(nb, record, pending=pending)

    def cell_ran(self, index: int, outputs: list) -> None:
        self.notebook.cells[index].outputs = [nbformat.from_dict(dict(out)) for out in outputs]
        entries, self.offset = read_record(self.record, self.offset)
        for entry in entries:
            if "kernel_env" in entry:
                self.kernel_env = entry["kernel_env"]
            else:
                self.figures.setdefault(index, []).append(entry["texts"])
        self.pending.discard(index)


recordings: dict[Path, Recording] = {}  # filled by the top-level conftest.py during nbval
_runs: dict[Path, Run] = {}


def run_of(path: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    path = path.resolve()
    if path not in _runs:
        recording = recordings.get(path)
        if recording is not None and not recording.pending:
            _runs[path] = Run(recording.notebook, recording.figures, "nbval", recording.kernel_env)
        else:
            _runs[path] = run_alone(path, tmp_path_factory)
    return _runs[path]


def run_alone(path: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp(path.stem)
    alone = folder / path.name
    shutil.copy2(path, alone)
    record = folder / "figure-text.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in kernel_env(record).items():
            mp.setenv(key, value)  # inherited by the kernel
        mp.delenv("PYTHONPATH", raising=False)
        nb = run_notebooks.execute_notebook(alone)
    # The cells nbclient runs, in order (it skips empty ones); the collector numbers
    # each figure by the cell run that drew it.
    code_cells = [i for i, cell in enumerate(nb.cells)
                  if cell.cell_type == "code" and cell.source.strip()
                  and "skip-execution" not in cell.metadata.get("tags", [])]
    figures: dict[int, list[list[str]]] = {}
    kernel = {}
    for entry in read_record(record)[0]:
        if "kernel_env" in entry:
            kernel = entry["kernel_env"]
        else:
            figures.setdefault(code_cells[entry["run"] - 1], []).append(entry["texts"])
    return Run(nb, figures, "alone", kernel)
