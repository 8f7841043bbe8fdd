/*
 * korean-search-stemmer.js: the query-side stemmer of the book's Korean search.
 *
 * _ext/korean_search.py puts this file into _static/language_data.js right after
 * Sphinx's English Porter stemmer (sphinx.search.en.js_porter_stemmer), which has
 * just defined `var Stemmer`.  This file keeps that one as `EnglishStemmer` and
 * replaces `Stemmer` with a stemmer that
 *   - Porter-stems a word without Hangul, exactly as the English part of the index
 *     was stemmed (residual -> residu, normalization -> normal);
 *   - reduces a Korean word typed with a particle or ending to the form the index
 *     holds.  The index (built with Kiwi, see korean_search.py) has every surface
 *     word AND its nouns and verb stems, so 손실은 -> 손실, 나누는 -> 나누,
 *     정규화된 -> 정규화, softmax를 -> softmax.
 *
 * searchtools.js calls `new Stemmer()` and then `stemWord(lowercasedWord)` for each
 * query word, only once the index is loaded (Search.query runs only then), so the
 * stemmer can check its guesses against `Search._index`.
 *
 * How a Korean word is reduced
 * ----------------------------
 * Rules alone cannot tell 분산이 (분산 + subject particle 이) from 길이 (a noun that
 * happens to end in 이), so the rules below only propose candidates (분산이 -> 분산;
 * 길이 -> 길) and the index decides.  A real stem shows up in the index with many
 * different particles/endings after it (분산은, 분산을, 분산의, ...), a word that
 * already carries one hardly ever does (분산이 is not followed by anything), so each
 * candidate is scored by that count ("attestation") and the best one wins:
 *   - a word the index does not hold is replaced by its best-attested candidate;
 *   - a word the index holds is only replaced by a candidate attested clearly
 *     better than itself (see `beats`): the book writes it like that, so a wrong
 *     guess would lose the very pages that contain it;
 *   - otherwise the word is returned unchanged (Sphinx then still tries its
 *     substring match for words of three or more characters).
 * Debugging in the browser console of search.html:
 *   KoreanSearch.candidates("손실은"), KoreanSearch.attestation(Search._index, "손실")
 */

/* Sphinx's Porter stemmer, defined just above this file in language_data.js. */
var EnglishStemmer = Stemmer;

