"""Sections rendered only near the viewport keep the page's layout (_ext/static/lean-pages.css).

The chapter sections and their subsections carry ``content-visibility: auto``, which
brings layout containment: a section's first and last children no longer share their
margins with what lies outside it.  The stylesheet drops the margins that used to
collapse, so that nothing moves.  This test lays each chapter page out twice, at a
desktop and a phone width, everything rendered both times:

* as the book was without those rules (lean-pages.css served without them), and
* as shipped, with each lazy section contained as it is once on screen;

and asserts that every element of the chapter's text except the sections themselves
(and the empty label targets at their tops) is where it was, with the size it had.
Below the text, the last paragraph's bottom margin (at most 25 px) no longer adds to
the space before the page footer; the footer is left out of the comparison for that.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import booksite

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHEET = (ROOT / "_ext" / "static" / "lean-pages.css").read_text(encoding="utf-8")
PAGES = [p for p in booksite.site_pages(HTML) if p.startswith("notebooks/")]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# Every chapter at desktop width; the longest one on a phone too (the margins involved
# are in rem and do not change with the width; measured on all six at both widths).
CASES = [(p, "desktop") for p in PAGES] + [("notebooks/attention_permutation.html", "phone")]
TOLERANCE = 0.5  # px
LEAN_PAGES_URL = re.compile(r"/_static/lean-pages\.css(\?.*)?$")  # Sphinx adds ?v=<hash>


def rules(css: str) -> list[tuple[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [(m.group(1).strip(), m.group(2)) for m in re.finditer(r"([^{}]+)\{([^{}]*)\}", css)]


def is_lazy_rule(selector: str) -> bool:
    # one selector per line (a comma inside :is() does not separate selectors)
    return all(part.strip().startswith(".bd-article > section") for part in re.split(r",\s*\n", selector))


LAZY_SELECTORS = [s for s, body in rules(SHEET) if "content-visibility" in body and is_lazy_rule(s)]
WITHOUT_LAZY = "\n".join(f"{s} {{{b}}}" for s, b in rules(SHEET) if not is_lazy_rule(s))
ONLY_CONTAINMENT = "\n".join(f"{s} {{{b}}}" for s, b in rules(SHEET)
                             if not is_lazy_rule(s) or "content-visibility" in b)
# Render every section, each lazy one contained as content-visibility: auto contains it on screen.
RENDER = "* { content-visibility: visible !important; }"
RENDER_CONTAINED = RENDER + "\n" + ",\n".join(LAZY_SELECTORS) + " { contain: layout style paint; }"

_BOXES = r"""
() => [...document.querySelectorAll('article.bd-article *')]
  .filter((el) => el.tagName !== 'SECTION' && !(el.tagName === 'SPAN' && el.id && !el.childNodes.length))
  .map((el) => {
    const r = el.getBoundingClientRect();
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.closest('section[id]') ? ' in #' + el.closest('section[id]').id : '');
    return [name, r.left, r.top + scrollY, r.width, r.height];
  })
"""


def boxes(b, url: str, page: str, viewport: dict, sheet: str | None) -> list:
    """The boxes of the page as built (sheet None, the lazy sections contained), or
    with lean-pages.css replaced by ``sheet`` and no containment."""
    context = b.new_context(viewport=viewport, service_workers="block")
    pg = context.new_page()
    served = []
    if sheet is not None:
        def replace(route):
            served.append(route.request.url)
            route.fulfill(status=200, content_type="text/css", body=sheet)
        pg.route(LEAN_PAGES_URL, replace)
    pg.goto(url + page, wait_until="load")
    pg.evaluate(booksite._AFTER_LOAD)
    assert sheet is None or served, f"{page}: lean-pages.css was not requested, so not replaced"
    pg.add_style_tag(content=RENDER if sheet is not None else RENDER_CONTAINED)
    pg.evaluate(booksite._AFTER_LOAD)
    try:
        return pg.evaluate(_BOXES)
    finally:
        context.close()


def moved(before: list, after: list) -> list[str]:
    assert len(before) == len(after), "the two layouts hold different elements"
    out = []
    for a, b in zip(before, after):
        if any(abs(x - y) > TOLERANCE for x, y in zip(a[1:], b[1:])):
            out.append(f"{a[0]}: (x, y, w, h) {[round(v, 1) for v in a[1:]]} -> {[round(v, 1) for v in b[1:]]}")
    return out


@pytest.fixture(scope="module")
def layouts():
    out = {}
    with booksite.serve(HTML) as url, booksite.browser() as b:
        for page, name in CASES:
            viewport = VIEWPORTS[name]
            out[page, name] = (boxes(b, url, page, viewport, WITHOUT_LAZY),
                               boxes(b, url, page, viewport, None))
        page = "notebooks/attention_permutation.html"
        out["control"] = boxes(b, url, page, VIEWPORTS["desktop"], ONLY_CONTAINMENT + "\n" + RENDER_CONTAINED)
    return out


def test_the_stylesheet_has_lazy_sections_down_to_subsections():
    assert ".bd-article > section > section" in LAZY_SELECTORS
    assert ".bd-article > section > section > section" in LAZY_SELECTORS


@pytest.mark.parametrize("page, viewport", CASES)
def test_lazy_sections_move_nothing(layouts, page, viewport):
    before, after = layouts[page, viewport]
    assert len(before) > 1000, "the page was not laid out"
    wrong = moved(before, after)
    assert not wrong, f"{len(wrong)} elements moved or changed size, first: " + "\n".join(wrong[:10])


def test_the_check_sees_margins_that_no_longer_collapse(layouts):
    """Containment without the margin rules moves headings: the comparison sees it."""
    before, _ = layouts["notebooks/attention_permutation.html", "desktop"]
    assert len(moved(before, layouts["control"])) > 100
