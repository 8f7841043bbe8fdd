"""pytest set-up that applies to every test path (tests/ and the nbval notebooks)."""
import pytest

# Test files that share expensive work through a module-level cache: they must run on
# the same worker (tests/chapter_runs.py, one run of each chapter for both).
SHARED = {
    "tests/test_figures_reproducible.py": "chapter_runs",
    "tests/test_figure_labels.py": "chapter_runs",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``-n N`` (test.sh), each file's tests run on one worker, in order: an nbval
    notebook's cells share one kernel, and a module's fixtures are computed once.
    (pytest-xdist's own --dist loadgroup marks do not group under pytest 9, whose node
    ids no longer take xdist's suffix; this names the groups directly.)"""
    from xdist.scheduler import LoadFileScheduling

    class ByFile(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return SHARED.get(path, path)

    return ByFile(config, log)
