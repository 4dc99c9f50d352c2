"""GitRepository builds: clone a repository and detect its Python environment.

Detection follows repo2docker's Python path: a ``binder/`` or ``.binder/`` directory, when
present, is the only place looked at; then ``requirements.txt``, ``Pipfile.lock`` /
``Pipfile``, and ``pyproject.toml`` / ``setup.py`` (the project itself is installed);
``runtime.txt`` with ``python-x.y`` picks the base image. Files that need more than
appending wheels (``environment.yml``, ``apt.txt``, ``Dockerfile``, ``postBuild``) fail
with a reason naming the file.

A repository is hostile input: the clone has a deadline and a size limit, and the
environment files are read only when they are regular files inside the repository (a
symbolic link to a host file is never followed) and small.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..documents import loads_json
from ..records import camel_json
from . import model
from .engine import BuildContext, BuildFailure

UNSUPPORTED = ("Dockerfile", "environment.yml", "environment.yaml", "apt.txt", "postBuild")
MAX_ENVIRONMENT_FILE_BYTES = 1 << 20


class RepositoryError(Exception):
    """The repository cannot be cloned or its environment cannot be built here."""


@dataclass
class DetectedEnvironment:
    """What the repository asks for, and which files said so."""

    files: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    python_version: str | None = None
    install_project: bool = False

    def to_json(self) -> dict[str, Any]:
        return camel_json(self)

    def summary(self) -> str:
        parts = [", ".join(self.files) or "no environment files"]
        if self.python_version:
            parts.append(f"Python {self.python_version}")
        parts.append(f"{len(self.requirements)} requirement(s)")
        return "; ".join(parts)


@dataclass(frozen=True)
class CloneLimits:
    """A clone's budget: ``timeout`` seconds for all of it, ``max_bytes`` on disk."""

    timeout: float = 300.0
    max_bytes: int = 1 << 30


async def _git(*args: str, cwd: Path | None = None, watch: _Watch | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"},
        # Its own process group: git's remote helpers (git-remote-http) are ended with it.
        start_new_session=True,
    )
    try:
        if watch is None:
            output, _ = await process.communicate()
        else:
            output = await watch.run(process)
    finally:
        if process.returncode is None:  # cancelled, or over a budget
            _kill_group(process)
            await process.wait()
    text = output.decode("utf-8", errors="replace").strip()
    if process.returncode != 0:
        raise RepositoryError(f"git {args[0]} failed: {text[-500:]}")
    return text


class _Watch:
    """Ends a git command that outlives the clone's deadline or outgrows its size limit."""

    def __init__(self, target: Path, limits: CloneLimits) -> None:
        self.target, self.limits = target, limits
        self.deadline = asyncio.get_running_loop().time() + limits.timeout

    async def run(self, process: asyncio.subprocess.Process) -> bytes:
        reading = asyncio.ensure_future(process.communicate())
        try:
            while True:
                remaining = self.deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise RepositoryError(
                        f"cloning took longer than {self.limits.timeout:g} s "
                        "(ImageBuilder.clone_timeout)"
                    )
                done, _ = await asyncio.wait({reading}, timeout=min(remaining, 1.0))
                await self.check_size()
                if done:
                    return reading.result()[0]
        finally:
            if not reading.done():
                _kill_group(process)
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading

    async def check_size(self) -> None:
        size = await asyncio.to_thread(_disk_usage, self.target)
        if size > self.limits.max_bytes:
            raise RepositoryError(
                f"the repository is larger than {self.limits.max_bytes} bytes "
                "(ImageBuilder.max_repository_bytes)"
            )


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _disk_usage(directory: Path) -> int:
    total = 0
    for root, _, names in os.walk(directory):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


