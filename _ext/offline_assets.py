"""Serve the book's Korean type from the built site itself (math: prerender_math.py).

* Korean text is drawn with NanumGothic, taken from the ``koreanize-matplotlib`` wheel
  (PyPI) and subset to the Hangul characters that the built pages contain, so a
  machine with no CJK font still shows Korean.  ``unicode-range`` keeps Latin text in
  the theme's own fonts.
* The bold weight holds only the Hangul the pages set in bold (about half of them,
  and half the bytes; the build log gives the counts): the text of every element that a rule of the site's
  stylesheets, or the browser's own (``th``, ``strong``, headings), gives a weight of
  600 or more, found with the theme's own selector engine (soupsieve, a dependency of
  beautifulsoup4) with a reader's states (hover, the section being read) taken as on.
  tests/test_pages.py checks in Chromium that every bold Hangul character on every page
  is drawn by the bold face.

Nothing is copied into the repository; the package is pinned in requirements.txt.
"""
from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
FONT_FAMILY = "Book Korean"
# Hangul syllables, Jamo, compatibility Jamo, CJK symbols and full-width forms.
HANGUL_RANGES = [
    (0x1100, 0x11FF),
    (0x3000, 0x303F),
    (0x3130, 0x318F),
    (0xAC00, 0xD7A3),
    (0xFF01, 0xFF60),
]
_HANGUL_RE = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in HANGUL_RANGES) + "]")
FONT_FILES = {"normal": "NanumGothic.ttf", "bold": "NanumGothicBold.ttf"}



def font_source(name: str) -> Path:
    path = Path(str(resources.files("koreanize_matplotlib"))) / "fonts" / name
    if not path.is_file():
        raise ExtensionError(f"Korean font {name} not found in koreanize-matplotlib")
    return path


def hangul_in_site(outdir: Path) -> str:
    """Every Hangul character the built site can show (pages, search index, sources)."""
    chars: set[str] = set()
    for pattern in ("**/*.html", "searchindex.js", "_sources/**/*.txt", "_static/**/*.js"):
        for path in outdir.glob(pattern):
            chars.update(_HANGUL_RE.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return "".join(sorted(chars))


def subset_font(src: Path, dest: Path, unicodes: set[int], *, flavor: str = "woff2",
                hinting: bool = True) -> None:
    """Write to ``dest`` the part of font ``src`` that draws ``unicodes`` (layout features
    and names kept).  If ``src`` draws none of them, ``dest`` is the whole font (copied,
    or converted to ``flavor``): a subset with no glyph is a font browsers refuse to
    decode.  Used for the Korean font here, Font Awesome (lean_pages.py) and the MathJax fonts (prerender_math.py)."""
    import logging as std_logging
    import shutil

    from fontTools import subset
    from fontTools.ttLib import TTFont

    # fontTools reports every hinting table it drops; that is expected, not news.
    std_logging.getLogger("fontTools.subset").setLevel(std_logging.ERROR)

    options = subset.Options()
    options.flavor = flavor
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.ignore_missing_unicodes = True
    options.hinting = hinting
    dest.parent.mkdir(parents=True, exist_ok=True)
    with subset.load_font(str(src), options) as font:  # closes the source file
        if not set(unicodes) & set(font.getBestCmap()):
            if font.flavor == flavor:
                shutil.copy2(src, dest)
            else:  # the whole font, in the flavour asked for
                with TTFont(str(src)) as whole:
                    whole.flavor = flavor
                    whole.save(str(dest))
            return
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(unicodes))
        subsetter.subset(font)
        subset.save_font(font, str(dest), options)


def unicode_range(chars: str | None = None) -> str:
    """The Hangul ranges, or exactly the code points of ``chars`` (runs joined)."""
    if chars is None:
        return ", ".join(f"U+{a:04X}-{b:04X}" for a, b in HANGUL_RANGES)
    points, runs = sorted({ord(c) for c in chars}), []
    for p in points:
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ", ".join(f"U+{a:04X}" if a == b else f"U+{a:04X}-{b:04X}" for a, b in runs)


