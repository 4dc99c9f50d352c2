"""The files of a vulnerability database: ``*.json`` records and OSV's ``all.zip`` archives.

A database is a directory (``VulnerabilityDatabase.path``) holding either or both, at any
depth: ``Debian:12/all.zip`` as ``--update-db`` writes it, or records an administrator
copied. Archives are read member by member straight from the zip (nothing is extracted):
a member's declared size is checked before it is read and the read itself is bounded, so
a zip bomb or a lying header costs at most the budget. Its *version* is a fingerprint of
the files' names, sizes and modification times: a cheap ``stat`` tells whether the index
is still the database's.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..inspect import LimitExceeded

__all__ = [
    "DEFAULT_SOURCE_LIMITS",
    "INDEX_DIR",
    "DatabaseFiles",
    "RecordBytes",
    "SourceLimits",
    "find_files",
    "read_records",
]

INDEX_DIR = ".index"
"""Where, inside the database directory, the index and downloads live (never read as
records)."""
_SKIPPED_DIRS = {INDEX_DIR, ".download"}


@dataclass(frozen=True)
class SourceLimits:
    """``max_record_bytes``: one record; ``max_archive_members``: entries of one zip;
    ``max_total_bytes``: record bytes read over the whole database; ``max_files``: files
    found in the directory."""

    max_record_bytes: int = 8 << 20
    max_archive_members: int = 2_000_000
    max_total_bytes: int = 16 << 30
    max_files: int = 2_000_000


DEFAULT_SOURCE_LIMITS = SourceLimits()


@dataclass(frozen=True)
class DatabaseFiles:
    path: Path
    files: tuple[tuple[str, int, int], ...]
    """(path relative to the database, size, mtime in ns), sorted."""

    @property
    def version(self) -> str:
        digest = hashlib.sha256()
        for name, size, mtime in self.files:
            digest.update(f"{name}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()[:16]


@dataclass
class RecordBytes:
    """One record's bytes and where they came from (``archive!member`` for a zip)."""

    data: bytes
    where: str


@dataclass
class ReadReport:
    """What could not be read: each problem is kept (the first few) and counted."""

    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def skip(self, problem: str) -> None:
        self.skipped += 1
        if len(self.problems) < 20:
            self.problems.append(problem)


def find_files(path: Path, limits: SourceLimits = DEFAULT_SOURCE_LIMITS) -> DatabaseFiles:
    """The record files and archives under ``path`` (no symlinked directories followed)."""
    found: list[tuple[str, int, int]] = []
    if not path.is_dir():
        return DatabaseFiles(path, ())
    for directory, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in files:
            if not name.endswith((".json", ".zip")):
                continue
            full = Path(directory, name)
            try:
                info = full.stat()
            except OSError:
                continue
            found.append((full.relative_to(path).as_posix(), info.st_size, info.st_mtime_ns))
            if len(found) > limits.max_files:
                raise LimitExceeded(
                    f"{path} has more than {limits.max_files} record files "
                    "(VulnerabilityDatabase.max_files)"
                )
    return DatabaseFiles(path, tuple(sorted(found)))


class _Budget:
    def __init__(self, limits: SourceLimits) -> None:
        self.limits = limits
        self.total = 0

    def spend(self, count: int, where: str) -> None:
        self.total += count
        if self.total > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"the vulnerability database has more than {self.limits.max_total_bytes} "
                f"bytes of records (reading {where}; VulnerabilityDatabase.max_total_bytes)"
            )


def _read_file(full: Path, where: str, limits: SourceLimits, report: ReadReport) -> bytes | None:
    try:
        with full.open("rb") as handle:
            data = handle.read(limits.max_record_bytes + 1)
    except OSError as error:
        report.skip(f"{where}: {error.strerror}")
        return None
    if len(data) > limits.max_record_bytes:
        report.skip(
            f"{where} is larger than {limits.max_record_bytes} bytes "
            "(VulnerabilityDatabase.max_record_bytes)"
        )
        return None
    return data


def _archive(
    full: Path, where: str, limits: SourceLimits, budget: _Budget, report: ReadReport
) -> Iterator[RecordBytes]:
    try:
        archive = zipfile.ZipFile(full)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        report.skip(f"{where} is not a zip archive ({error})")
        return
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_archive_members:
            report.skip(
                f"{where} has {len(members)} entries, more than {limits.max_archive_members} "
                "(VulnerabilityDatabase.max_archive_members)"
            )
            return
        for member in members:
            inner = f"{where}!{member.filename[:200]}"
            if member.is_dir() or not member.filename.endswith(".json"):
                continue
            if member.file_size > limits.max_record_bytes:
                report.skip(
                    f"{inner} is {member.file_size} bytes, larger than "
                    f"{limits.max_record_bytes} (VulnerabilityDatabase.max_record_bytes)"
                )
                continue
            try:
                with archive.open(member) as handle:
                    data = handle.read(limits.max_record_bytes + 1)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
                report.skip(f"{inner} cannot be read ({e})")
                continue
            budget.spend(len(data), inner)
            yield RecordBytes(data, inner)


def read_records(
    files: DatabaseFiles, report: ReadReport, limits: SourceLimits = DEFAULT_SOURCE_LIMITS
) -> Iterator[RecordBytes]:
    """The bytes of every record, file by file; what cannot be read is skipped and said in
    ``report``. Over the total budget the read ends with
    :class:`~runtime_images.inspect.LimitExceeded`."""
    budget = _Budget(limits)
    for name, _size, _mtime in files.files:
        full = files.path / name
        if name.endswith(".zip"):
            yield from _archive(full, name, limits, budget, report)
            continue
        data = _read_file(full, name, limits, report)
        if data is not None:
            budget.spend(len(data), name)
            yield RecordBytes(data, name)
