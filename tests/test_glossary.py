"""The glossary (book/glossary.yml) and the chapters agree, term by term.

Each chapter gives the English term in parentheses right after its Korean rendering
at the term's first use in the chapter: 기울기 소실(vanishing gradient).  This file reads every markdown cell of every chapter, finds those term
glosses, and checks them against the one data file that the glossary page
(_ext/glossary_page.py) is built from:

* every term a chapter glosses is in the file, rendered in Korean exactly as the file
  says (so one English term has one Korean rendering across the book);
* every entry is glossed by the chapter the file says defines it (or is that
  chapter's title, ``# 스케일드 닷-프로덕트 어텐션 (Scaled dot-product attention)``),
  ``also`` names exactly the other chapters that gloss it, and no entry is unused
  or duplicated;
* no chapter's prose writes a variant that an entry rejects (``reject``: 파라미터 for
  parameter), naming the word and the cell.

The markdown is parsed with myst-parser's markdown-it (the parser of the build,
with the extensions _config.yml enables), so prose, math, code, roles, HTML and
directives come apart as tokens; nothing is guessed with patterns over raw text.

What counts as a term gloss
---------------------------
A parenthesis that directly follows a Hangul syllable (no space) and holds English
words: ``잔차(residual)``, ``배치 정규화(batch normalization, BN)`` (the part after
the comma is the abbreviation).  Not term glosses, and skipped:

* headings, directive titles and table labels written ``한국어 (English)`` with a
  space: the style writes every heading in both languages;
* math (``$...$``, ``$$...$$``, ``\\begin...\\end``), code (spans, fenced blocks, code
  directives and code cells), roles such as ``{cite:t}`...``` and ``{numref}`...```,
  link targets, HTML, comments;
* pointers into a source, ``(Figure 4, Table 2)``, and quoted sentences, ``("...")``;
* an abbreviation alone, ``(BN)``: it points back at a term glossed in full;
* the few English quotations and labels listed in ``NOT_TERMS`` below.

The Korean rendering is whatever text ends right before the parenthesis; a gloss
matches an entry when that text ends with the entry's ``ko`` at a word boundary.
Inline math is kept in that text, so ``ko`` may hold it: ``$1\\times 1$ 합성곱``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "book" / "glossary.yml"
NOTEBOOKS = ROOT / "notebooks"

# English in parentheses after Korean that is not a term: quotations and labels.
# Keyed by (chapter, English); the value says why, for the next reader.
NOT_TERMS = {
    ("attention_permutation", "doesn't care about the ordering of the features"):
        "a quotation from the lecture",
    ("batch_norm", "true"): "the quiz's answer label 참(True)",
    ("batch_norm", "false"): "the quiz's answer label 거짓(False)",
    ("batch_norm", "full batch"):
        "glosses the clause '학습 예제 전체로 계산하고', not a Korean term",
    ("scaled_dot_product_attention", "suspect"): "the paper's own word, quoted",
}

ENTRY_KEYS = {"en", "ko", "chapter", "abbr", "also", "reject"}


# --------------------------------------------------------------------------- parsing
# The chapters' markdown is read with the parser the book is built with
# (myst-parser's markdown-it, with the extensions _config.yml enables), so prose,
# math, code, roles and directives are told apart by their tokens, not by patterns.


def _book_extensions() -> set[str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return set(config["parse"]["myst_enable_extensions"])


MD = create_md_parser(MdParserConfig(enable_extensions=_book_extensions()), RendererHTML)
# Directives whose body is not prose.
NON_PROSE_DIRECTIVES = {"code-cell", "code-block", "code", "math", "raw", "eval-rst", "literalinclude"}
DIRECTIVE = re.compile(r"^\{(?P<name>[^}\s]+)\}\s*(?P<argument>.*)$")
DIRECTIVE_OPTION = re.compile(r"^:[\w-]+:")
# Inline tokens whose text is not prose: they become a gap (a space) in the text.
GAP_TOKENS = {"code_inline", "myst_role", "html_inline", "image", "math_inline_double",
              "substitution_inline", "footnote_ref"}
MARKUP_TOKENS = {"link_open", "link_close", "strong_open", "strong_close", "em_open", "em_close",
                 "s_open", "s_close"}
HANGUL = re.compile("[\uac00-\ud7a3]")
# A parenthesis right after a Hangul syllable; no nested parentheses, no math.
GLOSS = re.compile("(?<=[\uac00-\ud7a3])\\((?P<inner>[^()\x00]+)\\)")
SOURCE_POINTER = re.compile(r"^(?:Figure|Fig\.|Table|Section|Eq\.|Appendix|Algorithm)\b")
MATH = "\x00"  # stands for each character of inline math in ``Prose.masked``


def is_abbreviation(text: str) -> bool:
    """BN, SGD, ViT, ResNet: one word with at least two capitals."""
    return re.fullmatch(r"[A-Za-z0-9-]+", text) is not None and sum(c.isupper() for c in text) >= 2


@dataclass(frozen=True)
class Prose:
    """The running text of one block (a paragraph, a table cell, a heading, ...).

    ``text`` keeps inline math as ``$...$``; ``masked`` is the same string with every
    character of the math replaced by ``MATH``, so a pattern run on it never matches
    inside math.  Code, roles, HTML and images are a single space in both.
    Whitespace is collapsed to single spaces.
    """

    text: str
    masked: str
    heading: bool  # a heading or a directive's title (written 한국어 (English))


def _inline_prose(token, heading: bool) -> Prose:
    text, masked = [], []
    for child in token.children or []:
        if child.type == "text":
            piece = re.sub(r"\s+", " ", child.content)
            text.append(piece)
            masked.append(piece)
        elif child.type in ("softbreak", "hardbreak"):
            text.append(" ")
            masked.append(" ")
        elif child.type == "math_inline":
            piece = "$" + " ".join(child.content.split()) + "$"
            text.append(piece)
            masked.append(MATH * len(piece))
        elif child.type in MARKUP_TOKENS:
            continue
        else:  # GAP_TOKENS, and anything unknown: not prose
            text.append(" ")
            masked.append(" ")
    joined_text = re.sub(" {2,}", " ", "".join(text)).strip()
    joined_masked = re.sub(" {2,}", " ", "".join(masked)).strip()
    assert len(joined_text) == len(joined_masked)
    return Prose(joined_text, joined_masked, heading)


def _directive_body(content: str) -> str:
    """A directive's content without its options (``:label: x`` lines or a --- block)."""
    lines = content.split("\n")
    if lines and lines[0].strip() == "---":
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), 0)
        return "\n".join(lines[end + 1:])
    while lines and DIRECTIVE_OPTION.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines)