# Bold type: which elements the site's stylesheets make bold.
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_CSS_CUSTOM = re.compile(r"(--[\w-]+)\s*:\s*([^;}]*)")
_WEIGHT = re.compile(r"(?:^|;)\s*font-weight\s*:\s*([^;}]+)")
_FONT_SHORTHAND = re.compile(r"(?:^|;)\s*font\s*:\s*([^;}]+)")
# States a reader brings about (hover, focus, the section being read: scrollspy's
# .active) are assumed to be on: the selector without them matches a superset.
_STATES = re.compile(r":(?:hover|focus-visible|focus-within|focus|active|visited)\b|\.active\b"
                     r"|\[aria-current=(?:\"?true\"?|page)\]|:not\(:hover\)|::?(?:before|after|marker)\b")
_MATH = re.compile(r"<mjx-container\b.*?</mjx-container>", re.S)
# Code blocks (unless a token is bold: Pygments' .gs) and head matter: text no rule bolds.
_UNBOLD = re.compile(r'<div class="highlight">(?:(?!class="gs").)*?</pre></div>|<(script|style)\b.*?</\1>', re.S)
_UTEXT = re.compile(r"<mjx-utext\b[^>]*>([^<]*)</mjx-utext>")


# What the browser's own stylesheet sets in bold (the HTML standard's rendering section).
UA_BOLD = ("b", "strong", "th", "h1", "h2", "h3", "h4", "h5", "h6")


def _is_bold(value: str, custom: dict[str, list[str]]) -> bool:
    value = value.replace("!important", "").strip()
    m = re.fullmatch(r"var\((--[\w-]+)(?:,\s*([^)]*))?\)", value)
    if m:
        values = custom.get(m.group(1)) or ([m.group(2)] if m.group(2) else [])
        return any(_is_bold(v, custom) for v in values)
    return value in ("bold", "bolder") or (value.isdigit() and int(value) >= 600)


def bold_selectors(css_texts: list[str]) -> list[str]:
    """Selectors of the rules that set a weight of 600 or more (``var()`` resolved
    through any definition of the property; a reader's states assumed on)."""
    css = _CSS_COMMENT.sub("", "\n".join(css_texts))
    custom: dict[str, list[str]] = {}
    for name, value in _CSS_CUSTOM.findall(css):
        custom.setdefault(name, []).append(value.strip())
    found = list(UA_BOLD)
    for selectors, body in _CSS_RULE.findall(css):
        weights = _WEIGHT.findall(body) + [w for f in _FONT_SHORTHAND.findall(body)
                                          for w in f.split() if w in ("bold", "bolder") or w[:1] in "6789"]
        if "@font-face" in selectors or not any(_is_bold(w, custom) for w in weights):
            continue
        for selector in selectors.split(","):
            selector = _STATES.sub("", selector.split("}")[-1]).strip()
            if selector and not selector.startswith("@"):
                found.append(selector)
    return sorted(set(found))


def _last_compound(selector: str) -> tuple[str | None, list[str]]:
    """The element name and classes of a selector's last compound (``nav a.x`` -> a, [x])."""
    last = re.split(r"\s*[ >+~]\s*", re.sub(r"\[[^\]]*\]|\([^)]*\)", "", selector.strip()))[-1]
    tag = re.match(r"[a-zA-Z][\w-]*", last)
    return (tag.group(0).lower() if tag else None), re.findall(r"\.([\w-]+)", last)


