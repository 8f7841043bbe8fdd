"""Shorter markup for MathJax's CHTML output, drawing the same pixels.

A chapter page holds 200-540 typeset formulas; their markup was 280-540 kB of the
page's HTML, most of it names: ``<mjx-mi class="mjx-i"><mjx-c class="mjx-c1D456
TEX-I"></mjx-c></mjx-mi>`` draws one letter.  prerender_math.py passes every formula
and the page's CHTML stylesheet through the two functions here, which rename
consistently on both sides, so every rule matches what it matched before:

* element names ``mjx-NAME`` become ``j-NAME`` (type selectors in the stylesheet
  likewise), except the few that other code names (``KEPT_ELEMENTS``: the container,
  the screen-reader MathML, the text elements whose font the tests read);
* class names ``mjx-X``, ``TEX-X``, ``MJX-X`` become ``jX``, ``tX``, ``JX``
  (``.mjx-c1D456`` -> ``.jc1D456``); ``MathJax`` and every other class stay;
* the container's inline style, the same on every formula of the book (the scale
  that prerender_math_metrics gives), becomes one rule of the stylesheet
  (``!important``, as an inline style wins over every stylesheet);
* inline styles lose their spaces and leading zeros (``vertical-align: -0.15em;``
  -> ``vertical-align:-.15em``); the stylesheet's numbers likewise;
* attributes no browser or screen reader reads are dropped: ``xmlns`` on ``<math>``
  (the HTML parser puts ``<math>`` in the MathML namespace by itself),
  ``unselectable="on"`` (an Internet Explorer attribute; the stylesheet sets
  ``user-select: none``), ``display="inline"`` on the screen-reader copy (only
  ``[display="block"]`` is styled; ``display`` on ``<math>`` itself stays), MathJax's
  ``data-mjx-*`` bookkeeping in the MathML (TeX classes), and ``jax="CHTML"`` on the
  container, every container of a page being CHTML: the stylesheet's
  ``[jax="CHTML"]`` conditions become ``.MathJax``, a class every container has, of
  the same specificity, so the rules win and lose against other stylesheets as before.

The screen-reader MathML keeps every element and every attribute that carries
meaning.  tests/test_compact_markup.py draws formulas of the book before and after in
Chromium and compares the pixels.
"""
from __future__ import annotations

import re

KEPT_ELEMENTS = frozenset({"container", "assistive-mml", "utext", "mtext"})
_CLASS_PREFIXES = {"mjx-": "j", "TEX-": "t", "MJX-": "J"}

_TAG = re.compile(r"<(/?)mjx-([A-Za-z][A-Za-z0-9-]*)")  # mjx-TeXAtom too
_CLASS_ATTR = re.compile(r' class="([^"]*)"')
_STYLE_ATTR = re.compile(r' style="([^"]*)"')
_CONTAINER_STYLE = re.compile(r'(<mjx-container\b[^>]*?) style="([^"]*)"')
_LEADING_ZERO = re.compile(r"(?<![\w.])0\.(\d)")
_DROPPED = (' xmlns="http://www.w3.org/1998/Math/MathML"', ' jax="CHTML"')
# MathJax's own bookkeeping in the MathML copy (TeX classes, variants): no reader reads it.
_DATA_MJX = re.compile(r' data-mjx-[a-z-]+="[^"]*"')
_ASSISTIVE_OPEN = re.compile(r'<mjx-assistive-mml unselectable="on"( display="inline")?')


def _tag(match: re.Match) -> str:
    name = match.group(2)
    return match.group(0) if name.lower() in KEPT_ELEMENTS else f"<{match.group(1)}j-{name}"


def _class_token(token: str) -> str:
    for prefix, short in _CLASS_PREFIXES.items():
        if token.startswith(prefix) and len(token) > len(prefix):
            return short + token[len(prefix):]
    return token


def compact_style(style: str) -> str:
    """``a: 1px; b: 0.5em;`` -> ``a:1px;b:.5em``."""
    parts = [p.strip() for p in style.split(";") if p.strip()]
    parts = [re.sub(r"\s*:\s*", ":", p, count=1) for p in parts]
    return _LEADING_ZERO.sub(r".\1", ";".join(parts))


