"""The change summary of a moved tag, from the diff of the two images (issue 16's ``GET diff``
document): how many packages were added, removed and changed, and how many known
vulnerabilities were fixed and introduced when a database is configured."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ..contents import ContentsReader
from ..contents.compare import diff_documents
from ..registry import RegistryClient
from ..vulns import VulnerabilityDatabase
from ..vulns.sbom import diff_vulnerabilities

__all__ = ["contents_summary", "summary_from_diff"]


def _count(value: object) -> int:
    return len(value) if isinstance(value, list) else 0


def summary_from_diff(diff: Mapping[str, Any]) -> dict[str, Any]:
    """``{packages: {added, removed, changed}, vulnerabilities: {fixed, introduced} | None}``
    (counts) from a diff document ``{packages: {added, removed, changed}, vulnerabilities?:
    {fixed, introduced}}`` whose entries are lists."""
    packages = diff.get("packages")
    packages = packages if isinstance(packages, Mapping) else {}
    vulnerabilities = diff.get("vulnerabilities")
    return {
        "packages": {key: _count(packages.get(key)) for key in ("added", "removed", "changed")},
        "vulnerabilities": (
            {key: _count(vulnerabilities.get(key)) for key in ("fixed", "introduced")}
            if isinstance(vulnerabilities, Mapping)
            else None
        ),
    }


async def contents_summary(
    reader: ContentsReader,
    database: VulnerabilityDatabase,
    client: RegistryClient,
    pinned: str,
    current: str,
) -> dict[str, Any]:
    """The default ``summarize``: the package diff of the two images' contents (read once
    per digest, from the contents cache), and the vulnerabilities fixed and introduced
    when a database is configured."""
    a = await reader.read(client, pinned)
    b = await reader.read(client, current)
    diff = diff_documents(a, b, ())
    changes = await asyncio.to_thread(diff_vulnerabilities, database, a, b)
    if changes is not None:
        diff["vulnerabilities"] = changes
    return summary_from_diff(diff)