def blocks(markdown: str) -> list[Prose]:
    """Every block of prose in a markdown cell, in order, directive bodies included.

    Not prose, and left out: code (fences, code directives, indented code), display
    math (``$$``, ``{math}``, amsmath environments), HTML blocks, targets ``(x)=``
    and comments ``% ...``.
    """
    out: list[Prose] = []
    heading = False
    for token in MD.parse(markdown):
        if token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        elif token.type == "inline":
            out.append(_inline_prose(token, heading))
        elif token.type in ("fence", "colon_fence"):
            directive = DIRECTIVE.match(token.info.strip())
            if directive is None or directive["name"] in NON_PROSE_DIRECTIVES:
                continue  # a code block
            if directive["argument"]:
                (title,) = [t for t in MD.parse(directive["argument"]) if t.type == "inline"]
                out.append(_inline_prose(title, heading=True))
            out += blocks(_directive_body(token.content))
    return out


def captions(cell) -> list[str]:
    """The figure caption a code cell carries in its metadata (myst-nb's mystnb.figure)."""
    found = []
    for key in ("mystnb", "myst"):
        figure = cell.get("metadata", {}).get(key, {}).get("figure", {})
        if isinstance(figure.get("caption"), str):
            found.append(figure["caption"])
    return found


@dataclass(frozen=True)
class Gloss:
    """One ``한국어(English)`` in a chapter."""

    chapter: str  # notebook stem
    cell: int  # index of the cell in the notebook
    cell_id: str
    en: str
    abbr: str | None
    before: str  # the cell's text up to the parenthesis

    def where(self) -> str:
        return f"{self.chapter} cell {self.cell} (id {self.cell_id})"

    def context(self) -> str:
        """The last few words before the parenthesis, as the chapter writes them."""
        words = self.before.split(" ")[-4:]
        return "…" + " ".join(words) + f"({self.en}{', ' + self.abbr if self.abbr else ''})"

    def rendered_as(self, ko: str) -> bool:
        """True if the Korean right before the parenthesis is ``ko`` (a whole word)."""
        if not self.before.endswith(ko):
            return False
        head = self.before[: len(self.before) - len(ko)]
        return not head or not (head[-1].isalnum() or head[-1] in "-·$")


