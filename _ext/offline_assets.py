"""Serve the book's math and Korean type from the built site itself.

* MathJax 3 comes from the ``django-static-mathjax`` wheel (PyPI).  Only the files a
  page can ask for are copied to ``<outdir>/_static/mathjax/``: the loader, the TeX
  input and CHTML output components, their web fonts and the lazily loaded TeX
  extensions.  ``mathjax_path`` and ``mathjax3_config`` in ``_config.yml`` point at it.
* Korean text is drawn with NanumGothic, taken from the ``koreanize-matplotlib`` wheel
  (PyPI) and subset to the Hangul characters that the built pages contain, so a
  machine with no CJK font still shows Korean.  ``unicode-range`` keeps Latin text in
  the theme's own fonts.

Nothing is copied into the repository; both packages are pinned in requirements.txt.
"""
from __future__ import annotations

import hashlib
import re
import shutil
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
# MathJax is assembled from its components rather than the combined tex-chtml.js:
# that file carries the 426 kB context menu, which would push a page with math over
# its 1.5 MB budget.  The loader (startup.js) fetches these on demand.
MATHJAX_PARTS = [
    "startup.js",
    "core.js",
    "input/tex.js",
    "input/tex/extensions",
    "output/chtml.js",
    "output/chtml/fonts/tex.js",
    "output/chtml/fonts/woff-v2",
    "a11y/assistive-mml.js",
]


def mathjax_source() -> Path:
    """The es5 folder of MathJax 3 shipped by django-static-mathjax."""
    try:
        root = Path(str(resources.files("mathjax"))) / "static" / "mathjax" / "es5"
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the venv
        raise ExtensionError(
            "MathJax not found: pip install -r requirements.txt (django-static-mathjax)"
        ) from exc
    if not (root / "tex-chtml.js").is_file():
        raise ExtensionError(f"MathJax files missing under {root}")
    return root


def font_source(name: str) -> Path:
    path = Path(str(resources.files("koreanize_matplotlib"))) / "fonts" / name
    if not path.is_file():
        raise ExtensionError(f"Korean font {name} not found in koreanize-matplotlib")
    return path


def copy_mathjax(outdir: Path) -> None:
    src = mathjax_source()
    dest = outdir / "_static" / "mathjax"
    stamp = dest / ".complete"
    if stamp.is_file():  # no-change rebuilds copy nothing
        return
    for part in MATHJAX_PARTS:
        s, d = src / part, dest / part
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            shutil.copy2(s, d)
    stamp.write_text("MathJax 3.2.2 from django-static-mathjax\n")


def hangul_in_site(outdir: Path) -> str:
    """Every Hangul character the built site can show (pages, search index, sources)."""
    chars: set[str] = set()
    for pattern in ("**/*.html", "searchindex.js", "_sources/**/*.txt", "_static/**/*.js"):
        for path in outdir.glob(pattern):
            if "mathjax" in path.parts:
                continue
            chars.update(_HANGUL_RE.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return "".join(sorted(chars))


def subset_font(src: Path, dest: Path, text: str) -> None:
    import logging as std_logging

    from fontTools import subset

    # fontTools reports every hinting table it drops; that is expected, not news.
    std_logging.getLogger("fontTools.subset").setLevel(std_logging.ERROR)

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(src), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    dest.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(dest), options)


def unicode_range() -> str:
    return ", ".join(f"U+{a:04X}-{b:04X}" for a, b in HANGUL_RANGES)


def build_korean_font(outdir: Path) -> None:
    text = hangul_in_site(outdir)
    fonts_dir = outdir / "_static" / "fonts"
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    stamp = fonts_dir / "korean-subset.sha256"
    css_path = outdir / "_static" / "korean-font.css"
    if stamp.is_file() and stamp.read_text().strip() == digest and css_path.is_file():
        return
    css = [
        "/* NanumGothic (SIL Open Font License), subset to the Hangul this book uses. */"
    ]
    for weight, name in FONT_FILES.items():
        woff2 = f"book-korean-{weight}.woff2"
        subset_font(font_source(name), fonts_dir / woff2, text)
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
    copy_mathjax(outdir)
    build_korean_font(outdir)


def setup(app: Sphinx) -> dict:
    # Our own stylesheet: declared on every page; its file is written at build end,
    # once the text of every page (and so the font subset) is known.
    app.add_css_file("korean-font.css")
    # Inline, after the MathJax configuration (priority 500) and before MathJax
    # itself (deferred): typeset once the Korean web font has loaded.
    app.add_js_file(None, body=(HERE / "static" / "mathjax-after-fonts.js").read_text(encoding="utf-8"),
                    priority=510)
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
