"""Resolve and install Python packages for an image's interpreter, from the host's pip.

pip runs on the host with ``--target`` and the image's Python version, implementation,
ABI and platform tags, ``--only-binary=:all:`` and ``--no-compile`` (no bytecode from the
host's interpreter). Constraints pin the base image's distributions, so existing versions
stay unless a requested package names them. ``--report`` gives every resolved file with
its hash: the lock that makes the build reproducible.

No code from a build's inputs ever runs on the host: requirements are parsed first (a
direct reference, a URL or a local path is refused), and pip runs under
:mod:`.pip_wheels_only`, which refuses to build anything it meets on the way (a dependency
that is a source tree). What needs a build fails with :class:`RequiresBuild`, for the
buildah engine, which builds inside the image's root filesystem.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import posixpath
import re
import sys
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..inspect.report import canonical_name
from .pip_wheels_only import MARKER

_PYTHON_BINARY = re.compile(r"python(\d+\.\d+)")
_MACHINE_OF_TAG = re.compile(r"^(?:many|musl)linux(?:_\d+_\d+|\d+)_")
# A first line that names python, whole. Not ``#!.*python[0-9.]*\S*[^\n]*\n``: its
# overlapping quantifiers backtrack cubically on a long line with no newline (hours for
# 48 KB), and a wheel's scripts are anyone's.
PYTHON_SHEBANG = re.compile(rb"^#!(?=[^\n]*python)[^\n]*\n")
# pip's launcher when the interpreter's path is too long or has spaces (distlib):
#   #!/bin/sh
#   '''exec' "/long/path/python" "$0" "$@"
#   ' '''
SH_LAUNCHER = re.compile(rb"^#!/bin/sh\n'''exec' [^\n]*\n' '''\n")


class PackageError(Exception):
    """pip could not resolve or install the packages; the message says why."""

    reason = "BuildFailed"


class RequiresBuild(PackageError):
    """A requirement can only be installed by building it, which runs its code."""

    reason = "RequiresBuild"


def requirement_problem(text: str) -> str | None:
    """Why ``text`` cannot be installed from wheels alone, or None (a name and a version
    specifier, which pip resolves on the configured indexes)."""
    from packaging.requirements import InvalidRequirement, Requirement

    stripped = text.strip()
    if stripped.startswith("-"):
        return f"{stripped!r} is a pip option, not a requirement"
    try:
        requirement = Requirement(stripped)
    except InvalidRequirement:
        return (
            f"{stripped!r} is not a package name with a version specifier (a local path or "
            "a URL must be built, which runs its code)"
        )
    if requirement.url:
        return (
            f"{stripped!r} is a direct reference: it is fetched from {requirement.url} and "
            "may need building, which runs its code"
        )
    return None


def check_requirements(requirements: Iterable[str]) -> None:
    """Refuse every requirement wheels alone cannot satisfy (RequiresBuild, naming them)."""
    problems = [problem for text in requirements if (problem := requirement_problem(text))]
    if problems:
        raise RequiresBuild(
            "; ".join(problems) + ". Layer append installs wheels from the package index "
            "only; such requirements need the buildah engine (ImageBuilder.fallback_engine)."
        )


@dataclass(frozen=True)
class PythonTarget:
    """The image's interpreter: what wheels fit it and where packages go."""

    version: str  # "3.11"
    interpreter: str  # "/usr/bin/python3"
    site_packages: str  # "/usr/local/lib/python3.11/dist-packages"
    bin_dir: str  # "/usr/local/bin"
    platforms: tuple[str, ...]  # wheel platform tags

    @property
    def machine(self) -> str:
        """The machine its wheels are for (``x86_64``, ``aarch64``), from the platform tags."""
        return _MACHINE_OF_TAG.sub("", self.platforms[0])

    @property
    def abi(self) -> str:
        return "cp" + self.version.replace(".", "")

    @property
    def prefix(self) -> str:
        """The environment's prefix (``/usr/local``, a venv's root): where a wheel's data
        files (``share/…``) go, as pip would install them in the image."""
        return posixpath.dirname(self.bin_dir)