def glosses_in_prose(chapter: str, cell: int, cell_id: str, prose: list[Prose]) -> list[Gloss]:
    """The term glosses in one cell's prose (see the module docstring); headings skipped."""
    kept = [b for b in prose if not b.heading]
    text = " ".join(b.text for b in kept)
    masked = " ".join(b.masked for b in kept)
    found = []
    for match in GLOSS.finditer(masked):
        inner = " ".join(match["inner"].split())
        if HANGUL.search(inner) or not re.search("[A-Za-z]", inner):
            continue  # Korean inside, or no English at all: (A1) is a label, (3.1절) a pointer
        if inner[0] in "\"'“‘":
            continue  # a quoted sentence, not a term
        if SOURCE_POINTER.match(inner) or is_abbreviation(inner):
            continue
        en, abbr = inner, None
        if ", " in inner:
            head, tail = inner.rsplit(", ", 1)
            if is_abbreviation(tail):
                en, abbr = head, tail
        if (chapter, en.casefold()) in NOT_TERMS:
            continue
        found.append(Gloss(chapter, cell, cell_id, en, abbr, text[: match.start()]))
    return found


def glosses_in_notebook(chapter: str, nb: nbformat.NotebookNode) -> list[Gloss]:
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found += glosses_in_prose(chapter, index, cell.get("id", "?"), blocks(cell.source))
    return found


TITLE = re.compile(r"^(?P<ko>.+?)\s+\((?P<en>[^()]+)\)$")


def title_term(nb: nbformat.NotebookNode) -> tuple[str, str] | None:
    """(Korean, English) of a chapter title written ``# 한국어 (English)``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        tokens = MD.parse(cell.source)
        for opening, inline in zip(tokens, tokens[1:]):
            if opening.type == "heading_open" and opening.tag == "h1":
                match = TITLE.match(_inline_prose(inline, heading=True).text)
                return (match["ko"], match["en"]) if match else None
        return None
    return None


# --------------------------------------------------------------------------- rejected variants
# An entry's ``reject`` lists Korean the book does not write for the term
# (CONTRIBUTING.md section 3).  A variant is found in prose only: paragraphs,
# headings, lists, tables, directive titles and bodies, and figure captions; never
# in code, math or roles.  It matches where it starts a word (no Hangul, letter or
# digit right before it), with any particle after it (파라미터를, 완전연결층); a space
# in the variant matches any whitespace or none (학습 오차, 학습오차).


def reject_pattern(variant: str) -> re.Pattern:
    parts = [re.escape(p) for p in variant.split()]
    return re.compile("(?<![\uac00-\ud7a3A-Za-z0-9])" + "\\s*".join(parts))


def cell_prose(cell) -> list[Prose]:
    """All the prose a reader sees from one cell: markdown, or a code cell's captions."""
    if cell.cell_type == "markdown":
        return blocks(cell.source)
    return [b for caption in captions(cell) for b in blocks(caption)]


def rejected_variants(chapter: str, nb: nbformat.NotebookNode, entries: list[dict]) -> list[str]:
    """One line per rejected variant a chapter writes, naming the word and the cell."""
    patterns = [(reject_pattern(v), v, e) for e in entries for v in e.get("reject", [])]
    problems = []
    for index, cell in enumerate(nb.cells):
        for block in cell_prose(cell):
            for pattern, variant, entry in patterns:
                for match in pattern.finditer(block.masked):
                    around = block.text[max(0, match.start() - 15): match.end() + 10]
                    problems.append(
                        f"{chapter} cell {index} (id {cell.get('id', '?')}): {match.group()!r} "
                        f"in \"…{around}…\" — the book writes {entry['ko']!r} for {entry['en']!r}"
                    )
    return problems


