"""Korean-aware full-text search (Sphinx has no search language for 'ko').

Why this exists
---------------
With ``language: ko`` Sphinx 7.4 finds no entry for 'ko' in ``sphinx.search.languages``
and falls back to English ("dumping search index in English (code: en)"): the text is
cut at ``\\w+`` runs, so a Korean word is indexed with its particle or ending attached
(손실은, 기울기를, 나누는).  A reader who types the bare noun 손실 then misses a page
that only ever writes 손실은 / 손실을: the browser looks a two-syllable word up by
exact match only (partial matching starts at three characters).

What this extension does
------------------------
* Index side (Python, at build time): ``SearchKorean.split`` keeps every ``\\w+`` run
  (the surface word, exactly what Sphinx indexed before) and adds, for each Korean
  eojeol, what the morphological analyser Kiwi (kiwipiepy, model shipped in the
  kiwipiepy-model wheel, no network) finds in it: nouns (손실은 -> 손실), compound noun
  runs (손실함수를 -> 손실, 함수, 손실함수; 정규화를 -> 정규화), Latin words glued to a
  particle (softmax를 -> softmax) and verb/adjective stems (나누는 -> 나누, 쉬운 -> 쉽).
  Words without Hangul are Porter-stemmed exactly as Sphinx's English language does
  (same stemmer, same stop words), so English search behaves as before.
* Query side (browser): ``js_stemmer_code`` is Sphinx's own English Porter stemmer
  (``sphinx.search.en.js_porter_stemmer``, imported, not copied) followed by
  ``_ext/static/korean-search-stemmer.js``, which wraps it: an English query word is
  Porter-stemmed, a Korean one has common particles/endings stripped (손실은 -> 손실)
  to reach the form the index holds.  Sphinx writes both into ``_static/language_data.js``,
  so the site stays offline.

Kiwi is loaded lazily, the first time a document with Hangul is indexed: a no-change
rebuild indexes nothing and never imports kiwipiepy (the no-change rebuild budget is
2 s; loading the model costs about 0.6 s).  Analysis is deterministic (same model,
same text -> same tokens), and Sphinx writes the index with sorted keys: two clean
builds give byte-identical searchindex.js.

Costs, measured when written: about +2 s on a clean build (model load + analysing
~2,200 Korean text nodes), nothing on a no-change rebuild, searchindex.js +12 %
(184 -> 206 kB; 39 -> 43 kB gzipped), language_data.js +16 kB (it is on every page).
Editing this file or the JS changes ``env_version`` (see ``source_version``), so the
next build reindexes everything.  tests/test_korean_search.py measures the result in
Chromium.
"""
from __future__ import annotations

import functools
import hashlib
import re
import threading
from pathlib import Path

import snowballstemmer
from sphinx.application import Sphinx
from sphinx.search import SearchLanguage, js_index
from sphinx.search.en import english_stopwords, js_porter_stemmer
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
# The browser-side Korean stemmer (see the module docstring).
STEMMER_JS = HERE / "static" / "korean-search-stemmer.js"

# Precomposed Hangul syllables (가-힣): a word containing one is analysed by Kiwi and
# is not run through the Porter stemmer.
HANGUL = re.compile("[\uac00-\ud7a3]")
# Sphinx's own word pattern (SearchLanguage._word_re): the surface words.
WORD = re.compile(r"\w+")

# Kiwi part-of-speech tags (Sejong tag set) whose forms become extra index terms.
#   NNG common noun, NNP proper noun, XR root (깨끗 of 깨끗하다), SH Hanja,
#   SL Latin word (softmax of softmax를; stemmed as English below).
TERM_TAGS = {"NNG", "NNP", "XR", "SH", "SL"}
#   VV verb, VA adjective, VX auxiliary verb/adjective: their stem (나누 of 나누는).
#   Kiwi marks irregular conjugation with a suffix (쉽/VA-I), hence the split("-").
STEM_TAGS = {"VV", "VA", "VX"}
# Tags that make up a compound noun inside one eojeol: 손실/NNG 함수/NNG -> 손실함수,
# 정규/NNG 화/XSN -> 정규화 (Kiwi often splits a derived noun off its suffix).
#   XPN noun prefix, XSN noun suffix.
NOUN_RUN_TAGS = {"NNG", "NNP", "XPN", "XSN", "XR", "SH"}
# A verb stem made of a noun + 하/되/시키 (구분하 -> 구분), as in the JS stemmer.
DERIVED_VERB = re.compile("^(.{2,}?)(?:하|되|시키)$")

_kiwi = None
_kiwi_lock = threading.Lock()


def kiwi():
    """The shared Kiwi analyser, created on first use (import + model load ~0.6 s)."""
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            logger.verbose("[korean_search] loading the Kiwi model")
            # The typo and multi-word dictionaries are not needed to find nouns and
            # stems; leaving them out halves the load time.
            _kiwi = Kiwi(load_typo_dict=False, load_multi_dict=False)
        return _kiwi


def analyse(text: str) -> list:
    """Kiwi's tokens for ``text`` (also used by tests/test_korean_search.py).

    ``z_coda=False``: do not split a trailing consonant off as a separate token (a
    feature for chat-style text such as 먹었엌); on this book's formal prose it only
    caused misreadings (키·값 쌍 -> 싸 + 어 + ㅇ), and is slower.
    """
    return kiwi().tokenize(text, z_coda=False)


