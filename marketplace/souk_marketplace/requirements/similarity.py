"""Near-duplicate requirements: TF-IDF cosine over character bigrams (Chinese) and words (Latin scripts).

Plain Python, no Flask and no database: a few thousand open requirements fit in memory, and the
texts are short. Chinese is not segmented into words, so each run of CJK characters becomes its
characters and its overlapping character bigrams (发优惠券 → 发 优 惠 券, 发优 优惠 惠券), which catches
the same need written with different surrounding words. Latin text becomes lower-cased words with a
light plural/-ing/-ed stemming, plus each word's character trigrams so "coupon" and "coupons" or
"WeChat" and "wechat-pay" still meet. Terms are weighted by ``1 + log(tf)`` × smoothed IDF over the
compared corpus. Variants measured on the labelled set (title counted twice or three times, no
trigrams, no single characters) all scored within a few points of F1; this is the simplest good one.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Chosen on tests/marketplace/requirements/labelled_pairs.py (test_similarity.py prints precision/recall).
DUPLICATE_THRESHOLD = 0.30

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_IS_CJK = re.compile(rf"[{_CJK}]")

# Words that say nothing about which need it is (English); Chinese filler is left to the IDF.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "do",
        "for",
        "from",
        "has",
        "have",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "let",
        "me",
        "my",
        "need",
        "needs",
        "of",
        "on",
        "or",
        "our",
        "please",
        "should",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "up",
        "us",
        "want",
        "we",
        "when",
        "which",
        "while",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


def _stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    return word


def terms(text: str) -> list[str]:
    """The terms of ``text``: CJK characters and bigrams, Latin words and their character trigrams."""
    normal = unicodedata.normalize("NFKC", text).lower()
    found: list[str] = []
    for run in _RUNS.findall(normal):
        if _IS_CJK.match(run):
            found.extend(run)
            found.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif run not in _STOPWORDS and not run.isdigit():
            word = _stem(run)
            found.append("w:" + word)
            padded = f"<{word}>"
            found.extend("t:" + padded[i : i + 3] for i in range(len(padded) - 2))
    return found


def document_terms(title: str, description: str) -> Counter[str]:
    return Counter(terms(title) + terms(description))


Vector = dict[str, float]


def _weigh(counts: Mapping[str, int], idf: Mapping[str, float], default_idf: float) -> Vector:
    vector = {term: (1.0 + math.log(n)) * idf.get(term, default_idf) for term, n in counts.items() if n > 0}
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {term: w / norm for term, w in vector.items()} if norm else {}


def _cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(term, 0.0) for term, w in a.items())


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    score: float


class SimilarityIndex:
    """TF-IDF vectors of a corpus of documents, keyed by id; IDF is computed over the whole corpus."""

    def __init__(self, documents: Iterable[tuple[str, str, str]]) -> None:
        """``documents``: (key, title, description) triples."""
        self._counts = {key: document_terms(title, description) for key, title, description in documents}
        df: Counter[str] = Counter()
        for counts in self._counts.values():
            df.update(counts.keys())
        n = len(self._counts)
        self._idf = {term: math.log((n + 1) / (d + 1)) + 1.0 for term, d in df.items()}
        self._default_idf = math.log(n + 1) + 1.0  # a term no document has: as rare as can be
        self._vectors = {key: _weigh(c, self._idf, self._default_idf) for key, c in self._counts.items()}
        self._postings: dict[str, list[str]] = defaultdict(list)
        for key, vector in self._vectors.items():
            for term in vector:
                self._postings[term].append(key)

    def __len__(self) -> int:
        return len(self._vectors)

    def score(self, a: str, b: str) -> float:
        return _cosine(self._vectors[a], self._vectors[b])

    def similar_to(
        self, title: str, description: str, *, threshold: float, limit: int, exclude: str | None = None
    ) -> list[Match]:
        """Documents whose cosine with the given text is at least ``threshold``, best first."""
        vector = _weigh(document_terms(title, description), self._idf, self._default_idf)
        candidates = {key for term in vector for key in self._postings.get(term, ())} - {exclude}
        matches = [Match(key, _cosine(vector, self._vectors[key])) for key in candidates]
        matches = [m for m in matches if m.score >= threshold]
        matches.sort(key=lambda m: (-m.score, m.key))
        return matches[:limit]

    def pairs(self, *, threshold: float, limit: int) -> list[tuple[str, str, float]]:
        """Every pair of documents at or above ``threshold`` (each pair once, key order), best first."""
        found: list[tuple[str, str, float]] = []
        for a, vector in self._vectors.items():
            neighbours = {key for term in vector for key in self._postings[term] if key > a}
            for b in neighbours:
                score = _cosine(vector, self._vectors[b])
                if score >= threshold:
                    found.append((a, b, score))
        found.sort(key=lambda p: (-p[2], p[0], p[1]))
        return found[:limit]
