"""The PDF edition (./build.sh --pdf, which ./test.sh runs) is complete and typeset in Korean.

Checks the built _build/pdf/book.pdf with poppler's tools and the LaTeX log and aux
files: no undefined reference, every chapter and figure present, the Korean fonts
embedded, no glyph missing, solutions collected away from their exercises, and
equation numbers that match the HTML edition's.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "pdf" / "book.pdf"
LATEX = ROOT / "_build" / "latex"
HTML = ROOT / "_build" / "html"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

if not PDF.is_file():
    pytest.fail("the PDF is not built: run ./build.sh --pdf first", pytrace=False)


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def text() -> str:
    return run("pdftotext", "-layout", str(PDF), "-")


def test_no_undefined_reference_in_the_log():
    log = (LATEX / "book.log").read_text(errors="replace")
    undefined = re.findall(r"LaTeX Warning: (?:Reference|Citation|Hyper reference) .*? undefined", log)
    assert undefined == []
    assert "There were undefined references" not in log


def test_no_question_marks_standing_for_references(text):
    assert "??" not in text


def test_no_missing_glyph_in_the_log():
    log = (LATEX / "book.log").read_text(errors="replace")
    assert re.findall(r"Missing character: .*", log) == []


def chapter_title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    first = next(c.source for c in nb.cells if c.cell_type == "markdown")
    return re.match(r"#\s+(.+)", first).group(1).strip()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_title_is_in_the_pdf(text, path):
    # Titles may wrap across lines in the PDF: compare with whitespace removed.
    title = re.sub(r"\s+", "", chapter_title(path))
    assert title in re.sub(r"\s+", "", text), f"chapter {chapter_title(path)!r} not found"


def test_every_figure_is_in_the_pdf():
    figures = sum(
        "image/png" in out.get("data", {})
        for path in NOTEBOOKS
        for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"
        for out in cell.outputs
    )
    listed = run("pdfimages", "-list", str(PDF)).splitlines()[2:]
    images = [line for line in listed if line.split()[2] == "image"]
    assert figures > 0
    assert len(images) >= figures, f"{figures} figures in the notebooks, {len(images)} images in the PDF"


def test_korean_fonts_are_embedded():
    fonts = run("pdffonts", str(PDF)).splitlines()[2:]
    nanum = [line for line in fonts if "Nanum" in line]
    assert nanum, "no Nanum font in the PDF"
    # columns: name type encoding emb sub uni object ID
    assert all(line.split()[-5] == "yes" for line in nanum), nanum


def test_solutions_are_collected_after_the_exercises(text):
    """Every chapter's solutions follow a '풀이 (Solutions)' heading, after its last exercise."""
    flat = re.sub(r"\s+", "", text)
    assert flat.count("풀이(Solutions)") >= len(NOTEBOOKS) - 1
    for path in NOTEBOOKS:
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        if "{solution}" not in source:
            continue
        title = re.sub(r"\s+", "", chapter_title(path))
        start = flat.index(title)
        solutions = flat.index("풀이(Solutions)", start)
        # Between the chapter title and its solutions heading no "Solution to" appears.
        # sphinx-exercise titles a solution "해답 연습 N.M" (Korean) or "Solution to ...".
    assert "해답연습" not in flat[start:solutions] and "Solutionto" not in flat[start:solutions], \
        f"{path.stem}: a solution sits beside its exercise"


def html_equation_numbers() -> dict[tuple[str, str], str]:
    """{(docname, label): '(4.1)'} from the built HTML pages."""
    numbers = {}
    for path in NOTEBOOKS:
        page = (HTML / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        for label, number in re.findall(
            r'id="equation-([^"]+)"[^>]*>\s*<span class="eqno">\(([^)]+)\)', page
        ):
            numbers[(f"notebooks/{path.stem}", label)] = number
    return numbers


def latex_equation_numbers() -> dict[tuple[str, str], str]:
    """{(docname, label): '4.1'} from the LaTeX aux file."""
    aux = (LATEX / "book.aux").read_text(errors="replace")
    numbers = {}
    for docname, label, number in re.findall(
        r"\\newlabel\{equation:([^:}]+/[^:}]+):([^}]+)\}\{\{([^}]*)\}", aux
    ):
        numbers[(docname, label)] = number
    return numbers


def test_equation_numbers_match_the_html():
    html, latex = html_equation_numbers(), latex_equation_numbers()
    assert len(html) >= 10, f"only {len(html)} numbered equations found in the HTML"
    common = sorted(set(html) & set(latex))
    assert len(common) == len(html), f"labels missing from the PDF: {sorted(set(html) - set(latex))[:5]}"
    mismatched = [(key, html[key], latex[key]) for key in common if html[key] != latex[key]]
    assert mismatched == []


def test_site_offers_the_pdf_for_download():
    intro = (HTML / "book" / "intro.html").read_text(encoding="utf-8")
    assert 'href="../book.pdf"' in intro
    assert (HTML / "book.pdf").read_bytes() == PDF.read_bytes()
