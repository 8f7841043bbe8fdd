#!/usr/bin/env python3
"""Execute notebooks in place and write them normalized, or check that they are.

    python scripts/run_notebooks.py                  # execute every notebooks/*.ipynb
    python scripts/run_notebooks.py notebooks/x.ipynb
    python scripts/run_notebooks.py --check          # exit 1 if a notebook is not normalized

"Normalized" means: execution counts 1, 2, 3, ... in cell order, no timing or other
volatile metadata, a fixed kernelspec and language_info, ids on every cell, and
consecutive stdout/stderr chunks of a cell merged into one output.  Running
an unchanged notebook again therefore leaves git clean.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
CELL_TIMEOUT = 120  # seconds, same as execute.timeout in _config.yml

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
# Cell metadata that only records how a particular front end or run went.
VOLATILE_CELL_KEYS = {"execution", "ExecuteTime", "collapsed", "scrolled", "jupyter", "vscode"}
VOLATILE_NB_KEYS = {"widgets", "vscode", "toc", "varInspector", "colab", "celltoolbar"}


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks into one output.

    The kernel flushes a cell's prints on a timer, so one print can arrive as one
    chunk on one run and as two on the next; the text is the same either way.
    """
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and last is not None
            and last.output_type == "stream"
            and last.name == output.name
        ):
            last.text += output.text
        else:
            merged.append(output)
    return merged


def normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a normalized copy of ``nb`` (see module docstring)."""
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    for key in VOLATILE_NB_KEYS & set(nb.metadata):
        del nb.metadata[key]
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    count = 0
    for index, cell in enumerate(nb.cells):
        cell.setdefault("id", f"cell-{index}")
        for key in VOLATILE_CELL_KEYS & set(cell.metadata):
            del cell.metadata[key]
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = merge_streams(cell.outputs)
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def execute_notebook(path: Path, kernel_name: str = "python3",
                     kernel_arguments: list[str] | None = None) -> nbformat.NotebookNode:
    """Run ``path`` top to bottom in a fresh kernel (cwd: its folder); return it normalized.

    ``kernel_name`` names the Jupyter kernel (tests run chapters in a minimal environment);
    ``kernel_arguments`` go to the kernel's command line (tests add a start-up file).
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=kernel_name,
        record_timing=False,
        extra_arguments=list(kernel_arguments or []),
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return normalize(nb)


def execute(path: Path) -> None:
    path.write_text(dumps(execute_notebook(path)), encoding="utf-8")


def is_normalized(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return dumps(normalize(nbformat.reads(text, as_version=4))) == text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="only check normalization")
    args = parser.parse_args(argv)
    paths = args.paths or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    bad = []
    for path in paths:
        if args.check:
            if not is_normalized(path):
                bad.append(path)
        else:
            print(f"executing {path}", flush=True)
            execute(path)
    if bad:
        for path in bad:
            print(f"not normalized: {path} (run: python scripts/run_notebooks.py {path})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
