"""Severity of a record: a CVSS score and level computed from its vector, else the level
its source wrote in words, else ``unknown``.

CVSS vectors are scored by the `cvss <https://pypi.org/project/cvss/>`_ package (RedHat's
product security team's implementation of the FIRST specifications, v2, v3.x and v4.0)
rather than by formulas of our own. When a record carries several vectors the newest CVSS
version wins (its score is the one the source publishes last). Levels follow CVSS v3's
bands (0.1 to 3.9 low, 4.0 to 6.9 medium, 7.0 to 8.9 high, 9.0 and over critical); a score of 0.0 ("none")
is counted as low, since the counts have no "none" column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cvss

__all__ = ["LEVELS", "Severity", "at_least", "level_of_score", "severity_of"]

LEVELS = ("critical", "high", "medium", "low", "unknown")
"""Most severe first (the order of the counts and of a sorted list)."""

_RANK = {level: rank for rank, level in enumerate(reversed(LEVELS))}
_VECTOR_TYPES = {"CVSS_V4": 4, "CVSS_V3": 3, "CVSS_V2": 2}
_WORDS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "low",
    "unimportant": "low",
}


@dataclass(frozen=True)
class Severity:
    level: str
    score: float | None = None
    vector: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "score": self.score, "vector": self.vector}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Severity:
        return cls(str(data["level"]), data.get("score"), data.get("vector"))

    @property
    def rank(self) -> int:
        """Greater is more severe (``unknown`` is 0)."""
        return _RANK[self.level]


def at_least(level: str, threshold: str) -> bool:
    """Whether ``level`` is ``threshold`` or more severe (``unknown`` is below ``low``)."""
    return _RANK[level] >= _RANK[threshold]


def level_of_score(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


@lru_cache(maxsize=8192)
def _score(kind: str, vector: str) -> float | None:
    """The base score of a vector (cached: databases repeat a few thousand vectors)."""
    try:
        if kind == "CVSS_V4":
            return float(cvss.CVSS4(vector).base_score)
        if kind == "CVSS_V3":
            return float(cvss.CVSS3(vector).base_score)
        return float(cvss.CVSS2(vector).base_score)
    except (cvss.CVSSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def severity_of(entries: Iterable[Any], words: Iterable[str] = ()) -> Severity:
    """The severity of a record from its ``severity`` entries (``{type, score}`` where
    ``score`` is a CVSS vector for the ``CVSS_V*`` types and a word for ``Ubuntu``) and the
    words its sources wrote (GitHub's ``database_specific.severity``: ``MODERATE``)."""
    best: tuple[int, float, str] | None = None
    spoken = list(words)
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kind, value = entry.get("type"), entry.get("score")
        if not isinstance(value, str) or len(value) > 512:
            continue
        if kind in _VECTOR_TYPES:
            score = _score(str(kind), value)
            if score is not None and (best is None or _VECTOR_TYPES[str(kind)] > best[0]):
                best = (_VECTOR_TYPES[str(kind)], score, value)
        else:
            spoken.append(value)
    if best is not None:
        return Severity(level_of_score(best[1]), best[1], best[2])
    levels = [_WORDS[w.strip().lower()] for w in spoken if w.strip().lower() in _WORDS]
    if levels:
        return Severity(max(levels, key=lambda level: _RANK[level]))
    return Severity("unknown")
