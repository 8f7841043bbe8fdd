"""The strict build fails, naming the file, on each kind of fault.

Each test builds a copy of the book (the real _config.yml, extensions, templates and
references.bib, with a small table of contents) into which one fault is injected,
using the same ./build.sh a reader runs.  A clean copy is built too, so a failure
below is the fault's doing and not the copy's.
"""
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
FAST_TIMEOUT = 5  # seconds; the real limit is in _config.yml (execute.timeout)


def make_book(dest: Path, fault_page: str, fault_body, timeout: int | None = None) -> Path:
    for name in ("_config.yml", "references.bib"):
        shutil.copy2(ROOT / name, dest / name)
    for folder in ("_ext", "_templates"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    if timeout is not None:
        config = yaml.safe_load((dest / "_config.yml").read_text(encoding="utf-8"))
        config["execute"]["timeout"] = timeout
        (dest / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (dest / "intro.md").write_text("# 시험용 책\n\n결함을 하나 넣은 사본입니다.\n", encoding="utf-8")
    page = dest / fault_page
    if page.suffix == ".ipynb":
        nbformat.write(fault_body, page)
    else:
        page.write_text(fault_body, encoding="utf-8")
    (dest / "_toc.yml").write_text(
        f"format: jb-book\nroot: intro\nchapters:\n  - file: {page.stem}\n", encoding="utf-8"
    )
    return dest


def build(book: Path, offline: bool = False) -> subprocess.CompletedProcess:
    cmd = [str(ROOT / "build.sh"), str(book)]
    if offline:
        # A new network namespace with only loopback up (kernels talk over 127.0.0.1).
        cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def notebook(*sources):
    cells = [new_markdown_cell("# 결함 노트북\n\n셀 하나를 실행합니다.")]
    cells += [new_code_cell(s) for s in sources]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def assert_fails_naming(result, filename, *evidence):
    log = result.stdout + result.stderr
    assert result.returncode != 0, f"build passed despite the fault in {filename}:\n{log[-2000:]}"
    lines = [line for line in log.splitlines() if filename in line and ("WARNING" in line or "ERROR" in line)]
    assert lines, f"no warning names {filename}:\n{log[-3000:]}"
    for word in evidence:
        assert word in log, f"{word!r} not in build log:\n{log[-3000:]}"


def test_clean_copy_builds_with_no_network(tmp_path):
    nb = notebook("print(1 + 1)")
    nb.cells[0].source += (
        "\n\n$$\\operatorname{Var}(q \\cdot k) = d_k \\quad \\text{분산}$$ (eq-var)"
        "\n\n식 {eq}`eq-var`과 같은 식을 TeX 안에서 $\\eqref{eq-var}$로도 가리킵니다."
    )
    result = build(make_book(tmp_path, "chapter.ipynb", nb), offline=True)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    html = tmp_path / "_build" / "html"
    page = (html / "chapter.html").read_text(encoding="utf-8")
    # Typeset at build time: the page holds MathJax's output and loads no MathJax.
    assert page.count("<mjx-container") == 2
    assert "<mjx-assistive-mml" in page and "<math " in page  # for screen readers
    assert "mathjax" not in " ".join(re.findall(r"<script[^>]*>", page)).lower()
    assert "window.MathJax" not in page
    assert '<style id="MJX-CHTML-styles">' in page
    assert "'Book Korean'" in page  # \text{분산} in the book's Korean font
    # Sphinx numbers the equation; {eq} and \eqref show that number and link to it.
    assert '<span class="eqno">(1)' in page
    assert page.count('href="#equation-eq-var"') >= 3  # permalink, {eq}, \eqref
    fonts = {p.name for p in (html / "_static" / "mathjax-fonts").glob("*.woff*")}
    assert {"MathJax_Main-Regular.woff2", "MathJax_Math-Italic.woff2"} <= fonts
    assert (html / "_static" / "fonts" / "book-korean-normal.woff2").is_file()


# Each faulty formula with what the build log must say about it.
TEX_FAULTS = [
    ("\\undefinedmacro{x} + 1", "Undefined control sequence \\undefinedmacro"),
    ("\\frac{a}", "Missing argument for \\frac"),
    ("\\eqref{eq-nowhere}", "no equation has the label 'eq-nowhere'"),
]


@pytest.mark.parametrize("where", ["md", "ipynb"])
def test_tex_error_fails_the_build(tmp_path, where):
    """Formulas that do not compile fail the build, each named with its file and TeX.

    One page holds the three faults (an undefined macro, a missing argument, an
    \\eqref to no equation): the build goes on after the first (--keep-going), so
    the log must name every one of them.
    """
    prose = "# 잘못된 수식\n\n앞 문장은 괜찮습니다.\n\n" + "\n\n".join(
        f"{k}번째 식은 틀렸습니다: ${tex}$ 입니다." for k, (tex, _) in enumerate(TEX_FAULTS, 1)) + "\n"
    if where == "md":
        result = build(make_book(tmp_path, "bad_math.md", prose))
    else:
        nb = notebook("print(1 + 1)")
        nb.cells[0].source = prose
        result = build(make_book(tmp_path, "bad_math.ipynb", nb))
    assert_fails_naming(result, f"bad_math.{where}", "TeX error")
    log = result.stdout + result.stderr
    for tex, evidence in TEX_FAULTS:
        named = [line for line in log.splitlines()
                 if f"bad_math.{where}" in line and "TeX error" in line and evidence in line and tex in line]
        assert named, f"no warning names bad_math.{where}, {evidence!r} and {tex!r}:\n{log[-3000:]}"


def test_cell_that_raises_fails_the_build(tmp_path):
    result = build(make_book(tmp_path, "raises.ipynb", notebook("raise ValueError('injected fault')")))
    assert_fails_naming(result, "raises.ipynb", "injected fault")


def test_cell_over_the_time_limit_fails_the_build(tmp_path):
    book = make_book(tmp_path, "slow.ipynb", notebook("import time\ntime.sleep(60)"), timeout=FAST_TIMEOUT)
    result = build(book)
    assert_fails_naming(result, "slow.ipynb")
    assert "timed out" in (result.stdout + result.stderr).lower() or "Timeout" in result.stdout + result.stderr


def test_output_on_stderr_fails_the_build(tmp_path):
    result = build(make_book(tmp_path, "noisy.ipynb", notebook("import sys\nprint('oops', file=sys.stderr)")))
    assert_fails_naming(result, "noisy.ipynb", "stderr")


def test_broken_cross_reference_fails_the_build(tmp_path):
    body = "# 깨진 참조\n\n{numref}`fig-does-not-exist` 그리고 {doc}`no_such_page`.\n"
    result = build(make_book(tmp_path, "broken_ref.md", body))
    assert_fails_naming(result, "broken_ref.md", "fig-does-not-exist", "no_such_page")


def test_unknown_citation_key_fails_the_build(tmp_path):
    body = "# 없는 인용\n\n{cite}`nobody2099imaginary` 를 인용합니다.\n"
    result = build(make_book(tmp_path, "bad_cite.md", body))
    assert_fails_naming(result, "bad_cite.md", "nobody2099imaginary")