def bold_hangul(outdir: Path, pages: list[Path]) -> str:
    """The Hangul characters the built pages show in bold."""
    import soupsieve
    from bs4 import BeautifulSoup

    sheets = [p.read_text(encoding="utf-8", errors="ignore") for p in (outdir / "_static").rglob("*.css")]
    selectors = []
    for selector in bold_selectors(sheets):
        try:
            soupsieve.compile(selector)
            selectors.append(selector)
        except Exception:  # a selector soupsieve cannot read: its rule may bold anything
            logger.info(f"[offline_assets] bold type: cannot match {selector!r}; every character goes bold")
            return "".join(sorted(set(_HANGUL_RE.findall("".join(p.read_text(encoding="utf-8") for p in pages)))))
    # Candidates by the last compound of each selector (its element and classes), then
    # the whole selector checked on them: much faster than matching every element.
    compiled = [(soupsieve.compile(sel), _last_compound(sel)) for sel in selectors]
    chars: set[str] = set()
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="ignore")
        if not _HANGUL_RE.search(text):
            continue
        # A formula's only Korean is its \text{} (mjx-utext); the rest is many elements.
        text = _MATH.sub(lambda m: "<span>" + "".join(_UTEXT.findall(m.group(0))) + "</span>", text)
        text = _UNBOLD.sub("", text)
        soup = BeautifulSoup(text, "html.parser")
        by_tag: dict[str, list] = {}
        by_class: dict[str, list] = {}
        for element in soup.find_all(True):
            by_tag.setdefault(element.name, []).append(element)
            for cls in element.get("class") or ():
                by_class.setdefault(cls, []).append(element)
        for matcher, (tag, classes) in compiled:
            pool = by_class.get(classes[0], []) if classes else by_tag.get(tag or "", [])
            for element in pool:
                if matcher.match(element):
                    chars.update(_HANGUL_RE.findall(element.get_text()))
    return "".join(sorted(chars))


def build_korean_font(outdir: Path) -> None:
    text = hangul_in_site(outdir)
    fonts_dir = outdir / "_static" / "fonts"
    pages = sorted(p for p in outdir.glob("**/*.html") if "_sources" not in p.parts)
    # The subsets change with the pages and with how they are made (this file).
    digest = hashlib.sha256(text.encode() + Path(__file__).read_bytes())
    for page in pages:
        digest.update(page.read_bytes())
    digest = digest.hexdigest()[:16]
    stamp = fonts_dir / "korean-subset.sha256"
    css_path = outdir / "_static" / "korean-font.css"
    if stamp.is_file() and stamp.read_text().strip() == digest and css_path.is_file():
        return
    bold = bold_hangul(outdir, pages)
    chars = {"normal": text, "bold": bold}
    css = [
        "/* NanumGothic (SIL Open Font License), subset to the Hangul this book uses;"
        " the bold weight to what its pages set in bold. */"
    ]
    for weight, name in FONT_FILES.items():
        woff2 = f"book-korean-{weight}.woff2"
        # TrueType hinting instructions are 60 % of NanumGothic's bytes (subset: 122 kB
        # with them, 46 kB without); browsers on Linux, Android and macOS ignore or
        # auto-hint them, and the glyph outlines are unchanged.
        subset_font(font_source(name), fonts_dir / woff2, {ord(c) for c in chars[weight]}, hinting=False)
        if weight == "bold":
            # Bold Hangul the pages were not seen to use (text a script writes, a new
            # stylesheet) is drawn by the regular face rather than by another font: of
            # two faces that both cover a character the one declared last is tried first,
            # and the bold subset covers exactly its own characters.
            css.append(_font_face("book-korean-normal.woff2", "bold", unicode_range()))
        if weight == "normal" or bold:
            css.append(_font_face(woff2, weight, unicode_range() if weight == "normal" else unicode_range(bold)))
    css.append((HERE / "static" / "korean-font-families.css").read_text(encoding="utf-8"))
    css_path.write_text("\n".join(css) + "\n", encoding="utf-8")
    stamp.write_text(digest + "\n")
    logger.info(f"[offline_assets] Korean font subset: {len(text)} Hangul characters, {len(bold)} of them in bold")


def _font_face(woff2: str, weight: str, unicode_range_value: str) -> str:
    return ("@font-face {\n"
            f'  font-family: "{FONT_FAMILY}";\n'
            f"  src: url(fonts/{woff2}) format(\"woff2\");\n"
            f"  font-weight: {'700' if weight == 'bold' else '400'};\n"
            "  font-style: normal;\n"
            "  font-display: block;\n"
            f"  unicode-range: {unicode_range_value};\n"
            "}")


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    build_korean_font(outdir)


def setup(app: Sphinx) -> dict:
    # Our own stylesheet: declared on every page; its file is written at build end,
    # once the text of every page (and so the font subset) is known.
    app.add_css_file("korean-font.css")
    # Last (after lean_code.py and korean_search.py): the pages and the search index
    # are final, so a no-change rebuild finds the same digest.
    app.connect("build-finished", on_build_finished, priority=950)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