def toc_chapters() -> list[str]:
    """Notebook stems of the chapters, in table-of-contents order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [Path(f).stem for f in files if f.startswith("notebooks/")]


def read_glossary(path: Path = GLOSSARY) -> list[dict]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(entries, list), f"{path.name} must be a YAML list of entries"
    return entries


def by_english(entries: list[dict]) -> dict[str, dict]:
    return {str(e["en"]).casefold(): e for e in entries}


# --------------------------------------------------------------------------- checks
# Each returns a list of problems, one readable line each; [] means the check passes.


def missing_terms(glosses: list[Gloss], entries: list[dict]) -> list[str]:
    known = by_english(entries)
    return [
        f"{g.where()}: {g.context()} is not in book/glossary.yml"
        for g in glosses
        if g.en.casefold() not in known
    ]


def rendering_mismatches(glosses: list[Gloss], entries: list[dict]) -> list[str]:
    known = by_english(entries)
    problems = []
    for g in glosses:
        entry = known.get(g.en.casefold())
        if entry and not g.rendered_as(entry["ko"]):
            variant = " ".join(g.before.split(" ")[-len(entry["ko"].split(" ")):])
            problems.append(
                f"{g.where()} writes {variant!r} for {g.en!r} ({g.context()}); "
                f"the glossary has {entry['ko']!r} (defining chapter: {entry['chapter']})"
            )
    return problems


def abbreviation_mismatches(glosses: list[Gloss], entries: list[dict]) -> list[str]:
    known = by_english(entries)
    problems = []
    for g in glosses:
        entry = known.get(g.en.casefold())
        if entry and g.abbr and g.abbr != entry.get("abbr"):
            problems.append(
                f"{g.where()}: {g.context()} — the glossary abbreviates {entry['en']!r} "
                f"as {entry.get('abbr')!r}"
            )
    return problems


def report(problems: list[str], headline: str) -> None:
    """Fail with one line per problem, without the test's (very long) arguments."""
    if problems:
        pytest.fail(f"{headline}:\n" + "\n".join(f"  - {p}" for p in problems), pytrace=False)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def chapters() -> dict[str, nbformat.NotebookNode]:
    return {stem: nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4) for stem in toc_chapters()}


@pytest.fixture(scope="module")
def glosses(chapters) -> list[Gloss]:
    found = []
    for stem, nb in chapters.items():
        found += glosses_in_notebook(stem, nb)
    return found


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    return read_glossary()


def introducers(entry: dict, glosses: list[Gloss]) -> set[str]:
    """Chapters that gloss the entry's English term in their prose."""
    return {g.chapter for g in glosses if g.en.casefold() == str(entry["en"]).casefold()}


def sort_key(entry: dict) -> str:
    """English, case and punctuation ignored: '[class] token' sorts as 'class token'."""
    return re.sub(r"[^0-9a-z ]", "", str(entry["en"]).casefold()).strip()


# --------------------------------------------------------------------------- the data file


def test_every_glossary_entry_has_english_korean_and_a_chapter_of_the_book(entries):
    chapters = set(toc_chapters())
    problems = []
    for e in entries:
        if not isinstance(e, dict) or not {"en", "ko", "chapter"} <= set(e):
            problems.append(f"{e!r}: needs en, ko and chapter")
            continue
        if set(e) - ENTRY_KEYS:
            problems.append(f"{e['en']!r}: unknown keys {sorted(set(e) - ENTRY_KEYS)}")
        if not all(isinstance(e[k], str) and e[k].strip() for k in ("en", "ko", "chapter")):
            problems.append(f"{e['en']!r}: en, ko and chapter must be non-empty text")
        if e["chapter"] not in chapters:
            problems.append(f"{e['en']!r}: chapter {e['chapter']!r} is not a chapter in _toc.yml")
        also = e.get("also", [])
        if not isinstance(also, list) or not set(also) <= chapters or e["chapter"] in also:
            problems.append(f"{e['en']!r}: also {also!r} must list other chapters of _toc.yml")
        elif also != sorted(also, key=toc_chapters().index):
            problems.append(f"{e['en']!r}: also {also!r} is not in table-of-contents order")
    report(problems, "malformed entries in book/glossary.yml")


