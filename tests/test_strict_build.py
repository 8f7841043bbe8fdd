"""The strict build fails, naming the file, on each kind of fault.

The tests build copies of the book (the real _config.yml, extensions, templates and
references.bib, with a small table of contents) with the same ./build.sh a reader
runs.  A clean copy must build.  Into another copy, one fault of each kind is injected,
each on its own page, and that copy is built once: the build goes on after a fault
(--keep-going), so its log must name every faulty page with its evidence, in a warning
or an error line.  The build turns every warning into an error (-W), so each of those
lines alone fails a build, as the clean copy's success shows the rest of the book does
not.
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


def make_book(dest: Path, pages: dict[str, object], timeout: int | None = None) -> Path:
    """A copy of the book's set-up in ``dest`` whose chapters are ``pages`` ({file name: body})."""
    for name in ("_config.yml", "references.bib"):
        shutil.copy2(ROOT / name, dest / name)
    for folder in ("_ext", "_templates"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    if timeout is not None:
        config = yaml.safe_load((dest / "_config.yml").read_text(encoding="utf-8"))
        config["execute"]["timeout"] = timeout
        (dest / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (dest / "intro.md").write_text("# 시험용 책\n\n결함을 넣은 사본입니다.\n", encoding="utf-8")
    chapters = []
    for name, body in pages.items():
        page = dest / name
        if page.suffix == ".ipynb":
            nbformat.write(body, page)
        else:
            page.write_text(body, encoding="utf-8")
        chapters.append(f"  - file: {page.stem}\n")
    (dest / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n" + "".join(chapters),
                                   encoding="utf-8")
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
    """The build failed, a warning or error line names ``filename``, and the log holds
    each ``evidence`` (words that only that page's fault produces)."""
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
    result = build(make_book(tmp_path, {"chapter.ipynb": nb}), offline=True)
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
# One page holds the three TeX faults, once as MyST markdown and once in a notebook.
BAD_MATH = "# 잘못된 수식\n\n앞 문장은 괜찮습니다.\n\n" + "\n\n".join(
    f"{k}번째 식은 틀렸습니다: ${tex}$ 입니다." for k, (tex, _) in enumerate(TEX_FAULTS, 1)) + "\n"


def bad_math_notebook():
    nb = notebook("print(1 + 1)")
    nb.cells[0].source = BAD_MATH
    return nb


FAULTS = {
    "bad_math_md.md": BAD_MATH,
    "bad_math_nb.ipynb": bad_math_notebook(),
    "raises.ipynb": notebook("raise ValueError('injected fault')"),
    "slow.ipynb": notebook("import time\ntime.sleep(60)"),
    "noisy.ipynb": notebook("import sys\nprint('oops', file=sys.stderr)"),
    "broken_ref.md": "# 깨진 참조\n\n{numref}`fig-does-not-exist` 그리고 {doc}`no_such_page`.\n",
    "bad_cite.md": "# 없는 인용\n\n{cite}`nobody2099imaginary` 를 인용합니다.\n",
}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """The build of a copy with every fault of FAULTS (cells time out after FAST_TIMEOUT s)."""
    return build(make_book(tmp_path_factory.mktemp("faulty"), FAULTS, timeout=FAST_TIMEOUT))


@pytest.mark.parametrize("page", ["bad_math_md.md", "bad_math_nb.ipynb"])
def test_tex_error_fails_the_build(faulty, page):
    """Formulas that do not compile fail the build, each named with its file and TeX.

    One page holds the three faults (an undefined macro, a missing argument, an
    \\eqref to no equation): the build goes on after the first (--keep-going), so
    the log must name every one of them.
    """
    assert_fails_naming(faulty, page, "TeX error")
    log = faulty.stdout + faulty.stderr
    for tex, evidence in TEX_FAULTS:
        named = [line for line in log.splitlines()
                 if page in line and "TeX error" in line and evidence in line and tex in line]
        assert named, f"no warning names {page}, {evidence!r} and {tex!r}:\n{log[-3000:]}"


def test_cell_that_raises_fails_the_build(faulty):
    assert_fails_naming(faulty, "raises.ipynb", "injected fault")


def test_cell_over_the_time_limit_fails_the_build(faulty):
    assert_fails_naming(faulty, "slow.ipynb")
    lines = [line for line in (faulty.stdout + faulty.stderr).splitlines() if "slow.ipynb" in line]
    assert any("timed out" in line.lower() or "Timeout" in line for line in lines), lines


def test_output_on_stderr_fails_the_build(faulty):
    assert_fails_naming(faulty, "noisy.ipynb")
    lines = [line for line in (faulty.stdout + faulty.stderr).splitlines() if "noisy.ipynb" in line]
    assert any("WARNING" in line and "stderr" in line for line in lines), lines


def test_broken_cross_reference_fails_the_build(faulty):
    assert_fails_naming(faulty, "broken_ref.md", "fig-does-not-exist", "no_such_page")


def test_unknown_citation_key_fails_the_build(faulty):
    assert_fails_naming(faulty, "bad_cite.md", "nobody2099imaginary")