def platform_tags(architecture: str, musl: bool = False) -> tuple[str, ...]:
    """Wheel platform tags for a Linux image of ``architecture`` (``any`` always fits)."""
    machine = {"amd64": "x86_64", "arm64": "aarch64", "ppc64le": "ppc64le", "s390x": "s390x"}.get(
        architecture, architecture
    )
    if musl:
        return tuple(f"musllinux_1_{minor}_{machine}" for minor in (2, 1))
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(28, 16, -1)]
    tags += [f"manylinux2014_{machine}"]
    if machine == "x86_64":
        tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
    return tuple(tags)


@dataclass
class Installation:
    """What pip installed into the staging directory.

    ``pip --target`` puts everything in one directory: packages, and what a wheel installs
    outside site-packages (its data scheme: console scripts in ``bin/``, ``.data/scripts``,
    data files such as ``share/jupyter/…``), recorded in RECORD as ``../../<path>``.
    """

    site: Path
    lock: list[str] = field(default_factory=list)  # "name==version --hash=sha256:…"
    installed: dict[str, str] = field(default_factory=dict)  # canonical name -> version
    top_level: dict[str, list[str]] = field(default_factory=dict)  # name -> top-level entries


def merged_lock(locks: list[list[str]]) -> list[str]:
    """One lock for the platforms of a multi-platform build: a line per distribution and
    version with every platform's wheel hash (``name==1.0 --hash=sha256:a --hash=sha256:b``),
    as pip's hash-checking mode reads a cross-platform lock."""
    if len(locks) == 1:
        return list(locks[0])
    hashes: dict[str, list[str]] = {}
    for lock in locks:
        for line in lock:
            pinned, *options = line.split(" --hash=")
            known = hashes.setdefault(pinned, [])
            known.extend(option for option in options if option not in known)
    return [" --hash=".join([pinned, *found]) for pinned, found in sorted(hashes.items())]


async def install(
    requirements: Iterable[str],
    target: PythonTarget,
    base_versions: dict[str, str],
    staging: Path,
    log: Callable[[str], None],
) -> Installation:
    """Install ``requirements`` (and their dependencies) for ``target`` into ``staging``."""
    requested = list(requirements)
    check_requirements(requested)
    requested_names = {canonical_name(_requirement_name(r)) for r in requested}
    constraints = staging / "constraints.txt"
    staging.mkdir(parents=True, exist_ok=True)
    constraints.write_text(
        "".join(
            f"{name}=={version}\n"
            for name, version in sorted(base_versions.items())
            if name not in requested_names
        )
    )
    site = staging / "site"
    report = staging / "report.json"
    command = [
        sys.executable,
        "-m",
        "runtime_images.builds.pip_wheels_only",
        "install",
        "--target",
        str(site),
        "--no-compile",
        "--only-binary=:all:",
        "--no-warn-script-location",
        # pip's conflict check reads the host's environment, not the image's: it only costs
        # time (about 0.2 s) and warns about the wrong packages.
        "--no-warn-conflicts",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "--no-input",
        "--python-version",
        target.version,
        "--implementation",
        "cp",
        "--abi",
        target.abi,
        "--report",
        str(report),
        "--constraint",
        str(constraints),
    ]
    for platform in target.platforms:
        command += ["--platform", platform]
    command += ["--", *requested]
    log("pip " + " ".join(command[3:]))
    returncode, text = await _run_pip(command, log)
    if returncode != 0:
        raise _pip_failure(text, target)
    return _read_report(report, site)


