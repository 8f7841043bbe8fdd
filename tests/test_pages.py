"""Every page of the built book, opened in headless Chromium, works with no network.

Fails on: a request that leaves the site, a resource that does not load, an image
that does not decode, math left as raw TeX or typeset in the browser, Hangul drawn by
anything but the book's Korean web font, an equation reference whose number is not
the equation's, or any console error or warning (booksite.ACCEPTED_CONSOLE lists the
accepted ones, with their reasons).  Needs ./build.sh to have run.
"""
import re
import shutil

import pytest

import booksite

if not (booksite.HTML / "index.html").is_file():
    pytest.fail("the book is not built: run ./build.sh first", pytrace=False)

PAGES = booksite.site_pages()


@pytest.fixture(scope="module")
def reports():
    return booksite.desktop_reports()  # shared with test_line_breaking.py


def test_every_chapter_is_a_page():
    expected = {"book/intro.html", "book/references.html", "search.html", "genindex.html"}
    expected |= {f"notebooks/{p.stem}.html" for p in (booksite.ROOT / "notebooks").glob("*.ipynb")}
    assert expected <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_requests_nothing_from_another_host(reports, page):
    assert reports[page].external == []


@pytest.mark.parametrize("page", PAGES)
def test_page_resources_all_load(reports, page):
    assert reports[page].failed == []
    assert reports[page].broken_images == []


@pytest.mark.parametrize("page", PAGES)
def test_page_math_is_typeset(reports, page):
    r = reports[page]
    assert r.raw_tex == []
    assert r.math_typeset == r.math_total


@pytest.mark.parametrize("page", PAGES)
def test_page_korean_is_drawn_with_the_korean_web_font(reports, page):
    r = reports[page]
    assert r.korean_nodes > 0, "no Korean text was checked on this page"
    assert r.korean_without_font == []


@pytest.mark.parametrize("page", PAGES)
def test_page_console_has_no_errors_or_warnings(reports, page):
    assert booksite.console_problems(reports[page]) == []


INJECTED = {
    "console-warning": ("warning", "console.warn('injected warning: option is deprecated')"),
    "console-error": ("error", "console.error('injected error')"),
    "uncaught-exception": ("error", "throw new Error('injected uncaught exception')"),
}


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    """A copy of the site with one chapter page written again for each script of INJECTED
    (notebooks/resnet-<id>.html, next to the original so that every link still works) and
    once with Hangul outside the font subsets (resnet-glyphs.html); the reports of those
    pages and of an untouched one, all opened in one browser, and the two syllables."""
    site = tmp_path_factory.mktemp("injected") / "html"
    shutil.copytree(booksite.HTML, site, ignore=shutil.ignore_patterns("_sources", "reports"))
    original = (site / "notebooks" / "resnet.html").read_text(encoding="utf-8")
    for name, (_, script) in INJECTED.items():
        (site / "notebooks" / f"resnet-{name}.html").write_text(
            original.replace("</head>", f"<script>{script}</script></head>", 1), encoding="utf-8")
    missing, not_bold = outside_the_font_subsets()
    (site / "notebooks" / "resnet-glyphs.html").write_text(original.replace(
        "</body>", f"<p>{missing}자</p><p><strong>{not_bold}</strong></p></body>", 1), encoding="utf-8")
    with booksite.serve(site) as url, booksite.browser() as b:
        reports = {name: booksite.inspect_page(b, url, f"notebooks/resnet-{name}.html", check_fonts=False)
                   for name in INJECTED}
        reports["clean"] = booksite.inspect_page(b, url, "notebooks/layer_norm.html", check_fonts=False)
        reports["glyphs"] = booksite.inspect_page(b, url, "notebooks/resnet-glyphs.html")
    return reports, (missing, not_bold)


def outside_the_font_subsets() -> tuple[str, str]:
    """A syllable the book's Korean font does not hold, and one its regular face holds but
    its bold face does not (the build keeps only the characters the pages use)."""
    from fontTools.ttLib import TTFont

    fonts = booksite.HTML / "_static" / "fonts"
    regular = set(TTFont(fonts / "book-korean-normal.woff2").getBestCmap())
    bold = set(TTFont(fonts / "book-korean-bold.woff2").getBestCmap())
    syllables = range(0xAC00, 0xD7A4)
    return (chr(next(c for c in syllables if c not in regular)),
            chr(next(c for c in syllables if c in regular and c not in bold)))


def test_hangul_outside_the_font_subsets_fails_the_font_check(injected):
    """The font check fails on a page whose Hangul the book's font cannot draw: a syllable
    the subset lacks, and a bold syllable only the regular face holds, added to a copy.
    Both are named, and the rest of the page still passes."""
    reports, (missing, not_bold) = injected
    r = reports["glyphs"]
    assert len(r.korean_without_font) == 2, r.korean_without_font
    plain, bold = sorted(r.korean_without_font, key=lambda p: "bold" in p)
    assert plain.startswith(repr(f"{missing}자")) and "bold" not in plain
    assert bold.startswith(repr(not_bold)) and "not all by the bold face" in bold


@pytest.mark.parametrize("name", INJECTED)
def test_injected_console_message_fails_the_check(injected, name):
    """The check above fails on a page that logs a warning or an error: shown on a copy."""
    reports, _ = injected
    assert booksite.console_problems(reports["clean"]) == []
    problems = booksite.console_problems(reports[name])
    assert len(problems) == 1 and problems[0].startswith(INJECTED[name][0]), problems
    assert "injected" in problems[0]


