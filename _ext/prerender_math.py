"""Math typeset while Sphinx writes the HTML: pages ship typeset formulas, no math JavaScript.

Why
---
With MathJax in the browser a chapter page downloads and runs ~700 kB of JavaScript
before its formulas appear; at 4x CPU throttling (a mid-range phone) that took 6-7 s,
during which the reader saw raw TeX.  Here the same MathJax (npm ``mathjax-full``
3.2.2, pinned in package-lock.json, installed by scripts/setup_env.sh with ``npm ci``)
runs at build time under Node.js and the HTML already holds the CHTML output.

How
---
* This extension is Sphinx's HTML math renderer (``html_math_renderer:
  prerender_mathjax`` in _config.yml), in place of ``sphinx.ext.mathjax``: its
  visitors write the same ``<span class="math">`` / ``<div class="math">`` wrappers,
  equation numbers and permalinks as Sphinx's MathJax renderer, with the typeset
  ``<mjx-container>`` inside instead of ``\\(...\\)``.  Equations are numbered by
  Sphinx, as before, so ``{eq}`` references and the numbers agree.
* One Node.js process (``prerender_math.cjs``) is started the first time a page with
  math is written and answers formula by formula over a pipe; a no-change rebuild
  writes no page and never starts it.
* Each page gets, in its ``<head>``, the CHTML stylesheet for exactly what that page
  uses (the characters of the TeX fonts, the wrapper classes, the ``@font-face`` of
  the fonts it draws with: compact_math.prune_stylesheet), and MathJax's TeX fonts go
  to ``_static/mathjax-fonts/`` as WOFF2 (a third smaller than the WOFF files MathJax
  ships), each subset to the characters the site draws *in that font*
  (``font_chars``: a ``content:`` rule with a font class such as ``.tI`` draws in
  that font's list, one without it in the list of ``.JTEX`` and of every font class
  its character class meets in the markup, a stretchy delimiter's parts in the list
  of the stretchy rule; of a list, only the first font that has the character needs
  it).  Bold upright math, for instance, keeps the handful of characters the book
  sets in it, not the 122 that the union of all fonts would give it.  The sets only grow (``chars.json``
  there), so pages an incremental build does not rewrite keep their glyphs; a
  browser downloads only the fonts a page draws with.
* Output: CHTML (as the browser rendered it until now), with the assistive MathML copy
  for screen readers.  Korean inside ``\\text{}`` is drawn in the book's Korean web font
  (``mtextFont``).  The fixed pixel width MathJax gives such text (estimated at build
  time, where no font can be measured), and the minimum width of a table holding it,
  are removed so that the browser sizes them with the real font.
* ``\\eqref{label}`` / ``\\ref{label}`` inside TeX point at Sphinx's equation of that
  label (number and link), the same target as ``{eq}`label```.
* Strict: a TeX error (undefined macro, missing argument, unknown ``\\eqref`` label)
  is a build warning naming the source file, the line and the expression; ``-W``
  makes it an error.  MathJax's ``noerrors``/``noundefined`` packages are not loaded.
"""
from __future__ import annotations

import hashlib
import html as html_lib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

from docutils import nodes
from docutils.nodes import make_id
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

from compact_math import compact_formula, compact_style, compact_stylesheet, prune_stylesheet, top_level_rules
from lean_pages import font_preloads


logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
SCRIPT = HERE / "prerender_math.cjs"
RENDERER = "prerender_mathjax"
FONTS_DIR = "_static/mathjax-fonts"
FONT_URL_MARK = "@MJX-FONT-URL@"
# The TeX packages of the browser's `tex` component plus those it autoloads on first
# use (MathJax 3.2.2, components/src/input/tex and input/tex/extensions/autoload), so
# that the same input typesets as in the browser.  Left out on purpose: noerrors and
# noundefined (they turn errors into red text), require/autoload (browser loading).
PACKAGES = [
    "base", "ams", "newcommand", "configmacros",
    "action", "amscd", "bbox", "boldsymbol", "braket", "bussproofs", "cancel", "cases",
    "centernot", "color", "colortbl", "empheq", "enclose", "extpfeil", "gensymb", "html",
    "mhchem", "unicode", "upgreek", "verb",
]
_UTEXT_WIDTH = re.compile(r'(<mjx-utext\b[^>]*?style="[^"]*?)\s*width:\s*[\d.]+px;')
_TABLE_MIN_WIDTH = re.compile(r'(<mjx-mtable\b[^>]*?style="[^"]*?)\s*min-width:\s*[\d.]+em;')
_EMPTY_STYLE = re.compile(r' style=""')
_REF = re.compile(r"\\(eqref|ref)\s*\{([^{}]*)\}")


