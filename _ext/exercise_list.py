"""List every exercise of the book on one page.

``sphinx-exercise`` numbers the ``{exercise}`` blocks of each chapter and records
them in ``env.sphinx_exercise_registry``.  The ``{exercise-list}`` directive leaves
a placeholder; once every chapter has been read and numbered, the placeholder
becomes one list per chapter (in table-of-contents order) linking to each exercise
by its number and subtitle, e.g. "연습 2.1 — 분산이 σ²인 경우".  Nothing is typed
by hand, so a new exercise appears here on the next build.
"""
from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


class exercise_list_placeholder(nodes.General, nodes.Element):
    """Replaced by the list at doctree-resolved time."""


class ExerciseListDirective(SphinxDirective):
    has_content = False

    def run(self):
        pages = self.env.domaindata.setdefault("exercise_list", {}).setdefault("pages", set())
        pages.add(self.env.docname)
        return [exercise_list_placeholder()]


def _docs_in_toc_order(env) -> list[str]:
    order: list[str] = []

    def visit(doc: str) -> None:
        if doc in order:
            return
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            visit(child)

    visit(env.config.root_doc)
    return order


def _title_text(node) -> str:
    """The exercise's subtitle ('분산이 σ²인 경우'), if it has one."""
    for child in node.traverse(nodes.Element):
        if child.__class__.__name__ == "exercise_subtitle":
            return child.astext().strip().strip("()").strip()
    return ""


def _build_list(app: Sphinx, fromdocname: str) -> list[nodes.Node]:
    env = app.env
    registry = getattr(env, "sphinx_exercise_registry", {})
    by_doc: dict[str, list[tuple[tuple[int, ...], str, str]]] = {}
    for label, entry in registry.items():
        if entry.get("type") != "exercise":
            continue
        docname = entry["docname"]
        number = env.toc_fignumbers.get(docname, {}).get("exercise", {}).get(label)
        if number is None:
            logger.warning(f"exercise {label!r} in {docname} has no number", location=docname)
            continue
        by_doc.setdefault(docname, []).append((tuple(number), label, _title_text(entry["node"])))
    result: list[nodes.Node] = []
    for docname in _docs_in_toc_order(env):
        if docname not in by_doc:
            continue
        title = env.titles[docname].astext()
        heading = nodes.paragraph()
        heading += nodes.reference("", title, internal=True,
                                   refuri=app.builder.get_relative_uri(fromdocname, docname))
        items = nodes.bullet_list()
        for number, label, subtitle in sorted(by_doc[docname]):
            text = "연습 " + ".".join(str(n) for n in number)  # as sphinx-exercise titles it
            if subtitle:
                text += f" — {subtitle}"
            para = nodes.paragraph()
            if app.builder.format == "latex":
                # sphinx-exercise labels an exercise "exercise:<label>" in LaTeX.
                para += nodes.raw("", r"\hyperref[exercise:%s]{%s}" % (label, text), format="latex")
            else:
                para += nodes.reference("", text, internal=True,
                                        refuri=app.builder.get_relative_uri(fromdocname, docname) + "#" + label)
            items += nodes.list_item("", para)
        result += [heading, items]
    return result


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(exercise_list_placeholder)):
        listing = _build_list(app, docname)
        if not listing:
            logger.warning("the book has no numbered exercise to list", location=docname)
        node.replace_self(listing)


def on_env_get_outdated(app, env, added, changed, removed):
    """Rebuild the list page whenever a chapter changes (and only then)."""
    if not (added or changed or removed):
        return []
    return sorted(env.domaindata.get("exercise_list", {}).get("pages", set()))


def on_env_purge_doc(app, env, docname):
    env.domaindata.get("exercise_list", {}).get("pages", set()).discard(docname)


def setup(app: Sphinx) -> dict:
    app.add_node(exercise_list_placeholder)
    app.add_directive("exercise-list", ExerciseListDirective)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("env-purge-doc", on_env_purge_doc)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
