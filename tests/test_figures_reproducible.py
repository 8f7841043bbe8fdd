"""Re-executing a notebook reproduces its stored figures pixel for pixel, and its
text, on numpy/OpenBLAS code paths other than this machine's.

nbval compares text outputs but skips image/png.  Each chapter runs once as another
computer would run it (cpu_paths.py; the run is nbval's own under ./test.sh, see
chapter_runs.py, and is shared with test_figure_labels.py), and this test compares
every output of that run with the stored one: figures pixel for pixel, everything
else exactly.
"""
import base64
import copy
import io
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbval.plugin import coalesce_streams
from PIL import Image

import chapter_runs

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def png_outputs(nb):
    """{cell index: [decoded RGBA arrays]} for every code cell with PNG output."""
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        images = [
            np.asarray(Image.open(io.BytesIO(base64.b64decode(out.data["image/png"]))).convert("RGBA"))
            for out in cell.outputs
            if "image/png" in out.get("data", {})
        ]
        if images:
            found[index] = images
    return found


def differences(stored, fresh):
    problems = []
    for index in sorted(set(stored) | set(fresh)):
        a, b = stored.get(index, []), fresh.get(index, [])
        if len(a) != len(b):
            problems.append(f"cell {index}: {len(a)} stored figure(s), {len(b)} produced")
            continue
        for k, (x, y) in enumerate(zip(a, b)):
            if x.shape != y.shape:
                problems.append(f"cell {index} figure {k}: size {x.shape[:2]} stored, {y.shape[:2]} produced")
            elif not np.array_equal(x, y):
                changed = int(np.any(x != y, axis=-1).sum())
                problems.append(f"cell {index} figure {k}: {changed} of {x.shape[0] * x.shape[1]} pixels differ")
    return problems


def test_differences_detects_a_changed_pixel():
    x = np.zeros((4, 4, 4), dtype=np.uint8)
    y = x.copy()
    y[1, 2, 0] = 1
    assert differences({3: [x]}, {3: [x]}) == []
    assert differences({3: [x]}, {3: [y]}) == ["cell 3 figure 0: 1 of 16 pixels differ"]
    assert differences({3: [x]}, {}) == ["cell 3: 1 stored figure(s), 0 produced"]


def test_the_book_has_figures_to_compare():
    assert sum(len(png_outputs(nbformat.read(p, as_version=4))) for p in NOTEBOOKS) > 0


def text_outputs(nb):
    """{cell index: outputs without their PNG data} for every code cell: each output's
    kind, stream name, text and data (not the metadata or execution count, which
    nbval's run does not record as a notebook file does), each stream's text joined
    into one output as nbval joins it."""
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            outs = []
            for out in coalesce_streams(copy.deepcopy(cell.outputs)):
                kept = {k: out[k] for k in ("output_type", "name", "text", "ename", "evalue") if k in out}
                if "data" in out:
                    kept["data"] = {k: v for k, v in out["data"].items() if k != "image/png"}
                outs.append(kept)
            found[index] = outs
    return found


def output_differences(stored_nb, fresh_nb) -> list[str]:
    """Every way the outputs of ``fresh_nb`` differ from those of ``stored_nb``: figures
    pixel for pixel, text exactly (text_outputs)."""
    problems = differences(png_outputs(stored_nb), png_outputs(fresh_nb))
    stored, fresh = text_outputs(stored_nb), text_outputs(fresh_nb)
    problems += [f"cell {i}: text output differs, produced: {fresh.get(i)}"
                 for i in stored if stored[i] != fresh.get(i)]
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_on_other_cpu_paths_reproduces_every_output(path, tmp_path_factory, request):
    """The notebook runs on other numpy/OpenBLAS code paths and reproduces every stored output."""
    stored_nb = nbformat.read(path, as_version=4)
    run = chapter_runs.run_of(path, tmp_path_factory)
    # When nbval ran this notebook in this session, the run checked is nbval's (so each
    # chapter runs once), not a second one.
    nbval_ran = any(item.nodeid.startswith(f"notebooks/{path.name}::") for item in request.session.items)
    assert run.by == ("nbval" if nbval_ran else "alone")
    # ... and its kernel ran on the other code paths.
    assert run.kernel_env == chapter_runs.cpu_path_env()
    assert output_differences(stored_nb, run.notebook) == []