def node_modules() -> Path:
    """node_modules made by scripts/setup_env.sh (``npm ci`` from package-lock.json)."""
    configured = os.environ.get("BOOK_NODE_MODULES")
    path = Path(configured) if configured else HERE.parent / "node_modules"
    if not (path / "mathjax-full" / "js" / "mathjax.js").is_file():
        raise ExtensionError(
            f"mathjax-full not found in {path}: run ./build.sh, which installs it with "
            "`npm ci` from package-lock.json (Node.js 18 or newer and npm are needed)"
        )
    return path


class MathJax:
    """The Node.js process that typesets; started on first use."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.used = False  # something was typeset since the last stylesheet
        self.lock = threading.Lock()
        self.count = 0
        self.seconds = 0.0  # waiting for Node.js, start-up included
        # Formulas typeset for the current page (a page repeats $m$, $x_i$ ...).  Only
        # per page: the page's stylesheet must see every formula it shows.
        self.page_cache: dict[tuple[str, bool], tuple[str | None, str | None]] = {}
        self._container_style: str | None = None

    def _start(self) -> None:
        node = os.environ.get("NODE") or shutil.which("node")
        if not node:
            raise ExtensionError("node (Node.js 18 or newer) is needed to typeset the math; "
                                 "Debian: apt-get install nodejs npm")
        env = dict(os.environ, NODE_PATH=str(node_modules()))
        self.proc = subprocess.Popen(
            [node, str(SCRIPT), json.dumps(self.config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, encoding="utf-8",
        )

    def ask(self, request: dict) -> dict:
        with self.lock:
            start = time.perf_counter()
            if self.proc is None:
                self._start()
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
            self.seconds += time.perf_counter() - start
            self.count += "tex" in request
        if not line:
            raise ExtensionError(f"the MathJax process ({SCRIPT.name}) stopped unexpectedly")
        return json.loads(line)

    def typeset(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        key = (tex, display)
        if key not in self.page_cache:
            self.page_cache[key] = self._typeset(tex, display)
        return self.page_cache[key]

    def _typeset(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        answer = self.ask({"tex": tex, "display": display})
        if "error" in answer:
            return None, answer["error"]
        self.used = True
        out = answer["html"]
        if "<mjx-utext" in out:
            # Text MathJax could not measure: let the browser size it, and the tables
            # around it, with the real font (a min-width from the estimate pushes
            # the cells of a `cases` apart).
            out = _TABLE_MIN_WIDTH.sub(r"\1", _UTEXT_WIDTH.sub(r"\1", out))
        return compact_formula(_EMPTY_STYLE.sub("", out), self.container_style()), None

    def container_style(self) -> str:
        """The inline style MathJax gives every container (its scale), compacted."""
        if self._container_style is None:
            answer = self.ask({"tex": "x", "display": False})
            found = re.search(r'<mjx-container\b[^>]*? style="([^"]*)"', answer.get("html", ""))
            self._container_style = compact_style(found.group(1)) if found else ""
        return self._container_style

    def stylesheet(self) -> str:
        self.used = False
        self.page_cache.clear()
        return compact_stylesheet(minify_css(self.ask({"css": True})["css"]), self.container_style())

    def close(self) -> None:
        if self.count:
            logger.info(f"[prerender_math] {self.count} formulas typeset by MathJax in {self.seconds:.1f} s")
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
            self.proc.stdout.close()
            self.proc = None


def minify_css(css: str) -> str:
    # MathJax's CSS has no strings spanning lines: joining lines and dropping the
    # indentation, the space after ':' and its numbering comments is safe.
    css = "".join(line.strip() for line in css.splitlines())
    css = re.sub(r"/\* \d+ \*/", "", css)
    return re.sub(r"\s*([{};,>])\s*", r"\1", css).replace(": ", ":")


def _mathjax(self) -> MathJax:
    return self.builder.app._prerender_mathjax


def resolve_refs(self, tex: str, node: nodes.Node) -> tuple[str, list[str]]:
    """\\eqref{label} -> a link to Sphinx's equation ``label`` showing its number."""
    env = self.builder.env
    domain = env.get_domain("math")
    errors = []

    def replace(match: re.Match) -> str:
        kind, label = match.group(1), match.group(2).strip()
        found = domain.equations.get(label)
        if not found:
            errors.append(f"\\{kind}{{{label}}}: no equation has the label {label!r}")
            return match.group(0)
        docname, number = found
        node_id = make_id("equation-%s" % label)
        if env.config.math_numfig and env.config.numfig:
            numbers = env.toc_fignumbers.get(docname, {}).get("displaymath", {}).get(node_id, ())
            eqno = ".".join(map(str, numbers))
            eqno = env.config.math_numsep.join(eqno.rsplit(".", 1))
        else:
            eqno = str(number)
        uri = self.builder.get_relative_uri(self.builder.current_docname, docname) + "#" + node_id
        if docname == self.builder.current_docname:
            uri = "#" + node_id
        shown = f"({eqno})" if kind == "eqref" else eqno
        return "\\href{%s}{%s}" % (uri, shown)

    return _REF.sub(replace, tex), errors