@functools.lru_cache(maxsize=65536)
def korean_terms(text: str) -> tuple[str, ...]:
    """Nouns, compound nouns, Latin words and verb stems Kiwi finds in ``text``.

    Only what lies inside one ``\\w+`` run (one eojeol, or the word part of it) is
    joined into a compound.  Cached: the same text node (a caption, a repeated label,
    a title that is also indexed as body text) is analysed once.
    """
    # Map every character offset to the index of the \w+ run it belongs to.
    run_of = [-1] * len(text)
    for i, m in enumerate(WORD.finditer(text)):
        for pos in range(m.start(), m.end()):
            run_of[pos] = i

    terms: list[str] = []
    compound: list = []  # the current run of NOUN_RUN_TAGS tokens

    def flush() -> None:
        # Every prefix of two or more tokens that ends on a noun-ish token:
        # 배치/정규/화/층 -> 배치정규, 배치정규화, 배치정규화층.
        if len(compound) > 1:
            start = compound[0].start
            for tok in compound[1:]:
                terms.append(text[start:tok.start + tok.len])
        compound.clear()

    for tok in analyse(text):
        tag = tok.tag.split("-")[0]
        run = run_of[tok.start] if tok.start < len(text) else -1
        if compound and (tag not in NOUN_RUN_TAGS or run != run_of[compound[0].start]):
            flush()
        if run < 0:
            continue
        if tag in NOUN_RUN_TAGS:
            compound.append(tok)
        if tag in TERM_TAGS or tag in STEM_TAGS:
            terms.append(tok.form)
        # Kiwi sometimes reads a noun + 하다/되다 verb as one verb (구분해 -> 구분하/VV);
        # the noun is what a reader searches for (and what the JS stemmer reduces
        # 구분하는 to), so index it too when two or more syllables precede 하/되/시키.
        if tag in STEM_TAGS:
            derived = DERIVED_VERB.match(tok.form)
            if derived:
                terms.append(derived.group(1))
    flush()
    return tuple(terms)


class SearchKorean(SearchLanguage):
    """Korean + English search: Kiwi nouns/stems for Hangul, Porter for the rest."""

    lang = "ko"
    language_name = "Korean"
    # English stop words, as Sphinx's English language (the book mixes in English
    # terms; Korean particles never stand alone as words, so need no stop list).
    stopwords = english_stopwords
    js_stemmer_code = (
        js_porter_stemmer  # defines `var Stemmer` (Porter); the file below wraps it
        + "\n"
        + STEMMER_JS.read_text(encoding="utf-8")
    )

    def init(self, options: dict[str, str]) -> None:
        # The same stemmer as sphinx.search.en.SearchEnglish.
        self.stemmer = snowballstemmer.stemmer("porter")

    def split(self, input: str) -> list[str]:
        words = WORD.findall(input)
        if HANGUL.search(input):
            words.extend(korean_terms(input))
        return words

    def stem(self, word: str) -> str:
        if HANGUL.search(word):
            return word.lower()  # Korean has no case; lower() for a Latin part (ReLU는)
        return self.stemmer.stemWord(word.lower())


def source_version() -> int:
    """A number that changes whenever this file or the JS stemmer changes.

    Returned as the extension's ``env_version``: Sphinx then rereads (and so
    reindexes) every page after an edit here, instead of keeping a search index
    built by the old rules next to a language_data.js with the new ones.  (A
    no-change build skips writing altogether, so it would not even refresh the JS.)
    """
    digest = hashlib.sha256()
    for path in (Path(__file__), STEMMER_JS):
        digest.update(path.read_bytes())
    return int(digest.hexdigest()[:8], 16)


def read_all_if_the_index_is_stale(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Every page, when the search index on disk cannot be kept.

    Sphinx reuses searchindex.js for the pages it does not write again, but only if the
    index was written under the current environment version (which changes with this
    file or another extension's ``env_version``).  The PDF build shares the
    environment with the HTML one, so after such a change it brings the environment up
    to date first; the HTML build then writes only a few pages, cannot load the old
    index and warns that the new one will be incomplete (and -W fails the build).
    Reading every page again makes the index whole.
    """
    if app.builder.format != "html" or not Path(app.outdir, "index.html").is_file():
        return []  # a first build writes every page anyway
    index = Path(app.outdir) / app.builder.searchindex_filename
    try:
        frozen = js_index.loads(index.read_text(encoding="utf-8"))
        if isinstance(frozen, dict) and frozen.get("envversion") == env.version:
            return []
    except (OSError, ValueError):
        pass
    logger.info("[korean_search] the search index on disk is from another build: reading every page")
    return sorted(env.found_docs)


def setup(app: Sphinx) -> dict:
    # app.add_search_language sets sphinx.search.languages['ko'] = SearchKorean; the
    # HTML builder picks it because `language: ko` (html_search_language unset).
    app.add_search_language(SearchKorean)
    app.connect("env-get-outdated", read_all_if_the_index_is_stale)
    return {
        "version": "1.0",
        "env_version": source_version(),
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
