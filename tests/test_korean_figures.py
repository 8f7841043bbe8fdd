"""Figures with Korean labels render with no missing glyph.

Every Hangul character that a notebook's code can put on a figure is drawn with the
book's matplotlib set-up (koreanize-matplotlib); matplotlib warns "Glyph ... missing"
for any it cannot draw, and pytest is configured to turn warnings into errors.
"""
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
HANGUL = re.compile("[\uac00-\ud7a3\u3130-\u318f]")


def hangul_in_code():
    chars = set()
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                chars.update(HANGUL.findall(cell.source))
    return "".join(sorted(chars))


def render_text(text):
    fig, ax = plt.subplots()
    ax.set_title(text[:40])
    for i in range(0, len(text), 40):
        ax.text(0, i / max(len(text), 1), text[i : i + 40])
    ax.set_xlabel("축 이름 -1")
    ax.plot([-1, 1], [-1, 1])  # negative tick labels use the ASCII minus
    fig.canvas.draw()
    plt.close(fig)


def test_notebook_figures_use_korean():
    assert len(hangul_in_code()) > 0


def test_korean_font_draws_every_hangul_used_in_notebooks():
    with warnings.catch_warnings():
        # koreanize-matplotlib 0.1.1 still imports distutils' Version (deprecated);
        # that says nothing about glyphs.
        warnings.simplefilter("ignore", DeprecationWarning)
        import koreanize_matplotlib  # noqa: F401  (the notebooks' own set-up)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        render_text(hangul_in_code())


def test_missing_glyphs_would_be_caught():
    """Without the Korean font, the same drawing warns: the check above can fail."""
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            render_text("한글")
    assert any("missing" in str(w.message).lower() for w in caught)
