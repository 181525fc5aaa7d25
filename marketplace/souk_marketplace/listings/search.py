"""Full-text search over listings, in English and Chinese, on PostgreSQL and (by substring) on SQLite.

PostgreSQL's parsers do not segment Chinese: "会员积分营销" is one token, so a search for 会员 would miss
it. Every run of CJK characters is therefore indexed as its single characters and its character
bigrams, each at the position of its first character; a CJK query becomes the phrase of its bigrams
(``'会员' <-> '员积' <-> '积分'``), which matches exactly where the text contains the query, and a
one-character query matches the single character. Latin text goes through the ``english`` parser
(stemming, stop words) and each query word matches as a prefix (``loyal:*`` finds "loyalty"). Names
weigh most (A), then taglines (B), then descriptions (C); results are ranked with ``ts_rank``.

The CJK lexemes are written as tsvector/tsquery literals built here, never parsed from user text by
PostgreSQL, so no query can be a tsquery syntax error. SQLite has no full-text type here: it keeps
``search_text`` (everything, lower-cased) and each query term must occur in it (``LIKE``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

# CJK unified ideographs (with extension A and compatibility forms), kana and hangul: scripts written
# without spaces between words.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(f"[^\\W_{_CJK}]+")  # letters and digits of the other scripts
_MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
MAX_QUERY_TERMS = 20

WEIGHTS = ("A", "B", "C")  # name, tagline, description


@dataclass(frozen=True, slots=True)
class Query:
    """A search string split into what each side of the index understands."""

    words: tuple[str, ...]  # Latin (and other spaced scripts) words, lower-cased
    cjk_runs: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.words and not self.cjk_runs


def parse_query(text: str) -> Query:
    """Split ``text`` into words and CJK runs (at most ``MAX_QUERY_TERMS`` of them, in order)."""
    lowered = text.lower()
    words = tuple(dict.fromkeys(_WORD.findall(lowered)))
    runs = tuple(dict.fromkeys(_CJK_RUN.findall(lowered)))
    return Query(words[:MAX_QUERY_TERMS], runs[: max(0, MAX_QUERY_TERMS - len(words))])


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def cjk_lexemes(text: str) -> list[tuple[str, int]]:
    """Single characters and bigrams of every CJK run in ``text``, with 1-based positions."""
    found: list[tuple[str, int]] = []
    for match in _CJK_RUN.finditer(text.lower()):
        run, start = match.group(), match.start() + 1
        for offset, char in enumerate(run):
            position = min(start + offset, _MAX_POSITION)
            found.append((char, position))
            if offset + 1 < len(run):
                found.append((run[offset : offset + 2], position))
    return found


def cjk_tsvector_literal(fields: Iterable[tuple[str, str]]) -> str:
    """A tsvector literal of the CJK lexemes of ``(text, weight)`` fields: ``'会员':3A '员':4A …``.

    Positions run on across fields (a gap of 100 between them) so a phrase never spans two fields.
    """
    positions: dict[str, list[str]] = {}
    base = 0
    for text, weight in fields:
        for lexeme, position in cjk_lexemes(text):
            positions.setdefault(lexeme, []).append(f"{min(base + position, _MAX_POSITION)}{weight}")
        base = min(base + len(text) + 100, _MAX_POSITION)
    return " ".join(f"{_quote(lexeme)}:{','.join(dict.fromkeys(at))}" for lexeme, at in positions.items())


def latin_text(text: str) -> str:
    """``text`` without its CJK characters (they are indexed separately)."""
    return _CJK_RUN.sub(" ", text)


def cjk_tsquery_literal(runs: Iterable[str]) -> str:
    """Each run as the phrase of its bigrams (or its one character), all runs required."""
    phrases = []
    for run in runs:
        if len(run) == 1:
            phrases.append(_quote(run))
        else:
            phrases.append("(" + " <-> ".join(_quote(run[i : i + 2]) for i in range(len(run) - 1)) + ")")
    return " & ".join(phrases)


def document_vector(fields: list[tuple[str, str]]) -> Any:
    """The SQL expression of a listing's tsvector from ``(text, weight)`` fields (PostgreSQL)."""
    vector: Any = sa.cast(cjk_tsvector_literal(fields), TSVECTOR)
    for text, weight in fields:
        english = sa.func.to_tsvector(sa.literal_column("'english'::regconfig"), latin_text(text))
        # ``weight`` is one of WEIGHTS (never user input); setweight wants PostgreSQL's one-byte "char".
        vector = vector.op("||")(sa.func.setweight(english, sa.literal_column(f"'{weight}'::\"char\"")))
    return vector


def tsquery(query: Query) -> Any:
    """The SQL tsquery of ``query`` (PostgreSQL); None when it has nothing to look for."""
    cjk, words = tsquery_terms(query)
    return tsquery_of(cjk, words)


def tsquery_terms(query: Query) -> tuple[str | None, str | None]:
    """The CJK tsquery literal and the English ``to_tsquery`` text of ``query``; None for a part it lacks."""
    cjk = cjk_tsquery_literal(query.cjk_runs) if query.cjk_runs else None
    words = " & ".join(f"{word}:*" for word in query.words) if query.words else None
    return cjk, words


def tsquery_of(cjk: Any, words: Any) -> Any:
    """The SQL tsquery of a CJK literal and English words (values or bound parameters, each may be None)."""
    parts: list[Any] = []
    if cjk is not None:
        parts.append(sa.cast(cjk, TSQUERY))
    if words is not None:
        parts.append(sa.func.to_tsquery(sa.literal_column("'english'::regconfig"), words))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op("&&")(part)
    return combined


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards escaped (use with ``escape="\\\\"``)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
