"""Highlighted code without the spans that change nothing on screen.

Pygments wraps every token of a code cell in a ``<span class="...">``; on a chapter
page that was 190-250 kB of markup, and about two thirds of it were names (``n``),
punctuation (``p``) and whitespace (``w``), whose colour in the book's light and dark
styles is exactly the colour of the code block itself.  After the theme has written
``_static/pygments.css`` (pydata-sphinx-theme does that when the build finishes), this
extension reads which token classes are such no-ops (``plain_token_classes``: in
every theme their rule sets the block's colour and nothing else), unwraps those spans
in every page, and marks the ``<pre>`` it changed (class ``bare``) so that its own
text takes the block's colour (``static/lean-pages.css``: ``color: inherit``; the
theme's ``pre`` rule would otherwise give it the body text colour).  Copying code,
the copy button and the search see the same text as before.
tests/test_compact_markup.py compares the pixels of code cells before and after, in the
light and the dark theme.
"""
from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

BARE = "bare"
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SELECTOR = re.compile(r'((?:html\[data-theme="[a-z]+"\] )?)\.highlight(?: \.([A-Za-z0-9_-]+))?')
_BLOCK = re.compile(r'(<div class="highlight"><pre)( class="%s")?>(.*?)(</pre></div>)' % BARE, re.S)


def _declarations(body: str) -> dict[str, str]:
    out = {}
    for part in body.split(";"):
        if ":" in part:
            name, value = part.split(":", 1)
            out[name.strip().lower()] = value.strip().lower()
    return out


def plain_token_classes(css: str) -> set[str]:
    """Token classes whose every rule sets only the colour of the block they are in.

    Rules without a theme prefix are ignored when both themes have their own block
    rule: ``html[data-theme=...]`` is more specific and always wins over them.
    """
    base: dict[str, dict[str, str]] = {}       # scope -> declarations of .highlight
    tokens: dict[str, dict[str, dict[str, str]]] = {}
    for selectors, body in _RULE.findall(re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
        for selector in selectors.split(","):
            m = _SELECTOR.fullmatch(selector.strip())
            if not m:
                continue
            scope, token = m.group(1).strip(), m.group(2)
            if token is None:
                base.setdefault(scope, {}).update(_declarations(body))
            else:
                tokens.setdefault(token, {}).setdefault(scope, {}).update(_declarations(body))
    themed = [s for s in base if s]
    if len(themed) < 2:
        return set()
    plain = set()
    for token, by_scope in tokens.items():
        ok = True
        for scope, decls in by_scope.items():
            if not scope:
                continue  # overridden by the themed rules
            colour = base.get(scope, {}).get("color")
            if colour is None or decls != {"color": colour}:
                ok = False
        if ok and all(s in by_scope for s in themed):
            plain.add(token)
    return plain


def unwrap(html: str, plain: set[str]) -> str:
    """Every highlighted block of a page without the spans of the ``plain`` classes."""
    if not plain:
        return html
    span = re.compile(r'<span class="(?:%s)">([^<]*)</span>' % "|".join(map(re.escape, sorted(plain))))

    def block(m: re.Match) -> str:
        inner, n = span.subn(r"\1", m.group(3))
        if not n and not m.group(2):
            return m.group(0)
        return f'{m.group(1)} class="{BARE}">{inner}{m.group(4)}'

    return _BLOCK.sub(block, html)


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    css = outdir / "_static" / "pygments.css"
    if not css.is_file():
        return
    plain = plain_token_classes(css.read_text(encoding="utf-8"))
    before = after = 0
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = unwrap(text, plain)
        if new != text:
            page.write_text(new, encoding="utf-8")
        before += len(text.encode("utf-8"))
        after += len(new.encode("utf-8"))
    logger.info(f"[lean_code] spans of {' '.join(sorted(plain)) or 'no class'} unwrapped: "
                f"pages {before} -> {after} bytes")


def setup(app: Sphinx) -> dict:
    # After pydata-sphinx-theme has written pygments.css (build-finished, priority 500).
    app.connect("build-finished", on_build_finished, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
