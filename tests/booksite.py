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
            body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
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
    """Elements whose Hangul is not drawn by a Korean-capable web font.

    Chromium reports, per element, which platform fonts drew its text and how many
    glyphs each drew.  Every Hangul character must be drawn by the book's own web
    font (a custom font); a fallback system font on a machine without CJK fonts
    would draw boxes.
    """
    # Elements set in bold (computed weight 600 or more) must have their Hangul drawn by
    # the bold face: its subset holds only what the build found in bold
    # (_ext/offline_assets.py); another character would come out in the regular face.
    # The page marks each element with Hangul in its own text (_MARK_HANGUL), and
    # Chromium finds the marked elements for the font report in the same document order.
    targets = evaluate_json(page, _MARK_HANGUL)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]
    node_ids = cdp.send("DOM.querySelectorAll", {"nodeId": root["nodeId"], "selector": f"[{HANGUL_MARK}]"})["nodeIds"]
    assert len(node_ids) == len(targets), (len(node_ids), len(targets))
    targets = [(node_id, n, text, bold) for node_id, (n, text, bold) in zip(node_ids, targets)]
    problems = []
    checked = 0
    for node_id, n_hangul, text, bold in targets:
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
        if not fonts:  # not rendered (display: none, e.g. a collapsed solution)
            continue
        checked += 1
        drawn_by_webfont = sum(f["glyphCount"] for f in fonts if f.get("isCustomFont"))
        drawn_bold = sum(f["glyphCount"] for f in fonts
                         if f.get("isCustomFont") and "Bold" in f.get("postScriptName", ""))
        names = ", ".join(f"{f.get('postScriptName') or f['familyName']}:{f['glyphCount']}" for f in fonts)
        if drawn_by_webfont < n_hangul:
            problems.append(f"{text!r} ({n_hangul} Hangul; fonts {names})")
        elif bold and drawn_bold < n_hangul:
            problems.append(f"{text!r} (bold, {n_hangul} Hangul; fonts {names}: not all by the bold face)")
    return checked, problems


HANGUL_MARK = "data-hangul-check"
# Elements with Hangul in their own text nodes, outside script, style and title, and
# outside MathJax's output (mjx-* elements, including the visually hidden MathML copy
# for screen readers; _MATH_KOREAN checks those instead: Chromium's per-node font report
# for it names a fallback font even where the screenshot shows the web font's glyphs).
# Each is marked and listed as [Hangul count, its text, set in bold (weight >= 600)].
_MARK_HANGUL = r"""
() => {
  const hangul = new RegExp(%s, 'g');
  const skip = new Set(['SCRIPT', 'STYLE', 'TITLE']);
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    if (skip.has(el.tagName)) continue;
    let math = false;
    for (let a = el; a && !math; a = a.parentElement) math = a.tagName.startsWith('MJX-');
    if (math) continue;
    const own = Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.nodeValue).join('');
    const n = (own.match(hangul) || []).length;
    if (!n) continue;
    el.setAttribute('%s', '');
    found.push([n, own.trim().slice(0, 40), parseInt(getComputedStyle(el).fontWeight, 10) >= 600]);
  }
  return found;
}
""" % (repr(HANGUL.pattern), HANGUL_MARK)


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


def inspect_page(b, base_url: str, page_path: str, check_fonts: bool = True) -> PageReport:
    """Open one page in a fresh context (empty cache) and report on it."""
    report = PageReport(page_path)
    host = urlsplit(base_url).netloc
    context = b.new_context(service_workers="block")
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