var KoreanSearch = (function () {
  "use strict";

  // --- Hangul syllable arithmetic --------------------------------------------
  // A precomposed syllable is 0xAC00 + (initial * 21 + vowel) * 28 + final.
  var SYL_FIRST = 0xac00, SYL_LAST = 0xd7a3;
  var FINAL_N = 4, FINAL_L = 8, FINAL_B = 17, FINAL_SS = 20;  // ㄴ ㄹ ㅂ ㅆ
  var isSyllable = function (ch) {
    var c = ch.charCodeAt(0);
    return c >= SYL_FIRST && c <= SYL_LAST;
  };
  var finalOf = function (ch) { return (ch.charCodeAt(0) - SYL_FIRST) % 28; };
  var vowelOf = function (ch) { return Math.floor((ch.charCodeAt(0) - SYL_FIRST) / 28) % 21; };
  var withFinal = function (ch, fin) {
    var c = ch.charCodeAt(0) - SYL_FIRST;
    return String.fromCharCode(SYL_FIRST + c - (c % 28) + fin);
  };
  var withVowel = function (ch, v) {
    var c = ch.charCodeAt(0) - SYL_FIRST;
    return String.fromCharCode(SYL_FIRST + (Math.floor(c / 588) * 21 + v) * 28 + (c % 28));
  };
  var hasHangul = function (w) { return /[\uac00-\ud7a3]/.test(w); };
  var add = function (list, s) { if (s && list.indexOf(s) < 0) list.push(s); };

  // --- Particles (조사) and the copula (이다) after a noun ----------------------
  // Many have two shapes, chosen by whether the noun ends in a consonant:
  // "C" = only after a final consonant (손실은, 손실을), "V" = only after a vowel or
  // a Latin word (벡터는, softmax를), "A" = either.  The check keeps 차이 (no final
  // consonant before 이) from being read as 차 + 이.
  var PARTICLES = {
    // auxiliary particles (보조사)
    "은": "C", "는": "V", "도": "A", "만": "A", "까지": "A", "부터": "A", "마다": "A",
    "조차": "A", "마저": "A", "뿐": "A", "밖에": "A", "이라도": "C", "라도": "V",
    // case particles (격조사)
    "이": "C", "가": "V", "을": "C", "를": "V", "의": "A", "에": "A", "에서": "A",
    "에게": "A", "한테": "A", "께": "A", "께서": "A", "으로": "C", "로": "V",
    "으로서": "C", "로서": "V", "으로써": "C", "로써": "V", "와": "V", "과": "C",
    "이랑": "C", "랑": "V", "처럼": "A", "보다": "A", "만큼": "A", "대로": "A",
    "끼리": "A",
    // the copula 이다 (벡터입니다, 행렬이며, 등변임을); after a vowel its 이 may be
    // dropped (벡터다, 벡터라는), so the short forms are listed too.
    "이다": "A", "입니다": "A", "입니까": "A", "이며": "A", "이고": "A", "이면": "A",
    "인": "A", "일": "A", "이라": "A", "이라는": "A", "이라고": "A", "이라서": "A",
    "이라면": "A", "이므로": "A", "이지만": "A", "이었다": "A", "인데": "A", "인지": "A",
    "인가": "A", "이지": "A", "이기": "A", "임": "A", "이어야": "A", "이에요": "A",
    "다": "V", "며": "V", "라": "V", "라는": "V", "라고": "V", "라서": "V", "라면": "V",
    "였다": "V", "예요": "V",
    // plural suffix
    "들": "A",
  };
  // `으로` after a noun ending in ㄹ is `로` (행렬로): the one exception to "V".
  var allowed = function (stem, particle, shape) {
    if (shape === "A") return true;
    var last = stem.charAt(stem.length - 1);
    if (!isSyllable(last)) return shape === "V";     // Latin word: softmax를, relu는
    var fin = finalOf(last);
    if (fin === FINAL_L && particle.charAt(0) === "로") return true;
    return shape === "C" ? fin !== 0 : fin === 0;
  };
  // Particles stack (벡터들에서는 = 벡터 + 들 + 에서 + 는; 등변임을 = 등변 + 임 + 을):
  // strip the longest one from the end, up to three times, and keep every form
  // left on the way: 손실에서는 -> [손실에서, 손실].
  var nounForms = function (w) {
    var out = [];
    for (var round = 0; round < 3; round++) {
      var stripped = null;
      for (var n = Math.min(3, w.length - 1); n >= 1 && stripped === null; n--) {
        var tail = w.slice(-n), stem = w.slice(0, -n);
        if (PARTICLES.hasOwnProperty(tail) && allowed(stem, tail, PARTICLES[tail]))
          stripped = stem;
      }
      if (stripped === null) break;
      out.push(stripped);
      w = stripped;
    }
    return out;
  };

  // --- Endings (어미) after a verb or adjective stem ---------------------------
  // Whole-syllable endings, longest first; up to two are stripped (쓰는지 = 쓰 + 는
  // + 지): 나누는 -> 나누, 곱하면 -> 곱하, 있으면 -> 있, 계산하였다 -> 계산하.
  // Not the nominalisers 기/음: 크기, 기울기, 잡음, 묶음 are nouns in their own right.
  var ENDINGS = [
    "었습니다", "았습니다", "였습니다", "습니다", "으려면", "으면서", "으니까",
    "으세요", "었다", "았다", "였다", "는다", "도록", "어서", "아서", "여서", "어야",
    "아야", "어도", "아도", "으면", "으며", "으니", "으므로", "므로", "지만", "는데",
    "는지", "은지", "거나", "면서", "려면", "려고", "니까", "세요", "는가", "은가",
    "는", "고", "면", "며", "다", "지", "게", "어", "아", "여", "은", "을", "든",
  ];
  var stripEnding = function (w) {
    for (var i = 0; i < ENDINGS.length; i++) {
      var e = ENDINGS[i];
      if (w.length > e.length && w.slice(-e.length) === e) return w.slice(0, -e.length);
    }
    return null;
  };
  // Endings fused into the stem's last syllable as a final consonant (받침), by
  // what follows that syllable: 나눈/나눌 -> 나누 (nothing follows), 구한다 -> 구하
  // (다), 나눕니다 -> 나누 (니다), 계산했고 -> 계산하 (고), 할까 -> 하 (까).
  // Carriers with no final listed only undo a contraction (나눠서, 곱해도).
  var FUSED = {
    "": [FINAL_N, FINAL_L], "다": [FINAL_N, FINAL_SS], "다는": [FINAL_N, FINAL_SS],
    "다고": [FINAL_N, FINAL_SS], "다면": [FINAL_N, FINAL_SS], "니다": [FINAL_B],
    "니까": [FINAL_B], "까": [FINAL_L], "고": [FINAL_SS], "지만": [FINAL_SS],
    "는데": [FINAL_SS], "을": [FINAL_SS], "던": [FINAL_SS], "으며": [FINAL_SS],
    "으면": [FINAL_SS], "서": [], "도": [], "야": [],
  };
  // Contracted syllables (the ending 어/었 merged into the stem), by stem syllable:
  // 했/해 -> 하 (계산했다, 더해), 됐/돼 -> 되 (정의됐다, 돼서).
  var CONTRACTED = { "했": "하", "해": "하", "됐": "되", "돼": "되" };
  // Other vowels merged with 어: 나눠/나눴 -> 나누 (ㅝ -> ㅜ), 봐/봤 -> 보 (ㅘ -> ㅗ),
  // 그려/그렸 -> 그리 (ㅕ -> ㅣ).  The numbers are the vowels' order in Unicode.
  var UNCONTRACT_VOWEL = { 14: 13, 9: 8, 6: 20 };
  // The stems a fused or contracted last syllable stands for.  Only stems of two or
  // more syllables: for one syllable the guess is too often another, very common
  // word (합 -> 하, 열 -> 여 -> 이, 난 -> 나).
  var fusedStems = function (w) {
    var out = [];
    Object.keys(FUSED).forEach(function (carrier) {
      if (w.length < carrier.length + 2 || w.slice(w.length - carrier.length) !== carrier) return;
      var head = w.slice(0, w.length - carrier.length);
      var last = head.charAt(head.length - 1), front = head.slice(0, -1);
      if (!isSyllable(last)) return;
      if (CONTRACTED.hasOwnProperty(last)) { add(out, front + CONTRACTED[last]); return; }
      var open = last;
      if (FUSED[carrier].indexOf(finalOf(last)) >= 0) open = withFinal(last, 0);
      else if (finalOf(last) !== 0) return;
      var v = vowelOf(open);
      if (UNCONTRACT_VOWEL.hasOwnProperty(v)) add(out, front + withVowel(open, UNCONTRACT_VOWEL[v]));
      if (open !== last) add(out, front + open);
    });
    return out;
  };
  // A noun + 하다/되다/시키다 verb (계산하는, 정규화된, 통과시켜): Kiwi indexed the
  // noun (계산, 정규화).  These forms are stripped whole when at least two syllables
  // remain (구하는, 더한 are verbs, not 구/더 + 하다), and serve as evidence that
  // the noun before them is a stem (see attestation).
  var DERIVED = [
    // 하다/되다 with their endings fused or contracted ...
    "한", "할", "함", "합니다", "한다", "해", "해서", "해야", "해도", "했", "했다",
    "했고", "했습니다", "했으며", "했는데", "했을", "된", "될", "됨", "됩니다", "된다",
    "돼", "돼서", "됐다", "됐습니다", "시킨", "시켜", "시켰다",
  ];
  // ... and followed by a whole-syllable ending (하는, 하면, 되어, 시키는, ...).
  ["하", "되", "시키"].forEach(function (verb) {
    ENDINGS.forEach(function (e) { DERIVED.push(verb + e); });
    DERIVED.push(verb + "기", verb + "다");
  });
  // Stems (and nouns) a verb-like form may come from, nouns first: 계산했고 ->
  // [계산, 계산하].
  var verbForms = function (w) {
    var nouns = [], stems = [];
    DERIVED.forEach(function (d) {
      var n = w.length - d.length;
      if (n >= 2 && w.slice(n) === d) add(nouns, w.slice(0, n));
    });
    var b1 = stripEnding(w), b2 = b1 && stripEnding(b1);
    [b1, b2].concat(fusedStems(w), b1 ? fusedStems(b1) : []).forEach(function (s) {
      if (s !== w) add(stems, s);
      var m = s && /^(.{2,}?)(하|되|시키)$/.exec(s);  // 계산하 -> 계산, 정규화되 -> 정규화
      if (m) add(nouns, m[1]);
    });
    return nouns.concat(stems);
  };

  // --- Choosing with the index ------------------------------------------------
  // Every particle, ending and derived form: the evidence that a form is a stem.
  var FOLLOWER_SET = {};
  Object.keys(PARTICLES).concat(ENDINGS, DERIVED).forEach(function (f) { FOLLOWER_SET[f] = true; });

  var indexHas = function (index, w) {
    return index.terms.hasOwnProperty(w) || index.titleterms.hasOwnProperty(w);
  };
  // -1 if the index does not hold `w`, else how many different particles/endings
  // the index shows right after it, alone or with a second one stacked behind
  // (손실 -> 은, 을, 에서 (손실에서는), ...: 3; 분산이 -> hardly any).  Counting the
  // different first followers, not the terms, keeps 길 (길이가, 길이는, ... all
  // start with 이) from outscoring 길이 (가, 는, ...).  The Korean terms are
  // scanned once per candidate: a few thousand string prefix tests.
  var termLists = [];  // [index, its Korean terms] for the index in use
  var koreanTerms = function (index) {
    if (termLists[0] !== index) {
      var seen = {};
      Object.keys(index.terms).concat(Object.keys(index.titleterms)).forEach(function (t) {
        if (hasHangul(t)) seen[t] = true;
      });
      termLists = [index, Object.keys(seen)];
    }
    return termLists[1];
  };
  // The followers `r` can start with, if `r` is one follower or two stacked ones.
  var firstFollowers = function (r) {
    var out = [];
    if (FOLLOWER_SET.hasOwnProperty(r)) out.push(r);
    for (var n = 1; n < r.length; n++)
      if (FOLLOWER_SET.hasOwnProperty(r.slice(0, n)) && FOLLOWER_SET.hasOwnProperty(r.slice(n)))
        out.push(r.slice(0, n));
    return out;
  };
  var attestation = function (index, w) {
    if (!indexHas(index, w)) return -1;
    var terms = koreanTerms(index), seen = {}, n = 0;
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i];
      if (t.length <= w.length || t.lastIndexOf(w, 0) !== 0) continue;
      firstFollowers(t.slice(w.length)).forEach(function (f) {
        if (!seen.hasOwnProperty(f)) { seen[f] = true; n++; }
      });
    }
    return n;
  };

  // Does candidate `cand`, attested `c` times, replace a word attested `w` times?
  // A word the index does not hold (w = -1) gives way to any candidate the index
  // holds.  A word the index holds gives way to a better-attested candidate; if the
  // candidate is a single syllable it must be clearly better (by three or more),
  // because one-syllable words (세, 통, 만, 보) are seen with many endings merely by
  // being short.  Measured on this book: 값이 (4) -> 값 (13), 축으로 -> 축, 층에 ->
  // 층 pass; 세로 (0) -> 세 (2), 통과 (0) -> 통 (2) do not.
  var beats = function (cand, c, w) {
    if (w < 0) return c >= 0;
    return cand.length === 1 ? c > w + 2 : c > w;
  };

  // The rules' candidates for a Korean word, most wanted first: nouns (the bare
  // noun, then partly stripped forms), then the verb/adjective readings.
  var candidates = function (w) {
    var out = [];
    nounForms(w).reverse().concat(verbForms(w)).forEach(function (c) {
      if (c !== w) add(out, c);
    });
    return out;
  };

  var stemKorean = function (w, english) {
    w = w.toLowerCase();  // searchtools.js lowercases already; ReLU는 -> relu는
    // A Latin remainder (softmax를 -> softmax) is Porter-stemmed, as indexed.
    var cands = candidates(w).map(function (c) {
      return hasHangul(c) ? c : english.stemWord(c);
    });
    var index = typeof Search !== "undefined" && Search._index ? Search._index : null;
    if (index === null) {
      // No index to check against (searchtools.js always has one when it stems):
      // the rules' first guess.
      return cands.length ? cands[0] : w;
    }
    // The best-attested candidate that beats the word; on a tie the longer one
    // (길이가 -> 길이 rather than 길: strip no more than the index supports).
    var wordScore = attestation(index, w);
    var best = w, bestScore = -1;
    for (var i = 0; i < cands.length; i++) {
      var c = cands[i], score = attestation(index, c);
      if (!beats(c, score, wordScore)) continue;
      if (score > bestScore || (score === bestScore && c.length > best.length)) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  };

  return {
    stemKorean: stemKorean, candidates: candidates, attestation: attestation,
    hasHangul: hasHangul,
  };
})();

Stemmer = function () {
  var english = new EnglishStemmer();
  this.stemWord = function (w) {
    return KoreanSearch.hasHangul(w) ? KoreanSearch.stemKorean(w, english) : english.stemWord(w);
  };
};
