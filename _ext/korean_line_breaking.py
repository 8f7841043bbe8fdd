"""Korean line breaking on every page: break between words, never inside one.

Browsers break Hangul between any two syllables ("소프 / 트맥스"); Korean
typesetting breaks only at the spaces between 어절.  ``static/korean-line-breaking.css``
sets ``word-break: keep-all`` (with ``overflow-wrap`` for long code and URLs) on the
whole page, and lets display math scroll sideways on a phone.  MathJax 3 never breaks
inline math, so ``static/wide-inline-math.js`` marks an inline expression wider than
its line, and the CSS lets just that one scroll within the line.

The stylesheet is copied into ``_static`` when the build ends, like the font CSS of
``offline_assets``; the script is inline in each page (a few hundred bytes).
tests/test_line_breaking.py checks the result in Chromium on every page.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx

HERE = Path(__file__).parent / "static"
CSS = "korean-line-breaking.css"


def copy_css(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        dest = Path(app.outdir) / "_static" / CSS
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / CSS, dest)


def setup(app: Sphinx) -> dict:
    app.add_css_file(CSS)
    app.add_js_file(None, body=(HERE / "wide-inline-math.js").read_text(encoding="utf-8"))
    app.connect("build-finished", copy_css)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
