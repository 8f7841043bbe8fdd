"""Re-executing a notebook reproduces its stored figures pixel for pixel.

nbval compares text outputs but skips image/png; this test closes that gap.
"""
import base64
import io
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

import run_notebooks

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_reexecution_reproduces_stored_figures(path):
    stored = png_outputs(nbformat.read(path, as_version=4))
    fresh = png_outputs(run_notebooks.execute_notebook(path))
    assert differences(stored, fresh) == []
