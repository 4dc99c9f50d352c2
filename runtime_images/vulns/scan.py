"""The vulnerability report of an image: its inspection document matched against the
database, cached by manifest digest and database version.

The document comes from the package inventory (:class:`~runtime_images.contents.
ContentsReader`, itself cached per digest), so a second report of an image costs a cache
read, and a report after a database update costs a match (well under a second), never a
second reading of the layers. The report is the JSON of ``GET vulns`` and ``vulns --json``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..contents.model import Package
from .database import VulnerabilityDatabase
from .matcher import Finding, count_levels, filter_findings, match_packages

if TYPE_CHECKING:
    from ..contents import ContentsReader
    from ..inspect import Progress
    from ..reference import Reference
    from ..registry import RegistryClient

__all__ = ["findings_of", "report_of_document", "scan_image", "select", "summary"]


def _cache_key(image: dict[str, Any]) -> str:
    return f"{image['digest']} {image.get('platform') or ''}"


def report_of_document(database: VulnerabilityDatabase, document: dict[str, Any]) -> dict[str, Any]:
    """The report of one inspection document (blocking: the index, the cache)."""
    index = database.index()
    version = index.info.version
    image = document["image"]
    key = _cache_key(image)
    cached = database.cached(version, key)
    if cached is None:
        packages = [Package.from_json(p) for p in document.get("packages") or []]
        os_info = document.get("os") or {}
        result = match_packages(index, packages, os_info.get("id"), os_info.get("version_id"))
        cached = {
            "database": database.describe(index),
            "counts": count_levels(result.findings),
            "findings": [f.to_json() for f in result.findings],
            "notes": result.notes,
            "packages": len(packages),
            "digest": image["digest"],
        }
    # The reference may be new for a digest already matched: remember it either way.
    database.remember(version, str(image.get("reference") or ""), key, cached)
    return {"image": image, **cached}


async def scan_image(
    reader: ContentsReader,
    database: VulnerabilityDatabase,
    client: RegistryClient,
    reference: Reference | str,
    *,
    platform: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The report of an image (layers read only when its contents were never read).

    Refuses with :class:`~.errors.VulnerabilityDatabaseMissing` before reading the image
    when there is no database."""
    await asyncio.to_thread(database.index)
    document = await reader.read(client, reference, platform=platform, progress=progress)
    return await asyncio.to_thread(report_of_document, database, document)


def findings_of(report: dict[str, Any]) -> list[Finding]:
    return [Finding.from_json(f) for f in report["findings"]]


def select(
    report: dict[str, Any], severity: str | None = None, fixable: bool = False
) -> dict[str, Any]:
    """The report with only the findings at or above ``severity`` (with a fix when
    ``fixable``); ``counts`` still count every finding, ``total`` says how many there are."""
    chosen: Sequence[Finding] = filter_findings(findings_of(report), severity, fixable)
    return {
        **report,
        "total": len(report["findings"]),
        "findings": [f.to_json() for f in chosen],
    }


def summary(database: VulnerabilityDatabase, images: dict[str, str]) -> dict[str, Any]:
    """``{images: {NAME: {digest, counts}}}`` for the runtime images (name → image
    reference) already matched against the current database — from the cache alone, never
    reading an image or building an index (blocking: a few small files)."""
    from ..reference import InvalidReferenceError, parse

    found: dict[str, Any] = {}
    for name, reference in images.items():
        try:
            normalised = str(parse(reference))
        except InvalidReferenceError:
            continue
        cached = database.cached_reference(normalised)
        if cached is not None:
            found[name] = {"digest": cached.get("digest"), "counts": cached["counts"]}
    return {"images": found}
