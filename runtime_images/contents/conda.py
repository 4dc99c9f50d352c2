"""conda packages: one ``<prefix>/conda-meta/<name>-<version>-<build>.json`` per package.

The record is read strictly (:mod:`runtime_images.documents`: depth, numbers, no
``NaN``) within the per-file budget; only the fields the inventory uses are kept, not the
file lists that make these records large.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .. import documents
from .model import PackageRecord

__all__ = ["CorruptRecord", "parse_record"]

_SUBDIR_RE = re.compile(r"^(?:noarch|(?:linux|osx|win|emscripten|wasi|zos)-\w+)$")


class CorruptRecord(ValueError):
    """A conda-meta file that is not a package record."""


def _channel(value: Any) -> str | None:
    """``conda-forge`` from ``https://conda.anaconda.org/conda-forge/linux-64`` (or as is:
    a name, or text ``urlsplit`` refuses, such as an unclosed ``[``)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.scheme:
        segments = [s for s in parts.path.split("/") if s]
        if segments and _SUBDIR_RE.match(segments[-1]):
            segments = segments[:-1]
        return segments[-1] if segments else parts.netloc
    return value


def parse_record(data: bytes, what: str) -> PackageRecord:
    try:
        record = documents.loads_json(data, what)
    except documents.InvalidDocument as error:
        raise CorruptRecord(str(error)) from None
    if not isinstance(record, dict):
        raise CorruptRecord(f"{what} is not a JSON object")
    name, version = record.get("name"), record.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name:
        raise CorruptRecord(f"{what} has no name or version")
    size = None
    paths_data = record.get("paths_data")
    paths = paths_data.get("paths") if isinstance(paths_data, dict) else None
    if isinstance(paths, list):
        sizes = [p.get("size_in_bytes") for p in paths if isinstance(p, dict)]
        size = sum(s for s in sizes if isinstance(s, int) and s >= 0)
    extra = []
    for key in ("build", "channel", "subdir"):
        value = _channel(record.get(key)) if key == "channel" else record.get(key)
        if isinstance(value, str) and value:
            extra.append((key, value[:200]))
    licence = record.get("license")
    subdir = record.get("subdir")
    return PackageRecord(
        name=name[:200],
        version=version[:200],
        architecture=subdir[:64] if isinstance(subdir, str) and subdir else None,
        source=None,
        licenses=(licence[:200],) if isinstance(licence, str) and licence else (),
        installed_size=size,
        extra=tuple(extra),
    )
