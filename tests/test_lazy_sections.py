"""Sections rendered only near the viewport keep the page's layout (_ext/static/lean-pages.css).

The chapter sections and their subsections carry ``content-visibility: auto``, which
brings layout containment: a section's first and last children no longer share their
margins with what lies outside it.  The stylesheet drops the margins that used to
collapse, so that nothing moves.  This test lays each chapter page out twice, at a
desktop and a phone width, everything rendered both times, in one load of the page:

* as the book was without those rules (lean-pages.css switched off and a copy of it
  without them put in its place in the cascade), and
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

# The page is loaded once per case and laid out in each variant in turn: lean-pages.css's
# <link> is switched off and a <style> right after it (same place in the cascade) holds
# the variant's rules; a last <style> renders every section.  The boxes stay in the page
# (window.__layouts) and are compared there; only the moved elements come back.
_LAYOUT = r"""
([key, sheet, render]) => {
  const links = [...document.querySelectorAll('link[rel=stylesheet]')]
    .filter((l) => /\/_static\/lean-pages\.css(\?.*)?$/.test(l.href));
  if (links.length !== 1) return {error: `${links.length} links to lean-pages.css`};
  const link = links[0];
  let swap = document.getElementById('lazy-test-sheet');
  if (!swap) { swap = document.createElement('style'); swap.id = 'lazy-test-sheet'; link.after(swap); }
  let all = document.getElementById('lazy-test-render');
  if (!all) { all = document.createElement('style'); all.id = 'lazy-test-render'; document.head.append(all); }
  link.sheet.disabled = sheet !== null;  // the sheet itself: at once, with no new request
  swap.textContent = sheet === null ? '' : sheet;
  all.textContent = render;
  const section = document.querySelector('.bd-article > section > section');
  const els = [...document.querySelectorAll('article.bd-article *')]
    .filter((el) => el.tagName !== 'SECTION' && !(el.tagName === 'SPAN' && el.id && !el.childNodes.length));
  const boxes = new Float64Array(els.length * 4);
  els.forEach((el, i) => {
    const r = el.getBoundingClientRect();
    boxes.set([r.left, r.top + scrollY, r.width, r.height], 4 * i);
  });
  (window.__layouts = window.__layouts || {})[key] = {els, boxes};
  return {elements: els.length, intrinsicSize: getComputedStyle(section).containIntrinsicSize};
}
"""

_MOVED = r"""
([a, b, tolerance]) => {
  const x = window.__layouts[a], y = window.__layouts[b];
  if (x.els.length !== y.els.length || x.els.some((el, i) => el !== y.els[i])) return {error: 'different elements'};
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.closest('section[id]') ? ' in #' + el.closest('section[id]').id : '');
  const round = (v) => Math.round(v * 10) / 10;
  const moved = [];
  for (let i = 0; i < x.els.length; i++) {
    const p = x.boxes.subarray(4 * i, 4 * i + 4), q = y.boxes.subarray(4 * i, 4 * i + 4);
    if (p.some((v, k) => Math.abs(v - q[k]) > tolerance)) {
      moved.push(`${name(x.els[i])}: (x, y, w, h) [${[...p].map(round)}] -> [${[...q].map(round)}]`);
    }
  }
  return {moved};
}
"""


def layouts_of(b, url: str, page: str, viewport: dict, variants: dict) -> dict:
    """Open ``page`` once and lay it out in each variant {key: (sheet, render)}, where
    sheet replaces lean-pages.css (None: the shipped file).  Returns {key: facts}."""
    context = b.new_context(viewport=viewport, service_workers="block")
    pg = context.new_page()
    pg.goto(url + page, wait_until="load")
    pg.evaluate(booksite._AFTER_LOAD)
    facts = {}
    for key, (sheet, render) in variants.items():
        facts[key] = pg.evaluate(_LAYOUT, [key, sheet, render])
        assert "error" not in facts[key], f"{page}: {facts[key]['error']}"
        pg.evaluate(booksite._AFTER_LOAD)
    return context, pg, facts


def moved(pg, a: str, b: str) -> list[str]:
    result = pg.evaluate(_MOVED, [a, b, TOLERANCE])
    assert "error" not in result, result["error"]
    return result["moved"]


@pytest.fixture(scope="module")
def layouts():
    """{(page, viewport): (elements laid out, contain-intrinsic-size of a section without
    the lazy rules and as shipped, the elements that moved)}; "control": the elements that
    move when the sections are contained but the margin rules are left out."""
    out = {}
    variants = {"without": (WITHOUT_LAZY, RENDER), "shipped": (None, RENDER_CONTAINED)}
    with booksite.serve(HTML) as url, booksite.browser() as b:
        for page, name in CASES:
            control = (page, name) == ("notebooks/attention_permutation.html", "desktop")
            extra = {"control": (ONLY_CONTAINMENT, RENDER_CONTAINED)} if control else {}
            context, pg, facts = layouts_of(b, url, page, VIEWPORTS[name], {**variants, **extra})
            try:
                out[page, name] = (facts["without"]["elements"],
                                   (facts["without"]["intrinsicSize"], facts["shipped"]["intrinsicSize"]),
                                   moved(pg, "without", "shipped"))
                if control:
                    out["control"] = moved(pg, "without", "control")
            finally:
                context.close()
    return out


def test_the_stylesheet_has_lazy_sections_down_to_subsections():
    assert ".bd-article > section > section" in LAZY_SELECTORS
    assert ".bd-article > section > section > section" in LAZY_SELECTORS


@pytest.mark.parametrize("page, viewport", CASES)
def test_lazy_sections_move_nothing(layouts, page, viewport):
    elements, (without, shipped), wrong = layouts[page, viewport]
    assert elements > 1000, "the page was not laid out"
    # The first layout really is without the lazy rules, the second with them.
    assert without == "none" and shipped != "none", (without, shipped)
    assert not wrong, f"{len(wrong)} elements moved or changed size, first: " + "\n".join(wrong[:10])


def test_the_check_sees_margins_that_no_longer_collapse(layouts):
    """Containment without the margin rules moves headings: the comparison sees it."""
    assert len(layouts["control"]) > 100