async def clone(
    url: str,
    ref: str | None,
    target: Path,
    log: Callable[[str], None],
    limits: CloneLimits | None = None,
) -> str:
    """Clone ``url`` at ``ref`` (branch, tag or commit) into ``target``; return the commit."""
    log(f"Cloning {url}" + (f" at {ref}" if ref else ""))
    if ref and ref.startswith("-"):
        raise RepositoryError(f"gitRef {ref!r} is not a branch, tag or commit")
    target.mkdir(parents=True, exist_ok=True)
    watch = _Watch(target, limits or CloneLimits())
    if ref and re.fullmatch(r"[0-9a-f]{7,40}", ref):
        # A commit: fetch just it where the server allows, else everything.
        await _git("init", "-q", str(target))
        await _git("remote", "add", "origin", "--", url, cwd=target)
        try:
            await _git("fetch", "-q", "--depth", "1", "origin", ref, cwd=target, watch=watch)
        except RepositoryError as error:
            if "ImageBuilder." in str(error):
                raise
            await _git("fetch", "-q", "origin", cwd=target, watch=watch)
        await _git("checkout", "-q", ref, cwd=target)
    else:
        branch = ["--branch", ref] if ref else []
        await _git("clone", "-q", "--depth", "1", *branch, "--", url, str(target), watch=watch)
    commit = await _git("rev-parse", "HEAD", cwd=target)
    log(f"Cloned commit {commit}")
    return commit


async def clone_for(build: BuildContext, directory: Path, limits: CloneLimits) -> str:
    """Clone a GitRepository build's ``repositoryUrl`` at its ``gitRef`` (step Building);
    the commit. A clone that fails fails the build, saying why."""
    spec = build.spec
    await build.step(model.BUILDING_STEP, f"Cloning {spec['repositoryUrl']}.")
    try:
        commit = await clone(
            spec["repositoryUrl"], spec.get("gitRef"), directory, build.log, limits
        )
    except RepositoryError as error:
        raise BuildFailure(model.BUILD_FAILED, str(error), model.BUILDING_STEP) from None
    await build.update(commit=commit)
    return commit


def environment_root(repository: Path) -> tuple[Path, str]:
    """Where the environment files are: ``binder/`` or ``.binder/`` when present (and its
    prefix, e.g. ``"binder/"``), else the repository's root (prefix ``""``)."""
    binders = [d for d in ("binder", ".binder") if (repository / d).is_dir()]
    for binder in binders:
        inside(repository, repository / binder, binder)
    if len(binders) > 1:
        raise RepositoryError("The repository has both binder/ and .binder/; keep one.")
    if binders:
        return repository / binders[0], f"{binders[0]}/"
    return repository, ""


def detect(repository: Path, allow: tuple[str, ...] = ()) -> DetectedEnvironment:
    """Detect the environment like repo2docker's Python buildpack (see module docstring).

    Files of :data:`UNSUPPORTED` named in ``allow`` are listed in ``files`` (for an engine
    that can build them) instead of failing.
    """
    root, prefix = environment_root(repository)
    binders = [prefix.rstrip("/")] if prefix else []
    found = DetectedEnvironment()
    for name in UNSUPPORTED:
        if name in allow:
            if (root / name).exists():
                found.files.append(f"{prefix}{name}")
            continue
        if (root / name).exists():
            raise RepositoryError(
                f"{prefix}{name} needs more than adding Python wheels (OS packages, conda or "
                "commands run at build time); the embedded engine cannot build it."
            )
    runtime = root / "runtime.txt"
    if runtime.exists():
        text = read_environment_file(repository, runtime, f"{prefix}runtime.txt")
        match = re.fullmatch(r"python-(\d+\.\d+)(?:\.\d+)?", text.strip())
        if not match:
            raise RepositoryError(
                f"{prefix}runtime.txt must read python-X.Y (e.g. python-3.11); other runtimes "
                "(R, dated snapshots) are not supported."
            )
        found.python_version = match.group(1)
        found.files.append(f"{prefix}runtime.txt")
    requirements = root / "requirements.txt"
    if requirements.exists():
        found.files.append(f"{prefix}requirements.txt")
        text = read_environment_file(repository, requirements, f"{prefix}requirements.txt")
        found.requirements += _requirements_lines(text)
    elif (root / "Pipfile.lock").exists():
        found.files.append(f"{prefix}Pipfile.lock")
        found.requirements += _pipfile_lock(repository, root / "Pipfile.lock", prefix)
    elif (root / "Pipfile").exists():
        found.files.append(f"{prefix}Pipfile")
        found.requirements += _pipfile(repository, root / "Pipfile", prefix)
    project = next((n for n in ("pyproject.toml", "setup.py") if _installable(repository, n)), None)
    if project and not binders:
        found.files.append(project)
        found.install_project = True
    return found


