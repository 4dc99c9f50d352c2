"""The ``vulnerabilities`` requirement profile: refuse an image with a fixable finding at
or above ``VulnerabilityDatabase.fail_severity``, warn about any other finding.

Its checks are made from the image's inspection document and the database as it is now
(the other profiles' come cached with the document), so that an import or a build is
refused before anyone runs the image, and a database update is seen by the next check.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

from ..inspect import CheckResult
from .database import VulnerabilityDatabase
from .errors import VulnerabilityDatabaseMissing
from .matcher import Finding
from .scan import findings_of, report_of_document
from .severity import at_least

if TYPE_CHECKING:
    from ..contents import ContentsReader, DocumentChecks
    from ..reference import Reference
    from ..registry import RegistryClient

__all__ = ["PROFILE", "document_checks", "vulnerability_checks", "vulnerability_profile"]

PROFILE = "vulnerabilities"


def _listed(findings: list[Finding], limit: int = 5) -> str:
    shown = ", ".join(
        f"{f.id} in {f.package} {f.installed_version}"
        + (f" (fixed in {f.fixed_version})" if f.fixed_version else "")
        for f in findings[:limit]
    )
    return shown + (f" and {len(findings) - limit} more" if len(findings) > limit else "")


def vulnerability_checks(
    database: VulnerabilityDatabase, document: dict[str, Any]
) -> list[CheckResult]:
    """The profile's checks of one inspection document (blocking: the index)."""
    threshold = database.fail_severity
    try:
        report = report_of_document(database, document)
    except VulnerabilityDatabaseMissing as error:
        return [CheckResult(PROFILE, "database", "warn", str(error))]
    findings = findings_of(report)
    failing = [f for f in findings if f.fixable and at_least(f.severity.level, threshold)]
    version = report["database"]["version"]
    checks = [CheckResult(PROFILE, "database", "pass", f"OSV database version {version}")]
    if failing:
        checks.append(
            CheckResult(
                PROFILE,
                "fixable",
                "fail",
                f"{len(failing)} fixable finding(s) at or above {threshold}: {_listed(failing)}; "
                "update these packages (VulnerabilityDatabase.fail_severity sets the level)",
            )
        )
    else:
        checks.append(
            CheckResult(PROFILE, "fixable", "pass", f"no fixable finding at or above {threshold}")
        )
    others = [f for f in findings if f not in failing]
    if others:
        counts = ", ".join(f"{n} {level}" for level, n in report["counts"].items() if n)
        checks.append(
            CheckResult(
                PROFILE,
                "known",
                "warn",
                f"{len(findings)} known vulnerabilit{'y' if len(findings) == 1 else 'ies'} "
                f"({counts}); not failing: {_listed(others)}",
            )
        )
    else:
        checks.append(CheckResult(PROFILE, "known", "pass", "no other known vulnerability"))
    return checks


def vulnerability_profile(database: VulnerabilityDatabase) -> dict[str, DocumentChecks]:
    """The ``vulnerabilities`` profile for :meth:`ContentsReader.validate`'s
    ``document_checks`` (checked against the database as it is at each validation)."""
    return {PROFILE: functools.partial(vulnerability_checks, database)}


async def document_checks(
    reader: ContentsReader,
    database: VulnerabilityDatabase,
    client: RegistryClient,
    image: Reference,
    profiles: list[str],
    platform: str | None = None,
) -> list[CheckResult]:
    """The ``vulnerabilities`` checks of an image a build made or imported (its contents
    read through the cache; ``platform`` of an index, None: the client's), when
    ``profiles`` names it; for CustomNBImage ``checks``."""
    if PROFILE not in profiles:
        return []
    document = await reader.read(client, image, platform=platform)
    return await asyncio.to_thread(vulnerability_checks, database, document)
