"""The shorter math and code markup draws what the longer one drew.

_ext/compact_math.py renames MathJax's elements and classes (formulas and stylesheet
together) and serves its fonts as WOFF2 subsets; _ext/lean_code.py unwraps code-token
spans that set no colour of their own.  Here both versions are drawn in Chromium:

* math: every formula of the book's notebooks, typeset by the same MathJax process,
  as MathJax wrote it (its WOFF fonts from node_modules) and as the book ships it (the
  site's WOFF2 fonts, each subset to what the site draws in it, and a stylesheet without
  the rules of fonts these formulas never use): the screenshots must be identical to the
  pixel, at two widths.  A glyph missing from a subset is drawn by a fallback font and
  fails it.
  The comparison itself is checked: the compact formulas with MathJax's own stylesheet
  must differ.
* code: every code cell of two chapters, highlighted as Sphinx does, with and without
  the no-op spans, on the site's stylesheets in the light and the dark theme: every
  character in the same colour and within 0.5 px of its place.  (Each inline box
  rounds its start to 1/64 px, so joining runs of text moves a glyph by up to 0.4 px
  at the end of a long line, measured; screenshots then differ in anti-aliasing only,
  so positions and colours are compared instead.)  Without the ``pre.bare`` rule the
  colours differ.
"""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(Path(__file__).parent))

import booksite  # noqa: E402
from compact_math import compact_formula, compact_stylesheet, prune_stylesheet  # noqa: E402
import prerender_math  # noqa: E402
import lean_code  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")


def book_formulas() -> list[tuple[str, bool]]:
    found = []
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            text = re.sub(r"```.*?```", "", cell.source, flags=re.S)
            text = re.sub(r"`[^`]*`", "", text)
            found += [(m.group(1).strip(), True) for m in _DISPLAY.finditer(text)]
            found += [(m.group(1).strip(), False) for m in _INLINE.finditer(_DISPLAY.sub("", text))]
    return list(dict.fromkeys(f for f in found if "ref{" not in f[0] and "\\label" not in f[0]))


def mathjax_config() -> dict:
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    chtml = dict(sphinx.get("prerender_math_chtml") or {})
    chtml["fontURL"] = prerender_math.FONT_URL_MARK
    return {"packages": prerender_math.PACKAGES, "tex": dict(sphinx.get("prerender_math_tex") or {}),
            "chtml": chtml, "metrics": dict(sphinx.get("prerender_math_metrics") or {}),
            "cjkCharWidth": prerender_math.korean_char_width()}


@pytest.fixture(scope="module")
def typeset():
    """Each formula as MathJax writes it and as the book ships it, with both stylesheets."""
    if not (HTML / prerender_math.FONTS_DIR).is_dir():
        pytest.fail("build the book first (./build.sh): the site's math fonts are compared")
    mj = prerender_math.MathJax(mathjax_config())
    raw, compact = [], []
    try:
        style = mj.container_style()
        for tex, display in book_formulas():
            answer = mj.ask({"tex": tex, "display": display})
            if "error" in answer:
                continue
            out = prerender_math._EMPTY_STYLE.sub("", answer["html"])
            if "<mjx-utext" in out:
                out = prerender_math._TABLE_MIN_WIDTH.sub(
                    r"\1", prerender_math._UTEXT_WIDTH.sub(r"\1", out))
            raw.append(out)
            compact.append(compact_formula(out, style))
        css = prerender_math.minify_css(mj.ask({"css": True})["css"])
    finally:
        mj.close()
    return raw, compact, css, compact_stylesheet(css, style)


def page(formulas: list[str], css: str) -> str:
    # The formulas flow in rows, each in its own box (a display formula as wide as itself), so that
    # the screenshots hold few empty pixels: a fifth of the area of one formula per line.
    body = "\n".join(f"<div>{f}</div>" for f in formulas)
    return ('<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">'
            f"<style>{css}</style><style>body{{margin:8px;font:16px/1.5 serif;display:flex;flex-wrap:wrap;"
            f"align-items:baseline;gap:4px 24px}}</style>"
            f"</head><body>{body}</body></html>")


WIDTHS = (1280, 390)


def screenshots(b, path: Path):
    """Full-page screenshots of the page at each of WIDTHS (loaded once, then resized), and the
    families of the fonts that failed to load."""
    from PIL import Image

    context = b.new_context(viewport={"width": WIDTHS[0], "height": 800})
    tab = context.new_page()
    tab.goto(path.as_uri(), wait_until="load")
    shots = []
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": 800})
        tab.evaluate("document.fonts.ready.then(() => document.fonts.size)")
        shots.append(Image.open(io.BytesIO(tab.screenshot(full_page=True))).convert("RGB"))
    failed = tab.evaluate("[...document.fonts].filter(f => f.status === 'error').map(f => f.family)")
    context.close()
    return shots, failed