def test_reject_lists_are_korean_words_no_entry_renders_with(entries):
    """``reject`` holds variants, never a word that the glossary itself uses."""
    problems = []
    for e in entries:
        if "reject" not in e:
            continue
        reject = e["reject"]
        if not isinstance(reject, list) or not reject or not all(
            isinstance(v, str) and HANGUL.search(v) for v in reject
        ):
            problems.append(f"{e['en']!r}: reject {reject!r} must be a non-empty list of Korean words")
            continue
        for variant in reject:
            pattern = reject_pattern(variant)
            problems += [
                f"{other['en']!r} is rendered {other['ko']!r}, which {e['en']!r} rejects ({variant!r})"
                for other in entries if pattern.search(other["ko"])
            ]
    report(problems, "reject lists in book/glossary.yml")


def test_the_glossary_rejects_what_contributing_decided(entries):
    """CONTRIBUTING.md section 3: each decided term has its word and rejects the variant."""
    decided = {
        "parameter": ("매개변수", "파라미터"),
        "error rate": ("오류율", "학습 오차"),
        "fully connected": ("완전 연결", "완전연결"),
        "neuron": ("뉴런", "유닛"),
        "biased variance": (None, "표본 분산"),  # rendered 편향 분산 once batch_norm says so
        "ghost batch": (None, "유령 배치"),  # rendered 고스트 배치 likewise
    }
    known = by_english(entries)
    problems = []
    for en, (ko, variant) in decided.items():
        entry = known.get(en)
        if entry is None:
            problems.append(f"{en!r} is not in the glossary")
            continue
        if ko is not None and entry["ko"] != ko:
            problems.append(f"{en!r} is rendered {entry['ko']!r}, not {ko!r}")
        if variant not in entry.get("reject", []):
            problems.append(f"{en!r} does not reject {variant!r}")
    report(problems, "decisions of CONTRIBUTING.md section 3 missing from book/glossary.yml")


def test_glossary_has_no_duplicate_english_or_korean_terms(entries):
    seen_en: dict[str, str] = {}
    seen_ko: dict[str, str] = {}
    problems = []
    for e in entries:
        en = str(e["en"]).casefold()
        if en in seen_en:
            problems.append(f"{e['en']!r} appears twice")
        if e["ko"] in seen_ko:
            problems.append(f"{e['ko']!r} renders both {seen_ko[e['ko']]!r} and {e['en']!r}")
        seen_en[en] = e["en"]
        seen_ko[e["ko"]] = e["en"]
    report(problems, "duplicates in book/glossary.yml")


def test_glossary_entries_are_sorted_by_english_term(entries):
    keys = [sort_key(e) for e in entries]
    assert keys == sorted(keys), "sort book/glossary.yml by en (case and punctuation ignored)"


# --------------------------------------------------------------------------- chapters vs file


def test_the_chapters_gloss_terms_at_all(glosses, chapters):
    """Guards the checks below: a parser that found nothing would pass them all."""
    assert {g.chapter for g in glosses} == set(chapters)


def test_every_term_a_chapter_introduces_is_in_the_glossary(glosses, entries):
    problems = missing_terms(glosses, entries)
    report(problems, "terms the chapters introduce that book/glossary.yml lacks")


def test_every_chapter_renders_each_term_in_korean_as_the_glossary_does(glosses, entries):
    problems = rendering_mismatches(glosses, entries)
    report(problems, "English terms a chapter renders differently from book/glossary.yml "
                     "(one English term, one Korean rendering across the book)")


def test_every_chapter_abbreviates_each_term_as_the_glossary_does(glosses, entries):
    problems = abbreviation_mismatches(glosses, entries)
    report(problems, "abbreviations that differ from book/glossary.yml")


def test_no_chapter_writes_a_variant_the_glossary_rejects(chapters, entries):
    problems = []
    for stem, nb in chapters.items():
        problems += rejected_variants(stem, nb, entries)
    report(problems, "rejected variants in the chapters' prose (one English term, one Korean word; "
                     "see 'reject' in book/glossary.yml)")


def test_each_entry_is_introduced_by_the_chapter_it_names(glosses, entries, chapters):
    """The defining chapter glosses the term, or its title is the term: # 한국어 (English)."""
    problems = []
    for e in entries:
        if e["chapter"] not in chapters:
            continue  # reported by the data-file test
        title = title_term(chapters[e["chapter"]])
        by_title = title is not None and title[0] == e["ko"] and title[1].casefold() == e["en"].casefold()
        if e["chapter"] not in introducers(e, glosses) and not by_title:
            problems.append(f"{e['en']!r}: {e['chapter']} never writes {e['ko']}({e['en']})")
    report(problems, "entries whose defining chapter does not introduce them")


