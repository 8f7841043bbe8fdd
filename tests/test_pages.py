"""Every page of the built book, opened in headless Chromium, works with no network.

Fails on: a request that leaves the site, a resource that does not load, an image
that does not decode, math left as raw TeX, Hangul drawn by anything but the
book's Korean web font, or a JavaScript error.  Needs ./build.sh to have run.
"""
import pytest

import booksite

if not (booksite.HTML / "index.html").is_file():
    pytest.fail("the book is not built: run ./build.sh first", pytrace=False)

PAGES = booksite.site_pages()


@pytest.fixture(scope="module")
def reports():
    out = {}
    with booksite.serve() as url, booksite.browser() as b:
        for page in PAGES:
            out[page] = booksite.inspect_page(b, url, page)
    return out


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
def test_page_has_no_javascript_errors(reports, page):
    assert reports[page].console_errors == []


def test_the_book_has_math_to_check(reports):
    assert sum(r.math_total for r in reports.values()) > 0


PAGE_BUDGET = 1_500_000  # bytes on the wire per page, fonts, scripts and figures included


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
