"""Cut what a reader's browser downloads but never uses, keeping the look.

Measured on a chapter page before this (benchmarks/run.py --pages-only --detail):

* pydata-sphinx-theme's stylesheet (397 kB decoded) carries the CSS of the whole Font
  Awesome catalogue, one ``.fa-NAME:before{content:...}`` rule per icon (about 1,900),
  and every page downloads the Font Awesome "solid" font (156 kB) for the dozen icons
  the theme shows.  Here the icon rules no page or script uses are removed from the
  stylesheet, and each Font Awesome font is subset to the icons still referenced (the
  kept rules plus every icon code point any other stylesheet names).
* Of what is left of the theme's stylesheets (Bootstrap 5 and the theme's own rules,
  sphinx-book-theme, myst-nb, sphinx-design, Sphinx's basic.css), the selectors that
  name a class no page and no script of the site contains are dropped, the way
  PurgeCSS does it: a selector stays if every class it requires (outside ``:not()``,
  ``:is()`` and the like) occurs as a word in some HTML page or JavaScript file of the
  built site.  Scripts add classes by name (``"show"``, ``"collapsing"``), so those
  stay; element, attribute and id selectors always stay.
* Bootstrap's JavaScript bundle (81 kB), which the theme loads on every page, is
  replaced by ``static/bootstrap-lite.js`` (about 4 kB): the header tooltips, the
  download menu and the back-to-top button, the only parts these pages use; the
  stylesheet rules only Bootstrap's other components named then go with the purge.
* The search index, its stemmer and search code (searchindex.js, language_data.js,
  searchtools.js: 258 kB decoded) are loaded by the theme on every page, for a
  search-as-you-type box this book does not enable (``search_as_you_type`` is off):
  _templates/layout.html keeps them on search.html only.  The search box on every
  page still submits to search.html, where the Korean search (korean_search.py) runs.

* Two inline scripts are added twice to every page (by jupyter-book and by the
  extensions it loads): the second ``const THEBE_JS_URL`` throws "Identifier
  'THEBE_JS_URL' has already been declared" on every page.  Identical scripts are kept
  once.  Thebe itself (live code cells run by a remote kernel) is off in this offline
  book (``launch_buttons.thebe: false``), so its loader script and stylesheet, which
  name a CDN address, are left out.

* Rendering: the sections of a chapter below the first screen are laid out only when
  they come near the viewport (static/lean-pages.css, ``content-visibility: auto``),
  and the Korean web font (used by every page) is preloaded, so its download starts
  with the HTML instead of after the stylesheets.  The theme's script made every
  scrollable code block and output a tab stop at the load event, measuring all of them
  and so laying out those sections anyway (0.8 s of a slow phone's load); its function
  is replaced by static/lazy-tab-stops.js, the same rule applied near the viewport
  first and to the rest while the page is idle.

The files are rewritten in the built site from the theme package's own copies, so a
rebuild never subsets an already subset font.  Nothing is copied into the repository.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
OWN_CSS = "lean-pages.css"
# Fonts every page uses (offline_assets.py writes them): preloaded.
PRELOAD_FONTS = ["fonts/book-korean-normal.woff2", "fonts/book-korean-bold.woff2"]
THEME_CSS = "styles/pydata-sphinx-theme.css"
# The theme's Bootstrap bundle (81 kB), replaced by what the pages use of it.
BOOTSTRAP_JS = "scripts/bootstrap.js"
BOOTSTRAP_LITE = "bootstrap-lite.js"
# The theme's script: its load-time tab-stop pass is replaced by a lazy one.
THEME_JS = "scripts/pydata-sphinx-theme.js"
LAZY_TAB_STOPS = "lazy-tab-stops.js"
# Stylesheets purged of unused selectors (paths under _static; glob patterns).
PURGED_CSS = ["styles/pydata-sphinx-theme.css", "styles/sphinx-book-theme.css", "basic.css",
              "mystnb.*.css", "sphinx-design.min.css"]
ORIGINALS = "lean-pages-originals"  # next to the site: the stylesheets as Sphinx copied them
FA_FONTS = "vendor/fontawesome/webfonts"
# One icon rule of Font Awesome's CSS, possibly for several names (aliases).
_ICON_RULE = re.compile(r'((?:\.fa-[a-z0-9-]+:before,?)+)\{content:"((?:\\[0-9a-fA-F]+ ?|[^"\\])*)"\}')
_ICON_NAME = re.compile(r"\.fa-([a-z0-9-]+):before")
_FA_CLASS = re.compile(r"\bfa-([a-z0-9-]+)")
# A code point written as a CSS escape inside a string ("\f00d", "\e0bb ").
_CSS_ESCAPE = re.compile(r'"\\([0-9a-fA-F]{2,6}) ?"')


def theme_static() -> Path:
    import pydata_sphinx_theme

    return Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"


def icons_used(outdir: Path) -> set[str]:
    """Font Awesome icon names in any page (class attributes) or in any script."""
    names: set[str] = set()
    for path in outdir.rglob("*.html"):
        text = path.read_text(encoding="utf-8", errors="ignore")
        for classes in re.findall(r'class="([^"]*)"', text):
            names.update(_FA_CLASS.findall(classes))
    for path in (outdir / "_static").rglob("*.js"):
        names.update(_FA_CLASS.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return names


def prune_icon_rules(css: str, used: set[str]) -> tuple[str, int, int]:
    kept = removed = 0

    def keep(match: re.Match) -> str:
        nonlocal kept, removed
        selectors = [s for s in match.group(1).rstrip(",").split(",")
                     if _ICON_NAME.match(s).group(1) in used]
        if not selectors:
            removed += 1
            return ""
        kept += 1
        return ",".join(selectors) + '{content:"' + match.group(2) + '"}'

    return _ICON_RULE.sub(keep, css), kept, removed


def code_points(css: str) -> set[int]:
    """Icon code points named in a stylesheet: escapes ("\\f0f3") or literal characters of
    the Private Use Area, where Font Awesome puts its icons (the theme writes both)."""
    points = {int(m.group(1), 16) for m in _CSS_ESCAPE.finditer(css)}
    points |= {ord(c) for c in css if 0xE000 <= ord(c) <= 0xF8FF or ord(c) >= 0xF0000}
    return points


# --- Unused-selector purge ---------------------------------------------------------

_WORD = re.compile(r"[A-Za-z0-9_-]+")
_CLASS = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")


_SCRIPT_SRC = re.compile(r'<script\b[^>]*\bsrc="([^"?#]+)')


def site_words(outdir: Path) -> set[str]:
    """Every word of every page and of every script a page loads: a superset of the
    classes in use.  (Scripts no page loads, such as the theme's 1.5 MB fontawesome.js,
    name classes no reader ever sees.)"""
    words: set[str] = set()
    scripts: set[Path] = set()
    for path in outdir.glob("**/*.html"):
        if "_sources" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        words.update(_WORD.findall(text))
        for src in _SCRIPT_SRC.findall(text):
            if "://" not in src:
                scripts.add((path.parent / src).resolve())
    for script in scripts:
        if script.is_file():
            words.update(_WORD.findall(script.read_text(encoding="utf-8", errors="ignore")))
    return words


def _skip_string(css: str, i: int) -> int:
    quote = css[i]
    i += 1
    while i < len(css) and css[i] != quote:
        i += 2 if css[i] == "\\" else 1
    return i + 1


def _find(css: str, i: int, stops: str) -> int:
    """Index of the first of ``stops`` at nesting depth 0 from i (strings, comments, () skipped)."""
    depth = 0
    while i < len(css):
        c = css[i]
        if c in "\"'":
            i = _skip_string(css, i)
            continue
        if css.startswith("/*", i):
            i = css.find("*/", i + 2) + 2 if css.find("*/", i + 2) >= 0 else len(css)
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0 and c in stops:
            return i
        i += 1
    return len(css)


def _block_end(css: str, i: int) -> int:
    """Index just after the '}' closing the block whose '{' is at i."""
    depth = 0
    while i < len(css):
        c = css[i]
        if c in "\"'":
            i = _skip_string(css, i)
            continue
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            i = end + 2 if end >= 0 else len(css)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(css)


def required_classes(selector: str) -> list[str]:
    """Classes a selector needs, ignoring those inside functional pseudo-classes."""
    i, plain = 0, []
    while i < len(selector):
        if selector[i] == ":":
            j = i + 1
            while j < len(selector) and selector[j] == ":":
                j += 1
            m = re.match(r"-?[a-zA-Z-]+", selector[j:])
            name = m.group(0) if m else ""
            k = j + len(name)
            if k < len(selector) and selector[k] == "(":
                # :not(.a), :is(.a, .b), :nth-child(2n): the argument never makes a
                # class required (alternatives or negations), so it is skipped.
                depth, k2 = 0, k
                while k2 < len(selector):
                    if selector[k2] == "(":
                        depth += 1
                    elif selector[k2] == ")":
                        depth -= 1
                        if depth == 0:
                            break
                    k2 += 1
                i = k2 + 1
                continue
            i = k
            continue
        if selector[i] == "[":
            end = selector.find("]", i)
            i = end + 1 if end >= 0 else len(selector)
            continue
        plain.append(selector[i])
        i += 1
    return _CLASS.findall("".join(plain))


def purge_css(css: str, used: set[str]) -> str:
    out = []
    i = 0
    while i < len(css):
        if css[i].isspace():
            i += 1
            continue
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            end = end + 2 if end >= 0 else len(css)
            if css.startswith("/*!", i):  # licence comments stay
                out.append(css[i:end])
            i = end
            continue
        stop = _find(css, i, "{;}")
        if stop >= len(css) or css[stop] == "}":
            i = stop + 1
            continue
        prelude = css[i:stop].strip()
        if css[stop] == ";":  # @import, @charset, ...
            out.append(prelude + ";")
            i = stop + 1
            continue
        end = _block_end(css, stop)
        body = css[stop + 1:end - 1]
        if prelude.startswith("@"):
            name = prelude[1:].split(None, 1)[0].split("(")[0].lower()
            if name in ("media", "supports", "container", "layer", "document"):
                inner = purge_css(body, used)
                if inner:
                    out.append(prelude + "{" + inner + "}")
            else:  # @font-face, @keyframes, @page, ...: kept whole
                out.append(prelude + "{" + body + "}")
        else:
            selectors = []
            start = 0
            while start <= len(prelude):
                comma = _find(prelude, start, ",")
                selectors.append(prelude[start:comma].strip())
                start = comma + 1
            kept = [sel for sel in selectors if sel and all(c in used for c in required_classes(sel))]
            if kept:
                out.append(",".join(kept) + "{" + body + "}")
        i = end
    return "".join(out)


_VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")
_PROPERTY_NAME = re.compile(r"--[\w-]+")


def drop_unused_properties(css: str, referenced: set[str]) -> str:
    """``css`` without the custom-property declarations (``--name: ...``) whose name is
    not in ``referenced``; @font-face, @keyframes and the like are kept whole."""
    out, i = [], 0
    while i < len(css):
        stop = _find(css, i, "{;}")
        if stop >= len(css) or css[stop] != "{":
            out.append(css[i:stop + 1])
            i = stop + 1
            continue
        prelude = css[i:stop]
        end = _block_end(css, stop)
        body = css[stop + 1:end - 1]
        name = prelude.strip()[1:].split(None, 1)[0].split("(")[0].lower() if prelude.strip().startswith("@") else ""
        if name in ("media", "supports", "container", "layer", "document"):
            body = drop_unused_properties(body, referenced)
        elif not name:
            kept, j = [], 0
            while j < len(body):
                semi = _find(body, j, ";")
                declaration = body[j:semi]
                prop = declaration.strip().split(":", 1)[0].strip()
                if declaration.strip() and not (prop.startswith("--") and prop not in referenced):
                    kept.append(declaration)
                j = semi + 1
            body = ";".join(kept)
        out.append(prelude + "{" + body + "}")
        i = end
    return "".join(out)


def lazy_tab_stops(js: str, replacement: str) -> str:
    """The theme's script with its tab-stop function (``I`` in pydata-sphinx-theme
    0.16's bundle) replaced by ``replacement`` (static/lazy-tab-stops.js).

    That function, run at the load event, reads scrollWidth and scrollHeight of every
    code block, cell output and table to make the scrollable ones tab stops, which lays
    out the whole page at once.  Found by its shape, not its exact text; anything else
    (another theme version) stops the build rather than leave a page half-patched.
    """
    start = js.find("function I(){const e=()=>{document.querySelectorAll([")
    end = js.find(",e()}", start) + len(",e()}") if start >= 0 else -1
    body = js[start:end] if start >= 0 and end > start else ""
    called = '"complete"===document.readyState?I():window.addEventListener("load",I)'
    if (not body or js.count("function I(){") != 1 or "tabIndex" not in body
            or "scrollWidth" not in body or called not in js):
        raise ExtensionError(f"[lean_pages] {THEME_JS}: the theme's tab-stop function was not found "
                             f"(another pydata-sphinx-theme version?); see {LAZY_TAB_STOPS}")
    return js[:start] + replacement.strip() + js[end:]


def pristine(static: Path, rel: Path, originals: Path) -> Path | None:
    """The stylesheet as Sphinx copied it (kept aside, since we overwrite it)."""
    current = static / rel
    saved = originals / rel
    mark = originals / (str(rel) + ".written")
    if not current.is_file():
        return None
    data = current.read_bytes()
    ours = mark.is_file() and mark.read_bytes() == hashlib.sha256(data).hexdigest().encode()
    if not ours:  # freshly copied by Sphinx (first build, or the theme changed)
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(data)
    return saved


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    static = outdir / "_static"
    (static / OWN_CSS).write_bytes((HERE / "static" / OWN_CSS).read_bytes())
    if (static / BOOTSTRAP_JS).is_file():  # before the purge: its words are the ones kept
        (static / BOOTSTRAP_JS).write_bytes((HERE / "static" / BOOTSTRAP_LITE).read_bytes())
    original = theme_static()
    if (static / THEME_JS).is_file() and (original / THEME_JS).is_file():
        (static / THEME_JS).write_text(
            lazy_tab_stops((original / THEME_JS).read_text(encoding="utf-8"),
                           (HERE / "static" / LAZY_TAB_STOPS).read_text(encoding="utf-8")),
            encoding="utf-8")
    css_path = static / THEME_CSS
    if not css_path.is_file() or not (original / THEME_CSS).is_file():
        return
    css, kept, removed = prune_icon_rules((original / THEME_CSS).read_text(encoding="utf-8"),
                                          icons_used(outdir))
    css_path.write_text(css, encoding="utf-8")
    # Every icon code point still named by a stylesheet of the site.
    points = code_points(css)
    for other in static.rglob("*.css"):
        if other != css_path and "fontawesome" not in other.parts:
            points |= code_points(other.read_text(encoding="utf-8", errors="ignore"))
    from offline_assets import subset_font

    for font in (original / FA_FONTS).glob("*.woff2"):
        subset_font(font, static / FA_FONTS / font.name, points)
    logger.info(f"[lean_pages] Font Awesome: {kept} icon rules kept, {removed} removed; "
                f"fonts subset to {len(points)} code points")

    used = site_words(outdir)
    originals = outdir.parent / ORIGINALS
    before = 0
    purged_sheets: dict[Path, str] = {}
    for pattern in PURGED_CSS:
        for path in sorted(static.glob(pattern)):
            rel = path.relative_to(static)
            if path == css_path:
                source = css  # already without the unused icon rules
            else:
                saved = pristine(static, rel, originals)
                if saved is None:
                    continue
                source = saved.read_text(encoding="utf-8")
            purged_sheets[path] = purge_css(source, used)
            before += len(source.encode("utf-8"))
    # Custom properties (the theme and Bootstrap define about 700) that nothing reads:
    # no var() of any stylesheet, no page or script naming them.  Repeated, as a
    # dropped declaration may have been the only reader of another property.
    others = [p.read_text(encoding="utf-8", errors="ignore") for p in static.rglob("*.css")
              if p not in purged_sheets]
    named = set(_PROPERTY_NAME.findall(" ".join(
        p.read_text(encoding="utf-8", errors="ignore") for p in [*outdir.glob("**/*.html"), *static.rglob("*.js")]
        if "_sources" not in p.parts)))
    while True:
        referenced = named | {m for text in [*others, *purged_sheets.values()] for m in _VAR_USE.findall(text)}
        dropped = {path: drop_unused_properties(text, referenced) for path, text in purged_sheets.items()}
        if dropped == purged_sheets:
            break
        purged_sheets = dropped
    after = 0
    for path, purged in purged_sheets.items():
        rel = path.relative_to(static)
        path.write_text(purged, encoding="utf-8")
        mark = originals / (str(rel) + ".written")
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text(hashlib.sha256(purged.encode("utf-8")).hexdigest(), encoding="utf-8")
        after += len(purged.encode("utf-8"))
    logger.info(f"[lean_pages] stylesheets: {before} -> {after} bytes")


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", "") or "")
    body = (getattr(asset, "attributes", {}) or {}).get("body", "")
    return "sphinx-thebe" in name or "THEBE_JS_URL" in body


def on_page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    thebe_on = bool((app.config.html_theme_options or {}).get("launch_buttons", {}).get("thebe"))
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if not assets:
            continue
        seen, kept = set(), []
        for asset in assets:
            ident = (str(getattr(asset, "filename", asset)),
                     tuple(sorted((getattr(asset, "attributes", {}) or {}).items())))
            if ident in seen or (not thebe_on and _is_thebe(asset)):
                continue
            if ident[0].endswith("design-tabs.js") and "sd-tab-set" not in context.get("body", ""):
                continue  # sphinx-design's tab switching, on a page without tabs
            seen.add(ident)
            kept.append(asset)
        context[key] = kept
    # Preloaded only when the site is served over HTTP: a font preload must be a CORS
    # request, which a page opened from disk (file://) cannot make; Chromium then logs
    # an error although the @font-face rule itself loads the font fine.
    preload = font_preloads([context["pathto"]("_static/" + font, 1) for font in PRELOAD_FONTS])
    context["metatags"] = context.get("metatags", "") + "\n" + preload


def font_preloads(hrefs: list[str]) -> str:
    """A script that preloads the WOFF2 fonts ``hrefs`` when the page is served over HTTP."""
    urls = ",".join(f'"{href}"' for href in hrefs)
    return ('<script>if (location.protocol !== "file:") { for (const href of [' + urls + ']) {'
            ' const l = document.createElement("link"); l.rel = "preload"; l.as = "font";'
            ' l.type = "font/woff2"; l.crossOrigin = "anonymous"; l.href = href;'
            ' document.head.appendChild(l); } }</script>\n')


def source_version() -> int:
    """Changes with this file: Sphinx then rewrites every page (see korean_search.py)."""
    digest = hashlib.sha256(Path(__file__).read_bytes() + (HERE / "static" / OWN_CSS).read_bytes()
                            + (HERE / "static" / BOOTSTRAP_LITE).read_bytes())
    return int(digest.hexdigest()[:8], 16)


def setup(app: Sphinx) -> dict:
    app.add_css_file(OWN_CSS)
    app.connect("build-finished", on_build_finished)
    # After the extensions that add assets (default priority 500).
    app.connect("html-page-context", on_page_context, priority=900)
    return {"version": "1.0", "env_version": source_version(),
            "parallel_read_safe": True, "parallel_write_safe": True}
