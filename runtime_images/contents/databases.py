"""Package databases read as the layers stream past, and the packages left at the end.

A :class:`PackageDatabases` watches every layer (it is a
:class:`~runtime_images.inspect.filesystem.LayerObserver`): each time a layer writes a
package database (dpkg ``status`` or ``status.d/*``, an rpmdb, apk's ``installed``, a
``conda-meta/*.json`` record) it is parsed from the stream, and the version it replaces is
compared record by record, so each package keeps the index of the layer that last changed
it. At the end only the versions still in the merged filesystem count (:meth:`finish`
checks each is the very node the tree holds), so a database deleted by a whiteout or an
opaque directory, or rewritten without a package, no longer lists it.
"""

from __future__ import annotations

import posixpath
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from ..documents import parse_count
from ..inspect.filesystem import FileSystem, Node
from . import apk, conda, dpkg, rpmdb
from .budget import ContentBudget
from .model import DatabaseRead, PackageRecord

__all__ = ["DatabaseVersion", "PackageDatabases", "PlacedRecord"]

_DPKG_STATUS = "var/lib/dpkg/status"
# distroless: one status file per package, beside its ``<package>.md5sums``.
_DPKG_STATUS_D = re.compile(r"^var/lib/dpkg/status\.d/[^/]+(?<!\.md5sums)$")
_RPM_DIRS = ("var/lib/rpm", "usr/lib/sysimage/rpm", "usr/share/rpm")
_APK_INSTALLED = "lib/apk/db/installed"
_CONDA_META = re.compile(r"^(.*/)?conda-meta/[^/]+\.json$")
_COPYRIGHT = re.compile(r"^usr/share/doc/([^/]+)/copyright$")
_RECORD = re.compile(r"^(.+\.dist-info)/RECORD$")
_SITE_DIR = re.compile(r"^(.*?/(?:site-packages|dist-packages))/")
# One test per file streaming past, before any of the finer ones (most files are none).
_CANDIDATE = re.compile(
    r"(?:^var/lib/dpkg/status(?:\.d/[^/]+)?|^lib/apk/db/installed|(?:^|/)conda-meta/[^/]+\.json"
    r"|^usr/share/doc/[^/]+/copyright|\.dist-info/RECORD"
    r"|^(?:var/lib/rpm|usr/lib/sysimage/rpm|usr/share/rpm)/(?:rpmdb\.sqlite|Packages(?:\.db)?))$"
)
_MAX_RECORD_LINE = 4096


@dataclass(frozen=True)
class PlacedRecord:
    """A package record and the layer that last changed it."""

    record: PackageRecord
    layer: int


@dataclass
class DatabaseVersion:
    """One version of a database file: the node a layer wrote, and what it said."""

    format: str
    node: Node
    layer: int
    records: list[PlacedRecord] = field(default_factory=list)
    reason: str | None = None


@dataclass
class _Pending:
    path: str
    format: str
    records: list[PackageRecord] | None = None
    reason: str | None = None
    licenses: tuple[str, ...] = ()
    size: int | None = None


def database_format(path: str) -> str | None:
    """The format of the package database at ``path`` (relative to ``/``), or None."""
    if path == _DPKG_STATUS or _DPKG_STATUS_D.match(path):
        return "dpkg" if path == _DPKG_STATUS else "dpkg-status.d"
    if path == _APK_INSTALLED:
        return "apk"
    directory, name = posixpath.split(path)
    if directory in _RPM_DIRS and name in rpmdb.FORMATS:
        return rpmdb.FORMATS[name]
    if _CONDA_META.match(path):
        return "conda-meta"
    return None


