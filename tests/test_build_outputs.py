"""The chapter pages show exactly the outputs the notebooks store.

The build executes every chapter itself (myst-nb, execution mode "cache", in this
machine's environment and on its numpy/OpenBLAS code paths) and makes the page from
that run; the executed copy it keeps is _build/jupyter_execute/notebooks/<chapter>.ipynb.
Each of its outputs must be the stored one: text exactly, figures pixel for pixel.
Left out on both sides: the outputs of ``glue(..., display=False)``, which the page does
not show as outputs (their values go into the text) and which that copy keeps after a
run from the cache but not after a run in the build itself.
nbval runs the chapters on other code paths (tests/chapter_runs.py), so between the
two, the stored outputs are checked on both kinds of machine with no third run.
"""
import copy
from pathlib import Path

import nbformat
import pytest

import test_figures_reproducible as reproduce

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "jupyter_execute" / "notebooks"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


GLUE = "application/papermill.record/"


def without_glue(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (o.get("data") and all(k.startswith(GLUE) for k in o["data"]))]
    return nb


def output_differences(stored, built) -> list[str]:
    return reproduce.output_differences(without_glue(copy.deepcopy(stored)), without_glue(copy.deepcopy(built)))


def test_a_changed_output_is_found():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    changed = nbformat.read(NOTEBOOKS[0], as_version=4)
    cell = next(c for c in changed.cells if c.cell_type == "code" and any(
        o.output_type == "stream" for o in c.outputs))
    next(o for o in cell.outputs if o.output_type == "stream").text += "x"
    assert output_differences(nb, nb) == []
    assert len(output_differences(nb, changed)) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_page_shows_the_stored_outputs(path):
    executed = EXECUTED / path.name
    if not executed.is_file():
        pytest.fail(f"{executed} is missing: build the book first (./build.sh)", pytrace=False)
    stored = nbformat.read(path, as_version=4)
    built = nbformat.read(executed, as_version=4)
    assert [c.source for c in built.cells] == [c.source for c in stored.cells], "the build ran another version"
    assert sum(len(c.get("outputs", [])) for c in built.cells) > 0, "the build's copy has no outputs"
    assert output_differences(stored, built) == []
