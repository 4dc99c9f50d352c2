"""GitRepository builds: clone a repository and detect its Python environment.

Detection follows repo2docker's Python path: a ``binder/`` or ``.binder/`` directory, when
present, is the only place looked at; then ``requirements.txt``, ``Pipfile.lock`` /
``Pipfile``, and ``pyproject.toml`` / ``setup.py`` (the project itself is installed);
``runtime.txt`` with ``python-x.y`` picks the base image. Files that need more than
appending wheels (``environment.yml``, ``apt.txt``, ``Dockerfile``, ``postBuild``) fail
with a reason naming the file.
"""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNSUPPORTED = ("Dockerfile", "environment.yml", "environment.yaml", "apt.txt", "postBuild")


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
        return {
            "files": self.files,
            "requirements": self.requirements,
            "pythonVersion": self.python_version,
            "installProject": self.install_project,
        }

    def summary(self) -> str:
        parts = [", ".join(self.files) or "no environment files"]
        if self.python_version:
            parts.append(f"Python {self.python_version}")
        parts.append(f"{len(self.requirements)} requirement(s)")
        return "; ".join(parts)


async def _git(*args: str, cwd: Path | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    output, _ = await process.communicate()
    text = output.decode("utf-8", errors="replace").strip()
    if process.returncode != 0:
        raise RepositoryError(f"git {args[0]} failed: {text[-500:]}")
    return text


async def clone(url: str, ref: str | None, target: Path, log: Callable[[str], None]) -> str:
    """Clone ``url`` at ``ref`` (branch, tag or commit) into ``target``; return the commit."""
    log(f"Cloning {url}" + (f" at {ref}" if ref else ""))
    if ref and re.fullmatch(r"[0-9a-f]{7,40}", ref):
        # A commit: fetch just it where the server allows, else everything.
        await _git("init", "-q", str(target))
        await _git("remote", "add", "origin", url, cwd=target)
        try:
            await _git("fetch", "-q", "--depth", "1", "origin", ref, cwd=target)
        except RepositoryError:
            await _git("fetch", "-q", "origin", cwd=target)
        await _git("checkout", "-q", ref, cwd=target)
    else:
        branch = ["--branch", ref] if ref else []
        await _git("clone", "-q", "--depth", "1", *branch, url, str(target))
    commit = await _git("rev-parse", "HEAD", cwd=target)
    log(f"Cloned commit {commit}")
    return commit


def environment_root(repository: Path) -> tuple[Path, str]:
    """Where the environment files are: ``binder/`` or ``.binder/`` when present (and its
    prefix, e.g. ``"binder/"``), else the repository's root (prefix ``""``)."""
    binders = [d for d in ("binder", ".binder") if (repository / d).is_dir()]
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
        match = re.fullmatch(r"python-(\d+\.\d+)(?:\.\d+)?", runtime.read_text().strip())
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
        found.requirements += _requirements_lines(requirements)
    elif (root / "Pipfile.lock").exists():
        found.files.append(f"{prefix}Pipfile.lock")
        found.requirements += _pipfile_lock(root / "Pipfile.lock")
    elif (root / "Pipfile").exists():
        found.files.append(f"{prefix}Pipfile")
        found.requirements += _pipfile(root / "Pipfile")
    project = next((n for n in ("pyproject.toml", "setup.py") if _installable(repository, n)), None)
    if project and not binders:
        found.files.append(project)
        found.install_project = True
    return found


def _requirements_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text("utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r", "-c", "--", "-e", "git+", "http:", "https:", ".", "/")):
            raise RepositoryError(
                f"requirements.txt line {line!r} is not supported (only package specifiers)."
            )
        lines.append(line)
    return lines


def _read(path: Path, parse: Callable[[str], Any], shown: str) -> Any:
    """A JSON or TOML file of the repository, or a RepositoryError naming it."""
    try:
        return parse(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:  # JSON and TOML errors are ValueErrors
        raise RepositoryError(f"{shown} cannot be read: {error}") from None


def _pipfile_lock(path: Path) -> list[str]:
    data = _read(path, json.loads, "Pipfile.lock")
    lines = []
    for name, entry in sorted((data.get("default") or {}).items()):
        version = entry.get("version", "") if isinstance(entry, dict) else ""
        lines.append(f"{name}{version}")
    return lines


def _pipfile(path: Path) -> list[str]:
    data = _read(path, tomllib.loads, "Pipfile")
    lines = []
    for name, spec in sorted((data.get("packages") or {}).items()):
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
    if project == "setup.py":
        return True
    data = _read(path, tomllib.loads, project)
    return "project" in data and "build-system" in data
