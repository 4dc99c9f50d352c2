"""Findings: the packages of an image matched against the index of a database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .ecosystems import Lookup, keys_of, lookups, os_key
from .index import Index
from .ranges import evaluate
from .severity import LEVELS, Severity, at_least
from .versions import UnknownVersion

__all__ = ["Finding", "MatchResult", "count_levels", "filter_findings", "match_packages"]

OSV_URL = "https://osv.dev/vulnerability/"


@dataclass(frozen=True)
class Finding:
    id: str
    aliases: list[str]
    summary: str
    package: str
    ecosystem: str
    environment: str
    installed_version: str
    fixed_version: str | None
    severity: Severity
    layer: int | None
    matched_as: str | None
    osv_ecosystem: str

    @property
    def url(self) -> str:
        return OSV_URL + self.id

    @property
    def fixable(self) -> bool:
        return self.fixed_version is not None

    def key(self) -> tuple[str, str, str, str]:
        """What identifies a finding across two images (for a diff)."""
        return (self.id, self.ecosystem, self.environment, self.package)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aliases": self.aliases,
            "summary": self.summary,
            "url": self.url,
            "package": self.package,
            "ecosystem": self.ecosystem,
            "osv_ecosystem": self.osv_ecosystem,
            "environment": self.environment,
            "installed_version": self.installed_version,
            "fixed_version": self.fixed_version,
            "severity": {"level": self.severity.level, "score": self.severity.score},
            "cvss_vector": self.severity.vector,
            "layer": self.layer,
            "matched_as": self.matched_as,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        severity = data["severity"]
        return cls(
            id=data["id"],
            aliases=list(data["aliases"]),
            summary=data["summary"],
            package=data["package"],
            ecosystem=data["ecosystem"],
            environment=data["environment"],
            installed_version=data["installed_version"],
            fixed_version=data["fixed_version"],
            severity=Severity(severity["level"], severity["score"], data.get("cvss_vector")),
            layer=data["layer"],
            matched_as=data["matched_as"],
            osv_ecosystem=data["osv_ecosystem"],
        )


@dataclass
class MatchResult:
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    """What could not be matched, and why (an OS without a release ecosystem, a version
    that its ecosystem's rules cannot read)."""


def _sort_key(finding: Finding) -> tuple[Any, ...]:
    return (
        -finding.severity.rank,
        -(finding.severity.score or 0.0),
        finding.package,
        finding.environment,
        finding.id,
    )


def match_packages(
    index: Index, packages: Sequence[Any], os_id: str | None, os_version: str | None
) -> MatchResult:
    """The findings of ``packages`` (the inventory's :class:`Package` records) on an OS
    (``/etc/os-release``'s ``ID`` and ``VERSION_ID``), most severe first."""
    notes: list[str] = []
    release = os_key(os_id, os_version)
    has_os_packages = any(p.ecosystem in ("deb", "rpm", "apk") for p in packages)
    if release is None and has_os_packages:
        notes.append(
            f"the operating system ({os_id or 'unknown'} {os_version or ''}) has no "
            "release-specific OSV ecosystem: its packages were not matched".replace("  ", " ")
        )
    queries = lookups(packages, release)
    rows = index.affected(keys_of(queries))
    hits: dict[tuple[int, int], tuple[Lookup, str | None, str]] = {}
    unreadable: set[str] = set()
    for lookup in queries:
        for row in rows.get((lookup.key, lookup.name), []):
            try:
                verdict = evaluate(row.affected, lookup.version)
            except UnknownVersion:
                unreadable.add(f"{lookup.package.name} {lookup.version}")
                continue
            if not verdict.affected:
                continue
            slot = (id(lookup.package), row.record)
            if slot not in hits or (hits[slot][0].matched_as and not lookup.matched_as):
                hits[slot] = (lookup, verdict.fixed, row.affected.ecosystem)
    if unreadable:
        shown = ", ".join(sorted(unreadable)[:10])
        notes.append(f"versions its ecosystem's rules cannot read were not matched: {shown}")
    records = index.records(record for _package, record in hits)
    findings = []
    for (_package, record), (lookup, fixed, ecosystem) in hits.items():
        doc = records[record]
        package = lookup.package
        findings.append(
            Finding(
                id=doc["id"],
                aliases=doc["aliases"],
                summary=doc["summary"],
                package=package.name,
                ecosystem=package.ecosystem,
                environment=package.environment,
                installed_version=package.version,
                fixed_version=fixed,
                severity=doc["severity"],
                layer=package.layer,
                matched_as=lookup.matched_as,
                osv_ecosystem=ecosystem,
            )
        )
    findings.sort(key=_sort_key)
    return MatchResult(findings, notes)


def count_levels(findings: Sequence[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(LEVELS, 0)
    for finding in findings:
        counts[finding.severity.level] += 1
    return counts


def filter_findings(
    findings: Sequence[Finding], severity: str | None = None, fixable: bool = False
) -> list[Finding]:
    """Those at or above ``severity`` (a level), and only those with a fix when
    ``fixable``."""
    return [
        f
        for f in findings
        if (severity is None or at_least(f.severity.level, severity)) and (not fixable or f.fixable)
    ]