def compact_formula(html: str, container_style: str) -> str:
    """One typeset formula (``<mjx-container ...>...</mjx-container>``), shorter.

    ``container_style``: the inline style the stylesheet now gives every container
    (compact_stylesheet); a container with another style keeps it inline.
    """
    def container(match: re.Match) -> str:
        style = compact_style(match.group(2))
        return match.group(1) if style == container_style else f'{match.group(1)} style="{style}"'

    html = _CONTAINER_STYLE.sub(container, html, count=1)
    for attribute in _DROPPED:
        html = html.replace(attribute, "")
    html = _ASSISTIVE_OPEN.sub("<mjx-assistive-mml", html)
    html = _DATA_MJX.sub("", html)
    html = _TAG.sub(_tag, html)
    html = _CLASS_ATTR.sub(lambda m: ' class="%s"' % " ".join(map(_class_token, m.group(1).split())), html)
    return _STYLE_ATTR.sub(lambda m: ' style="%s"' % compact_style(m.group(1)), html)


# In a stylesheet: a type selector mjx-NAME (not inside a longer name), a class selector.
_CSS_TYPE = re.compile(r"(?<![\w.#-])mjx-([A-Za-z][A-Za-z0-9-]*)")
_CSS_CLASS = re.compile(r"\.(mjx|TEX|MJX)-([A-Za-z0-9][A-Za-z0-9-]*)")
_CSS_STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def compact_stylesheet(css: str, container_style: str) -> str:
    """MathJax's CHTML stylesheet (already minified) with the names compact_formula writes."""
    def outside_strings(text: str) -> str:
        text = _CSS_TYPE.sub(lambda m: m.group(0) if m.group(1).lower() in KEPT_ELEMENTS else "j-" + m.group(1), text)
        text = _CSS_CLASS.sub(lambda m: "." + _CLASS_PREFIXES[m.group(1) + "-"] + m.group(2), text)
        text = _LEADING_ZERO.sub(r".\1", text)
        return text.replace(";}", "}")

    css = css.replace('[jax="CHTML"]', ".MathJax")
    pieces, last = [], 0
    for m in _CSS_STRING.finditer(css):   # content:"..." and font URLs stay as written
        pieces += [outside_strings(css[last:m.start()]), m.group(0)]
        last = m.end()
    pieces.append(outside_strings(css[last:]))
    rule = ";".join(f"{d} !important" for d in container_style.split(";") if d)
    return "mjx-container{%s}" % rule + "".join(pieces)


def top_level_rules(css: str) -> list[str]:
    """A stylesheet split into its top-level rules (an ``@media`` block is one rule)."""
    from lean_pages import _block_end, _find  # the brace walker the theme's CSS purge uses

    rules, i = [], 0
    while i < len(css):
        stop = _find(css, i, "{;}")
        end = _block_end(css, stop) if stop < len(css) and css[stop] == "{" else stop + 1
        if css[i:end].strip():
            rules.append(css[i:end])
        i = end
    return rules


_FONT_CLASS_RULE = re.compile(r"\.(t[A-Z0-9]+)\{font-family:[^{}]*\}")
_FONT_FACE = re.compile(r"@font-face\{font-family:([\w-]+);")
_FAMILIES = re.compile(r"font-family:([^;}]*)")
_USED_CLASSES = re.compile(r' class="([^"]*)"')


def prune_stylesheet(css: str, body: str) -> str:
    """The page's stylesheet without the fonts it does not draw with: the font-family
    rule of a font class (``.tFR``) that no formula of ``body`` has, then the
    ``@font-face`` of every family that no remaining rule names."""
    used = {token for m in _USED_CLASSES.finditer(body) for token in m.group(1).split()}
    kept = [rule for rule in top_level_rules(css)
            if not ((m := _FONT_CLASS_RULE.fullmatch(rule)) and m.group(1) not in used)]
    named = {family.strip().strip("'\"") for rule in kept if not rule.startswith("@font-face")
             for m in _FAMILIES.finditer(rule) for family in m.group(1).replace("!important", "").replace(
                 "! important", "").split(",")}
    return "".join(rule for rule in kept
                   if not ((m := _FONT_FACE.match(rule)) and m.group(1) not in named))
