"""Korean breaks between words on every page, and nothing overflows a phone screen.

Korean typesetting breaks a line at the spaces between 어절, never between the
syllables of one word ("소프 / 트맥스").  Browsers break Hangul anywhere unless the
page says ``word-break: keep-all``; _ext/static/korean-line-breaking.css says it for
every page (prose, admonitions, tables, captions, sidebar, table of contents), with
``overflow-wrap`` so that a long token with no space (a code name, a URL) may still
wrap instead of pushing the page sideways.

Checked in headless Chromium on the built site:

* the computed style of every text container that holds Hangul, on every page;
* at 390 px wide (a phone), that no word containing Hangul lies on two lines: for
  each word, ``Range.getClientRects()`` of its characters gives one box per line it
  touches, and boxes that do not overlap vertically are on different lines;
* at 390 px, that nothing is wider than the viewport (the document does not scroll
  sideways, and no visible element sticks out past the right edge, except inside a
  container that scrolls on its own: a code block, a table, display math).

The tests inject the opposite rule (``word-break: normal``) into a page and check
that the split test then finds split words, so they can fail.
Needs ./build.sh (or set BOOK_HTML to another built site, e.g. a preview).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import booksite

HTML = Path(os.environ.get("BOOK_HTML", booksite.HTML))
if not (HTML / "index.html").is_file():
    pytest.fail(f"the book is not built at {HTML}: run ./build.sh first", pytrace=False)

PAGES = booksite.site_pages(HTML)
PHONE = {"width": 390, "height": 844}

# Horizontal overflow: the page scrolls sideways, or a visible element reaches past
# the viewport's right edge without a scrolling ancestor to contain it.
_OVERFLOW = r"""
() => {
  const width = document.documentElement.clientWidth;
  // A block that scrolls sideways on its own, and itself fits on the screen, contains
  // what is wider than it.  (Clipping, overflow: hidden, would hide it instead.)
  const scrolls = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (['auto', 'scroll'].includes(s.overflowX) && s.display !== 'inline'
          && a.getBoundingClientRect().right <= width + 1)
        return true;
    }
    return false;
  };
  const out = [];
  const reported = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= width + 1) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.position === 'fixed') continue;
    // Off-canvas drawers (shown only on request) and MathJax's visually hidden copy
    // of each formula for screen readers are not on the screen.
    if (el.closest('.bd-sidebar-primary, .bd-sidebar-secondary, dialog, mjx-assistive-mml')) continue;
    if (scrolls(el)) continue;
    if (reported.some((p) => p.contains(el))) continue;  // name the outermost only
    reported.push(el);
    out.push(`<${el.tagName.toLowerCase()} class="${el.className}"> right=${Math.round(r.right)} `
             + `text=${(el.textContent || '').trim().slice(0, 40)}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, out: out.slice(0, 20),
          wide: document.querySelectorAll('mjx-container.math-wide').length};
}
"""


# Scroll from the top to the bottom of the page and back, as a reader does, two screens
# at a time, letting each position render: sections below the first screen are laid
# out only when they come near (content-visibility: auto), and inline math is measured
# for .math-wide (wide-inline-math.js) when it comes within a screen of the viewport.
_READ_THROUGH = r"""
async () => {
  const frame = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  for (let y = 0; y < document.documentElement.scrollHeight; y += 2 * innerHeight) {
    scrollTo(0, y);
    await frame();
  }
  scrollTo(0, 0);
  await frame();
}
"""


# The theme's keyboard rule (lazy-tab-stops.js applies it near the viewport first and
# to the rest while the page is idle): a code block, cell output or table container
# that scrolls is a tab stop (tabIndex 0), one that does not is not (-1).  Waits up to
# 10 s for every such element to be judged, then lists the ones that break the rule.
_TAB_STOPS = r"""
async () => {
  const selector = 'pre, .nboutput > .output_area, .cell_output > .output, .jp-RenderedHTMLCommon, '
                 + '.pst-scrollable-table-container';
  const all = () => [...document.querySelectorAll(selector)];
  for (let i = 0; i < 200 && all().some((el) => !el.hasAttribute('tabindex')); i++) {
    await new Promise((done) => setTimeout(done, 50));
  }
  const wrong = all().filter((el) => {
    const scrolls = el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight;
    return !el.hasAttribute('tabindex') || el.tabIndex !== (scrolls ? 0 : -1);
  }).map((el) => `<${el.tagName.toLowerCase()} class="${el.className}" tabindex=${el.getAttribute('tabindex')}>`);
  return {elements: all().length, stops: all().filter((el) => el.tabIndex === 0).length, wrong: wrong.slice(0, 10)};
}
"""


def open_page(b, url: str, page: str, viewport: dict, css: str | None = None):
    context = b.new_context(viewport=viewport, service_workers="block")
    pg = context.new_page()
    pending = set()  # requests sent and not yet answered
    pg.on("request", lambda r: pending.add(r))
    pg.on("requestfinished", lambda r: pending.discard(r))
    pg.on("requestfailed", lambda r: pending.discard(r))
    pg.goto(url + page, wait_until="load")
    for _ in range(5):  # index.html redirects once
        try:
            pg.evaluate(booksite._AFTER_LOAD)
            # Loaded, fonts ready, and no request in flight: laid out as a reader sees it.
            # (Not "networkidle", which waits a further 500 ms of quiet on every page.)
            for _ in range(600):
                if not pending:
                    break
                pg.wait_for_timeout(50)
            else:
                raise AssertionError(f"{page}: requests unanswered after 30 s: {[r.url for r in pending]}")
            break
        except Exception as exc:
            if "Execution context was destroyed" not in str(exc):
                raise
            pg.wait_for_load_state("load")
    if css:
        pg.add_style_tag(content=css)
    return context, pg


def measure(b, url: str, page: str, viewport: dict, scripts: list[str]) -> list:
    """Open the page and run each script on it.  If the page navigated while being
    measured (Chromium reported the execution context destroyed, seen once on a
    loaded machine), it is opened again and measured from the start."""
    for attempt in range(3):
        context, pg = open_page(b, url, page, viewport)
        try:
            return [booksite.evaluate_json(pg, script) for script in scripts]
        except Exception as exc:
            if "Execution context was destroyed" not in str(exc) or attempt == 2:
                raise
        finally:
            context.close()


@pytest.fixture(scope="module")
def facts():
    out = {}
    desktop = booksite.desktop_reports(HTML)  # each page opened at desktop size once for this file and test_pages.py
    with booksite.serve(HTML) as url, booksite.browser() as b:
        for page in PAGES:
            styles, desktop_split = desktop[page].measured
            split, overflow, tabs = measure(b, url, page, PHONE, [_READ_THROUGH, booksite.SPLIT_WORDS, _OVERFLOW, _TAB_STOPS])[1:]
            out[page] = {"styles": styles, "split": split, "desktop_split": desktop_split, "overflow": overflow,
                         "tabs": tabs}
    return out


@pytest.mark.parametrize("page", PAGES)
def test_hangul_is_laid_out_with_keep_all_everywhere(facts, page):
    styles = facts[page]["styles"]
    assert styles, "no Korean text found on the page"
    wrong = [s for s in styles if s["wordBreak"] != "keep-all"
             or s["overflowWrap"] not in ("break-word", "anywhere")]
    assert wrong == [], f"{len(wrong)} of {len(styles)} text containers: {wrong[:5]}"


@pytest.mark.parametrize("page", PAGES)
def test_no_korean_word_is_split_across_lines_on_a_phone(facts, page):
    split = facts[page]["split"]
    assert split["words"] > 0, "no Korean words were checked"
    assert split["split"] == []


@pytest.mark.parametrize("page", PAGES)
def test_no_korean_word_is_split_across_lines_on_a_desktop(facts, page):
    """At 1280 px the sidebar and the page's table of contents are on the screen too."""
    assert facts[page]["desktop_split"]["split"] == []


@pytest.mark.parametrize("page", PAGES)
def test_nothing_overflows_a_phone_screen(facts, page):
    o = facts[page]["overflow"]
    assert o["scrollWidth"] <= o["clientWidth"], f"the page scrolls sideways: {o}"
    assert o["out"] == []


def test_wide_inline_math_is_marked_so_the_overflow_check_depends_on_it(facts):
    """Some inline formula is wider than a phone's line: unmarked (wide-inline-math.js
    not run, or run only on the first screen), it would stick out and fail the test above."""
    assert sum(f["overflow"]["wide"] for f in facts.values()) > 0


@pytest.mark.parametrize("page", PAGES)
def test_scrollable_code_and_outputs_are_tab_stops_on_a_phone(facts, page):
    tabs = facts[page]["tabs"]
    assert tabs["wrong"] == [], f"{len(tabs['wrong'])} of {tabs['elements']}: {tabs['wrong']}"


def test_the_tab_stop_check_sees_scrolling_blocks(facts):
    """On a phone, long code lines scroll: some blocks are tab stops and some are not."""
    chapters = [f["tabs"] for page, f in facts.items() if page.startswith("notebooks/")]
    assert all(0 < t["stops"] < t["elements"] for t in chapters), chapters


def test_the_style_check_reaches_every_kind_of_text(facts):
    """Guards the style test: it read Hangul in each place the issue names."""
    kinds = {s["where"].split()[0] for f in facts.values() for s in f["styles"] if " " in s["where"]}
    assert {"sidebar", "page", "table", "admonition", "caption"} <= kinds


LONGEST_PAGE = "notebooks/batch_norm.html"


def test_the_split_check_finds_splits_when_hangul_breaks_anywhere():
    """The opposite rule, injected into a chapter page, makes the split test fail."""
    with booksite.serve(HTML) as url, booksite.browser() as b:
        context, pg = open_page(b, url, LONGEST_PAGE, PHONE,
                                css="* { word-break: normal !important; overflow-wrap: normal !important; }")
        broken = pg.evaluate(booksite.SPLIT_WORDS)
        context.close()
        context, pg = open_page(b, url, LONGEST_PAGE, PHONE)
        fine = pg.evaluate(booksite.SPLIT_WORDS)
        context.close()
    assert len(broken["split"]) > 10, broken
    assert fine["split"] == [] and fine["words"] == broken["words"]