def inside(repository: Path, path: Path, shown: str) -> Path:
    """``path`` resolved, when it stays inside the repository (RepositoryError otherwise:
    a symbolic link to a host file must never be read)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(repository.resolve()):
        raise RepositoryError(
            f"{shown} is a symbolic link that leaves the repository; it is not read."
        )
    return resolved


def read_environment_file(repository: Path, path: Path, shown: str) -> str:
    """An environment file's text: inside the repository, a regular file, and small."""
    resolved = inside(repository, path, shown)
    if not resolved.is_file():
        raise RepositoryError(f"{shown} is not a regular file.")
    if resolved.stat().st_size > MAX_ENVIRONMENT_FILE_BYTES:
        raise RepositoryError(f"{shown} is larger than {MAX_ENVIRONMENT_FILE_BYTES} bytes.")
    try:
        return resolved.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise RepositoryError(f"{shown} is not UTF-8 text: {error.reason}") from None


def _requirements_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r", "-c", "--", "-e", "git+", "http:", "https:", ".", "/")):
            raise RepositoryError(
                f"requirements.txt line {line!r} is not supported (only package specifiers)."
            )
        lines.append(line)
    return lines


def _read(repository: Path, path: Path, parse: Callable[[str], Any], shown: str) -> Any:
    """A JSON or TOML file of the repository, or a RepositoryError naming it."""
    text = read_environment_file(repository, path, shown)
    try:
        return parse(text)
    except ValueError as error:  # JSON, TOML and strict-document errors are ValueErrors
        raise RepositoryError(f"{shown} cannot be read: {error}") from None
    except RecursionError:  # tomllib recurses into nested arrays and tables
        raise RepositoryError(f"{shown} cannot be read: it is nested too deeply") from None


def _table(data: dict[str, Any], key: str, shown: str) -> dict[str, Any]:
    """``data[key]`` when it is a table (absent: empty), or a RepositoryError naming it."""
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise RepositoryError(f"{shown}: {key!r} is not a table of packages.")
    return value


def _pipfile_lock(repository: Path, path: Path, prefix: str) -> list[str]:
    data = _read(
        repository, path, lambda text: loads_json(text, "the file"), f"{prefix}Pipfile.lock"
    )
    if not isinstance(data, dict):
        raise RepositoryError(f"{prefix}Pipfile.lock is not a JSON object.")
    lines = []
    for name, entry in sorted(_table(data, "default", f"{prefix}Pipfile.lock").items()):
        version = entry.get("version", "") if isinstance(entry, dict) else ""
        lines.append(f"{name}{version}")
    return lines


def _pipfile(repository: Path, path: Path, prefix: str) -> list[str]:
    data = _read(repository, path, tomllib.loads, f"{prefix}Pipfile")
    lines = []
    for name, spec in sorted(_table(data, "packages", f"{prefix}Pipfile").items()):
        if isinstance(spec, str):
            lines.append(name if spec == "*" else f"{name}{spec}")
        elif isinstance(spec, dict) and isinstance(spec.get("version"), str):
            lines.append(name if spec["version"] == "*" else f"{name}{spec['version']}")
        else:
            raise RepositoryError(f"Pipfile entry {name!r} is not a version specifier.")
    return lines


def _installable(repository: Path, project: str) -> bool:
    """Whether the file makes the repository an installable project (a pyproject.toml
    with only tool settings does not; a setup.py next to it still does)."""
    path = repository / project
    if not path.exists():
        return False
    inside(repository, path, project)
    if project == "setup.py":
        return True
    data = _read(repository, path, tomllib.loads, project)
    return "project" in data and "build-system" in data
