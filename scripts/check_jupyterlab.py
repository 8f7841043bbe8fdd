#!/usr/bin/env python3
"""Open chapters in JupyterLab with jupyterlab-myst, in headless Chromium, and check how they read.

    pip install -r requirements.txt -r requirements-lab.txt     # once, into the same environment
    python scripts/check_jupyterlab.py [notebooks/NAME.ipynb ...] [--shots DIR]

For each notebook (copied alone into an empty folder, as a student downloads it) the
script starts JupyterLab on a free local port, opens the notebook with every cell
rendered (no windowing), and checks what a reader sees in the markdown cells:

- the quiz answer is hidden (its dropdown is closed);
- every theorem, proof and exercise box is drawn as a box;
- math is typeset (KaTeX) and no formula failed;
- no MyST markup is left in the visible text (directive fences, role names);
- where a glued number stands, what the reader sees instead (jupyterlab-myst does
  not run myst-nb's ``glue``), and which citations are shown as bare keys.

It prints a report per notebook, saves a screenshot of the first screen per notebook
in --shots (default /tmp/jupyterlab-shots), and exits 1 if a check fails.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import booksite  # noqa: E402  (chromium_path, CHROMIUM_FLAGS)

# Markup that must never reach the reader: a fenced directive, a colon fence, a role.
RAW_MARKUP = re.compile(r"```\{|^:::|\{(?:glue(?::\w+)?|cite(?::\w+)?|prf:\w+|eq|doc|numref|ref|term|math)\}", re.M)
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)(?::[^`]*)?`")
CITE_ROLE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")
# A gated pair (solution-start ... solution-end) is one box: count its start only.
DIRECTIVE = re.compile(r"^(?:```|:::)\{(prf:\w+|exercise(?:-start)?|solution(?:-start)?)\}", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(folder: Path, settings: Path, port: int) -> subprocess.Popen:
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True, exist_ok=True)
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    # Render every cell at once, so the whole notebook can be read from the DOM.
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    # No news or update check: nothing asks another host.
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    lab = shutil.which("jupyter-lab", path=str(Path(sys.executable).parent))
    if lab is None:
        sys.exit("error: jupyter-lab not found next to this Python; "
                 "install it with: pip install -r requirements-lab.txt")
    env = {"JUPYTERLAB_SETTINGS_DIR": str(settings), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "HOME": str(settings)}
    proc = subprocess.Popen(
        [lab, "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={folder}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    sys.exit("error: JupyterLab did not start within 60 s")


def expectations(nb: nbformat.NotebookNode) -> dict:
    """What the markdown of ``nb`` asks the renderer for."""
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    answer = None
    match = re.search(r"\{admonition\}[^\n]*\n:class: dropdown\n+(.+)", markdown)
    if match:  # the first words of the hidden answer, without emphasis marks
        answer = re.sub(r"[*_`]", "", match.group(1)).strip()[:40]
    return {
        "answer": answer,
        "boxes": sum(not d.startswith("solution") for d in DIRECTIVE.findall(markdown)),
        "solutions": sum(d.startswith("solution") for d in DIRECTIVE.findall(markdown)),
        "glue": sorted(set(GLUE_ROLE.findall(markdown))),
        "cite": sorted({k.strip() for keys in CITE_ROLE.findall(markdown) for k in keys.split(",")}),
    }


def inspect(page, url: str) -> dict:
    page.goto(url)
    page.wait_for_selector(".jp-MarkdownCell .myst", state="attached", timeout=60_000)
    page.wait_for_timeout(5000)  # let every markdown cell finish rendering
    return page.evaluate("""() => {
      const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
      const cells = [...panel.querySelectorAll('.jp-MarkdownCell')];
      return {
        texts: cells.map(c => c.innerText),
        boxes: panel.querySelectorAll('.jp-MarkdownCell aside').length,
        solutions: [...panel.querySelectorAll('.jp-MarkdownCell details.myst-exercise')].map(d => d.open),
        katex: panel.querySelectorAll('.jp-MarkdownCell .katex').length,
        katexErrors: [...panel.querySelectorAll('.jp-MarkdownCell .katex-error')].map(e => e.textContent),
      };
    }""")


def check(path: Path, page, port: int, folder: Path, shots: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    want = expectations(nb)
    shutil.copy2(path, folder / path.name)
    seen = inspect(page, f"http://127.0.0.1:{port}/lab/tree/{path.name}?reset")  # ?reset: no tabs restored
    page.screenshot(path=str(shots / f"{path.stem}.png"))
    text = "\n".join(seen["texts"])
    problems = []
    if want["answer"] and want["answer"] in text:
        problems.append(f"the quiz answer is visible: {want['answer']!r}")
    if seen["boxes"] < want["boxes"]:
        problems.append(f"{want['boxes']} theorem/proof/exercise boxes in the source, {seen['boxes']} drawn")
    if len(seen["solutions"]) < want["solutions"]:
        problems.append(f"{want['solutions']} solutions in the source, {len(seen['solutions'])} drawn as dropdowns")
    if any(seen["solutions"]):
        problems.append(f"{sum(seen['solutions'])} solutions are open beside their exercise")
    if seen["katex"] == 0:
        problems.append("no typeset math")
    if seen["katexErrors"]:
        problems.append(f"math that failed to typeset: {seen['katexErrors'][:3]}")
    raw = sorted({m.group(0) for m in RAW_MARKUP.finditer(text)})
    if raw:
        problems.append(f"raw MyST markup visible: {raw}")
    glued = [name for name in want["glue"] if name in text]
    cited = [key for key in want["cite"] if key in text]
    print(f"{path.name}: {len(seen['texts'])} markdown cells, {seen['katex']} formulas, "
          f"{seen['boxes']} boxes (source {want['boxes']}), {len(seen['solutions'])} closed solutions "
          f"(source {want['solutions']}), quiz answer: "
          + ("none" if not want["answer"] else "hidden" if want["answer"] not in text else "VISIBLE"))
    print(f"  glued values shown as their names ({len(glued)} of {len(want['glue'])}): {glued[:6]}")
    print(f"  citations shown as bare keys ({len(cited)} of {len(want['cite'])}): {cited[:6]}")
    for problem in problems:
        print(f"  FAIL: {problem}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--shots", type=Path, default=Path("/tmp/jupyterlab-shots"))
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    args.shots.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder, settings = Path(tmp, "notebooks"), Path(tmp, "settings")
        folder.mkdir()
        port = free_port()
        lab = start_lab(folder, settings, port)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=booksite.chromium_path(), args=booksite.CHROMIUM_FLAGS)
                for path in paths:  # a fresh page per notebook: one notebook open at a time
                    page = browser.new_page(viewport={"width": 1280, "height": 1600})
                    failed += bool(check(path.resolve(), page, port, folder, args.shots))
                    page.close()
                browser.close()
        finally:
            lab.terminate()
            lab.wait(timeout=30)
    print(f"screenshots: {args.shots}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