def page_html(page: str) -> str:
    return (booksite.HTML / page).read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES)
def test_page_ships_typeset_math_and_no_math_javascript(page):
    html = page_html(page)
    scripts = " ".join(re.findall(r"<script[^>]*>", html)).lower()
    assert "mathjax" not in scripts and "window.MathJax" not in html
    maths = re.findall(r'<(span|div) class="[^"]*\bmath notranslate nohighlight"[^>]*>(.*?)</\1>',
                       html, re.S)
    for _, inner in maths:
        assert inner.lstrip().startswith(("<mjx-container", '<span class="eqno">')), inner[:120]
    n = html.count("<mjx-container")
    assert html.count("<mjx-assistive-mml") == n, "every formula keeps its MathML for screen readers"
    if n:
        assert '<style id="MJX-CHTML-styles">' in html


def test_equation_references_show_the_equations_number():
    """{eq} links (and \\eqref in TeX) show the number that the equation itself shows."""
    numbers = {}
    for page in PAGES:
        for eq_id, number in re.findall(
                r'id="(equation-[^"]+)">\s*<span class="eqno">\(([^)<]+)\)', page_html(page)):
            numbers[(page, eq_id)] = number
    assert numbers, "the book has no numbered equation to check"
    assert len(set(numbers.values())) == len(numbers), "two equations share a number"
    checked = 0
    for page in PAGES:
        folder = page.rsplit("/", 1)[0] + "/" if "/" in page else ""
        for href, text in re.findall(r'<a class="reference internal" href="([^"]*#equation-[^"]+)">(.*?)</a>',
                                     page_html(page)):
            target_page, eq_id = href.split("#")
            target = (folder + target_page) if target_page else page
            target = re.sub(r"[^/]+/\.\./", "", target)
            assert (target, eq_id) in numbers, f"{page}: {href} points at no numbered equation"
            assert text == f"({numbers[(target, eq_id)]})", f"{page}: {href} shows {text}"
            checked += 1
    assert checked > 0, "no equation reference found"


def test_the_book_has_math_to_check(reports):
    assert sum(r.math_total for r in reports.values()) > 0


# Bytes on the wire per page, fonts, scripts and figures included.  Chapters weighed
# 1.05-1.11 MB with MathJax in the browser and 0.39-0.49 MB with the math typeset at
# build time (benchmarks/PAGES_BEFORE_AFTER.md); this catches a return of the old
# weight while leaving room for new figures.  Timing targets live in the benchmark.
PAGE_BUDGET = 800_000


@pytest.mark.parametrize("page", PAGES)
def test_page_transfers_under_budget(reports, page):
    assert 0 < reports[page].transferred < PAGE_BUDGET


@pytest.mark.parametrize("notebook", sorted((booksite.ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_chapter_page_offers_its_notebook_for_download(notebook):
    page = (booksite.HTML / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
    link = f"../_sources/notebooks/{notebook.name}"
    assert f'href="{link}"' in page, f"no download link to {link}"
    served = booksite.HTML / "_sources" / "notebooks" / notebook.name
    assert served.read_bytes() == notebook.read_bytes(), "the download differs from the notebook"


def test_execution_table_says_each_status_in_words():
    """The status page's notebook table says 성공 or 실패 (_ext/exec_table_words.py): myst-nb's
    emoji are in none of the book's fonts, and no page of the site may hold them."""
    status = (booksite.HTML / "book" / "status.html").read_text(encoding="utf-8")
    table = status[status.index("<th"):status.index("</table>")]
    rows = re.findall(r'<tr class="row-(?:odd|even)">(.*?)</tr>', table, flags=re.S)[1:]  # after the header
    notebooks = sorted(p.stem for p in (booksite.ROOT / "notebooks").glob("*.ipynb"))
    assert [re.search(r"notebooks/(\w+)", row)[1] for row in rows] == notebooks
    assert all(re.findall(r"<p>(성공|실패)</p>", row) == ["성공"] for row in rows), rows
    pages = [booksite.HTML / page for page in PAGES]
    assert not [p.name for p in pages if re.search("[\u2705\u274c]", p.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def disk_browser():
    with booksite.browser() as b:
        yield b


@pytest.mark.parametrize("page", ["index.html", "notebooks/batch_norm.html", "search.html"])
def test_page_opened_from_disk_logs_nothing_and_draws_korean(page, disk_browser):
    """A reader may open the site from disk (file://, no server): nothing may fail there."""
    url = (booksite.HTML / page).resolve().as_uri()
    messages = []
    context = disk_browser.new_context()  # a fresh context (empty cache) for each page
    try:
        tab = context.new_page()
        tab.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        tab.on("pageerror", lambda e: messages.append(f"exception: {e}"))
        tab.on("requestfailed", lambda r: messages.append(f"failed: {r.url}"))
        tab.goto(url)
        tab.wait_for_timeout(1500)
        loaded = tab.evaluate(
            "async () => { await document.fonts.ready;"
            " return [...document.fonts].filter(f => f.family.includes('Book Korean') && f.status === 'loaded').length; }")
    finally:
        context.close()
    assert messages == []
    assert loaded >= 1, "the Korean web font did not load from disk"
