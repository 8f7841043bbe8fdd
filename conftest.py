"""pytest set-up that applies to every test path (tests/ and the nbval notebooks)."""
import pytest

# Test files that share expensive work through a module-level cache: they must run on
# the same worker (tests/chapter_runs.py, one run of each chapter for both).
SHARED = {
    "tests/test_figures_reproducible.py": "chapter_runs",
    "tests/test_figure_labels.py": "chapter_runs",
}


# The files that take longest (a browser, or every chapter executed; tens of seconds
# each on 2 cores), longest first as measured: the workers take them first, so that no
# worker is left running a long file alone at the end.  Only the order changes.
LONGEST_FIRST = [
    "chapter_runs", "tests/test_pages.py", "tests/test_line_breaking.py", "tests/test_minimal_env.py",
    "tests/test_compact_markup.py", "tests/test_korean_search.py", "tests/test_bn.py",
    "tests/test_strict_build.py",
]


def scope_of(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return SHARED.get(path, path)


def pytest_collection_modifyitems(config, items):
    if getattr(config.option, "numprocesses", None):  # with -n only; a stable sort
        rank = {scope: i for i, scope in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(scope_of(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``-n N`` (test.sh), each file's tests run on one worker, in order: an nbval
    notebook's cells share one kernel, and a module's fixtures are computed once.
    (pytest-xdist's own --dist loadgroup marks do not group under pytest 9, whose node
    ids no longer take xdist's suffix; this names the groups directly.)"""
    from xdist.scheduler import LoadFileScheduling

    class ByFile(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    config.option.loadscopereorder = False  # hand files out in collection order (above)
    return ByFile(config, log)
