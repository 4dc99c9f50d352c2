"""What an image contains, read from its merged filesystem and config (no container run)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..documents import parse_count
from .accelerators import Accelerator, detect_accelerators
from .filesystem import FileSystem

__all__ = [
    "Accelerator",
    "Distribution",
    "ImageConfigSummary",
    "ImageReport",
    "ImageView",
    "OsInfo",
    "PythonInstall",
    "User",
    "build_report",
    "canonical_name",
]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PYTHON_NAME_RE = re.compile(r"^python(3(?:\.(\d+))?)?$")
_VERSIONED_RE = re.compile(r"python(\d+)\.(\d+)")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: ``Jupyter_Server`` and ``jupyter-server`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class OsInfo:
    id: str
    version_id: str
    pretty_name: str


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str
    shell: str
    groups: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PythonInstall:
    """A Python interpreter found on PATH: ``path`` as on PATH, ``real_path`` resolved."""

    path: str
    real_path: str
    version: str | None

    @property
    def version_tuple(self) -> tuple[int, ...] | None:
        if not self.version:
            return None
        # Bounded: the version is the image's (PYTHON_VERSION), and int() refuses 4,300 digits.
        return tuple(int(p) for p in re.findall(r"[0-9]{1,9}", self.version)[:3])


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    location: str


@dataclass(frozen=True)
class ImageConfigSummary:
    user: str
    env: dict[str, str]
    path: list[str]
    exposed_ports: list[str]
    entrypoint: list[str] | None
    cmd: list[str] | None
    working_dir: str
    labels: dict[str, str]


@dataclass(frozen=True)
class ImageReport:
    """The inspection result, JSON-serialisable with :meth:`to_json`."""

    reference: str
    digest: str
    platform: str
    layers: int
    compressed_size: int
    files: int
    os: OsInfo | None
    config: ImageConfigSummary
    pythons: list[PythonInstall]
    pip: bool
    distributions: list[Distribution]
    users: list[User]
    accelerators: list[Accelerator] = field(default_factory=list)
    manifest_digest: str = ""
    """The platform's image manifest digest (``digest`` is the top-level one: an index's)."""

    @property
    def python(self) -> PythonInstall | None:
        """The interpreter ``python3`` (else ``python``) on PATH resolves to."""
        for wanted in ("python3", "python"):
            for py in self.pythons:
                if posixpath.basename(py.path) == wanted:
                    return py
        return self.pythons[0] if self.pythons else None

    def distribution(self, name: str) -> Distribution | None:
        key = canonical_name(name)
        for dist in self.distributions:
            if canonical_name(dist.name) == key:
                return dist
        return None

    def user(self, name_or_uid: str) -> User | None:
        for user in self.users:
            if name_or_uid in (user.name, str(user.uid)):
                return user
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["python"] = asdict(self.python) if self.python else None
        data["software"] = (
            [{"name": "Python", "version": self.python.version}]
            if self.python and self.python.version
            else []
        ) + [{"name": a.name, "version": a.version} for a in self.accelerators]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageReport:
        """Read :meth:`to_json`'s form back (KeyError or TypeError if it is not that)."""
        os_info = data["os"]
        return cls(
            reference=data["reference"],
            digest=data["digest"],
            platform=data["platform"],
            layers=data["layers"],
            compressed_size=data["compressed_size"],
            files=data["files"],
            os=OsInfo(**os_info) if os_info is not None else None,
            config=ImageConfigSummary(**data["config"]),
            pythons=[PythonInstall(**p) for p in data["pythons"]],
            pip=data["pip"],
            distributions=[Distribution(**d) for d in data["distributions"]],
            users=[User(**u) for u in data["users"]],
            accelerators=[Accelerator(**a) for a in data.get("accelerators", [])],
            manifest_digest=data.get("manifest_digest", ""),
        )

    @property
    def suggested_tags(self) -> list[str]:
        """Tags a runtime image of this image should carry: ``gpu`` with an accelerator
        stack (the panel offers them when an image is created or imported)."""
        return ["gpu"] if self.accelerators else []


@dataclass
class ImageView:
    """Report plus the filesystem, for checks that need more than the report."""

    report: ImageReport
    fs: FileSystem

    def which(self, command: str) -> str | None:
        """Like ``which``: the first executable ``command`` on the image's PATH."""
        for directory in self.report.config.path:
            candidate = posixpath.join(directory, command)
            node = self.fs.lookup(candidate)
            if node is not None and node.is_executable:
                return candidate
        return None


def _config_summary(config: dict[str, Any]) -> ImageConfigSummary:
    inner = config.get("config") or {}
    env: dict[str, str] = {}
    for item in inner.get("Env") or []:
        if isinstance(item, str):
            key, _, value = item.partition("=")
            env[key] = value
    path = env.get("PATH", DEFAULT_PATH)
    ports = sorted(str(p) for p in (inner.get("ExposedPorts") or {}))

    def str_list(value: Any) -> list[str] | None:
        return [str(v) for v in value] if isinstance(value, list) else None

    labels = inner.get("Labels") or {}
    return ImageConfigSummary(
        user=str(inner.get("User") or ""),
        env=env,
        path=[p for p in path.split(":") if p],
        exposed_ports=ports,
        entrypoint=str_list(inner.get("Entrypoint")),
        cmd=str_list(inner.get("Cmd")),
        working_dir=str(inner.get("WorkingDir") or ""),
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
    )