class EarlyInstall:
    """pip started as soon as the base's interpreter streams past, while the rest of the
    base is still being read: pip is another process, so it runs on another core.

    It runs without the base's constraints (they are not known yet). Its result is used
    only when it is what :func:`install` would give: the same Python and platform, and no
    distribution of the base moved to another version unless it was requested.
    """

    def __init__(
        self,
        requirements: list[str],
        architecture: str,
        path_dirs: list[str],
        staging: Path,
        log: Callable[[str], None],
    ) -> None:
        self.requirements = requirements
        self.platforms = platform_tags(architecture)
        self._path_dirs = {d.strip("/") for d in path_dirs}
        self._staging, self._log = staging, log
        self._loop = asyncio.get_running_loop()
        self._seen = False
        self.version: str | None = None
        self.task: asyncio.Task[Installation] | None = None

    def on_file(self, path: str, info: tarfile.TarInfo) -> None:
        """Called from the parsing thread for each regular file of the base."""
        if self._seen or not info.mode & 0o111:
            return
        directory, _, name = path.rpartition("/")
        match = _PYTHON_BINARY.fullmatch(name)
        if match is None or directory not in self._path_dirs:
            return
        self._seen = True
        self._loop.call_soon_threadsafe(self._start, match.group(1))

    def _start(self, version: str) -> None:
        self.version = version
        self._log(f"Installing the requirements for Python {version} while the base is read.")
        target = PythonTarget(version, "", "", "", self.platforms)
        self.task = asyncio.create_task(
            install(self.requirements, target, {}, self._staging, self._log)
        )

    async def result(
        self, target: PythonTarget, base_versions: dict[str, str]
    ) -> Installation | None:
        """The early installation if it fits ``target`` and the base, else None."""
        if self.task is None:
            return None
        try:
            installed = await self.task
        except PackageError:
            return None  # the constrained run may still succeed, or says why it fails
        requested = {canonical_name(_requirement_name(r)) for r in self.requirements}
        moved = [
            name
            for name, version in installed.installed.items()
            if name in base_versions and base_versions[name] != version and name not in requested
        ]
        if (target.version, target.platforms) != (self.version, self.platforms) or moved:
            self._log("The early installation does not fit the base; installing again.")
            return None
        return installed

    async def close(self) -> None:
        """Stop pip if it still runs (the build failed or was cancelled meanwhile)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, PackageError):
                await self.task


async def _run_pip(command: list[str], log: Callable[[str], None]) -> tuple[int, str]:
    """Run pip, log its output; killed (not orphaned) when the build is cancelled."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    text = output.decode("utf-8", errors="replace")
    for line in text.splitlines():
        log(f"pip: {line}")
    assert process.returncode is not None
    return process.returncode, text


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1) if match else requirement


def _pip_failure(output: str, target: PythonTarget) -> PackageError:
    refused = re.search(re.escape(MARKER) + r" ([^\n]*)", output)
    if refused:
        return RequiresBuild(
            f"{refused.group(1).strip()} can only be installed by building it, which runs its "
            "code: layer append installs wheels only; use the buildah engine."
        )
    missing = re.search(r"No matching distribution found for (\S+)", output)
    if missing:
        return RequiresBuild(
            f"No wheel of {missing.group(1)} fits Python {target.version} on "
            f"{target.machine}: packages that must be compiled from "
            "source (or OS packages) cannot be added by layer append; use a base image that "
            "has them, or the buildah engine."
        )
    return PackageError(_explain_pip_failure(output))


def _explain_pip_failure(output: str) -> str:
    conflict = re.search(r"(ResolutionImpossible|conflict[^\n]*)", output)
    if conflict:
        return (
            "The requested packages conflict with each other or with the versions the base "
            f"image has: {_last_lines(output)}"
        )
    return f"pip failed: {_last_lines(output)}"


def _last_lines(text: str, count: int = 4) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[-count:])


def _read_report(report_path: Path, site: Path) -> Installation:
    installation = Installation(site=site)
    report = json.loads(report_path.read_text("utf-8"))
    for item in report.get("install", []):
        metadata = item.get("metadata", {})
        name = canonical_name(str(metadata.get("name", "")))
        version = str(metadata.get("version", ""))
        hashes = (item.get("download_info", {}).get("archive_info", {}) or {}).get("hashes", {})
        lock_line = f"{name}=={version}"
        if "sha256" in hashes:
            lock_line += f" --hash=sha256:{hashes['sha256']}"
        installation.lock.append(lock_line)
        installation.installed[name] = version
    installation.lock.sort()
    for dist_info in site.glob("*.dist-info"):
        name = canonical_name(dist_info.name[: -len(".dist-info")].rsplit("-", 1)[0])
        installation.top_level[name] = _top_level_entries(dist_info, site)
    return installation