def test_also_lists_exactly_the_other_chapters_that_gloss_the_term(glosses, entries):
    order = toc_chapters()
    problems = []
    for e in entries:
        expected = sorted(introducers(e, glosses) - {e["chapter"]}, key=order.index)
        if e.get("also", []) != expected:
            problems.append(f"{e['en']!r}: also is {e.get('also', [])!r}, the chapters say {expected!r}")
    report(problems, "entries whose 'also' does not match the chapters")


def test_glossary_has_no_entry_that_no_chapter_uses(glosses, entries, chapters):
    titles = {title_term(nb) for nb in chapters.values()}
    titled = {en.casefold() for _, en in filter(None, titles)}
    unused = [
        e["en"] for e in entries
        if not introducers(e, glosses) and str(e["en"]).casefold() not in titled
    ]
    report([f"{en!r}" for en in unused], "entries no chapter introduces")


# --------------------------------------------------------------------------- the parser itself


def synthetic_chapter(*markdown: str) -> list[Gloss]:
    nb = new_notebook(cells=[new_markdown_cell(m) for m in markdown])
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"synthetic-{index}"
    return glosses_in_notebook("synthetic", nb)


def test_a_chapter_introducing_a_term_missing_from_the_glossary_fails_the_check(glosses, entries):
    found = synthetic_chapter("이 장은 새 규제 기법인 드롭 경로(drop path)를 다룹니다.")
    assert [(g.en, g.before.split()[-2:]) for g in found] == [("drop path", ["드롭", "경로"])]
    problems = missing_terms(found, entries)
    assert len(problems) == 1 and "drop path" in problems[0] and "synthetic cell 0" in problems[0]
    # The test above, given the book's glosses plus this cell, fails and names the term.
    with pytest.raises(pytest.fail.Exception, match="drop path"):
        test_every_term_a_chapter_introduces_is_in_the_glossary(glosses + found, entries)


def test_a_chapter_rendering_a_known_term_differently_fails_the_check():
    entries = [{"en": "feature map", "ko": "특징 맵", "chapter": "synthetic"}]
    found = synthetic_chapter("합성곱 층의 특성 맵(feature map)을 펼칩니다.", "CNN의 특징 맵(Feature map)입니다.")
    problems = rendering_mismatches(found, entries)
    assert len(problems) == 1 and "synthetic cell 0" in problems[0] and "특성 맵" in problems[0]
    assert missing_terms(found, entries) == []


def test_a_rendering_must_be_a_whole_word_before_the_parenthesis():
    entries = [{"en": "gain", "ko": "이득", "chapter": "synthetic"}]
    assert rendering_mismatches(synthetic_chapter("순이득(gain)"), entries) != []
    assert rendering_mismatches(synthetic_chapter("뉴런의 이득(gain)"), entries) == []
    assert rendering_mismatches(synthetic_chapter("**이득**(gain)"), entries) == []


def test_the_parser_reads_abbreviations_line_breaks_and_math_in_the_rendering():
    (bn, sgd, conv) = synthetic_chapter(
        "배치 정규화(batch normalization, BN)와 확률적 경사\n하강법(stochastic gradient\ndescent, SGD), "
        "그리고 $1\\times 1$ 합성곱(1×1 convolution)."
    )
    assert (bn.en, bn.abbr) == ("batch normalization", "BN")
    assert (sgd.en, sgd.abbr) == ("stochastic gradient descent", "SGD")
    assert sgd.rendered_as("확률적 경사 하강법")
    assert conv.en == "1×1 convolution" and conv.rendered_as("$1\\times 1$ 합성곱")


