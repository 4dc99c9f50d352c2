"""OSV records written by the tests (the schema of osv.dev, as its bucket serves it)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

CRITICAL_V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
MEDIUM_V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"  # 5.4


def record(
    record_id: str,
    ecosystem: str,
    name: str,
    *,
    introduced: str = "0",
    fixed: str | None = None,
    last_affected: str | None = None,
    versions: list[str] | None = None,
    vector: str | None = None,
    withdrawn: str | None = None,
    aliases: list[str] | None = None,
    modified: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    events: list[dict[str, str]] = [{"introduced": introduced}]
    if fixed is not None:
        events.append({"fixed": fixed})
    if last_affected is not None:
        events.append({"last_affected": last_affected})
    affected: dict[str, Any] = {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": "ECOSYSTEM", "events": events}],
    }
    if versions is not None:
        affected["versions"] = versions
    doc: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": record_id,
        "modified": modified,
        "aliases": aliases or [],
        "summary": f"{name}: a test vulnerability ({record_id})",
        "affected": [affected],
    }
    if vector:
        doc["severity"] = [{"type": "CVSS_V3", "score": vector}]
    if withdrawn:
        doc["withdrawn"] = withdrawn
    return doc


def write_records(directory: Path, *records: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for doc in records:
        (directory / f"{doc['id']}.json").write_text(json.dumps(doc))


def write_archive(path: Path, *records: dict[str, Any]) -> None:
    """An ``all.zip`` as OSV's bucket serves it: one ``<id>.json`` member per record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in records:
            archive.writestr(f"{doc['id']}.json", json.dumps(doc))
