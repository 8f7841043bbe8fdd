#!/usr/bin/env python3
"""Measure the book on this machine and write benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py            # everything (~10 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --no-tests # skip the whole-suite timing

Works on a fresh clone of the committed tree in a temporary folder, so the working
tree is not touched (commit first to measure your changes):
  1. set-up: ``source scripts/setup_env.sh`` (virtual environment + pip install,
     with pip's download cache switched off);
  2. clean build (``./build.sh`` with no _build) and a no-change rebuild;
  3. each notebook executed alone: wall time and the kernel's peak memory;
  4. nbval on every notebook, and the whole test suite (``./test.sh``);
  5. bytes each page loads in headless Chromium: decoded, and on the wire from a
     server that gzips text as web servers do.
Targets (2 cores): no-change rebuild < 2 s; clean build <= 1.3 x the summed notebook
execution time + 10 s; every page < 1.5 MB on the wire.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

MEASURE_NOTEBOOK = r"""
import resource, sys, time
sys.path.insert(0, "scripts")
import run_notebooks
from pathlib import Path
t = time.perf_counter()
run_notebooks.execute_notebook(Path(sys.argv[1]))
elapsed = time.perf_counter() - t
# ru_maxrss of the children of this process: the kernel (kB on Linux)
print(f"{elapsed:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
"""


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd)} failed (exit {result.returncode}):\n"
                 + (result.stdout + result.stderr)[-3000:])
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="skip timing ./test.sh")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="book-bench-"))
    clone = work / "book"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout.strip()
    rows: list[tuple[str, str, str]] = []

    # pip's download cache is switched off, as on a machine that never installed these.
    env = dict(os.environ, PIP_NO_CACHE_DIR="1")
    setup = timed(["bash", "-c", "source scripts/setup_env.sh"], clone, env)
    rows.append(("set-up from a fresh clone (venv + pip install, no pip cache)", f"{setup:.1f} s", ""))

    py = str(clone / ".venv" / "bin" / "python")
    notebooks = sorted((clone / "notebooks").glob("*.ipynb"))
    nb_rows = []
    total_exec = 0.0
    for nb in notebooks:
        out = subprocess.run([py, "-c", MEASURE_NOTEBOOK, str(nb)], cwd=clone,
                             capture_output=True, text=True, check=True).stdout.split()
        seconds, rss_kb = float(out[0]), int(out[1])
        total_exec += seconds
        nb_rows.append((nb.name, seconds, rss_kb / 1024))

    clean = timed(["./build.sh"], clone)
    target_clean = 1.3 * total_exec + 10
    rows.append(("clean build", f"{clean:.1f} s",
                 f"target <= 1.3 x {total_exec:.1f} + 10 = {target_clean:.1f} s: "
                 + ("met" if clean <= target_clean else "NOT met")))
    rebuilds = [timed(["./build.sh"], clone) for _ in range(3)]
    rebuild = min(rebuilds)
    rows.append(("no-change rebuild, `./build.sh` (best of 3)", f"{rebuild:.2f} s",
                 "target < 2 s: " + ("met" if rebuild < 2 else "NOT met")))
    forced = min(timed(["./build.sh"], clone, dict(os.environ, FORCE="1")) for _ in range(3))
    rows.append(("no-change rebuild with Sphinx started anyway, `FORCE=1 ./build.sh` (best of 3)",
                 f"{forced:.2f} s", "for comparison: Sphinx finds nothing to do"))
    nbval = timed([py, "-m", "pytest", "-q", "--nbval", "--nbval-current-env", "notebooks"], clone)
    rows.append(("nbval, every notebook", f"{nbval:.1f} s", ""))
    if not args.no_tests:
        suite = timed(["./test.sh", "-q"], clone)
        rows.append(("whole test suite (./test.sh, book already built)", f"{suite:.1f} s", ""))

    sys.path.insert(0, str(clone / "tests"))
    import booksite  # noqa: E402  (from the clone)

    pages = []
    with booksite.serve(clone / "_build" / "html") as url, booksite.browser() as b:
        for page in booksite.site_pages(clone / "_build" / "html"):
            r = booksite.inspect_page(b, url, page, check_fonts=False)
            pages.append((page, r.transferred, r.bytes, len(r.requests)))

    lines = [
        f"측정 환경 (machine): {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"commit `{commit}`, `.venv/bin/python benchmarks/run.py`.",
        "",
        "| 항목 (measure) | 값 (value) | 목표 (target) |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        "노트북별 실행 시간과 커널의 최대 메모리 (each notebook executed alone, fresh kernel):",
        "",
        "| 노트북 (notebook) | 실행 시간 (s) | 최대 메모리 (MiB) |",
        "|---|---|---|",
        *[f"| `{n}` | {s:.1f} | {m:.0f} |" for n, s, m in nb_rows],
        f"| 합계 (total) | {total_exec:.1f} | |",
        "",
        "페이지마다 내려받는 바이트 (bytes per page, empty cache, fonts and figures included). "
        "'전송량'은 텍스트를 gzip으로 압축해 보내는 웹 서버 기준이고, '원래 크기'는 압축을 풀었을 때입니다. "
        "목표는 전송량 1.5 MB 미만입니다.",
        "",
        "| 페이지 (page) | 전송량 (on the wire) | 원래 크기 (decoded) | 요청 수 (requests) |",
        "|---|---|---|---|",
        *[f"| `{p}` | {t / 1e6:.2f} MB | {d / 1e6:.2f} MB | {n} |" for p, t, d, n in pages],
        "",
    ]
    worst = max(t for _, t, _, _ in pages)
    lines.append(f"가장 무거운 페이지의 전송량: {worst / 1e6:.2f} MB "
                 f"({'목표 달성' if worst < 1.5e6 else '목표 미달'}).")
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