def _record_paths(dist_info: Path) -> list[str]:
    record = dist_info / "RECORD"
    if not record.exists():
        return []
    return [line.split(",", 1)[0] for line in record.read_text("utf-8").splitlines()]


def _top_level_entries(dist_info: Path, site: Path) -> list[str]:
    """The top-level names a distribution installed into site-packages (from its RECORD)."""
    entries: set[str] = set()
    for path in _record_paths(dist_info):
        first = path.split("/", 1)[0]
        if first and not first.startswith(".."):
            entries.add(first)
    return sorted(entries)


_DATA_PREFIX = "../../"  # RECORD paths of pip --target's data scheme, relative to site


def place_data(
    installation: Installation, target: PythonTarget, staging: Path
) -> list[tuple[Path, str]]:
    """Move what the wheels install outside site-packages out of pip's ``--target``
    directory, and return each tree with where it goes in the image: scripts to the
    interpreter's ``bin`` (their shebang pointed at the image's interpreter), data files
    under the environment's prefix. RECORD files are rewritten to the image's paths, so
    pip in the image can uninstall or upgrade them."""
    site = installation.site
    top: set[str] = set()
    dist_infos = sorted(site.glob("*.dist-info"))
    for dist_info in dist_infos:
        for path in _record_paths(dist_info):
            if path.startswith(_DATA_PREFIX):
                top.add(path[len(_DATA_PREFIX) :].split("/", 1)[0])
    staging.mkdir(parents=True, exist_ok=True)
    placed: list[tuple[Path, str]] = []
    for name in sorted(top):
        source = site / name
        if not source.is_dir() or source.is_symlink():
            continue
        moved = staging / name
        source.rename(moved)
        destination = target.bin_dir if name == "bin" else posixpath.join(target.prefix, name)
        placed.append((moved, destination))
    if (staging / "bin").is_dir():
        rewrite_shebangs(staging / "bin", target.interpreter)
    for dist_info in dist_infos:
        _rewrite_record(dist_info, target)
    return placed


def _rewrite_record(dist_info: Path, target: PythonTarget) -> None:
    record = dist_info / "RECORD"
    if not record.exists():
        return
    lines = []
    for line in record.read_text("utf-8").splitlines():
        path, sep, rest = line.partition(",")
        if path.startswith(_DATA_PREFIX):
            inner = path[len(_DATA_PREFIX) :]
            first, _, tail = inner.partition("/")
            image_path = (
                posixpath.join(target.bin_dir, tail)
                if first == "bin"
                else posixpath.join(target.prefix, inner)
            )
            path = posixpath.relpath(image_path, target.site_packages)
        lines.append(path + sep + rest)
    record.write_text("\n".join(lines) + "\n", "utf-8")


def remove_distribution(site: Path, name: str) -> None:
    """Remove an installed distribution (the base already has this version)."""
    for dist_info in site.glob("*.dist-info"):
        if canonical_name(dist_info.name[: -len(".dist-info")].rsplit("-", 1)[0]) != name:
            continue
        for recorded in _record_paths(dist_info):
            # pip --target moved the data scheme (../../bin/x) into site itself (bin/x).
            inner = recorded.removeprefix(_DATA_PREFIX)
            path = (site / inner).resolve()
            if path.is_relative_to(site.resolve()) and path.is_file():
                path.unlink()
        for leftover in sorted(dist_info.rglob("*"), reverse=True):
            leftover.unlink() if leftover.is_file() else leftover.rmdir()
        dist_info.rmdir()
    for directory in sorted(site.rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def rewrite_shebangs(scripts: Path, interpreter: str) -> None:
    """Point scripts at the image's interpreter instead of the host's: ``#!/host/python``,
    and the ``/bin/sh`` form pip writes when the host's path is too long for a shebang."""
    for script in sorted(scripts.iterdir()):
        if not script.is_file() or script.is_symlink():
            continue
        data = script.read_bytes()
        shebang = f"#!{interpreter}\n".encode()
        if SH_LAUNCHER.match(data):
            script.write_bytes(SH_LAUNCHER.sub(shebang, data, count=1))
        elif PYTHON_SHEBANG.match(data):
            script.write_bytes(PYTHON_SHEBANG.sub(shebang, data, count=1))