def test_the_parser_skips_what_is_not_a_term_gloss():
    markdown = "\n".join([
        "# 잔차 학습 (Residual learning)",
        "## 핵심 (Key idea)",
        "오차가 큽니다(Table 3). 두 단위를 비교했습니다(Figure 4, Table 2).",
        "중간 정규화 층(BN)과 비전 트랜스포머(ViT)를 씁니다. 식 $f(PX) = P\\,g(X)$와 $\\mathrm{softmax}(z)_j$에서,",
        "코드 `permutation_matrix(perm)`와 {cite:t}`he2016deep`(3.1절), {ref}`연습(ex-1) <ex-1>`.",
        "[링크](https://example.org/a(b)) 단계 4의 (A1)과 (A2), 표(%)와 배율 $\\delta$(scale).",
        "$$",
        "\\text{잔차(residual)} \\quad h(x)",
        "$$ (eq-x)",
        "```python",
        "print('결과(result)')",
        "```",
        "```{prf:theorem} 정리 (Theorem)",
        ":label: thm-x",
        "",
        "증명할 명제(statement)입니다.",
        "```",
        "| 가중치 행렬 배율 (weight matrix re-scaling) | $W'=\\delta W$ |",
    ])
    found = synthetic_chapter(markdown)
    assert [g.en for g in found] == ["statement"]


def test_quotations_and_labels_listed_as_not_terms_are_skipped():
    chapter_cell = "정답은 참(True)인지 거짓(False)인지입니다."
    nb = new_notebook(cells=[new_markdown_cell(chapter_cell)])
    assert glosses_in_notebook("batch_norm", nb) == []
    assert [g.en for g in glosses_in_notebook("synthetic", nb)] == ["True", "False"]


def test_a_chapter_writing_a_rejected_variant_fails_naming_the_word_and_the_cell(chapters, entries):
    """Injected into a real chapter, a variant in prose fails the chapter test."""
    nb = nbformat.from_dict(chapters["batch_norm"])
    nb.cells = list(nb.cells) + [
        new_markdown_cell("## 학습 오차 (Training error)\n\n이 층의 학습 파라미터는 $\\gamma$와 $\\beta$입니다."),
        new_code_cell("plt.plot(x)", metadata={"mystnb": {"figure": {"caption": "완전연결 층의 출력."}}}),
    ]
    nb.cells[-2]["id"], nb.cells[-1]["id"] = "injected-md", "injected-code"
    before = rejected_variants("batch_norm", chapters["batch_norm"], entries)
    after = rejected_variants("batch_norm", nb, entries)
    new = [p for p in after if p not in before]
    last = len(nb.cells) - 1
    assert len(new) == 3, new
    assert f"cell {last - 1} (id injected-md): '학습 오차'" in new[0] and "'error rate'" in new[0]
    assert f"cell {last - 1} (id injected-md): '파라미터'" in new[1] and "'매개변수'" in new[1]
    assert f"cell {last} (id injected-code): '완전연결'" in new[2] and "'완전 연결'" in new[2]
    with pytest.raises(pytest.fail.Exception, match="파라미터"):
        test_no_chapter_writes_a_variant_the_glossary_rejects({**chapters, "batch_norm": nb}, entries)


def test_rejected_variants_are_matched_in_prose_only():
    entries = [{"en": "parameter", "ko": "매개변수", "chapter": "synthetic", "reject": ["파라미터"]},
               {"en": "error rate", "ko": "오류율", "chapter": "synthetic", "reject": ["시험 오차"]}]
    not_prose = "\n".join([
        "코드 `n_파라미터`와 수식 $\\text{파라미터}$, 역할 {ref}`파라미터 <sec-x>`, "
        "[링크](#파라미터) <span title='파라미터'>말</span> 하이퍼파라미터.",
        "",
        "$$",
        "\\text{시험 오차} = 1",
        "$$",
        "",
        "```python",
        "print('파라미터')",
        "```",
        "",
        "```{code-cell} ipython3",
        "파라미터 = 1",
        "```",
        "",
        "<!-- 파라미터 -->",
        "% 파라미터",
    ])
    prose = "\n".join([
        "::: {note} 파라미터 세기",
        ":class: tip",
        "",
        "**파라미터**를 셉니다. 시험\n오차와 시험오차.",
        ":::",
        "",
        "| 표 | 파라미터 수 |",
        "|---|---|",
        "| 셀 | 2 |",
    ])
    nb = new_notebook(cells=[new_markdown_cell(not_prose), new_markdown_cell(prose)])
    found = rejected_variants("synthetic", nb, entries)
    assert all("cell 1 " in p for p in found), found
    assert [p.split(": ", 1)[1].split(" in ")[0] for p in found] == [
        "'파라미터'",  # the directive's title
        "'파라미터'", "'시험 오차'", "'시험오차'",  # its body; the line break reads as a space
        "'파라미터'",  # the table's header
    ]

