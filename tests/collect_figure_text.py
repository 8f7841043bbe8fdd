"""Kernel start-up file ($PYTHONSTARTUP, which ipykernel runs before the first cell):
record the text drawn on every figure.

tests/chapter_runs.py starts each chapter's kernel with this file (nbval's kernel under
./test.sh, through the top-level conftest.py).  Each
time matplotlib renders a figure to an image (the inline backend does so when a cell
ends, to put the PNG in the cell's output), the text of every visible ``Text`` artist
of that figure, as it was just drawn, is appended as one JSON line to the file named
by $BOOK_FIGURE_TEXT, with the number of the cell run (1 for the notebook's first
code cell).  Its first line names the values of the variables that choose numpy's
and OpenBLAS's code paths, as the kernel saw them.  Nothing is drawn or printed in addition, so the cells' outputs stay what
they would be without this file.
"""


def _record_figure_text():
    import json
    import os

    from IPython import get_ipython
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.text import Text

    target = os.environ["BOOK_FIGURE_TEXT"]
    runs = [0]
    # First, the code-path variables this kernel was started with (their names in
    # $BOOK_CPU_PATH_VARIABLES, from cpu_paths.py).
    names = os.environ.get("BOOK_CPU_PATH_VARIABLES", "").split()
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps({"kernel_env": {key: os.environ.get(key) for key in names}}) + "\n")

    def count_run(*_):
        runs[0] += 1

    get_ipython().events.register("pre_run_cell", count_run)
    print_figure = FigureCanvasBase.print_figure

    def print_and_record(self, *args, **kwargs):
        result = print_figure(self, *args, **kwargs)
        texts = [t.get_text() for t in self.figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"run": runs[0], "texts": texts}, ensure_ascii=False) + "\n")
        return result

    FigureCanvasBase.print_figure = print_and_record


_record_figure_text()
del _record_figure_text
