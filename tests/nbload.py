"""Import the functions a chapter notebook defines, so tests check the book's own code.

A chapter marks the code cells that define its functions with the cell tag
``export``; those cells (imports and definitions, nothing slow) are executed in a
fresh module, in notebook order.  Nothing is copied out of the notebook, so the
code a reader sees is the code the tests exercise.
"""
from __future__ import annotations

import functools
import types
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def exported_source(name: str) -> str:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    cells = [
        c.source
        for c in nb.cells
        if c.cell_type == "code" and "export" in c.metadata.get("tags", [])
    ]
    if not cells:
        raise LookupError(f"notebooks/{name}.ipynb has no code cell tagged 'export'")
    return "\n\n".join(cells)


@functools.cache
def load_notebook(name: str) -> types.ModuleType:
    """The module made of notebooks/<name>.ipynb's ``export`` cells."""
    module = types.ModuleType(f"notebook_{name}")
    module.__file__ = str(NOTEBOOKS / f"{name}.ipynb")
    code = compile(exported_source(name), module.__file__, "exec")
    exec(code, module.__dict__)
    return module
