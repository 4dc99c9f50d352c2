"""The change summary of a moved tag, from the diff of the two images (issue 16's ``GET diff``
document): how many packages were added, removed and changed, and how many known
vulnerabilities were fixed and introduced when a database is configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["summary_from_diff"]


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
