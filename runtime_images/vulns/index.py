"""The index of a vulnerability database: package → records, one SQLite file per version.

Matching an image asks, for each of its few hundred packages, which records name it; the
database holds hundreds of thousands of records. The index is built once per database
version (:attr:`~runtime_images.vulns.sources.DatabaseFiles.version`) into a SQLite file
(the standard library's; one indexed table answers each package in microseconds, and only
the rows asked for are read into memory), written beside its final name and renamed into
place, so a reader never sees half an index and two builders never clash. Withdrawn
records are left out; records that cannot be read are counted and their reasons kept.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..records import camel_json
from .ecosystems import record_key, record_name
from .osv import Advisory, Affected, InvalidRecord, parse_record
from .severity import Severity
from .sources import DEFAULT_SOURCE_LIMITS, DatabaseFiles, ReadReport, SourceLimits, read_records

__all__ = ["Index", "IndexInfo", "build_index"]

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, modified TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE TABLE affected (
    key TEXT NOT NULL, name TEXT NOT NULL, record INTEGER NOT NULL,
    ecosystem TEXT NOT NULL, ranges TEXT NOT NULL
);
"""
_BATCH = 5000


@dataclass(frozen=True)
class IndexInfo:
    version: str
    records: int
    withdrawn: int
    skipped: int
    problems: list[str]

    def to_json(self) -> dict[str, Any]:
        return camel_json(self)


@dataclass(frozen=True)
class AffectedRow:
    """One record's entry for one package, as the index returns it."""

    record: int
    affected: Affected


class Index:
    """A read-only view of one built index (open it with :meth:`open`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        self.info = IndexInfo(
            version=meta["version"],
            records=int(meta["records"]),
            withdrawn=int(meta["withdrawn"]),
            skipped=int(meta["skipped"]),
            problems=json.loads(meta["problems"]),
        )

    def close(self) -> None:
        self._db.close()

    def affected(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[AffectedRow]]:
        """The rows that name each (key, name)."""
        found: dict[tuple[str, str], list[AffectedRow]] = {}
        query = "SELECT record, ecosystem, ranges FROM affected WHERE key = ? AND name = ?"
        for key, name in keys:
            rows = self._db.execute(query, (key, name)).fetchall()
            found[(key, name)] = [
                AffectedRow(record, Affected.from_json(ecosystem, name, json.loads(ranges)))
                for record, ecosystem, ranges in rows
            ]
        return found

    def records(self, rowids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The descriptions (:meth:`Advisory.to_json`) of records, by row id."""
        wanted = sorted(set(rowids))
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for rowid, doc in self._db.execute(
                f"SELECT rowid, doc FROM records WHERE rowid IN ({marks})", chunk
            ):
                data = json.loads(doc)
                data["severity"] = Severity.from_json(data["severity"])
                found[rowid] = data
        return found


def _insert(db: sqlite3.Connection, advisory: Advisory, seen: dict[str, str]) -> bool:
    """Add one record (a newer copy of a record replaces an older one); True when added."""
    previous = seen.get(advisory.id)
    if previous is not None:
        if previous >= advisory.modified:
            return False
        (rowid,) = db.execute("SELECT rowid FROM records WHERE id = ?", (advisory.id,)).fetchone()
        db.execute("DELETE FROM affected WHERE record = ?", (rowid,))
        db.execute("DELETE FROM records WHERE rowid = ?", (rowid,))
    seen[advisory.id] = advisory.modified
    cursor = db.execute(
        "INSERT INTO records (id, modified, doc) VALUES (?, ?, ?)",
        (advisory.id, advisory.modified, json.dumps(advisory.to_json(), separators=(",", ":"))),
    )
    rowid = cursor.lastrowid
    db.executemany(
        "INSERT INTO affected (key, name, record, ecosystem, ranges) VALUES (?, ?, ?, ?, ?)",
        (
            (
                key,
                record_name(key, entry.name),
                rowid,
                entry.ecosystem,
                json.dumps(entry.to_json(), separators=(",", ":")),
            )
            for entry in advisory.affected
            if (key := record_key(entry.ecosystem))
        ),
    )
    return True


def _advisories(
    files: DatabaseFiles, report: ReadReport, limits: SourceLimits
) -> Iterator[Advisory]:
    for item in read_records(files, report, limits):
        try:
            yield parse_record(item.data, item.where)
        except InvalidRecord as error:
            report.skip(f"{item.where}: {error}")


def build_index(
    files: DatabaseFiles, target: Path, limits: SourceLimits = DEFAULT_SOURCE_LIMITS
) -> Path:
    """Build the index of ``files`` at ``target`` (atomically); return ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".building-", suffix=".sqlite", dir=target.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        with closing(sqlite3.connect(temp)) as db:
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
            report = ReadReport()
            seen: dict[str, str] = {}
            withdrawn = 0
            pending = 0
            for advisory in _advisories(files, report, limits):
                if advisory.withdrawn:
                    withdrawn += 1
                    continue
                if not advisory.affected:
                    continue
                if seen and advisory.id in seen:
                    # Replacing a duplicate looks rows up by record: index them first.
                    db.execute("CREATE INDEX IF NOT EXISTS affected_record ON affected (record)")
                pending += _insert(db, advisory, seen)
                if pending >= _BATCH:
                    db.commit()
                    pending = 0
            db.execute("CREATE INDEX affected_package ON affected (key, name)")
            meta = {
                "schema": SCHEMA_VERSION,
                "version": files.version,
                "records": str(len(seen)),
                "withdrawn": str(withdrawn),
                "skipped": str(report.skipped),
                "problems": json.dumps(report.problems),
            }
            db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            db.commit()
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    finally:
        with suppress(FileNotFoundError):
            temp.unlink()
    return target


def remove_other_indexes(directory: Path, keep: Path) -> None:
    """Indexes of earlier versions (and builds abandoned half-way) are removed."""
    for path in directory.glob("index-*.sqlite"):
        if path != keep:
            with suppress(OSError):
                path.unlink()
