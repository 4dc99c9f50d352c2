"""OSV records (the open schema of osv.dev), read strictly into the few fields matching uses.

A record comes from a file someone else wrote (a directory an administrator filled, an
archive downloaded from a bucket): it is parsed by the one strict JSON boundary
(:mod:`runtime_images.documents`: depth, numbers, no ``NaN``) within a byte budget, and
every field is checked for its type and cut to a length before it is kept, so a hostile
record costs its bytes and no more, and a malformed one is refused with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import documents
from .severity import Severity, severity_of

__all__ = ["Advisory", "Affected", "InvalidRecord", "Range", "parse_record"]

_MAX_ID = 200
_MAX_SUMMARY = 500
_MAX_ALIASES = 64
_MAX_AFFECTED = 10_000
_MAX_RANGES = 256
_MAX_EVENTS = 1024
_MAX_VERSIONS = 100_000
_MAX_VERSION = 256
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
RANGE_TYPES = ("ECOSYSTEM", "SEMVER")
"""Range types compared by version (``GIT`` ranges speak of commits, not packages)."""


class InvalidRecord(ValueError):
    """A file that is not an OSV record this product can use; ``str()`` says why."""


@dataclass(frozen=True)
class Range:
    type: str
    events: tuple[tuple[str, str], ...]
    """``(kind, version)`` in the record's order: ``introduced``, ``fixed``,
    ``last_affected`` or ``limit``."""


@dataclass(frozen=True)
class Affected:
    """One package a record affects, in one ecosystem (``Debian:12``, ``PyPI``)."""

    ecosystem: str
    name: str
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "ranges": [
                {"type": r.type, "events": [list(e) for e in r.events]} for r in self.ranges
            ],
            "versions": list(self.versions),
        }

    @classmethod
    def from_json(cls, ecosystem: str, name: str, data: dict[str, Any]) -> Affected:
        ranges = tuple(
            Range(r["type"], tuple((str(k), str(v)) for k, v in r["events"]))
            for r in data["ranges"]
        )
        return cls(ecosystem, name, ranges, tuple(data["versions"]))


@dataclass(frozen=True)
class Advisory:
    """What a finding says of its record: ids, summary and severity, and what it affects."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    modified: str
    withdrawn: bool
    severity: Severity
    affected: tuple[Affected, ...]

    def to_json(self) -> dict[str, Any]:
        """The record's description (not what it affects, which the index keeps apart)."""
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "modified": self.modified,
            "severity": self.severity.to_json(),
        }


def _string(value: Any, field: str, limit: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidRecord(f"{field} must be a non-empty string")
    return value.strip()[:limit]


def _list(value: Any, field: str, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRecord(f"{field} must be a list")
    if len(value) > limit:
        raise InvalidRecord(f"{field} has {len(value)} entries, more than {limit}")
    return value


def _range(value: Any, where: str) -> Range | None:
    if not isinstance(value, dict):
        raise InvalidRecord(f"{where} must be an object")
    kind = value.get("type")
    if kind not in RANGE_TYPES:
        return None  # GIT (commits) and unknown types: nothing to compare a version with
    events: list[tuple[str, str]] = []
    for number, event in enumerate(_list(value.get("events"), f"{where}.events", _MAX_EVENTS)):
        if not isinstance(event, dict) or len(event) != 1:
            raise InvalidRecord(f"{where}.events[{number}] must have exactly one key")
        ((key, version),) = event.items()
        if key not in _EVENT_KINDS:
            raise InvalidRecord(f"{where}.events[{number}] has an unknown event {key[:40]!r}")
        events.append((key, _string(version, f"{where}.events[{number}].{key}", _MAX_VERSION)))
    return Range(str(kind), tuple(events))


def _affected(value: Any, where: str) -> Affected | None:
    if not isinstance(value, dict):
        raise InvalidRecord(f"{where} must be an object")
    package = value.get("package")
    if package is None:
        return None  # affects something that is not a package (a git repository)
    if not isinstance(package, dict):
        raise InvalidRecord(f"{where}.package must be an object")
    ecosystem = _string(package.get("ecosystem"), f"{where}.package.ecosystem", _MAX_ID)
    name = _string(package.get("name"), f"{where}.package.name", _MAX_ID)
    ranges = tuple(
        parsed
        for number, item in enumerate(_list(value.get("ranges"), f"{where}.ranges", _MAX_RANGES))
        if (parsed := _range(item, f"{where}.ranges[{number}]")) is not None
    )
    versions = tuple(
        _string(v, f"{where}.versions[{n}]", _MAX_VERSION)
        for n, v in enumerate(_list(value.get("versions"), f"{where}.versions", _MAX_VERSIONS))
    )
    return Affected(ecosystem, name, ranges, versions)


def _summary(record: dict[str, Any]) -> str:
    for key in ("summary", "details"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            first = value.strip().splitlines()[0]
            return first[:_MAX_SUMMARY]
    return ""


def parse_record(data: bytes, what: str) -> Advisory:
    """The record in ``data`` (one OSV JSON document); :class:`InvalidRecord` otherwise."""
    try:
        record = documents.loads_json(data, what)
    except documents.InvalidDocument as error:
        raise InvalidRecord(str(error)) from None
    if not isinstance(record, dict):
        raise InvalidRecord(f"{what} is not a JSON object")
    record_id = _string(record.get("id"), "id", _MAX_ID)
    aliases = tuple(
        _string(a, f"aliases[{n}]", _MAX_ID)
        for n, a in enumerate(_list(record.get("aliases"), "aliases", _MAX_ALIASES))
    )
    affected_entries = _list(record.get("affected"), "affected", _MAX_AFFECTED)
    affected = tuple(
        parsed
        for number, item in enumerate(affected_entries)
        if (parsed := _affected(item, f"affected[{number}]")) is not None
    )
    severities = list(_list(record.get("severity"), "severity", 16))
    texts: list[str] = []
    for item in affected_entries:
        if isinstance(item, dict):
            severities += _list(item.get("severity"), "affected[].severity", 16)
            for extra in ("ecosystem_specific", "database_specific"):
                value = item.get(extra)
                if isinstance(value, dict) and isinstance(value.get("severity"), str):
                    texts.append(value["severity"])
    specific = record.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        texts.append(specific["severity"])
    withdrawn = record.get("withdrawn")
    return Advisory(
        id=record_id,
        aliases=aliases,
        summary=_summary(record),
        modified=_string(record.get("modified"), "modified", 64, required=False),
        withdrawn=isinstance(withdrawn, str) and bool(withdrawn.strip()),
        severity=severity_of(severities, texts),
        affected=affected,
    )
