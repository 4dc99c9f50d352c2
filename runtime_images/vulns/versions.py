"""Version order of each ecosystem a vulnerability record speaks of.

`univers <https://github.com/aboutcode-org/univers>`_ (aboutcode, the purl authors) is
used rather than comparators of our own: it implements dpkg's algorithm (epochs, ``~``
before anything, letters before non-letters), rpm's ``rpmvercmp`` (epochs, releases, ``~``
and ``^``), apk's (``_alpha`` < ``_beta`` < ``_pre`` < ``_rc`` < release < ``_p``, ``-rN``)
and PEP 440 (through ``packaging``), is typed, kept up to date, and parses a version in
about 10 µs. A version no rule parses is :class:`UnknownVersion`: the record that names it
cannot be matched, which is said rather than guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from univers import versions as _versions

__all__ = ["UnknownVersion", "VersionKey", "family_of", "parse_version"]

VersionKey = Any
"""An ordered value of one ecosystem (compare only keys of the same family)."""

_FAMILIES: dict[str, Callable[[str], Any]] = {
    "dpkg": _versions.DebianVersion,
    "rpm": _versions.RpmVersion,
    "apk": _versions.AlpineLinuxVersion,
    "pep440": _versions.PypiVersion,
    "semver": _versions.SemverVersion,
}

_ECOSYSTEM_FAMILIES = {
    "Debian": "dpkg",
    "Ubuntu": "dpkg",
    "Alpine": "apk",
    "Red Hat": "rpm",
    "Rocky Linux": "rpm",
    "AlmaLinux": "rpm",
    "PyPI": "pep440",
}


class UnknownVersion(ValueError):
    """A version that the ecosystem's rules do not parse."""


def family_of(ecosystem: str, range_type: str = "ECOSYSTEM") -> str | None:
    """The version rules of an OSV ecosystem (``Debian:12`` → ``dpkg``), or None when this
    product does not compare its versions. ``SEMVER`` ranges use semver whatever the
    ecosystem (the OSV schema says so)."""
    if range_type == "SEMVER":
        return "semver"
    return _ECOSYSTEM_FAMILIES.get(ecosystem.split(":", 1)[0])


@lru_cache(maxsize=65536)
def parse_version(family: str, text: str) -> VersionKey:
    """The comparable form of ``text`` under ``family``'s rules (cached: a database names
    the same fixed versions many times). ``0`` is the start of every range."""
    try:
        return _FAMILIES[family](text)
    except KeyError:
        raise UnknownVersion(f"no version rules named {family!r}") from None
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise UnknownVersion(f"{text!r} is not a {family} version ({error})") from None
