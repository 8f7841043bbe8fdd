"""The theme's load-time tab-stop pass is replaced, and only that (_ext/lean_pages.py).

tests/test_line_breaking.py checks the result in Chromium (every scrollable block a
tab stop, the others not); here, the build-time edit of the theme's script itself.
"""
import sys
from pathlib import Path

import pytest
from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import lean_pages  # noqa: E402

THEME_JS = lean_pages.theme_static() / lean_pages.THEME_JS
REPLACEMENT = (ROOT / "_ext" / "static" / lean_pages.LAZY_TAB_STOPS).read_text(encoding="utf-8")


def test_the_theme_function_is_replaced_and_the_rest_of_the_script_kept():
    original = THEME_JS.read_text(encoding="utf-8")
    patched = lean_pages.lazy_tab_stops(original, REPLACEMENT)
    assert patched.count("function I(){") == 1 and patched.count("judged.add") == 1
    assert "judged" not in original
    start = original.index("function I(){")
    end = original.index(",e()}", start) + len(",e()}")
    # Everything outside the function is byte for byte the theme's.
    assert patched.startswith(original[:start]) and patched.endswith(original[end:])
    assert len(patched) - len(original) == len(REPLACEMENT.strip()) - (end - start)


def test_the_built_site_ships_the_patched_script():
    built = ROOT / "_build" / "html" / "_static" / lean_pages.THEME_JS
    if not built.is_file():
        pytest.fail("build the book first (./build.sh)")
    assert built.read_text(encoding="utf-8") == lean_pages.lazy_tab_stops(
        THEME_JS.read_text(encoding="utf-8"), REPLACEMENT)


@pytest.mark.parametrize("changed", [
    lambda js: js.replace("function I(){", "function J(){"),  # renamed
    lambda js: js.replace("tabIndex", "tabindex"),  # rewritten
    lambda js: js.replace('window.addEventListener("load",I)', 'window.addEventListener("load",J)'),
])
def test_another_theme_version_stops_the_build(changed):
    with pytest.raises(ExtensionError, match="tab-stop function was not found"):
        lean_pages.lazy_tab_stops(changed(THEME_JS.read_text(encoding="utf-8")), REPLACEMENT)
