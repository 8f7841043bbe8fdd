"""Figures before plotting code: a cell that only draws shows its figure, not its code.

CONTRIBUTING.md section 1: a code cell that draws a figure and defines no function
carries the cell tag ``hide-input``; myst-nb then puts its code behind a "코드 보기"
toggle (a ``<details>`` element above the output) and shows the figure.  A cell that
defines a function is the mathematics of the chapter and stays visible: it must not
carry the tag, unless every function it defines only draws (a drawing helper).  The downloaded notebook is the notebook itself (tags hide
nothing in Jupyter).

What counts as drawing: the cell has an image among its outputs, or its code calls
matplotlib: ``plt.<anything>(...)``, or a drawing method (``plot``, ``imshow``,
``set_xlabel``, ``subplots``, ...) of any object.  What counts as defining a function:
a ``def`` or ``class`` statement anywhere in the cell.

The page check reads the built chapter (./build.sh, or BOOK_HTML=<site>): each such
cell's code is inside a closed ``<details>`` and its figure is outside it.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
HIDE = "hide-input"
SHOW_PROMPT = "코드 보기"  # nb_code_prompt_show in _config.yml
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")
# Methods of matplotlib figures and axes that draw or lay out a figure.
DRAWING_METHODS = {
    "plot", "semilogx", "semilogy", "loglog", "scatter", "bar", "barh", "hist", "imshow", "matshow",
    "pcolormesh", "contour", "contourf", "fill_between", "errorbar", "boxplot", "violinplot", "step",
    "axhline", "axvline", "axhspan", "axvspan", "annotate", "text", "arrow", "add_patch", "quiver",
    "set_xlabel", "set_ylabel", "set_title", "set_xscale", "set_yscale", "set_xlim", "set_ylim",
    "set_xticks", "set_yticks", "legend", "colorbar", "subplots", "add_subplot", "suptitle",
    "tight_layout", "savefig", "show",
}


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def has_image(cell) -> bool:
    return any(
        any(t in out.get("data", {}) for t in IMAGE_TYPES) for out in cell.get("outputs", [])
    )


def calls_matplotlib(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id == "plt":
            return True
        if node.func.attr in DRAWING_METHODS:
            return True
    return False


DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def defines_function(tree: ast.AST) -> bool:
    return any(isinstance(n, DEFINITIONS) for n in ast.walk(tree))


def defines_mathematics(tree: ast.AST) -> bool:
    """A function or class that does not draw: the chapter's mathematics.

    A drawing helper (a function whose body calls matplotlib) is not; a cell that
    defines only such helpers may hide its input, though the rule does not ask it to.
    """
    return any(isinstance(n, DEFINITIONS) and not calls_matplotlib(n) for n in ast.walk(tree))


def parse(cell) -> ast.AST:
    # IPython magics (%matplotlib, !pip) are not Python; the book has none, but a
    # cell that had one would still be read.
    lines = [line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


def draws(cell) -> bool:
    return has_image(cell) or calls_matplotlib(parse(cell))


def plotting_cells(nb) -> list[tuple[int, object]]:
    """(index, cell) of the code cells that draw a figure and define no function."""
    return [
        (i, c) for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "remove-cell" not in tags(c) and draws(c) and not defines_function(parse(c))
    ]


def describe(path: Path, index: int, cell) -> str:
    first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
    return f"{path.stem} cell {index} (id {cell.get('id', '?')}): {first.strip()[:60]}"


def untagged_plotting_cells(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [describe(path, i, c) for i, c in plotting_cells(nb) if HIDE not in tags(c)]


def hidden_mathematics(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [
        describe(path, i, c) for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and HIDE in tags(c) and defines_mathematics(parse(c))
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_that_only_draws_hides_its_input(path):
    missing = untagged_plotting_cells(path)
    assert not missing, (
        f"{len(missing)} cells draw a figure and define no function but lack the tag {HIDE!r}:\n  "
        + "\n  ".join(missing)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_that_defines_the_mathematics_hides_its_input(path):
    hidden = hidden_mathematics(path)
    assert not hidden, f"cells that define the chapter's functions must stay visible:\n  " + "\n  ".join(hidden)


def test_the_rule_tells_drawing_from_mathematics():
    from nbformat.v4 import new_code_cell, new_output

    figure = new_code_cell("fig, ax = plt.subplots()\nax.plot(x, y)\nax.set_xlabel('입력 $x$')")
    stored = new_code_cell("show_grid(values)",
                           outputs=[new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})])
    helper = new_code_cell("def draw(ax, x):\n    ax.plot(x, x**2)\n    return ax")
    maths = new_code_cell("grad = (f(x + h) - f(x - h)) / (2 * h)\nprint(grad)")
    assert [draws(c) for c in (figure, stored, helper, maths)] == [True, True, True, False]
    nb = nbformat.v4.new_notebook(cells=[figure, stored, helper, maths])
    assert [i for i, _ in plotting_cells(nb)] == [0, 1]
    formula = new_code_cell("def softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum()\n"
                            "plt.plot(softmax(np.arange(3.0)))")
    assert [defines_mathematics(parse(c)) for c in (helper, formula)] == [False, True]


def test_the_book_has_plotting_cells_to_check():
    """Guards the tests above: a detector that found nothing would pass them."""
    found = sum(len(plotting_cells(nbformat.read(p, as_version=4))) for p in NOTEBOOKS)
    assert found >= len(NOTEBOOKS)


# --------------------------------------------------------------------------- the built page


def chapter_cells(path: Path) -> list[tuple[int, object, object]]:
    """(notebook index, notebook cell, page element) for every code cell on the page.

    myst-nb writes each code cell it keeps as ``div.cell``, in notebook order; a cell
    tagged remove-cell is not written.
    """
    page = HTML / "notebooks" / f"{path.stem}.html"
    if not page.is_file():
        pytest.fail(f"{page} is not built: run ./build.sh (or set BOOK_HTML)", pytrace=False)
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    divs = soup.select("div.cell")
    nb = nbformat.read(path, as_version=4)
    kept = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and "remove-cell" not in tags(c)]
    assert len(divs) == len(kept), f"{page.name}: {len(divs)} cells on the page, {len(kept)} in the notebook"
    return [(i, c, div) for (i, c), div in zip(kept, divs)]


def page_problems(path: Path) -> list[str]:
    problems = []
    for i, cell, div in chapter_cells(path):
        if HIDE not in tags(cell):
            continue
        where = describe(path, i, cell)
        details = div.find("details", recursive=False)
        if details is None or "above-input" not in details.get("class", []):
            problems.append(f"{where}: no toggle above the input")
            continue
        if details.has_attr("open"):
            problems.append(f"{where}: the toggle is open")
        if details.select_one("div.cell_input") is None:
            problems.append(f"{where}: the code is not inside the toggle")
        if SHOW_PROMPT not in details.summary.get_text():
            problems.append(f"{where}: the toggle does not say {SHOW_PROMPT!r}: {details.summary.get_text()!r}")
        output = div.find("div", class_="cell_output", recursive=False)
        if has_image(cell) and (output is None or output.find("img") is None):
            problems.append(f"{where}: the figure is not shown outside the toggle")
        if div.select_one("div.cell_input") and div.select_one("div.cell_input").find_parent("details") is None:
            problems.append(f"{where}: code outside the toggle")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_on_the_page_plotting_code_is_behind_a_closed_toggle_and_the_figure_shows(path):
    cells = chapter_cells(path)
    tagged = [(i, c) for i, c, _ in cells if HIDE in tags(c)]
    untagged = untagged_plotting_cells(path)
    assert not untagged, f"not tagged yet (see the notebook test): {untagged}"
    assert tagged, "no hidden cell on this chapter's page"
    assert page_problems(path) == []
