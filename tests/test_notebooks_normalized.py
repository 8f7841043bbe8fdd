"""Stored notebooks are normalized, so re-running unchanged code leaves git clean."""
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

import run_notebooks

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_is_normalized(path):
    assert run_notebooks.is_normalized(path), (
        f"{path.name} is not normalized: run `python scripts/run_notebooks.py notebooks/{path.name}`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_was_executed(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    assert any(c.outputs for c in code), f"{path.name} stores no outputs: execute it"


def _messy_notebook():
    nb = new_notebook(cells=[new_code_cell("1 + 1"), new_code_cell("print(2)")])
    nb.cells[0].execution_count = 7
    nb.cells[0].outputs = [new_output("execute_result", {"text/plain": "2"}, execution_count=7)]
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    nb.cells[1].execution_count = 9
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="2"), new_output("stream", name="stdout", text="\n")]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    return nb


def test_normalize_renumbers_and_strips_timing():
    nb = run_notebooks.normalize(_messy_notebook())
    assert [c.execution_count for c in nb.cells] == [1, 2]
    assert nb.cells[0].outputs[0].execution_count == 1
    assert "execution" not in nb.cells[0].metadata
    assert "version" not in nb.metadata["language_info"]
    assert [(o.name, o.text) for o in nb.cells[1].outputs] == [("stdout", "2\n")]


def test_check_flags_a_notebook_that_is_not_normalized(tmp_path):
    path = tmp_path / "messy.ipynb"
    nbformat.write(_messy_notebook(), path)
    assert not run_notebooks.is_normalized(path)
    path.write_text(run_notebooks.dumps(run_notebooks.normalize(nbformat.read(path, as_version=4))))
    assert run_notebooks.is_normalized(path)