def typeset(self, node: nodes.Node, tex: str, display: bool) -> str:
    errors = []
    if "ref" in tex:
        tex, errors = resolve_refs(self, tex, node)
    out, error = (None, None)
    if not errors:
        out, error = _mathjax(self).typeset(tex, display)
        if error:
            errors.append(error)
    if errors:
        shown = " ".join(tex.split())
        for message in errors:
            logger.warning("TeX error: %s, in %s", message,
                           f"$${shown}$$" if display else f"${shown}$",
                           location=node, type="math", subtype="tex")
        return '<span class="math-error">%s</span>' % html_lib.escape(tex)
    return out


def visit_math(self, node: nodes.math) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(typeset(self, node, node.astext(), display=False) + "</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node: nodes.math_block) -> None:
    """As sphinx.ext.mathjax.html_visit_displaymath, typeset."""
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["nowrap"]:
        tex = node.astext()
    else:
        if node["number"]:
            number = get_node_equation_number(self, node)
            self.body.append('<span class="eqno">(%s)' % number)
            self.add_permalink_ref(node, _("Link to this equation"))
            self.body.append("</span>")
        parts = [prt for prt in node.astext().split("\n\n") if prt.strip()]
        pieces = []
        for part in parts:
            pieces.append(r"\begin{split}" + part + r"\end{split}" if r"\\" in part else part)
        tex = r"\\".join(pieces)
        if len(parts) > 1:
            tex = r"\begin{align}\begin{aligned}" + tex + r"\end{aligned}\end{align}"
    self.body.append(typeset(self, node, tex, display=True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def korean_char_width() -> float:
    """Advance width of a Hangul syllable in the book's Korean font, in em."""
    try:
        from fontTools.ttLib import TTFont
        from offline_assets import FONT_FILES, font_source

        with TTFont(str(font_source(FONT_FILES["normal"])), lazy=True) as font:  # closes the file
            glyph = font.getBestCmap()[ord("가")]
            return font["hmtx"][glyph][0] / font["head"].unitsPerEm
    except Exception:  # pragma: no cover - only an estimate for MathJax's layout
        return 1.0


def on_builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    chtml = dict(app.config.prerender_math_chtml or {})
    chtml["fontURL"] = FONT_URL_MARK
    config = {
        "packages": PACKAGES,
        "tex": dict(app.config.prerender_math_tex or {}),
        "chtml": chtml,
        "metrics": dict(app.config.prerender_math_metrics or {}),
        "cjkCharWidth": korean_char_width(),
    }
    app._prerender_mathjax = MathJax(config)


_CONTENT = re.compile(r'content:\s*"((?:\\[0-9a-fA-F]{1,6} ?|\\.|[^"\\])*)"')
_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6}) ?|\\(.)")


def drawn_chars(css: str) -> set[str]:
    """The characters MathJax's CSS draws (``content: "..."``)."""
    chars = set()
    for m in _CONTENT.finditer(css):
        text = _ESCAPE.sub(lambda e: chr(int(e.group(1), 16)) if e.group(1) else e.group(2), m.group(1))
        chars.update(text)
    return chars


_FACE = re.compile(r'@font-face\{font-family:([\w-]+);src:url\("[^"]*/([^"/]+)\.woff2?"\)')
_FAMILY = re.compile(r"font-family:([^;}]*)")
_CHAR_CLASS = re.compile(r"\.(jc[0-9A-F]+)")
_FONT_CLASS = re.compile(r"\.(t[A-Z0-9]+)")
_MARKUP_CHAR = re.compile(r'<j-c class="(jc[0-9A-F]+)(?: (t[A-Z0-9]+))?"')


def _families(declarations: str) -> list[str]:
    m = _FAMILY.search(declarations)
    if not m:
        return []
    value = m.group(1).replace("! important", "").replace("!important", "")
    return [f.strip().strip("'\"") for f in value.split(",") if f.strip()]


def font_chars(css: str, body: str) -> dict[str, set[str]]:
    """{font file name without extension: the characters drawn in it} for one page,
    from its compacted stylesheet and the formulas of its ``body``."""
    files = {m.group(1): m.group(2) for m in _FACE.finditer(css)}
    class_families: dict[str, list[str]] = {}
    default: list[str] = []
    stretchy: list[str] = []
    # (selector, declarations) of each plain rule; split by hand: content:"{" is a brace.
    rules = [(r[:r.index("{")], r[r.index("{") + 1:-1]) for r in top_level_rules(css)
             if not r.startswith("@") and "{" in r]
    for selector, declarations in rules:
        families = _families(declarations)
        for sel in (x.strip() for x in selector.split(",")):
            if not families:
                continue
            if _FONT_CLASS.fullmatch(sel):
                class_families[sel[1:]] = families
            elif sel == ".JTEX":
                default = families
            elif "stretchy" in sel:
                stretchy = families
    met: dict[str, set[str]] = {}  # character class -> font classes it has in the markup
    for m in _MARKUP_CHAR.finditer(body):
        met.setdefault(m.group(1), set()).add(m.group(2))
    found: dict[str, set[str]] = {}
    for selector, declarations in rules:
        if "content:" not in declarations:
            continue
        chars = drawn_chars(declarations)
        for sel in selector.split(","):
            char_class = _CHAR_CLASS.search(sel)
            if not char_class:
                continue
            font_class = _FONT_CLASS.search(sel)
            if "stretchy" in sel:
                families = stretchy
            elif font_class:
                families = class_families.get(font_class.group(1), [])
            else:
                families = default + [f for t in sorted(met.get(char_class.group(1), set()) - {None})
                                      for f in class_families.get(t, [])]
            for char in chars:
                # The browser draws a character in the first font of the list that has
                # it: only that font needs it.
                having = [files[f] for f in families if f in files and ord(char) in source_cmap(files[f])]
                for name in having[:1] or [files[f] for f in families if f in files]:
                    found.setdefault(name, set()).add(char)
    return found


_CMAPS: dict[str, set[int]] = {}


def mathjax_fonts() -> Path:
    """The folder of MathJax's own TeX fonts (WOFF), the sources of the subsets."""
    return node_modules() / "mathjax-full" / "es5" / "output" / "chtml" / "fonts" / "woff-v2"


def as_woff2(css: str) -> str:
    """The stylesheet's font URLs pointing at the WOFF2 subsets (on_build_finished), a
    third smaller than MathJax's WOFF files."""
    return re.sub(r'\.woff"\) format\("woff"\)', '.woff2") format("woff2")', css)


def source_cmap(name: str) -> set[int]:
    """The code points MathJax's font ``name`` (e.g. MathJax_Main-Regular) draws."""
    if name not in _CMAPS:
        from fontTools.ttLib import TTFont

        path = mathjax_fonts() / f"{name}.woff"
        _CMAPS[name] = set()
        if path.is_file():
            with TTFont(str(path)) as font:
                _CMAPS[name] = set(font.getBestCmap())
    return _CMAPS[name]


def on_page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    mathjax = getattr(app, "_prerender_mathjax", None)
    if mathjax is None or not mathjax.used:
        return
    # The body, and the tables of contents that repeat its headings' formulas.
    body = "".join(v for v in context.values() if isinstance(v, str))
    css = prune_stylesheet(mathjax.stylesheet(), body)
    drawn = getattr(app, "_prerender_font_chars", {})
    page_fonts = font_chars(css, body)
    for name, chars in page_fonts.items():
        drawn.setdefault(name, set()).update(chars)
    app._prerender_font_chars = drawn
    # The page's fonts are found late (when the formula that needs one is laid out,
    # after the load event on a long page): preloaded, they come with the stylesheets.
    fonts_url = context["pathto"](FONTS_DIR, 1)
    # MathJax_Zero comes first in every font list: the browser reads it before the others.
    names = sorted(page_fonts) + (["MathJax_Zero"] if page_fonts else [])
    preload = font_preloads([f"{fonts_url}/{name}.woff2" for name in names])
    css = as_woff2(css)
    css = css.replace(FONT_URL_MARK, context["pathto"](FONTS_DIR, 1))
    context["metatags"] = context.get("metatags", "") + f'\n<style id="MJX-CHTML-styles">{css}</style>\n' + preload


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    mathjax = getattr(app, "_prerender_mathjax", None)
    if mathjax is not None:
        mathjax.close()
    if exception is not None or app.builder.format != "html":
        return
    src = mathjax_fonts()
    dest = Path(app.outdir) / FONTS_DIR
    dest.mkdir(parents=True, exist_ok=True)
    record = dest / "chars.json"  # the code that made the subsets, and each font's characters
    version = f"{source_version():08x}"
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known_fonts = {name: set(chars) for name, chars in known.get("fonts", {}).items()}
    fonts = {name: set(chars) for name, chars in known_fonts.items()}
    for name, chars in getattr(app, "_prerender_font_chars", {}).items():
        fonts.setdefault(name, set()).update(chars | {" ", "\u00a0"})
    sources = sorted(src.glob("*.woff"))
    if (known.get("version") == version and fonts == known_fonts
            and all((dest / (f.stem + ".woff2")).is_file() for f in sources)):
        return
    from offline_assets import subset_font

    for old in [*dest.glob("*.woff"), dest / "chars.txt"]:  # left by an earlier build
        old.unlink(missing_ok=True)
    for font in sources:
        # A font no page draws with is written whole (subset_font): never downloaded.
        subset_font(font, dest / (font.stem + ".woff2"), {ord(c) for c in fonts.get(font.stem, ())},
                    flavor="woff2")
    record.write_text(json.dumps({"version": version, "fonts": {k: "".join(sorted(v)) for k, v in
                                                                 sorted(fonts.items())}},
                                 ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    logger.info("[prerender_math] MathJax fonts subset: " + ", ".join(
        f"{name.removeprefix('MathJax_')} {len(chars)}" for name, chars in sorted(fonts.items())))


def source_version() -> int:
    """Changes with this file, the Node script or the locked npm packages.

    Returned as ``env_version``, so that after such a change Sphinx rereads and
    rewrites every page instead of keeping formulas typeset by the old code.
    """
    digest = hashlib.sha256()
    for path in (Path(__file__), HERE / "compact_math.py", SCRIPT, HERE.parent / "package-lock.json"):
        if path.is_file():
            digest.update(path.read_bytes())
    return int(digest.hexdigest()[:8], 16)


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer(RENDERER, (visit_math, None), (visit_displaymath, None))
    # TeX input options (e.g. {"macros": {...}}) and CHTML output options.
    app.add_config_value("prerender_math_tex", {}, "html")
    app.add_config_value("prerender_math_chtml", {}, "html")
    # The size of the text around the math (em, ex in px; containerWidth), which
    # MathJax measures in a browser and cannot measure at build time.
    app.add_config_value("prerender_math_metrics", {}, "html")
    app.connect("builder-inited", on_builder_inited)
    app.connect("html-page-context", on_page_context)
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "env_version": source_version(),
            "parallel_read_safe": True, "parallel_write_safe": False}
