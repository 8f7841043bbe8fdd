"""The glossary page (용어집), rendered from one data file at build time.

Why this exists
---------------
The chapters give each English term in parentheses at its first use:
기울기 소실(vanishing gradient).  The glossary collects those terms in
``book/glossary.yml`` (one entry per term: ``en``, ``ko``, ``chapter``, optionally
``abbr``, ``also`` and ``reject``; the file's header explains each field), and
``tests/test_glossary.py`` checks that file against every chapter's markdown.  This
extension turns the same file into the page, so the page can never disagree with
what the test checked: no term is typed into the page by hand.

What it does
------------
``{glossary-table} glossary.yml`` (the path is relative to the page, as for
``{literalinclude}``) reads the file when the page is read and emits one table, in
the file's order (the test keeps the file sorted by English term):

    영어 (English) | 한국어 | 정의한 장 | 다른 장

* The chapter columns are real cross-references (``pending_xref`` of type ``doc``,
  as the ``{doc}`` role makes), resolved once every chapter is read, so a chapter
  that does not exist is a build warning (an error under the strict build), not a
  dead link.  Sphinx titles such a link with the chapter's full bilingual title; once
  resolved, the link text is shortened to the chapter's number and Korean title as
  the sidebar numbers it ("4. 배치 정규화"), and the full title becomes its tooltip.
  Full titles made every row four lines tall.
* A Korean rendering may hold inline math (``$\\gamma$에 걸리는 감쇠``); it becomes
  a math node, typeset by MathJax like the chapters' math.
* An entry's ``reject`` (the Korean the book does not write for the term) is shown
  under its Korean rendering as "쓰지 않는 말: 파라미터".
* Each row carries an anchor, ``#gl-<english-term>``, so a term can be linked to.

Rebuilds
--------
``env.note_dependency`` ties the page to the YAML file: editing the file re-reads
the page on the next build.  Link texts are chapter titles, so the page is also
re-read whenever a document is added, changed or removed (as ``exercise_list`` does);
a no-change rebuild reads nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# ``chapter: batch_norm`` names notebooks/batch_norm.ipynb (see _toc.yml).
CHAPTER_DIR = "notebooks"
REQUIRED = ("en", "ko", "chapter")
KNOWN = {*REQUIRED, "abbr", "also", "reject"}
REJECT_LABEL = "쓰지 않는 말: "
REJECT_CLASS = "glossary-reject"
HEADER = ("영어 (English)", "한국어", "정의한 장", "다른 장")
INLINE_MATH = re.compile(r"\$([^$]+)\$")
CHAPTER_CLASS = "glossary-chapter"


def _paragraph(*children: nodes.Node) -> nodes.paragraph:
    para = nodes.paragraph()
    para.extend(children)
    return para


def _entry(*children: nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    entry += _paragraph(*children)
    return entry


def _korean(text: str) -> list[nodes.Node]:
    """Text with ``$...$`` turned into math nodes."""
    out: list[nodes.Node] = []
    last = 0
    for match in INLINE_MATH.finditer(text):
        if match.start() > last:
            out.append(nodes.Text(text[last:match.start()]))
        out.append(nodes.math(match.group(1), match.group(1)))
        last = match.end()
    if last < len(text):
        out.append(nodes.Text(text[last:]))
    return out


class GlossaryTableDirective(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        rel, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(rel)
        pages = self.env.domaindata.setdefault("glossary_page", {}).setdefault("pages", set())
        pages.add(self.env.docname)
        try:
            entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise self.error(f"glossary-table: cannot read {rel}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise self.error(f"glossary-table: {rel} is not valid YAML: {exc}") from exc
        if not isinstance(entries, list) or not entries:
            raise self.error(f"glossary-table: {rel} must be a non-empty YAML list of terms")

        tbody = nodes.tbody()
        seen_ids: set[str] = set()
        for number, entry in enumerate(entries, start=1):
            row = self._row(entry, number, rel, seen_ids)
            if row is not None:
                tbody += row

        tgroup = nodes.tgroup(cols=len(HEADER))
        for _ in HEADER:
            tgroup += nodes.colspec(colwidth=1)
        thead = nodes.thead()
        head_row = nodes.row()
        for title in HEADER:
            head_row += _entry(nodes.Text(title))
        thead += head_row
        tgroup += thead
        tgroup += tbody
        table = nodes.table(classes=["colwidths-auto", "glossary-table"])
        table += tgroup
        self.set_source_info(table)
        return [table]

    def _row(self, entry, number: int, rel: str, seen_ids: set[str]) -> nodes.row | None:
        """One table row, or None (with a warning naming the entry) if it is malformed."""
        where = (self.env.docname, self.lineno)
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry[k].strip() for k in REQUIRED
        ):
            logger.warning(f"glossary-table: entry {number} of {rel} needs en, ko and chapter: "
                           f"{entry!r}", location=where)
            return None
        unknown = sorted(set(entry) - KNOWN)
        if unknown:
            logger.warning(f"glossary-table: {entry['en']!r} in {rel} has unknown keys {unknown}",
                           location=where)
        also = entry.get("also", [])
        if not isinstance(also, list) or not all(isinstance(c, str) for c in also):
            logger.warning(f"glossary-table: 'also' of {entry['en']!r} in {rel} must be a list "
                           f"of chapter names", location=where)
            also = []

        english = entry["en"] + (f" ({entry['abbr']})" if entry.get("abbr") else "")
        row = nodes.row()
        anchor = nodes.make_id("gl-" + entry["en"])
        if anchor not in seen_ids:
            seen_ids.add(anchor)
            row["ids"].append(anchor)
        row += _entry(nodes.Text(english))
        korean = _entry(*_korean(entry["ko"]))
        reject = entry.get("reject", [])
        if not isinstance(reject, list) or not all(isinstance(v, str) for v in reject):
            logger.warning(f"glossary-table: 'reject' of {entry['en']!r} in {rel} must be a list "
                           f"of words", location=where)
            reject = []
        if reject:  # the variants the book does not write, under the word it does
            korean += nodes.paragraph("", "", nodes.Text(REJECT_LABEL + ", ".join(reject)),
                                      classes=[REJECT_CLASS])
        row += korean
        row += _entry(self._chapter_ref(entry["chapter"]))
        others: list[nodes.Node] = []
        for chapter in also:
            if others:
                others.append(nodes.Text(", "))
            others.append(self._chapter_ref(chapter))
        row += _entry(*others)
        return row

    def _chapter_ref(self, chapter: str) -> nodes.inline:
        """A link to notebooks/<chapter>, as {doc} makes it, in a marked wrapper.

        The wrapper survives reference resolution (only the pending_xref inside it is
        replaced) and tells ``shorten_chapter_links`` which chapter the link is to.
        """
        docname = f"{CHAPTER_DIR}/{chapter}"
        ref = addnodes.pending_xref(
            "",
            refdomain="std",
            reftype="doc",
            reftarget="/" + docname,
            refexplicit=False,
            refwarn=True,  # an unknown chapter is a warning even without -n
            refdoc=self.env.docname,
        )
        ref += nodes.inline(chapter, chapter)  # shown only if the reference fails
        self.set_source_info(ref)
        wrapper = nodes.inline(classes=[CHAPTER_CLASS], glossary_chapter=docname)
        wrapper += ref
        return wrapper


def short_title(env, docname: str) -> str:
    """'4. 배치 정규화' for the chapter titled '배치 정규화 (Batch normalization)'."""
    title = env.titles[docname].astext()
    korean = re.sub(r"\s*\([^()]*\)\s*$", "", title) or title
    number = env.toc_secnumbers.get(docname, {}).get("")
    return f"{'.'.join(map(str, number))}. {korean}" if number else korean


def shorten_chapter_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """After references are resolved: number + Korean title as the link text."""
    if docname not in app.env.domaindata.get("glossary_page", {}).get("pages", set()):
        return
    for wrapper in list(doctree.findall(nodes.inline)):
        target = wrapper.get("glossary_chapter")
        if not target or CHAPTER_CLASS not in wrapper["classes"]:
            continue
        link = next(iter(wrapper.findall(nodes.reference)), None)
        if link is None or target not in app.env.titles:
            continue  # unresolved: the warning has been given, the stem stays visible
        link["reftitle"] = app.env.titles[target].astext()
        text = short_title(app.env, target)
        for child in list(link.children):
            link.remove(child)
        link += nodes.inline(text, text, classes=["doc"])


def on_env_get_outdated(app, env, added, changed, removed):
    """Re-read the glossary page when any document changes (its links show titles)."""
    if not (added or changed or removed):
        return []
    return sorted(env.domaindata.get("glossary_page", {}).get("pages", set()))


def on_env_purge_doc(app, env, docname):
    env.domaindata.get("glossary_page", {}).get("pages", set()).discard(docname)


def on_env_merge_info(app, env, docnames, other):
    """Parallel reads: collect the pages that each worker saw."""
    pages = env.domaindata.setdefault("glossary_page", {}).setdefault("pages", set())
    pages |= other.domaindata.get("glossary_page", {}).get("pages", set())


def setup(app: Sphinx) -> dict:
    app.add_directive("glossary-table", GlossaryTableDirective)
    app.connect("doctree-resolved", shorten_chapter_links)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("env-purge-doc", on_env_purge_doc)
    app.connect("env-merge-info", on_env_merge_info)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
