"""Open the built book in headless Chromium and record what each page does.

Used by tests/test_pages.py (which asserts) and benchmarks/run.py (which reports).
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
# Characters that only a Korean-capable font can draw (see _ext/offline_assets.py).
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
# TeX that MathJax should have replaced; looked for outside code blocks only.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\frac\{|\\sqrt\{")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]
SKIP_DIRS = {"_static", "_sources", "_images", "reports", "_sphinx_design_static"}


# The tests' browser: Debian's chromium-headless-shell, Chromium's own engine (Blink, V8, Skia, the same
# fonts and layout) without the full browser's window and compositor layers.  It draws and lays out pages
# as chromium does, and opens a chapter page for about half the CPU time, which on a two-core machine
# decides how long the browser tests take.  Failing that, the full browser.
TEST_BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")
READER_BROWSERS = ("chromium", "chromium-browser")


def chromium_path(full: bool = False) -> str:
    """$CHROMIUM if set; else the first of TEST_BROWSERS on $PATH, or with full=True the first of
    READER_BROWSERS (the browser a reader runs, which the benchmark times)."""
    names = READER_BROWSERS if full else TEST_BROWSERS
    path = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, names)), None)
    if not path:
        package = "chromium" if full else "chromium-headless-shell"
        raise RuntimeError(
            f"chromium not found (looked for {', '.join(names)}): install it with "
            f"`apt-get install --no-install-recommends {package}` (or set CHROMIUM=/path/to/chromium)"
        )
    return path


def site_pages(html: Path = HTML) -> list[str]:
    """Every HTML page of the built site, as paths relative to its root."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0] in SKIP_DIRS:
            continue
        pages.append(rel.as_posix())
    return pages


COMPRESSIBLE = {".html", ".css", ".js", ".json", ".txt", ".svg", ".map", ".xml", ".ttf"}


@functools.lru_cache(maxsize=512)
def _gzipped(path: Path, mtime_ns: int, size: int) -> bytes:
    """The gzip body of a file, made once per version of the file (the browser tests open
    the same pages, scripts and styles many times)."""
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """A static server that, like any production web server, gzips text on request."""

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if (
            path.is_file()
            and path.suffix in COMPRESSIBLE
            and "gzip" in self.headers.get("Accept-Encoding", "")
        ):
            stat = path.stat()
            body = _gzipped(path, stat.st_mtime_ns, stat.st_size)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


@contextlib.contextmanager
def serve(directory: Path = HTML):
    """Serve ``directory`` on 127.0.0.1 (a free port) for the duration of the block."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def browser(full: bool = False):
    """Headless Chromium: the tests' browser, or with full=True the full browser (see chromium_path)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(full), args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


def evaluate_json(page, script: str):
    """page.evaluate(script) for a script (a function, sync or async) whose result is plain JSON
    data, sent back as one JSON string: Playwright's own serialization of a large result (thousands
    of objects or numbers) costs seconds where the string costs a fraction of one."""
    return json.loads(page.evaluate(f"async () => JSON.stringify(await ({script.strip()})()) ?? 'null'"))


@dataclass
class PageReport:
    page: str
    bytes: int = 0  # decoded size of everything the page loaded (headers included)
    transferred: int = 0  # bytes on the wire (gzip where the server compressed)
    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    raw_tex: list[str] = field(default_factory=list)
    math_total: int = 0
    math_typeset: int = 0
    korean_nodes: int = 0
    korean_without_font: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions
    console_warnings: list[str] = field(default_factory=list)
    measured: list = field(default_factory=list)  # what inspect_page's scripts returned


# Console messages a page may log: (regular expression, reason).  Everything else a
# page logs as an error or a warning, and every uncaught exception, fails
# tests/test_pages.py.  The list is empty: no page of the book logs anything.  (Until
# the math was typeset at build time, every page logged MathJax's 'Invalid option
# "unknownFamily"' warning, and every page threw "Identifier 'THEBE_JS_URL' has already
# been declared" from a script added twice; both are gone, not accepted.)
ACCEPTED_CONSOLE: list[tuple[str, str]] = [
]


