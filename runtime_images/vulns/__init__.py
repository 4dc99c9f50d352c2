"""Known vulnerabilities of an image, offline: OSV records matched against the package
inventory (:mod:`runtime_images.contents`) by each ecosystem's version rules."""

from __future__ import annotations

from .database import VulnerabilityDatabase
from .errors import VulnerabilityDatabaseMissing, VulnerabilityDatabaseUnavailable
from .matcher import Finding, MatchResult, count_levels, filter_findings, match_packages
from .severity import LEVELS, Severity

__all__ = [
    "LEVELS",
    "Finding",
    "MatchResult",
    "Severity",
    "VulnerabilityDatabase",
    "VulnerabilityDatabaseMissing",
    "VulnerabilityDatabaseUnavailable",
    "count_levels",
    "filter_findings",
    "match_packages",
]