class PackageDatabases:
    """The package inventory's :class:`~runtime_images.inspect.filesystem.LayerObserver`."""

    def __init__(self, budget: ContentBudget) -> None:
        self.budget = budget
        self.layer = 0
        self.versions: dict[str, DatabaseVersion] = {}
        self.licenses: dict[int, tuple[str, ...]] = {}  # id(copyright node) -> licences
        self.record_sizes: dict[int, int] = {}  # id(RECORD node) -> installed bytes
        self.site_dirs: set[str] = set()
        self._nodes: list[Node] = []  # keeps the ids above meaningful
        self._pending: _Pending | None = None

    # -- LayerObserver --------------------------------------------------------------------

    def wants(self, path: str, info: tarfile.TarInfo) -> Callable[[IO[bytes]], None] | None:
        self._pending = None
        if not _CANDIDATE.search(path):
            return None
        kind = database_format(path)
        if kind is not None:
            return lambda stream: self._read_database(path, kind, info, stream)
        if _COPYRIGHT.match(path):
            return lambda stream: self._read_copyright(path, stream)
        if _RECORD.match(path):
            return lambda stream: self._read_record_sizes(path, stream)
        return None

    def written(self, path: str, info: tarfile.TarInfo, node: Node, replaced: Node | None) -> None:
        if "-packages/" in path:
            site = _SITE_DIR.match(path)
            if site:
                self.site_dirs.add(site.group(1))
        pending, self._pending = self._pending, None
        if pending is None or pending.path != path or info.islnk():
            return
        self._nodes.append(node)
        if pending.format == "copyright":
            self.licenses[id(node)] = pending.licenses
            return
        if pending.format == "record":
            if pending.size is not None:
                self.record_sizes[id(node)] = pending.size
            return
        before = self.versions.get(path)
        version = DatabaseVersion(pending.format, node, self.layer, reason=pending.reason)
        earlier: dict[tuple[object, ...], PlacedRecord] = {}
        if before is not None:
            earlier = {placed.record.identity(): placed for placed in before.records}
        for record in pending.records or []:
            same = earlier.get(record.identity())
            version.records.append(same if same is not None else PlacedRecord(record, self.layer))
        self.versions[path] = version

    def removed(self, path: str, node: Node) -> None:
        """Nothing to do: :meth:`finish` keeps only the versions still in the tree."""

    def layer_done(self, layer: int, tar_bytes: int) -> None:
        self.layer = layer + 1

    # -- readers --------------------------------------------------------------------------

    def _read_database(
        self, path: str, kind: str, info: tarfile.TarInfo, stream: IO[bytes]
    ) -> None:
        what = f"/{path}"
        pending = _Pending(path, kind)
        self._pending = pending
        try:
            if kind in ("dpkg", "dpkg-status.d"):
                pending.records = dpkg.parse_status(stream, self.budget, what)
            elif kind == "apk":
                pending.records = apk.parse_installed(stream, self.budget, what)
            elif kind == "conda-meta":
                self.budget.check_file(info.size, what)
                data = stream.read(info.size)
                self.budget.spend_bytes(len(data), what)
                record = conda.parse_record(data, what)
                self.budget.spend_package(what)
                pending.records = [record]
            else:
                self.budget.check_file(info.size, what)
                data = stream.read(info.size)
                self.budget.spend_bytes(len(data), what)
                pending.records = rpmdb.read_database(kind, data, self.budget, what)
        except (rpmdb.CorruptDatabase, conda.CorruptRecord) as error:
            pending.records, pending.reason = [], str(error)

    def _read_copyright(self, path: str, stream: IO[bytes]) -> None:
        licenses = dpkg.copyright_licenses(stream, self.budget, f"/{path}")
        self._pending = _Pending(path, "copyright", licenses=licenses)

    def _read_record_sizes(self, path: str, stream: IO[bytes]) -> None:
        """The installed size of a Python distribution: the sizes its RECORD lists."""
        total = 0
        what = f"/{path}"
        while True:
            line = stream.readline(_MAX_RECORD_LINE)
            if not line:
                break
            self.budget.spend_bytes(len(line), what)
            size = line.rstrip(b"\r\n").rpartition(b",")[2]
            total += parse_count(size, 15) or 0
        self._pending = _Pending(path, "record", size=total)

    # -- the end --------------------------------------------------------------------------

    def finish(self, fs: FileSystem) -> tuple[dict[str, DatabaseVersion], list[DatabaseRead]]:
        """The database versions still in the merged tree (by path), and what each was."""
        present: dict[str, DatabaseVersion] = {}
        reads: list[DatabaseRead] = []
        for path, version in sorted(self.versions.items()):
            if fs.lookup(path, follow=False) is not version.node:
                continue  # deleted, or replaced by something that is not this version
            present[path] = version
            reads.append(
                DatabaseRead(
                    path=f"/{path}",
                    format=version.format,
                    read=version.reason is None,
                    packages=len(version.records),
                    layer=version.layer,
                    reason=version.reason,
                    environment=environment_of(path, version.format),
                )
            )
        return present, reads

    def licenses_at(self, fs: FileSystem, path: str) -> tuple[str, ...]:
        node = fs.lookup(path)
        return self.licenses.get(id(node), ()) if node is not None else ()

    def installed_size_at(self, fs: FileSystem, path: str) -> int | None:
        node = fs.lookup(path, follow=False)
        return self.record_sizes.get(id(node)) if node is not None else None


def environment_of(path: str, kind: str) -> str:
    """``/`` for the OS databases, the conda prefix for conda-meta records."""
    if kind == "conda-meta":
        prefix = posixpath.dirname(posixpath.dirname(path))
        return "/" + prefix if prefix else "/"
    return "/"
