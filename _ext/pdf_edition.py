"""The PDF edition: solutions collected at the end of each chapter, and a download link.

LaTeX builder
    sphinx-exercise puts each solution right after its exercise, which in print means
    the answer sits beside the question.  This post-transform moves every solution of a
    chapter into a section "풀이 (Solutions)" at the end of that chapter, in order; the
    labels travel with the nodes, so references to exercises and solutions still resolve.

HTML builder
    The directive ``pdf-download`` (used on the introduction page) becomes a download
    link to ``book.pdf`` when ``_build/pdf/book.pdf`` exists at build time (made by
    ``./build.sh --pdf``), and the file is copied into the site; otherwise it becomes a
    sentence saying how to make the PDF.  The page is re-read whenever the PDF appears,
    changes or disappears.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

PDF_NAME = "book.pdf"


def built_pdf(app: Sphinx) -> Path:
    return Path(app.srcdir) / "_build" / "pdf" / PDF_NAME


class CollectSolutions(SphinxPostTransform):
    """Move each chapter's solutions to a section at the chapter's end (LaTeX only)."""

    default_priority = 5  # before sphinx-exercise's own post-transforms number them
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        from sphinx import addnodes
        from sphinx_exercise.nodes import solution_node

        # The LaTeX builder inlines every document into one tree, each inside a
        # start_of_file node.  Walk it keeping track of the innermost document and
        # of each node's real container (parent links in the assembled tree are
        # not reliable).
        found: dict[int, tuple[nodes.Element, list]] = {}

        def walk(element: nodes.Element, chapter) -> None:
            for child in list(element.children):
                if isinstance(child, addnodes.start_of_file):
                    walk(child, child)
                elif isinstance(child, solution_node) and chapter is not None:
                    found.setdefault(id(chapter), (chapter, []))[1].append((element, child))
                elif isinstance(child, nodes.Element):
                    walk(child, chapter)

        walk(self.document, None)
        for chapter, pairs in found.values():
            top = next((c for c in chapter.children if isinstance(c, nodes.section)), None)
            if top is None:
                continue
            section = nodes.section(ids=[f"solutions-{chapter['docname'].replace('/', '-')}"])
            section += nodes.title(text="풀이 (Solutions)")
            for container, node in pairs:
                container.remove(node)
                section += node
            top += section


class PdfDownload(SphinxDirective):
    """A link to the PDF edition if it has been built, else how to build it."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        pdf = built_pdf(self.env.app)
        self.env.note_dependency(str(pdf))  # re-read this page when the PDF changes
        para = nodes.paragraph()
        if pdf.is_file():
            size = pdf.stat().st_size / 1e6
            ref = nodes.reference("", "", refuri=f"{'../' * self.env.docname.count('/')}{PDF_NAME}")
            ref += nodes.Text(f"PDF판 내려받기 ({PDF_NAME}, {size:.1f} MB)")
            para += ref
            para += nodes.Text(": 이 책 전체를 한 파일로 조판한 것입니다. 식 번호는 이 사이트와 같습니다.")
        else:
            para += nodes.Text("PDF판은 저장소에서 ")
            para += nodes.literal(text="./build.sh --pdf")
            para += nodes.Text("로 만들 수 있습니다. 만들고 나면 이 자리에 내려받기 링크가 생깁니다.")
        # Only on the web pages: inside the PDF a link to the PDF means nothing.
        only = addnodes.only(expr="html")
        only += para
        return [only]


def copy_pdf(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    pdf, target = built_pdf(app), Path(app.outdir) / PDF_NAME
    if pdf.is_file():
        shutil.copy2(pdf, target)
    elif target.exists():
        target.unlink()


class _KoreanBabelNotice(logging.Filter):
    """Drop Sphinx's "no Babel option known for language 'ko'".

    Babel has no Korean, and the book does not use Babel: kotex typesets Korean
    (see latex_elements in _config.yml).  Every other warning stays an error.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.getMessage().startswith("no Babel option known for language") and "'ko'" in record.getMessage())


def setup(app: Sphinx) -> dict:
    for name in ("sphinx.sphinx.builders.latex", "sphinx.sphinx.writers.latex"):
        logging.getLogger(name).addFilter(_KoreanBabelNotice())
    app.add_post_transform(CollectSolutions)
    app.add_directive("pdf-download", PdfDownload)
    app.connect("build-finished", copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