def test_compact_math_draws_the_same_pixels(typeset, tmp_path):
    from PIL import ImageChops

    raw, compact, css, compact_css = typeset
    assert len(raw) > 500, f"only {len(raw)} formulas found in the notebooks"
    # MathJax's own fonts (WOFF, whole) for its markup; the site's WOFF2 subsets for ours.
    mathjax_fonts = prerender_math.mathjax_fonts()
    site_fonts = HTML / prerender_math.FONTS_DIR
    before = css.replace(prerender_math.FONT_URL_MARK, mathjax_fonts.as_uri())
    # As a page gets it: without the font rules of fonts its formulas do not use.
    compact_css = prune_stylesheet(compact_css, "".join(compact))
    after = prerender_math.as_woff2(compact_css.replace(prerender_math.FONT_URL_MARK, site_fonts.as_uri()))
    assert ".woff2" in after and "mjx-c1D" not in after and ".jc1D" in after
    (tmp_path / "before.html").write_text(page(raw, before), encoding="utf-8")
    (tmp_path / "after.html").write_text(page(compact, after), encoding="utf-8")
    (tmp_path / "mixed.html").write_text(page(compact, before), encoding="utf-8")
    saved = sum(map(len, raw)) - sum(map(len, compact))
    assert saved > 0.15 * sum(map(len, raw)), saved
    with booksite.browser() as b:
        xs, fx = screenshots(b, tmp_path / "before.html")
        ys, fy = screenshots(b, tmp_path / "after.html")
        zs, _ = screenshots(b, tmp_path / "mixed.html")
    assert not fx and not fy, f"fonts that failed to load: {fx + fy}"
    for width, x, y, z in zip(WIDTHS, xs, ys, zs):
        assert x.size == y.size, (width, x.size, y.size)
        box = ImageChops.difference(x, y).getbbox()
        assert box is None, f"at {width} px the compact math differs from MathJax's in {box}"
        # The comparison can fail: our markup under MathJax's stylesheet is drawn wrong.
        assert x.size != z.size or ImageChops.difference(x, z).getbbox() is not None
    # The two widths lay the formulas out differently (a phone's rows hold fewer of them).
    assert xs[0].size != xs[1].size


# Per code block: its visible characters, the position of each (1/100 px) and the colour
# it is drawn in, as flat arrays (read with booksite.evaluate_json: the arrays as Playwright
# objects took 2 s a page to cross, the JSON string 0.4 s).
CODE_PROBE = r"""
() => [...document.querySelectorAll('pre')].map(pre => {
  const chars = [], xs = [], ys = [], colours = [], palette = [];
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const colour = getComputedStyle(node.parentElement).color;
    let k = palette.indexOf(colour);
    if (k < 0) { k = palette.length; palette.push(colour); }
    for (let i = 0; i < node.length; i++) {
      if (/\s/.test(node.data[i])) continue;
      range.setStart(node, i); range.setEnd(node, i + 1);
      const r = range.getBoundingClientRect();
      chars.push(node.data[i]); xs.push(Math.round(r.x * 100)); ys.push(Math.round(r.y * 100)); colours.push(k);
    }
  }
  return {chars: chars.join(''), xs, ys, colours, palette};
})
"""


def characters(block: dict) -> list[tuple[str, int, int, str]]:
    """[(char, x, y, colour)] of one block as CODE_PROBE reports it."""
    return [(c, x, y, block["palette"][k])
            for c, x, y, k in zip(block["chars"], block["xs"], block["ys"], block["colours"])]



def highlighted_cells() -> list[str]:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name  # ipython3: IPython's lexer, as Sphinx uses

    lexer = get_lexer_by_name("ipython3")
    blocks = []
    for path in NOTEBOOKS[:2]:  # two chapters: every kind of token, in a few seconds
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                blocks.append(highlight(cell.source, lexer, HtmlFormatter(wrapcode=False)))
    return blocks


def code_page(blocks: list[str], theme: str, extra_css: str = "") -> str:
    sheets = ["styles/pydata-sphinx-theme.css", "pygments.css", "lean-pages.css"]
    links = "".join(f'<link rel="stylesheet" href="{(HTML / "_static" / s).as_uri()}">' for s in sheets)
    body = "".join(f'<div class="highlight-ipython3 notranslate">{b}</div>' for b in blocks)
    return (f'<!DOCTYPE html><html data-theme="{theme}"><head><meta charset="utf-8">{links}'
            f"<style>{extra_css}</style></head><body>{body}</body></html>")


def test_unwrapped_code_puts_every_character_in_the_same_place_and_colour(tmp_path):
    plain = lean_code.plain_token_classes((HTML / "_static" / "pygments.css").read_text(encoding="utf-8"))
    assert {"n", "p"} <= plain and "k" not in plain and "o" not in plain, plain
    raw = highlighted_cells()
    bare = [lean_code.unwrap(b, plain) for b in raw]
    assert sum(map(len, bare)) < 0.75 * sum(map(len, raw))
    assert sum('<pre class="bare">' in b for b in bare) > 0.9 * len(bare)
    with booksite.browser() as b:
        context = b.new_context(viewport={"width": 1280, "height": 800})
        tab = context.new_page()

        def probe(name: str, html: str):
            path = tmp_path / name
            path.write_text(html, encoding="utf-8")
            tab.goto(path.as_uri(), wait_until="load")
            return [characters(block) for block in booksite.evaluate_json(tab, CODE_PROBE)]

        for theme in ("light", "dark"):
            before = probe(f"before-{theme}.html", code_page(raw, theme))
            after = probe(f"after-{theme}.html", code_page(bare, theme))
            assert sum(map(len, before)) > 5_000
            assert [len(blk) for blk in before] == [len(blk) for blk in after]
            for blk_before, blk_after in zip(before, after):
                for (c, x, y, colour), (c2, x2, y2, colour2) in zip(blk_before, blk_after):
                    assert (c, colour) == (c2, colour2), f"{theme}: {c!r} drawn {colour2} instead of {colour}"
                    assert abs(x - x2) <= 50 and abs(y - y2) <= 50, f"{theme}: {c!r} moved by > 0.5 px"
            # Without the pre.bare rule the unwrapped names take the body text's colour.
            broken = probe(f"broken-{theme}.html",
                           code_page(bare, theme, "html .highlight pre.bare{color:var(--pst-color-text-base)}"))
            colours = lambda blocks: [c[3] for blk in blocks for c in blk]  # noqa: E731
            assert colours(broken) != colours(before)
        context.close()
