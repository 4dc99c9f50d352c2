"""Which OSV ecosystem and package name each package of an image is looked up under.

OSV names distribution ecosystems per release (``Debian:12``, ``Alpine:v3.19``,
``Ubuntu:22.04:LTS``, ``Rocky Linux:9``, ``Red Hat:enterprise_linux:9::appstream``): the
index files every record under a *key* (:func:`record_key`) and an image is looked up
under the key of its ``/etc/os-release`` (:func:`os_key`), so a record for another release
never applies. Debian, Ubuntu and Alpine records name source packages: a binary package is
also looked up under its source (``libc6`` → ``glibc``) with the source's version. A conda
package is looked up as PyPI when its environment has a Python distribution of that name
(its ``dist-info``), and the finding says so (``matched_as``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Lookup", "canonical_pypi", "lookups", "os_key", "record_key", "record_name"]

_SOURCE_RE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?$")
_SRPM_RE = re.compile(r"^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$")


@dataclass(frozen=True)
class Lookup:
    """One query of the index for one package of the image."""

    key: str
    name: str
    version: str
    package: Any
    """The inventory's :class:`~runtime_images.contents.model.Package`."""
    matched_as: str | None = None


def canonical_pypi(name: str) -> str:
    """PEP 503: ``Jupyter_Server`` and ``jupyter-server`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def record_name(key: str, name: str) -> str:
    return canonical_pypi(name) if key == "PyPI" else name


def record_key(ecosystem: str) -> str:
    """The index key of a record's ecosystem: ``Ubuntu:22.04:LTS`` → ``Ubuntu:22.04``,
    ``Red Hat:enterprise_linux:9::baseos`` → ``Red Hat:9``; others as written."""
    parts = ecosystem.split(":")
    if parts[0] == "Ubuntu" and len(parts) >= 2:
        rest = [p for p in parts[1:] if p and p != "LTS"]
        return ":".join(["Ubuntu", *rest])
    if parts[0] == "Red Hat" and len(parts) >= 3 and parts[1] == "enterprise_linux":
        return f"Red Hat:{parts[2].split('.')[0]}"
    return ecosystem


_OS_KEYS = {
    "debian": lambda v: f"Debian:{v.split('.')[0]}",
    "ubuntu": lambda v: f"Ubuntu:{v}",
    "alpine": lambda v: "Alpine:v" + ".".join(v.split(".")[:2]),
    "rocky": lambda v: f"Rocky Linux:{v.split('.')[0]}",
    "almalinux": lambda v: f"AlmaLinux:{v.split('.')[0]}",
    "rhel": lambda v: f"Red Hat:{v.split('.')[0]}",
}


def os_key(os_id: str | None, version_id: str | None) -> str | None:
    """The index key of the image's distribution release, or None when OSV has none for it
    (an unknown distribution, or a release without a ``VERSION_ID`` such as Debian sid)."""
    if not os_id or not version_id or not re.fullmatch(r"[0-9][0-9A-Za-z.]*", version_id):
        return None
    make = _OS_KEYS.get(os_id.lower())
    return make(version_id) if make else None


def _source(package: Any) -> tuple[str, str] | None:
    """(name, version) of the source package a binary package was built from."""
    source = getattr(package, "source", None)
    if not source:
        return None
    if package.ecosystem == "rpm":
        match = _SRPM_RE.match(source)
        return (match.group(1), package.version) if match else None
    match = _SOURCE_RE.match(source.strip())
    if not match:
        return None
    return match.group(1), match.group(2) or package.version


def lookups(packages: Sequence[Any], os_release_key: str | None) -> list[Lookup]:
    """Every query of the index that the packages need (binary and source names, conda
    packages as PyPI)."""
    python_names: dict[str, set[str]] = {}
    for package in packages:
        if package.ecosystem == "pypi":
            python_names.setdefault(package.environment, set()).add(canonical_pypi(package.name))
    conda_python: set[tuple[str, str]] = set()
    found: list[Lookup] = []
    for package in packages:
        if package.ecosystem in ("deb", "rpm", "apk"):
            if os_release_key is None:
                continue
            found.append(Lookup(os_release_key, package.name, package.version, package))
            source = _source(package)
            if source and source[0] != package.name:
                name, version = source
                found.append(
                    Lookup(
                        os_release_key,
                        name,
                        version,
                        package,
                        f"source package {name} {version}",
                    )
                )
        elif package.ecosystem == "conda":
            name = canonical_pypi(package.name)
            if name in python_names.get(package.environment, set()):
                conda_python.add((package.environment, name))
                found.append(
                    Lookup(
                        "PyPI",
                        name,
                        package.version,
                        package,
                        f"PyPI distribution {name} (the conda package is a Python distribution)",
                    )
                )
    for package in packages:
        if package.ecosystem == "pypi":
            name = canonical_pypi(package.name)
            if (package.environment, name) not in conda_python:
                found.append(Lookup("PyPI", name, package.version, package))
    return found


def keys_of(found: Iterable[Lookup]) -> set[tuple[str, str]]:
    return {(lookup.key, lookup.name) for lookup in found}
