"""Whether an installed version is affected by a record, and the version that fixes it.

The evaluation is the OSV schema's: a version is affected when it is listed in
``versions``, or when, walking a range's events in version order, the last event at or
below it is an ``introduced`` (``last_affected`` covers the version itself, ``fixed`` does
not). The fix offered is the lowest ``fixed`` above the installed version.
"""

from __future__ import annotations

from dataclasses import dataclass

from .osv import Affected, Range
from .versions import UnknownVersion, VersionKey, family_of, parse_version

__all__ = ["Verdict", "evaluate"]

_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2}
"""At one version: introduced first, then last_affected (still affected), then fixed."""


@dataclass(frozen=True)
class Verdict:
    affected: bool
    fixed: str | None = None


def _key(family: str, version: str) -> VersionKey:
    return parse_version(family, "0" if version == "0" else version)


def _in_range(rng: Range, family: str, installed: VersionKey) -> tuple[bool, str | None]:
    events: list[tuple[VersionKey, int, str, str]] = []
    for kind, version in rng.events:
        if kind == "limit":
            continue
        try:
            events.append((_key(family, version), _ORDER[kind], kind, version))
        except UnknownVersion:
            continue  # an event this ecosystem cannot place: it cannot decide anything
    events.sort(key=lambda e: (e[0], e[1]))
    affected = False
    for key, _order, kind, _text in events:
        if kind == "introduced" and installed >= key:
            affected = True
        elif (kind == "fixed" and installed >= key) or (
            kind == "last_affected" and installed > key
        ):
            affected = False
    fixes = [
        (key, text) for key, _order, kind, text in events if kind == "fixed" and key > installed
    ]
    return affected, (min(fixes, key=lambda f: f[0])[1] if fixes else None)


def evaluate(affected: Affected, installed: str, family: str | None = None) -> Verdict:
    """The verdict for one installed version (raises :class:`UnknownVersion` when it cannot
    be read by the ecosystem's rules and the record has ranges to compare it with)."""
    if installed in affected.versions:
        fixes = [
            e[1]
            for r in affected.ranges
            for e in r.events
            if e[0] == "fixed"
            and (rule := family or family_of(affected.ecosystem, r.type)) is not None
            and _safe_greater(rule, e[1], installed)
        ]
        return Verdict(True, fixes[0] if fixes else None)
    hit = False
    fixed: list[tuple[VersionKey, str]] = []
    for rng in affected.ranges:
        rule = family or family_of(affected.ecosystem, rng.type)
        if rule is None:
            continue
        key = parse_version(rule, installed)
        inside, fix = _in_range(rng, rule, key)
        if inside:
            hit = True
            if fix is not None:
                fixed.append((_key(rule, fix), fix))
    if not hit:
        return Verdict(False)
    return Verdict(True, min(fixed, key=lambda f: f[0])[1] if fixed else None)


def _safe_greater(family: str, candidate: str, installed: str) -> bool:
    try:
        return bool(parse_version(family, candidate) > parse_version(family, installed))
    except UnknownVersion:
        return False
