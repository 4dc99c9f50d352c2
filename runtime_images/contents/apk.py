"""Alpine packages: ``lib/apk/db/installed``, read a line at a time as the layer streams."""

from __future__ import annotations

from typing import IO

from ..documents import parse_count
from .budget import ContentBudget
from .model import PackageRecord
from .text import read_lines

__all__ = ["parse_installed"]


def parse_installed(stream: IO[bytes], budget: ContentBudget, what: str) -> list[PackageRecord]:
    """Packages of an apk ``installed`` database (``P:`` name, ``V:`` version, ``A:`` arch,
    ``L:`` licence, ``o:`` origin — the source package —, ``I:`` installed size)."""
    records: list[PackageRecord] = []
    fields: dict[str, str] = {}

    def flush() -> None:
        name, version = fields.get("P"), fields.get("V")
        if name and version:
            budget.spend_package(what)
            size = fields.get("I", "")
            licence = fields.get("L", "")
            records.append(
                PackageRecord(
                    name=name,
                    version=version,
                    architecture=fields.get("A") or None,
                    source=fields.get("o") or None,
                    licenses=(licence,) if licence else (),
                    installed_size=parse_count(size, 15),
                )
            )
        fields.clear()

    for line in read_lines(stream, budget, what):
        if not line.strip():
            flush()
            continue
        key, sep, value = line.partition(":")
        if sep and len(key) == 1 and key in "PVALoI" and key not in fields:
            fields[key] = value.strip()[:1024]
    flush()
    return records
