#!/usr/bin/env python3
"""Measure the book on this machine and write benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py                 # everything (~15 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --no-tests      # skip the whole-suite timing
    .venv/bin/python benchmarks/run.py --pages-only    # only the page table, on the existing
                                                       # _build/html (about 3 minutes)
    .venv/bin/python benchmarks/run.py --pages-only --html DIR --runs 5 --page notebooks/resnet.html
    .venv/bin/python benchmarks/run.py --pages-only --detail notebooks/resnet.html  # every resource

``--pages-only`` prints its table (``--out FILE`` also writes it) and never touches
benchmarks/RESULTS.md: the full run writes that file.

Works on a fresh clone of the committed tree in a temporary folder, so the working
tree is not touched (commit first to measure your changes):
  1. set-up: ``source scripts/setup_env.sh`` (virtual environment + pip install,
     with pip's download cache switched off);
  2. clean build (``./build.sh`` with no _build) and a no-change rebuild;
  3. each notebook executed alone: wall time and the kernel's peak memory;
  4. nbval on every notebook, and the whole test suite (``./test.sh``, after the minimal
     environment of tests/test_minimal_env.py is made);
  5. per page, in headless Chromium (benchmarks/pages.py): bytes on the wire from a
     server that gzips text as web servers do, decoded bytes (also without figures),
     and the time to a readable page (load event, math typeset, fonts ready) at 1x
     and 4x CPU throttling, median of several runs.
Targets (2 cores): no-change rebuild < 2 s; whole suite after the build < 180 s; clean build <= 1.3 x the summed notebook
execution time + 10 s; every chapter page readable in under 2 s at 4x throttling and
under 600 kB on the wire; no page over 1 MB decoded apart from its figures.
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


def page_section(html: Path, runs: int, only: list[str] | None = None,
                 detail: list[str] | None = None) -> list[str]:
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import booksite  # noqa: E402
    import pages as page_bench  # noqa: E402

    results = []
    with booksite.serve(html) as url, booksite.browser(full=True) as b:
        for page in only or booksite.site_pages(html):
            results.append(page_bench.measure_page(b, url, page, runs=runs))
            print(f"  measured {page}", file=sys.stderr)
    lines = [
        f"페이지마다 읽는 사람이 받는 것과 읽을 수 있게 되기까지의 시간 (per page, empty cache, median of {runs} runs; "
        "CPU throttling 1x and 4x). '전송량'은 텍스트를 gzip으로 압축해 보내는 웹 서버 기준이고, "
        "'원래 크기'는 압축을 풀었을 때입니다. '읽을 수 있음'은 load 이벤트, 수식 조판, 글꼴 준비 중 가장 늦은 때입니다.",
        "",
        *page_bench.table(results),
        "",
        *page_bench.verdict(results),
        "",
    ]
    for page in detail or []:
        r = next((x for x in results if x.page == page), None)
        if r is None:
            continue
        lines += [f"`{page}`에서 받은 것 (resources, largest first):", "",
                  "| 자원 (resource) | 전송량 (B) | 원래 크기 (B) |", "|---|---|---|"]
        lines += [f"| `{e['url'].split('/', 3)[-1]}` | {e['wire']} | {e['decoded']} |" for e in r.resources]
        lines.append("")
    return lines


TEX_PACKAGE_PATTERN = ("texlive", "latexmk", "fonts-nanum", "poppler-utils", "tex-common", "libkpathsea",
                       "libptexenc", "libsynctex", "libtexlua", "lmodern", "tex-gyre", "fonts-lmodern",
                       "libteckit", "libzzip", "t1utils", "fonts-texgyre", "fonts-urw")


def tex_installed_size() -> str:
    """Installed size of the TeX packages the PDF needs, with their main dependencies."""
    out = subprocess.run(["dpkg-query", "-Wf", "${Installed-Size}\t${Package}\n"],
                         capture_output=True, text=True, check=True).stdout
    kib = sum(int(size) for size, name in (line.split("\t") for line in out.splitlines() if "\t" in line)
              if size.isdigit() and name.startswith(TEX_PACKAGE_PATTERN))
    return f"{kib / 1024:.0f} MB"



def machine() -> str:
    """The cores, the processor's model name (from /proc/cpuinfo, where there is one) and the browser the
    pages are timed in: the times in the tables are only comparable between runs on the same kind of machine."""
    sys.path.insert(0, str(ROOT / "tests"))
    import booksite  # noqa: E402

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        browser = subprocess.run([booksite.chromium_path(full=True), "--version"], capture_output=True,
                                 text=True, timeout=60).stdout.strip()
    except (OSError, RuntimeError, subprocess.SubprocessError):
        browser = "no chromium found"
    return f"{os.cpu_count()} cores" + (f" ({model})" if model else "") + f", {browser}"

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="skip timing ./test.sh")
    parser.add_argument("--pages-only", action="store_true",
                        help="only measure the pages of an existing build (see --html)")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html",
                        help="built site for --pages-only (default: _build/html)")
    parser.add_argument("--runs", type=int, default=3, help="runs per page and throttling rate")
    parser.add_argument("--page", action="append", help="measure only this page (repeatable)")
    parser.add_argument("--detail", action="append", help="also list every resource of this page")
    parser.add_argument("--out", type=Path, help="with --pages-only: also write the table here")
    args = parser.parse_args()

    if args.pages_only:
        if not (args.html / "index.html").is_file():
            sys.exit(f"benchmark: no built book in {args.html}: run ./build.sh first")
        pages = args.page or None
        if args.detail:
            pages = sorted(set((pages or []) + args.detail)) if pages else None
        lines = [f"측정 환경 (machine): {machine()}, load average "
                 f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start, site `{args.html}`.", "",
                 *page_section(args.html, args.runs, pages, args.detail)]
        print("\n".join(lines))
        if args.out:
            args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return 0

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
    # The venv with only numpy, sympy, matplotlib and ipykernel that tests/test_minimal_env.py
    # runs the chapters in; ./test.sh makes it before pytest when it is missing, so it is made
    # here, and the suite below is timed without it.
    minimal = timed([py, "scripts/minimal_env.py"], clone, env)
    rows.append(("set-up of the minimal environment (scripts/minimal_env.py, no pip cache)", f"{minimal:.1f} s", ""))
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
    # The PDF edition (TeX must be installed: scripts/build_pdf.sh installs it as root).
    pdf = timed(["scripts/build_pdf.sh"], clone)
    pages_pdf = subprocess.run(["pdfinfo", str(clone / "_build" / "pdf" / "book.pdf")],
                               capture_output=True, text=True, check=True).stdout
    n_pages = next(line.split()[1] for line in pages_pdf.splitlines() if line.startswith("Pages:"))
    rows.append(("PDF edition, `scripts/build_pdf.sh` (notebooks cached by the HTML build)",
                 f"{pdf:.1f} s", f"{n_pages} A4 pages"))
    rows.append(("TeX for the PDF, installed size (Debian packages and their dependencies)",
                 tex_installed_size(), "measured with dpkg-query"))
    nbval = timed([py, "-m", "pytest", "-q", "--nbval", "--nbval-current-env", "notebooks"], clone)
    rows.append(("nbval, every notebook", f"{nbval:.1f} s", ""))
    if not args.no_tests:
        suite = timed(["./test.sh", "-q"], clone)
        rows.append(("whole test suite (./test.sh, book and both environments already made)", f"{suite:.1f} s",
                     "target < 180 s: " + ("met" if suite < 180 else "NOT met")))

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"측정 환경 (machine): {machine()}, Python {platform.python_version()}, "
        f"commit `{commit}`, load average {load} at the end, `.venv/bin/python benchmarks/run.py`.",
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
        *page_section(clone / "_build" / "html", args.runs),
    ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