def console_problems(report: "PageReport") -> list[str]:
    """The console errors and warnings of a page that are not in ACCEPTED_CONSOLE."""
    problems = [f"error: {m}" for m in report.console_errors]
    problems += [f"warning: {m}" for m in report.console_warnings]
    return [p for p in problems if not any(re.search(pattern, p) for pattern, _ in ACCEPTED_CONSOLE)]


_AFTER_LOAD = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;
}
"""

_PAGE_FACTS = r"""
() => {
  const inCode = (el) => el.closest('pre, code, script, style, .highlight, mjx-container, mjx-assistive-mml');
  const rawTex = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const re = new RegExp(%s);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || inCode(el)) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    if (re.test(node.textContent)) rawTex.push(node.textContent.trim().slice(0, 80));
  }
  const maths = Array.from(document.querySelectorAll('.math'));
  const typeset = maths.filter((m) => m.querySelector('mjx-container')).length;
  const images = Array.from(document.images)
    .filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => img.getAttribute('src'));
  return {rawTex, mathTotal: maths.length, mathTypeset: typeset, brokenImages: images};
}
""" % repr(RAW_TEX.pattern)


def _korean_font_problems(page, cdp) -> tuple[int, list[str]]:
    """Elements whose Hangul is not drawn by a Korean-capable web font, and how many
    rendered elements with Hangul were checked.

    Chromium reports, per element, which platform fonts drew its text and how many
    glyphs each drew.  Every Hangul character must be drawn by the book's own web
    font (a custom font); a fallback system font on a machine without CJK fonts
    would draw boxes.  Elements set in bold (computed weight 600 or more) must have
    their Hangul drawn by the bold face: its subset holds only what the build found in
    bold (_ext/offline_assets.py); another character would come out in the regular face.

    Which font draws a character depends only on the character and the element's font
    properties and language, so the elements are checked in groups: the page marks every
    rendered element with Hangul in its own text and, for each distinct set of those
    properties, adds one probe element with those properties holding every Hangul
    character of the group (_MARK_HANGUL).  A chapter page has about 340 such elements and
    a dozen groups, and each report is a round trip to the browser.  The elements of a
    group whose probe fails are then checked one by one, which names them.
    """
    marked = evaluate_json(page, _MARK_HANGUL)
    targets, groups = marked["elements"], marked["groups"]
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]

    def select(selector):
        return cdp.send("DOM.querySelectorAll", {"nodeId": root["nodeId"], "selector": selector})["nodeIds"]

    def problem(node_id, n_hangul, bold, text):
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
        drawn_by_webfont = sum(f["glyphCount"] for f in fonts if f.get("isCustomFont"))
        drawn_bold = sum(f["glyphCount"] for f in fonts
                         if f.get("isCustomFont") and "Bold" in f.get("postScriptName", ""))
        names = ", ".join(f"{f.get('postScriptName') or f['familyName']}:{f['glyphCount']}" for f in fonts)
        if drawn_by_webfont < n_hangul:
            return f"{text!r} ({n_hangul} Hangul; fonts {names})"
        if bold and drawn_bold < n_hangul:
            return f"{text!r} (bold, {n_hangul} Hangul; fonts {names}: not all by the bold face)"
        return None

    probes = select(f"[{HANGUL_PROBE}]")
    assert len(probes) == len(groups), (len(probes), len(groups))
    failed = {k for k, (node_id, g) in enumerate(zip(probes, groups))
              if problem(node_id, len(g["chars"]), g["bold"], g["chars"])}
    problems = []
    if failed:
        node_ids = select(f"[{HANGUL_MARK}]")  # in document order, as _MARK_HANGUL listed them
        assert len(node_ids) == len(targets), (len(node_ids), len(targets))
        for node_id, (n_hangul, text, group) in zip(node_ids, targets):
            if group in failed and (found := problem(node_id, n_hangul, groups[group]["bold"], text)):
                problems.append(found)
        if not problems:  # the probe and its elements disagree: say so rather than pass
            problems = [f"probe of {groups[k]['key']} failed, none of its elements did" for k in sorted(failed)]
    page.evaluate(f"() => document.querySelectorAll('[{HANGUL_PROBE}]').forEach((el) => el.remove())")
    return len(targets), problems


HANGUL_MARK = "data-hangul-check"
HANGUL_PROBE = "data-hangul-probe"
# The properties that choose the font a character is drawn with.
FONT_PROPERTIES = ("font-family", "font-weight", "font-style", "font-stretch", "font-variant",
                   "font-feature-settings", "font-variation-settings", "font-synthesis")
# Elements with Hangul in their own text nodes, rendered (the text has a box on the page;
# not e.g. a collapsed solution), outside script, style and title, and outside MathJax's
# output (mjx-* elements, including the visually hidden MathML copy for screen readers;
# _MATH_KOREAN checks those instead: Chromium's per-node font report for it names a
# fallback font even where the screenshot shows the web font's glyphs).  Each is marked
# and listed as [Hangul count, its text, its group]; each group (elements with the same
# FONT_PROPERTIES and language) gets a probe at the end of the body with those properties
# and every distinct Hangul character of its elements.
_MARK_HANGUL = r"""
() => {
  const hangul = new RegExp(%s, 'g');
  const hasHangul = new RegExp(hangul.source);
  const properties = %s;
  const skip = new Set(['SCRIPT', 'STYLE', 'TITLE']);
  const elements = [];
  const groups = [];
  const index = new Map();
  const range = document.createRange();
  const rendered = (node) => { range.selectNodeContents(node); return range.getClientRects().length > 0; };
  for (const el of document.querySelectorAll('*')) {
    if (skip.has(el.tagName)) continue;
    let math = false;
    for (let a = el; a && !math; a = a.parentElement) math = a.tagName.startsWith('MJX-');
    if (math) continue;
    const texts = Array.from(el.childNodes).filter((n) => n.nodeType === 3 && hasHangul.test(n.nodeValue));
    const shown = texts.filter(rendered);
    if (!shown.length) continue;
    const own = shown.map((n) => n.nodeValue).join('');
    const chars = own.match(hangul);
    const style = getComputedStyle(el);
    const lang = el.closest('[lang]')?.getAttribute('lang') ?? '';
    const values = properties.map((p) => style.getPropertyValue(p));
    const key = JSON.stringify([...values, lang]);
    if (!index.has(key)) {
      index.set(key, groups.length);
      groups.push({key, lang, values, chars: new Set(), bold: parseInt(style.fontWeight, 10) >= 600});
    }
    const group = index.get(key);
    chars.forEach((c) => groups[group].chars.add(c));
    el.setAttribute('%s', '');
    elements.push([chars.length, own.trim().slice(0, 40), group]);
  }
  for (const g of groups) {
    const probe = document.createElement('div');
    probe.setAttribute('%s', '');
    if (g.lang) probe.setAttribute('lang', g.lang);
    properties.forEach((p, i) => probe.style.setProperty(p, g.values[i], 'important'));
    for (const [p, v] of [['display', 'block'], ['content-visibility', 'visible'], ['white-space', 'nowrap']]) {
      probe.style.setProperty(p, v, 'important');
    }
    g.chars = [...g.chars].join('');
    probe.textContent = g.chars;
    document.body.append(probe);
    delete g.values;
  }
  return {elements, groups};
}
""" % (repr(HANGUL.pattern), json.dumps(list(FONT_PROPERTIES)), HANGUL_MARK, HANGUL_PROBE)


_MATH_KOREAN = r"""
() => Array.from(document.querySelectorAll('mjx-container mjx-utext, mjx-container mjx-mtext'))
  .filter((el) => /[\uac00-\ud7a3]/.test(el.textContent))
  .filter((el) => {
    const families = getComputedStyle(el).fontFamily.split(',').map((f) => f.trim().replace(/"/g, ''))
      .filter((f) => !f.startsWith('MJX'));
    return families[0] !== 'Book Korean';
  })
  .map((el) => `${el.textContent.slice(0, 40)} (math; font-family ${getComputedStyle(el).fontFamily})`)
"""


# Line breaking (tests/test_line_breaking.py), read on every page at desktop size while
# test_pages.py inspects it (desktop_reports) and on a phone by test_line_breaking.py.
# Everything a reader can see text in; the sidebar and the page's table of contents
# included.  Hangul in each of these must be laid out with keep-all.
KOREAN_STYLES = r"""
() => {
  const out = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || seen.has(el) || !/[\uac00-\ud7a3]/.test(walker.currentNode.textContent)) continue;
    if (el.closest('script, style, mjx-container, mjx-assistive-mml, pre')) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    const where = (el.closest('.bd-sidebar-primary') ? 'sidebar '
                 : el.closest('.bd-sidebar-secondary, .bd-toc') ? 'page toc '
                 : el.closest('td, th') ? 'table '
                 : el.closest('.admonition, details') ? 'admonition '
                 : el.closest('figcaption, caption') ? 'caption ' : '') + el.tagName.toLowerCase();
    out.push({where, text: walker.currentNode.textContent.trim().slice(0, 30),
              wordBreak: s.wordBreak, overflowWrap: s.overflowWrap});
  }
  return out;
}
"""

# Words with Hangul that the browser laid out on more than one line.  A word is a
# maximal run of Hangul syllables, Latin letters and digits (so "ReLU를" and
# "기울기를" are words; punctuation and spaces end a word), read across inline
# elements of one block (**이득**을 is one word).  Math, code and hidden text end a
# word and are not read.
SPLIT_WORDS = r"""
() => {
  const BLOCK = new Set(['block', 'list-item', 'table-cell', 'table-caption', 'flex', 'grid',
                         'table', 'table-row', 'inline-block', 'flow-root']);
  const SKIP = 'script, style, mjx-container, mjx-assistive-mml, code, pre, kbd, .MathJax, .math';
  const blockOf = (el) => {
    while (el && !BLOCK.has(getComputedStyle(el).display)) el = el.parentElement;
    return el;
  };
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  // Group visible text nodes by their block container, in document order.
  const runs = [];  // {block, nodes: [text nodes]} consecutive in one block
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let current = null;
  let lastNode = null;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest(SKIP) || !visible(el)) { current = null; continue; }
    const block = blockOf(el);
    // A skipped element (math, code) between two text nodes ends the run.
    if (!current || current.block !== block || !adjacent(lastNode, node, block)) {
      current = {block, nodes: []};
      runs.push(current);
    }
    current.nodes.push(node);
    lastNode = node;
  }
  function adjacent(a, b, block) {
    // true if no skipped element lies between text nodes a and b inside block
    const r = document.createRange();
    r.setStartAfter(a); r.setEndBefore(b);
    const frag = r.cloneContents();
    return !frag.querySelector(SKIP) && !frag.querySelector('br, img');
  }
  const WORD = /[\uac00-\ud7a3A-Za-z0-9]+/g;
  const HANGUL = /[\uac00-\ud7a3]/;
  const split = [];
  let words = 0;
  for (const run of runs) {
    const text = run.nodes.map((n) => n.textContent).join('');
    if (!HANGUL.test(text)) continue;
    const starts = [];
    let pos = 0;
    for (const n of run.nodes) { starts.push(pos); pos += n.textContent.length; }
    const locate = (i) => {  // text offset -> [node, offset]
      let k = starts.length - 1;
      while (k > 0 && starts[k] > i) k--;
      return [run.nodes[k], i - starts[k]];
    };
    for (const m of text.matchAll(WORD)) {
      if (!HANGUL.test(m[0]) || m[0].length < 2) continue;
      words++;
      const range = document.createRange();
      range.setStart(...locate(m.index));
      const [endNode, endOffset] = locate(m.index + m[0].length - 1);
      range.setEnd(endNode, endOffset + 1);
      const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0 && r.height > 0);
      // Two boxes on different lines do not overlap vertically.
      const lines = [];
      for (const r of rects) {
        if (!lines.some((l) => r.top < l.bottom - 1 && r.bottom > l.top + 1)) lines.push(r);
      }
      if (lines.length > 1) {
        const before = text.slice(Math.max(0, m.index - 12), m.index);
        split.push(`${before}[${m[0]}] in <${run.block.tagName.toLowerCase()}>`);
      }
    }
  }
  return {words, split};
}
"""


def inspect_page(b, base_url: str, page_path: str, check_fonts: bool = True, viewport: dict | None = None,
                 scripts: tuple[str, ...] = ()) -> PageReport:
    """Open one page in a fresh context (empty cache) and report on it.  The results of
    ``scripts`` (run with evaluate_json once the page is loaded, before the font check)
    go to report.measured."""
    report = PageReport(page_path)
    host = urlsplit(base_url).netloc
    context = b.new_context(service_workers="block", **({"viewport": viewport} if viewport else {}))
    page = context.new_page()

    def route(route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.netloc == host:
            route.continue_()
        else:
            report.external.append(url)
            route.abort()

    def on_response(response):
        if response.status >= 400:
            report.failed.append(f"{response.status} {response.url}")
            return
        try:
            body = response.body()
        except Exception:  # redirects have no body
            body = b""
        headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
        report.bytes += len(body) + headers
        report.transferred += int(response.headers.get("content-length", len(body))) + headers

    page.route("**/*", route)
    page.on("response", on_response)
    page.on("request", lambda r: report.requests.append(r.url))
    page.on("requestfailed", lambda r: report.failed.append(f"{r.failure} {r.url}")
            if urlsplit(r.url).netloc == host else None)
    def on_console(message):
        where = message.location.get("url", "") if message.location else ""
        text = f"{message.text} ({where.rsplit('/', 1)[-1]})" if where else message.text
        if message.type == "error":
            report.console_errors.append(text)
        elif message.type == "warning":
            report.console_warnings.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: report.console_errors.append(f"uncaught: {exc}"))
    page.goto(base_url + page_path, wait_until="load")
    facts = None
    for _ in range(5):  # a redirect page (index.html) navigates once more
        try:
            page.evaluate(_AFTER_LOAD)
            page.wait_for_load_state("networkidle", timeout=90_000)
            facts = evaluate_json(page, _PAGE_FACTS)
            report.measured = [evaluate_json(page, script) for script in scripts]
            break
        except Exception as exc:
            if "Execution context was destroyed" not in str(exc):
                raise
            page.wait_for_load_state("load")
    if facts is None:
        raise RuntimeError(f"{page_path} kept navigating")
    report.raw_tex = facts["rawTex"]
    report.math_total = facts["mathTotal"]
    report.math_typeset = facts["mathTypeset"]
    report.broken_images = facts["brokenImages"]
    if check_fonts:
        # Sections below the first screen are rendered only when scrolled to
        # (content-visibility: auto, _ext/static/lean-pages.css); render them all so
        # that every Korean text node of the page is checked.
        page.add_style_tag(content="* { content-visibility: visible !important; }")
        page.evaluate(_AFTER_LOAD)
        cdp = context.new_cdp_session(page)
        report.korean_nodes, report.korean_without_font = _korean_font_problems(page, cdp)
        report.korean_without_font += evaluate_json(page, _MATH_KOREAN)
    context.close()
    return report


DESKTOP = {"width": 1280, "height": 900}
_desktop_reports: dict[Path, dict[str, PageReport]] = {}


def desktop_reports(html: Path = HTML) -> dict[str, PageReport]:
    """Every page of the site at ``html`` opened once at desktop size: its inspect_page report,
    with report.measured = [KOREAN_STYLES, SPLIT_WORDS] read before the font check.

    tests/test_pages.py and tests/test_line_breaking.py both read these, so a page is opened
    at desktop size once per process; conftest.py runs the two files on one worker.
    """
    html = Path(html).resolve()
    if html not in _desktop_reports:
        with serve(html) as url, browser() as b:
            _desktop_reports[html] = {
                page: inspect_page(b, url, page, viewport=DESKTOP, scripts=(KOREAN_STYLES, SPLIT_WORDS))
                for page in site_pages(html)
            }
    return _desktop_reports[html]
