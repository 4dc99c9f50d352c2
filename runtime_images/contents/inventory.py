"""Every package of an image, placed: its ecosystem, environment, database, layer and purl.

Runs once the layers are applied: the OS and conda databases' versions still in the tree
(:mod:`.databases`), dpkg licences from the copyright files, and the Python distributions
of every site directory still there (:mod:`.python`). purls are made with
packageurl-python (the purl specification's own library), one type per ecosystem.
"""

from __future__ import annotations

import posixpath

from packageurl import PackageURL

from ..inspect.filesystem import FileSystem
from ..inspect.report import OsInfo, canonical_name
from .databases import DatabaseVersion, PackageDatabases
from .model import DatabaseRead, Environment, Package, PackageRecord
from .python import environment_for, live_site_dirs, site_distributions

__all__ = ["Inventory", "take_inventory"]

_ECOSYSTEM = {
    "dpkg": "deb",
    "dpkg-status.d": "deb",
    "rpm-sqlite": "rpm",
    "rpm-bdb": "rpm",
    "rpm-ndb": "rpm",
    "apk": "apk",
    "conda-meta": "conda",
}


class Inventory:
    """The packages, environments and databases of one image."""

    def __init__(
        self,
        packages: list[Package],
        environments: list[Environment],
        databases: list[DatabaseRead],
    ) -> None:
        self.packages, self.environments, self.databases = packages, environments, databases


def _distro(os_info: OsInfo | None) -> tuple[str | None, str | None]:
    if os_info is None or not os_info.id:
        return None, None
    distro = f"{os_info.id}-{os_info.version_id}" if os_info.version_id else os_info.id
    return os_info.id, distro


def os_purl(ecosystem: str, record: PackageRecord, os_info: OsInfo | None) -> str:
    """The purl of an OS package (``pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=…``)."""
    namespace, distro = _distro(os_info)
    extra = dict(record.extra)
    qualifiers: dict[str, str] = {}
    if record.architecture:
        qualifiers["arch"] = record.architecture
    version = record.version
    if ecosystem == "rpm" and "epoch" in extra:
        qualifiers["epoch"] = extra["epoch"]
        version = version.partition(":")[2] or version
    if ecosystem == "deb" and record.source:
        qualifiers["upstream"] = record.source
    if distro:
        qualifiers["distro"] = distro
    if ecosystem == "apk" and namespace is None:
        namespace = "alpine"
    return PackageURL(
        type=ecosystem,
        namespace=namespace,
        name=record.name,
        version=version,
        qualifiers=qualifiers,
    ).to_string()


def conda_purl(record: PackageRecord) -> str:
    qualifiers = {
        key: value for key, value in record.extra if key in ("build", "channel", "subdir")
    }
    return PackageURL(
        type="conda", name=record.name, version=record.version, qualifiers=qualifiers
    ).to_string()


def pypi_purl(name: str, version: str) -> str:
    return PackageURL(type="pypi", name=canonical_name(name), version=version or None).to_string()


def _database_packages(
    versions: dict[str, DatabaseVersion],
    observer: PackageDatabases,
    fs: FileSystem,
    os_info: OsInfo | None,
) -> list[Package]:
    packages: list[Package] = []
    for path, version in versions.items():
        ecosystem = _ECOSYSTEM[version.format]
        environment = "/"
        if ecosystem == "conda":
            environment = "/" + posixpath.dirname(posixpath.dirname(path))
        for placed in version.records:
            record = placed.record
            licenses = list(record.licenses)
            if ecosystem == "deb" and not licenses:
                doc = f"/usr/share/doc/{record.name}/copyright"
                licenses = list(observer.licenses_at(fs, doc))
            purl = (
                conda_purl(record) if ecosystem == "conda" else os_purl(ecosystem, record, os_info)
            )
            packages.append(
                Package(
                    ecosystem=ecosystem,
                    name=record.name,
                    version=record.version,
                    architecture=record.architecture,
                    source=record.source,
                    licenses=licenses,
                    layer=placed.layer,
                    installed_size=record.installed_size,
                    purl=purl,
                    environment=environment,
                    database=f"/{path}",
                )
            )
    return packages


def take_inventory(fs: FileSystem, observer: PackageDatabases, os_info: OsInfo | None) -> Inventory:
    """The inventory of a merged tree whose layers ``observer`` watched (blocking)."""
    versions, databases = observer.finish(fs)
    packages = _database_packages(versions, observer, fs, os_info)
    environments: dict[str, Environment] = {}
    if any(p.environment == "/" for p in packages) or any(d.environment == "/" for d in databases):
        environments["/"] = Environment("/", "os", None)
    for database in databases:
        if database.format == "conda-meta" and database.environment not in environments:
            environments[database.environment] = Environment(database.environment, "conda", None)
    for site_dir in live_site_dirs(fs, observer.site_dirs):
        environment = environment_for(fs, site_dir)
        known = environments.get(environment.path)
        if known is None or (known.kind == environment.kind and known.python is None):
            environments[environment.path] = environment
        for dist in site_distributions(fs, site_dir):
            size = None
            if dist.metadata_path.endswith(("/METADATA", "/PKG-INFO")):
                record = posixpath.join(posixpath.dirname(dist.metadata_path), "RECORD")
                size = observer.installed_size_at(fs, record)
            packages.append(
                Package(
                    ecosystem="pypi",
                    name=dist.name,
                    version=dist.version,
                    architecture=None,
                    source=None,
                    licenses=list(dist.licenses),
                    layer=dist.layer if dist.layer >= 0 else None,
                    installed_size=size,
                    purl=pypi_purl(dist.name, dist.version),
                    environment=environment.path,
                    database=site_dir,
                )
            )
    packages.sort(key=lambda p: (p.ecosystem, p.environment, canonical_name(p.name), p.version))
    return Inventory(packages, sorted(environments.values(), key=lambda e: e.path), databases)
