"""Debian packages: ``var/lib/dpkg/status``, the ``status.d/`` files of distroless images,
and the licences declared in machine-readable ``/usr/share/doc/<package>/copyright`` files.

Both are read a line at a time from the layer as it streams past (a status file of a big
image is a few MB; a hostile one can be any size), and each line, paragraph and file is
bounded by the caller's budget (:class:`~runtime_images.contents.budget.ContentBudget`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from ..documents import parse_count
from .budget import ContentBudget
from .model import PackageRecord
from .text import read_lines

__all__ = ["copyright_licenses", "parse_status"]

# Package states whose files are on disk (dpkg-query -W lists these; "config-files" and
# "not-installed" have no files left).
_PRESENT = {
    "installed",
    "half-installed",
    "unpacked",
    "half-configured",
    "triggers-awaited",
    "triggers-pending",
}
_WANTED = {"package", "version", "architecture", "source", "installed-size", "status"}
_SOURCE_RE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?")


def _paragraphs(stream: IO[bytes], budget: ContentBudget, what: str) -> Iterator[dict[str, str]]:
    """deb822 paragraphs, keeping only the fields the inventory uses."""
    fields: dict[str, str] = {}
    for line in read_lines(stream, budget, what):
        if not line.strip():
            if fields:
                yield fields
                fields = {}
            continue
        if line[0] in " \t":
            continue  # a continuation line (descriptions, conffiles): not needed
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in _WANTED:
            fields[key] = value.strip()[:1024]
    if fields:
        yield fields


def parse_status(stream: IO[bytes], budget: ContentBudget, what: str) -> list[PackageRecord]:
    """The packages with files on disk in a dpkg ``status`` (or ``status.d/``) file."""
    records: list[PackageRecord] = []
    for fields in _paragraphs(stream, budget, what):
        name, version = fields.get("package"), fields.get("version")
        status = fields.get("status", "install ok installed").split()
        if not name or not version or (status and status[-1] not in _PRESENT):
            continue
        budget.spend_package(what)
        source = None
        match = _SOURCE_RE.match(fields.get("source", ""))
        if match:
            source = match.group(1)
            if match.group(2):
                source = f"{source} ({match.group(2)})"
        size = fields.get("installed-size", "")
        records.append(
            PackageRecord(
                name=name,
                version=version,
                architecture=fields.get("architecture") or None,
                source=source,
                installed_size=None if (kib := parse_count(size, 15)) is None else kib * 1024,
            )
        )
    return records


def copyright_licenses(
    stream: IO[bytes], budget: ContentBudget, what: str, max_bytes: int = 256 << 10
) -> tuple[str, ...]:
    """The ``License:`` short names of a machine-readable (DEP-5) copyright file, in order
    of first appearance; none when the file is free-form text (nothing is guessed)."""
    found: list[str] = []
    read = 0
    machine_readable = False
    for number, line in enumerate(read_lines(stream, budget, what)):
        read += len(line) + 1
        if read > max_bytes:
            break
        if number == 0:
            machine_readable = line.lower().startswith("format:")
            if not machine_readable:
                break
        if line[:8].lower() == "license:":
            name = line[8:].strip()
            if name and name not in found and len(found) < 32:
                found.append(name[:200])
    return tuple(found) if machine_readable else ()
