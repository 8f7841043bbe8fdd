"""Figures speak one language: every word drawn on a figure is Korean, a symbol, or an
abbreviation that the chapter's text uses (CONTRIBUTING.md section 2).

The words are read from the figures themselves, not guessed from the code: while
each notebook runs (chapter_runs.py: nbval's run under ./test.sh, which
test_figures_reproducible.py also checks), collect_figure_text.py records the text of every visible ``Text`` artist of
each figure at the moment it is drawn for the cell's output (titles, axis labels, tick
labels, legends, annotations, text boxes).  A label built from variables or by a
drawing helper is read as it is drawn.

Allowed in a label, outside ``$...$`` (mathtext, the text's symbols):
Hangul, digits and punctuation; single letters (symbols such as ``g``); words of
two or more capitals (BN, ReLU, ImageNet, ResNet) that the chapter's own prose also
writes; and English in parentheses right after Korean, ``항등 (identity)``, the form
in which the text introduces a term.  Anything else ("weight", "identity", "Batch Norm") fails, naming the
notebook, the cell and the word.  Run alone, without nbval, it executes every chapter
itself (once for both files): ``-k "labels or reproduces"``.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import chapter_runs
import test_glossary

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MATHTEXT = re.compile(r"(?<!\\)\$.*?(?<!\\)\$")
# ``한국어 (English)``: the English term given after its Korean, as the text introduces it.
GLOSSED = re.compile(r"(?<=[\uac00-\ud7a3])\s*\((?P<en>[^()\uac00-\ud7a3]*)\)")
WORD = re.compile(r"[A-Za-z]+(?:[-'][A-Za-z]+)*")


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
def test_figure_labels_are_korean(path, tmp_path_factory):
    run = chapter_runs.run_of(path, tmp_path_factory)
    # Every figure in the outputs was read, in the cell that shows it.
    shown = {index: sum("image/png" in out.get("data", {}) for out in cell.outputs)
             for index, cell in enumerate(run.notebook.cells) if cell.cell_type == "code"}
    read = {index: len(figures) for index, figures in run.figures.items()}
    assert read == {index: n for index, n in shown.items() if n}, "figures shown and figures read differ"
    texts = {index: [t for figure in figures for t in figure] for index, figures in run.figures.items()}
    assert any(texts.values()), "no figure text was collected"
    allowed = prose_words(nbformat.read(path, as_version=4))
    problems = [f"cell {index}: {word}" for index, found in sorted(texts.items())
                for word in foreign_words(found, allowed)]
    assert problems == [], f"English words on {path.stem}'s figures:\n  " + "\n  ".join(problems)
