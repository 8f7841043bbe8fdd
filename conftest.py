"""pytest set-up that applies to every test path (tests/ and the nbval notebooks)."""
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))  # run_notebooks, which tests/chapter_runs.py uses

import chapter_runs  # noqa: E402  (the same module the test files import)

# glibc's malloc gives freed memory back to the system as soon as the top of the heap is
# free, and takes it again on the next allocation: every temporary array of the chapters'
# experiments (hundreds of kB, thousands per run) then costs the kernel fresh zeroed pages.
# The tests' processes (xdist's workers, the chapters' kernels, the builds they start) are
# made with a heap that keeps up to 256 MB free and arrays of up to 32 MB on it: batch norm's
# experiment took 17.8 s (5.3 s of it in the system, 2.6 million page faults) and takes
# 12.4 s, with the same numbers.  Set here, before xdist starts its workers; a value already
# set is kept.  Other C libraries ignore the variable.
os.environ.setdefault("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=33554432")

# The two files that check the figures of nbval's run of a chapter (tests/chapter_runs.py):
# each of their tests of one notebook runs on that notebook's worker, after its nbval cells.
FIGURE_FILES = ("tests/test_figures_reproducible.py", "tests/test_figure_labels.py")
NOTEBOOK_PARAM = re.compile(r"\[(?P<stem>[A-Za-z0-9_]+)(?:\.ipynb)?\]$")

# The longest groups of tests (a browser, every chapter executed, a chapter's nbval run
# with the figure checks of it; tens of seconds each on 2 cores), longest first as
# measured: the workers take them first, so that no worker is left running a long group
# alone at the end.  Only the order changes.
LONGEST_FIRST = [
    "tests/test_minimal_env.py", "tests/test_pages.py", "tests/test_bn.py", "tests/test_strict_build.py",
    "notebooks/batch_norm.ipynb", "tests/test_compact_markup.py", "tests/test_korean_search.py",
    "notebooks/resnet.ipynb", "notebooks/transformer_block.ipynb", "tests/test_resnet_experiment.py",
    "tests/test_lazy_sections.py", "tests/test_setup_messages.py",
    "notebooks/scaled_dot_product_attention.ipynb", "tests/test_transformer_block.py",
    "notebooks/layer_norm.ipynb", "notebooks/attention_permutation.ipynb",
]


# Files that read the same page loads (booksite.desktop_reports) run on one worker.
SHARED_LOADS = {"tests/test_line_breaking.py": "tests/test_pages.py"}


def scope_of(nodeid: str) -> str:
    path, _, rest = nodeid.partition("::")
    if path in SHARED_LOADS:
        return SHARED_LOADS[path]
    if path in FIGURE_FILES:
        m = NOTEBOOK_PARAM.search(rest)
        if m and (ROOT / "notebooks" / f"{m['stem']}.ipynb").is_file():
            return f"notebooks/{m['stem']}.ipynb"
    return path


def pytest_collection_modifyitems(config, items):
    # A stable sort: the longest groups first, and in every group nbval's cells before the
    # tests that read nbval's run.  (Always: under -n the workers collect, and a worker's
    # config no longer says -n.)
    rank = {scope: i for i, scope in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: (rank.get(scope_of(item.nodeid), len(rank)),
                                 not item.nodeid.startswith("notebooks/")))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``-n N`` (test.sh), each group's tests run on one worker, in order: an nbval
    notebook's cells share one kernel, a module's fixtures are computed once, and the
    figure checks of a chapter read the run its nbval cells just made (scope_of).
    (pytest-xdist's own --dist loadgroup marks do not group under pytest 9, whose node
    ids no longer take xdist's suffix; this names the groups directly.)"""
    from xdist.scheduler import LoadFileScheduling

    class ByFile(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    config.option.loadscopereorder = False  # hand groups out in collection order (above)
    return ByFile(config, log)


def _nbval_cell(item):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return None
    return item if isinstance(item, IPyNbCell) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Before a notebook's first nbval cell, nbval starts its kernel: start it on other
    numpy/OpenBLAS code paths, recording the text of every figure (tests/chapter_runs.py)."""
    cell = _nbval_cell(item)
    notebook = cell.parent if cell is not None else None
    if notebook is None or notebook.kernel is not None:
        yield
        return
    path = Path(str(notebook.fspath)).resolve()
    record = Path(item.config._tmp_path_factory.mktemp(f"nbval-{path.stem}")) / "figure-text.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in chapter_runs.kernel_env(record).items():
            mp.setenv(key, value)  # read by the kernel nbval starts now, not by this process
        chapter_runs.recordings[path] = chapter_runs.Recording.start(notebook.nb, record)
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield
    cell = _nbval_cell(item)
    if cell is None or cell.test_outputs is None:
        return
    recording = chapter_runs.recordings.get(Path(str(cell.parent.fspath)).resolve())
    if recording is not None:
        index = next(i for i, c in enumerate(recording.notebook.cells) if c.get("id") == cell.cell.get("id"))
        recording.cell_ran(index, cell.test_outputs)
