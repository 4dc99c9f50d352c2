"""The package inventory's records: packages, the environments they live in, and the
package databases that were read (or could not be)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..records import camel_json, from_camel_json

__all__ = [
    "ECOSYSTEMS",
    "DatabaseRead",
    "Environment",
    "Package",
    "PackageRecord",
]

Ecosystem = Literal["deb", "rpm", "apk", "conda", "pypi"]
ECOSYSTEMS: tuple[str, ...] = ("deb", "rpm", "apk", "conda", "pypi")
"""Ecosystem names, as purl types (``pkg:deb/…``, ``pkg:pypi/…``)."""


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """One package as a database describes it, before it is placed in the image.

    ``installed_size`` in bytes (None when the format does not say); ``extra`` holds
    format-specific qualifiers for the purl (``epoch``, ``build``, ``channel``, ``subdir``).
    """

    name: str
    version: str
    architecture: str | None = None
    source: str | None = None
    licenses: tuple[str, ...] = ()
    installed_size: int | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def identity(self) -> tuple[Any, ...]:
        """What must stay the same for a package to count as not rewritten by a layer."""
        return (self.name, self.version, self.architecture, self.extra)


@dataclass(frozen=True)
class Package:
    """One package of the image, as the inventory reports it (JSON: :meth:`to_json`).

    ``environment`` is ``/`` for the operating system's packages (dpkg, rpm, apk) and the
    prefix of a Python or conda environment otherwise; ``database`` is the file the package
    was read from; ``layer`` the index of the layer that last wrote its record.
    """

    ecosystem: str
    name: str
    version: str
    architecture: str | None
    source: str | None
    licenses: list[str]
    layer: int | None
    installed_size: int | None
    purl: str
    environment: str
    database: str

    def key(self) -> tuple[str, str, str, str]:
        """What identifies a package across two images (for a diff)."""
        return (self.ecosystem, self.environment, self.name, self.architecture or "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Package:
        return cls(**{name: data[name] for name in _PACKAGE_FIELDS})


_PACKAGE_FIELDS = tuple(Package.__dataclass_fields__)


@dataclass(frozen=True)
class Environment:
    """Where packages are installed: ``/`` (the OS), or a Python/conda prefix.

    ``kind``: ``os``, ``python`` (a Python prefix that is not a venv or conda env, such as
    ``/usr``, ``/usr/local`` or ``~/.local``), ``venv`` (has ``pyvenv.cfg``) or ``conda``
    (has ``conda-meta/``). ``python`` is the ``X.Y`` of its ``lib/pythonX.Y`` when it has
    one.
    """

    path: str
    kind: str
    python: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Environment:
        return cls(path=data["path"], kind=data["kind"], python=data["python"])


@dataclass
class DatabaseRead:
    """One package database found in the image: its format, whether it was read, and why
    not when it was not (an unsupported format, a corrupt file, a file over a budget)."""

    path: str
    format: str
    read: bool
    reason: str | None = None
    packages: int = 0
    layer: int | None = None
    environment: str = "/"

    def to_json(self) -> dict[str, Any]:
        return camel_json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatabaseRead:
        return from_camel_json(cls, data)
