"""Serve the book's Korean type from the built site itself (math: prerender_math.py).

* Korean text is drawn with NanumGothic, taken from the ``koreanize-matplotlib`` wheel
  (PyPI) and subset to the Hangul characters that the built pages contain, so a
  machine with no CJK font still shows Korean.  ``unicode-range`` keeps Latin text in
  the theme's own fonts.

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
    or converted to ``flavor``): a subset with no glyph is a font browsers refuse to decode.  Used for the Korean font here,
    Font Awesome (lean_pages.py) and the MathJax fonts (prerender_math.py)."""
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
    font = subset.load_font(str(src), options)
    if not set(unicodes) & set(font.getBestCmap()):
        if font.flavor == flavor:
            shutil.copy2(src, dest)
        else:  # the whole font, in the flavour asked for
            whole = TTFont(str(src))
            whole.flavor = flavor
            whole.save(str(dest))
        return
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(unicodes))
    subsetter.subset(font)
    subset.save_font(font, str(dest), options)


def unicode_range() -> str:
    return ", ".join(f"U+{a:04X}-{b:04X}" for a, b in HANGUL_RANGES)


def build_korean_font(outdir: Path) -> None:
    text = hangul_in_site(outdir)
    fonts_dir = outdir / "_static" / "fonts"
    # The subset changes with the text and with how it is made (this file).
    digest = hashlib.sha256(text.encode() + Path(__file__).read_bytes()).hexdigest()[:16]
    stamp = fonts_dir / "korean-subset.sha256"
    css_path = outdir / "_static" / "korean-font.css"
    if stamp.is_file() and stamp.read_text().strip() == digest and css_path.is_file():
        return
    css = [
        "/* NanumGothic (SIL Open Font License), subset to the Hangul this book uses. */"
    ]
    for weight, name in FONT_FILES.items():
        woff2 = f"book-korean-{weight}.woff2"
        # TrueType hinting instructions are 60 % of NanumGothic's bytes (subset: 122 kB
        # with them, 46 kB without); browsers on Linux, Android and macOS ignore or
        # auto-hint them, and the glyph outlines are unchanged.
        subset_font(font_source(name), fonts_dir / woff2, {ord(c) for c in text}, hinting=False)
        css.append(
            "@font-face {\n"
            f'  font-family: "{FONT_FAMILY}";\n'
            f"  src: url(fonts/{woff2}) format(\"woff2\");\n"
            f"  font-weight: {'700' if weight == 'bold' else '400'};\n"
            "  font-style: normal;\n"
            "  font-display: block;\n"
            f"  unicode-range: {unicode_range()};\n"
            "}"
        )
    css.append((HERE / "static" / "korean-font-families.css").read_text(encoding="utf-8"))
    css_path.write_text("\n".join(css) + "\n", encoding="utf-8")
    stamp.write_text(digest + "\n")
    logger.info(f"[offline_assets] Korean font subset: {len(text)} Hangul characters")


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    build_korean_font(outdir)


def setup(app: Sphinx) -> dict:
    # Our own stylesheet: declared on every page; its file is written at build end,
    # once the text of every page (and so the font subset) is known.
    app.add_css_file("korean-font.css")
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
