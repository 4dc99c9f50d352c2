"""What an export says about an image's contents, taken from its inspection in one place.

The ODH annotations (``notebook-software``, ``notebook-python-dependencies``,
``recommended-accelerators``) are filled from :func:`facts_of`, the one reader of an
inspection report here: when the package inventory replaces the report's distributions,
this function is the one to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

from ..inspect import ImageReport
from ..inspect.report import canonical_name

__all__ = ["AcceleratorHint", "ImageFacts", "Package", "Packages", "facts_of"]


class Package(NamedTuple):
    """A named, versioned piece of software (a tuple: thousands are read per export)."""

    name: str
    version: str


class AcceleratorHint(NamedTuple):
    """An accelerator stack found in the image (``CUDA 12.4``) and the file that says so."""

    name: str
    version: str
    evidence: str


class Packages(Sequence[Package]):
    """Packages kept as two columns of strings: a thousand images of a few hundred
    packages are then a few thousand objects, not hundreds of thousands for the garbage
    collector to walk (which took two thirds of reading them)."""

    __slots__ = ("names", "versions")

    def __init__(self, names: Iterable[str] = (), versions: Iterable[str] = ()) -> None:
        self.names, self.versions = tuple(names), tuple(versions)
        if len(self.names) != len(self.versions):
            raise ValueError("as many versions as names")

    @classmethod
    def of(cls, packages: Iterable[Package]) -> Packages:
        rows = list(packages)
        return cls((p.name for p in rows), (p.version for p in rows))

    def __len__(self) -> int:
        return len(self.names)

    @overload
    def __getitem__(self, index: int) -> Package: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Package]: ...
    def __getitem__(self, index: int | slice) -> Package | Sequence[Package]:
        if isinstance(index, slice):
            return Packages(self.names[index], self.versions[index])
        return Package(self.names[index], self.versions[index])

    def __iter__(self) -> Iterator[Package]:
        return map(Package._make, zip(self.names, self.versions, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Packages):
            return (self.names, self.versions) == (other.names, other.versions)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.names, self.versions))

    def __repr__(self) -> str:
        return f"Packages({list(self)!r})"


@dataclass(frozen=True)
class ImageFacts:
    """The contents of one platform's image, as the exports need them (JSON-cacheable)."""

    digest: str
    platform: str
    software: list[Package] = field(default_factory=list)
    python_dependencies: Packages = field(default_factory=Packages)
    accelerators: list[AcceleratorHint] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Columns, not objects: a thousand images of 200 packages parse 4x faster."""
        return {
            "digest": self.digest,
            "platform": self.platform,
            "software": _columns(self.software),
            "python_dependencies": _columns(self.python_dependencies),
            "accelerators": _columns(self.accelerators),
        }

    @classmethod
    def from_json(cls, data: Any) -> ImageFacts:
        """Read a cached document back; ``TypeError``/``ValueError`` when it is not one
        (the cache is a file anyone with the account can edit: it is checked like input)."""
        if not isinstance(data, dict):
            raise TypeError("not an object")
        digest, platform = data.get("digest"), data.get("platform")
        if not isinstance(digest, str) or not isinstance(platform, str):
            raise TypeError("digest and platform must be strings")
        return cls(
            digest,
            platform,
            list(map(Package._make, _rows(data.get("software"), Package._fields))),
            _packages(data.get("python_dependencies")),
            list(
                map(AcceleratorHint._make, _rows(data.get("accelerators"), AcceleratorHint._fields))
            ),
        )


def _packages(value: Any) -> Packages:
    if value == {}:
        return Packages()
    if not isinstance(value, dict) or set(value) != {"name", "version"}:
        raise TypeError("not columns name, version")
    names, versions = value["name"], value["version"]
    if not isinstance(names, list) or not isinstance(versions, list):
        raise TypeError("columns name, version must be lists")
    "".join(names), "".join(versions)  # TypeError unless every item is a str (a loop in C)
    return Packages(names, versions)


def _columns(rows: Sequence[tuple[str, ...]]) -> dict[str, list[str]]:
    if isinstance(rows, Packages):
        return {"name": list(rows.names), "version": list(rows.versions)} if rows else {}
    fields: tuple[str, ...] = getattr(rows[0], "_fields", ()) if rows else ()
    return {name: [row[i] for row in rows] for i, name in enumerate(fields)} if rows else {}


def _rows(value: Any, keys: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    """Rows from ``{key: [str, …]}`` columns of one length ({} is no rows)."""
    if value == {}:
        return []
    if not isinstance(value, dict) or set(value) != set(keys):
        raise TypeError(f"not columns {', '.join(keys)}")
    columns = [value[k] for k in keys]
    if not all(isinstance(c, list) and len(c) == len(columns[0]) for c in columns):
        raise TypeError(f"columns {', '.join(keys)} must be lists of one length")
    for column in columns:
        "".join(column)  # TypeError unless every item is a str (a loop in C)
    return zip(*columns, strict=True)


def facts_of(report: ImageReport) -> ImageFacts:
    """The software (OS, Python, accelerator stacks), the Python distributions (one per
    name: the first location wins, as on ``sys.path``) and the accelerators of a report."""
    accelerators = [AcceleratorHint(a.name, a.version, a.evidence) for a in report.accelerators]
    software: list[Package] = []
    if report.os is not None and report.os.pretty_name:
        name = report.os.pretty_name.split(" (")[0]
        version = report.os.version_id
        if version and name.endswith(f" {version}"):
            name = name[: -len(version) - 1]
        software.append(Package(name, version))
    python = report.python
    if python is not None and python.version:
        software.append(Package("Python", python.version))
    software += [Package(a.name, a.version) for a in accelerators]
    seen: set[str] = set()
    dependencies: list[Package] = []
    for dist in report.distributions:
        key = canonical_name(dist.name)
        if key not in seen:
            seen.add(key)
            dependencies.append(Package(dist.name, dist.version))
    return ImageFacts(
        report.digest, report.platform, software, Packages.of(dependencies), accelerators
    )
