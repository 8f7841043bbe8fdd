"""The notebook execution table ({nb-exec-table}, book/status.md) says its status in words.

myst-nb writes each notebook's status as an emoji (U+2705 or U+274C).  Neither the
book's Korean font nor the usual Latin fonts hold those characters, so on a machine
without an emoji font the reader sees an empty box.  This post-transform runs right
after myst-nb builds the table (its priority 8) and before references are resolved,
and writes 성공 (succeeded) or 실패 (failed) instead; those syllables then go into the
font subset like every other character of the site (offline_assets.py).
"""
from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

WORDS = {"\u2705": "성공", "\u274c": "실패"}


class ExecutionStatusInWords(SphinxPostTransform):
    default_priority = 8.5  # after myst-nb's ExecutionStatsPostTransform (8)

    def run(self, **kwargs) -> None:
        for table in self.document.findall(nodes.table):
            header = [entry.astext() for entry in table.findall(nodes.entry)][:5]
            if header[-1:] != ["Status"] or header[:1] != ["Document"]:
                continue
            for text in list(table.findall(nodes.Text)):
                if text.astext() in WORDS:
                    text.parent.replace(text, nodes.Text(WORDS[text.astext()]))


def setup(app: Sphinx) -> dict:
    app.add_post_transform(ExecutionStatusInWords)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
