"""Figures speak one language: every word drawn on a figure is Korean, a symbol, or an
abbreviation that the chapter's text uses (CONTRIBUTING.md section 2).

The words are read from the figures themselves, not guessed from the code: each
notebook is executed (in an empty folder, matplotlib's Agg backend) with a small
cell after every code cell that draws every open figure and collects the text of
all its visible ``Text`` artists (titles, axis labels, tick labels, legends,
annotations, text boxes), then closes it.  A label built from variables or by a
drawing helper is read as it is drawn.

Allowed in a label, outside ``$...$`` (mathtext, the text's symbols):
Hangul, digits and punctuation; single letters (symbols such as ``g``); words of
two or more capitals (BN, ReLU, ImageNet, ResNet) that the chapter's own prose also
writes; and English in parentheses right after Korean, ``항등 (identity)``, the form
in which the text introduces a term.  Anything else ("weight", "identity", "Batch Norm") fails, naming the
notebook, the cell and the word.  Slow (executes every chapter): ``-k labels``.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

import test_glossary

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MARK = "__FIGURE_TEXT__"
COLLECT = f"""
import json as _j, matplotlib.pyplot as _p, matplotlib.text as _t
_found = []
for _n in _p.get_fignums():
    _f = _p.figure(_n)
    _f.canvas.draw()
    _found += [_x.get_text() for _x in _f.findobj(_t.Text) if _x.get_visible() and _x.get_text().strip()]
_p.close("all")
print({MARK!r} + _j.dumps(_found, ensure_ascii=False))
"""
MATHTEXT = re.compile(r"(?<!\\)\$.*?(?<!\\)\$")
# ``한국어 (English)``: the English term given after its Korean, as the text introduces it.
GLOSSED = re.compile(r"(?<=[\uac00-\ud7a3])\s*\((?P<en>[^()\uac00-\ud7a3]*)\)")
WORD = re.compile(r"[A-Za-z]+(?:[-'][A-Za-z]+)*")


def figure_texts(path: Path, workdir: Path) -> dict[int, list[str]]:
    """{cell index: texts drawn by the figures that cell left open}."""
    nb = nbformat.read(path, as_version=4)
    cells, origin = [new_code_cell("import matplotlib\nmatplotlib.use('Agg')")], [None]
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        origin.append(None)
        if cell.cell_type == "code":
            cells.append(new_code_cell(COLLECT))
            origin.append(index)
    nb.cells = cells
    shutil.copy(path, workdir / path.name)
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    found = {}
    for cell, index in zip(nb.cells, origin):
        if index is None:
            continue
        for out in cell.outputs:
            for line in out.get("text", "").splitlines():
                if line.startswith(MARK):
                    texts = json.loads(line[len(MARK):])
                    if texts:
                        found[index] = texts
    return found


def prose_words(nb) -> set[str]:
    words = set()
    for cell in nb.cells:
        for block in test_glossary.cell_prose(cell):
            words.update(WORD.findall(block.masked))
    return words


def foreign_words(texts: list[str], allowed: set[str]) -> list[str]:
    bad = []
    for text in texts:
        for word in WORD.findall(GLOSSED.sub(" ", MATHTEXT.sub(" ", text))):
            if len(word) == 1 or (word in allowed and sum(c.isupper() for c in word) >= 2):
                continue
            bad.append(f"{word!r} in {text!r}")
    return bad


def test_foreign_words_allows_korean_symbols_and_the_texts_abbreviations():
    allowed = {"BN", "ReLU", "weight"}
    assert foreign_words(["BN 통계의 잡음 $g$", "ReLU 뒤", "기울기 $\\|W\\|_F$", "g = 128",
                          "항등\n(identity)"], allowed) == []
    assert foreign_words(["weight", "Batch Norm", "LN 층", "(a) original", "BN (after)"], allowed) == [
        "'weight' in 'weight'", "'Batch' in 'Batch Norm'", "'Norm' in 'Batch Norm'", "'LN' in 'LN 층'",
        "'original' in '(a) original'", "'after' in 'BN (after)'"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_figure_labels_are_korean(path, tmp_path):
    texts = figure_texts(path, tmp_path)
    assert texts, "no figure text was collected"
    allowed = prose_words(nbformat.read(path, as_version=4))
    problems = [f"cell {index}: {word}" for index, found in sorted(texts.items())
                for word in foreign_words(found, allowed)]
    assert problems == [], f"English words on {path.stem}'s figures:\n  " + "\n  ".join(problems)