def _text(data: bytes | None) -> str:
    return data.decode("utf-8", "replace") if data else ""


def _os_info(fs: FileSystem) -> OsInfo | None:
    text = _text(fs.read("/etc/os-release")) or _text(fs.read("/usr/lib/os-release"))
    if not text:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    return OsInfo(
        id=values.get("ID", ""),
        version_id=values.get("VERSION_ID", ""),
        pretty_name=values.get("PRETTY_NAME", values.get("NAME", "")),
    )


def _users(fs: FileSystem) -> list[User]:
    members: dict[str, list[int]] = {}
    for line in _text(fs.read("/etc/group")).splitlines():
        fields = line.split(":")
        gid = parse_count(fields[2], 10) if len(fields) >= 4 else None
        if gid is not None:
            for member in filter(None, fields[3].split(",")):
                members.setdefault(member.strip(), []).append(gid)
    users = []
    for line in _text(fs.read("/etc/passwd")).splitlines():
        fields = line.split(":")
        if len(fields) < 7:
            continue
        uid, gid = parse_count(fields[2], 10), parse_count(fields[3], 10)
        if uid is not None and gid is not None:
            users.append(
                User(
                    name=fields[0],
                    uid=uid,
                    gid=gid,
                    home=fields[5],
                    shell=fields[6],
                    groups=sorted(set(members.get(fields[0], []))),
                )
            )
    return users


def _python_version(fs: FileSystem, path: str, real: str, env: dict[str, str]) -> str | None:
    """From the resolved name (python3.11), else the install prefix, else PYTHON_VERSION."""
    match = _VERSIONED_RE.search(posixpath.basename(real))
    if match:
        version = f"{match.group(1)}.{match.group(2)}"
        full = env.get("PYTHON_VERSION", "")
        return full if full.startswith(version + ".") else version
    prefix = posixpath.dirname(posixpath.dirname(real))
    found = sorted(
        (tuple(int(x) for x in m.groups()), name)
        for name in fs.listdir(posixpath.join(prefix, "lib"))
        if (m := re.fullmatch(r"python([0-9]{1,4})\.([0-9]{1,4})", name))
    )
    if found:
        return found[-1][1].removeprefix("python")
    return env.get("PYTHON_VERSION") or None


def _pythons(fs: FileSystem, path: list[str], env: dict[str, str]) -> list[PythonInstall]:
    found: list[PythonInstall] = []
    seen: set[str] = set()
    for directory in path:
        for name in sorted(fs.listdir(directory)):
            if not _PYTHON_NAME_RE.match(name) or name in seen:
                continue
            candidate = posixpath.join(directory, name)
            node = fs.lookup(candidate)
            real = fs.realpath(candidate)
            if node is None or real is None or not node.is_executable:
                continue
            seen.add(name)
            found.append(PythonInstall(candidate, real, _python_version(fs, candidate, real, env)))
    return found


def _distributions(fs: FileSystem) -> list[Distribution]:
    dists: dict[tuple[str, str], Distribution] = {}
    for path, node in fs.walk("/"):
        if node.children is None:
            continue
        base = posixpath.basename(path)
        if base not in ("site-packages", "dist-packages"):
            continue
        for name, child in node.children.items():
            if not name.endswith((".dist-info", ".egg-info")) or child.children is None:
                continue
            meta = child.children.get("METADATA") or child.children.get("PKG-INFO")
            headers = _metadata_headers(_text(meta.content if meta else None))
            stem = name.rsplit(".", 1)[0]
            dist_name, _, dist_version = stem.partition("-")
            dist_name = headers.get("name", dist_name)
            dist_version = headers.get("version", dist_version.split("-")[0])
            if dist_name:
                key = (canonical_name(dist_name), path)
                dists[key] = Distribution(dist_name, dist_version, path)
    return sorted(dists.values(), key=lambda d: (canonical_name(d.name), d.location))


def _metadata_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version") and key.lower() not in headers:
            headers[key.lower()] = value.strip()
    return headers


def build_report(
    fs: FileSystem,
    config: dict[str, Any],
    *,
    reference: str,
    digest: str,
    platform: str,
    compressed_size: int,
    manifest_digest: str = "",
) -> ImageView:
    summary = _config_summary(config)
    pythons = _pythons(fs, summary.path, summary.env)
    distributions = _distributions(fs)
    has_pip = any(canonical_name(d.name) == "pip" for d in distributions) or any(
        (node := fs.lookup(posixpath.join(d, cmd))) is not None and node.is_executable
        for d in summary.path
        for cmd in ("pip", "pip3")
    )
    report = ImageReport(
        reference=reference,
        digest=digest,
        platform=platform,
        layers=fs.layers,
        compressed_size=compressed_size,
        files=fs.entries,
        os=_os_info(fs),
        config=summary,
        pythons=pythons,
        pip=has_pip,
        distributions=distributions,
        users=_users(fs),
        accelerators=detect_accelerators(fs),
        manifest_digest=manifest_digest,
    )
    return ImageView(report, fs)
