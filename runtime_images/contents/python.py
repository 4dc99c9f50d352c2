"""Python distributions per environment: every ``site-packages``/``dist-packages`` directory
still in the merged tree, the prefix (environment) it belongs to, and its distributions.

An environment is the prefix of its site directory (``<prefix>/lib/pythonX.Y/site-packages``,
Debian's ``<prefix>/lib/python3/dist-packages``): a ``venv`` when the prefix has
``pyvenv.cfg``, ``conda`` when it has ``conda-meta/``, else ``python`` (``/usr``,
``/usr/local``, ``~/.local``). What is listed is what ``pip list --path <site dir>`` lists:
``*.dist-info`` and ``*.egg-info`` (directories or files), named by their metadata.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from ..inspect.filesystem import FileSystem
from ..inspect.report import canonical_name
from .model import Environment

__all__ = ["Distribution", "environment_for", "site_distributions"]

_SITE_RE = re.compile(r"^(.*?)/lib(?:64)?/python(\d+(?:\.\d+)?)/(?:site|dist)-packages$")
_VERSION_DIR_RE = re.compile(r"^python([0-9]{1,4})\.([0-9]{1,4})$")
_CLASSIFIER_PREFIX = "classifier: license ::"


class Distribution:
    """One distribution found in a site directory."""

    __slots__ = ("layer", "licenses", "metadata_path", "name", "version")

    def __init__(
        self, name: str, version: str, licenses: tuple[str, ...], layer: int, metadata_path: str
    ) -> None:
        self.name, self.version, self.licenses = name, version, licenses
        self.layer, self.metadata_path = layer, metadata_path


def environment_for(fs: FileSystem, site_dir: str) -> Environment:
    """The environment a site directory (absolute path) belongs to."""
    match = _SITE_RE.match(site_dir)
    if match:
        prefix = match.group(1) or "/"
        python: str | None = match.group(2)
        if python is not None and "." not in python:
            python = _highest_python(fs, prefix)
    else:
        prefix, python = posixpath.dirname(site_dir) or "/", None
    pyvenv = fs.lookup(posixpath.join(prefix, "pyvenv.cfg"))
    conda_meta = fs.lookup(posixpath.join(prefix, "conda-meta"))
    if pyvenv is not None and pyvenv.kind == "file":
        kind = "venv"
    elif conda_meta is not None and conda_meta.is_dir:
        kind = "conda"
    else:
        kind = "python"
    return Environment(prefix, kind, python)


def _highest_python(fs: FileSystem, prefix: str) -> str | None:
    found = sorted(
        (int(m.group(1)), int(m.group(2)))
        for name in fs.listdir(posixpath.join(prefix, "lib"))
        if (m := _VERSION_DIR_RE.match(name))
    )
    return f"{found[-1][0]}.{found[-1][1]}" if found else None


def _headers(content: bytes | None) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    classifiers: list[str] = []
    for raw in (content or b"").decode("utf-8", "replace").splitlines():
        if not raw.strip():
            break
        key, sep, value = raw.partition(":")
        lowered = raw.lower()
        if lowered.startswith(_CLASSIFIER_PREFIX):
            classifiers.append(raw.rpartition("::")[2].strip())
        elif sep and key.lower() not in headers:
            headers[key.lower()] = value.strip()
    return headers, classifiers


def _licenses(headers: dict[str, str], classifiers: list[str]) -> tuple[str, ...]:
    """PEP 639's ``License-Expression``, else a short ``License`` field, else the licence
    classifiers (nothing is guessed from a long licence text)."""
    expression = headers.get("license-expression", "")
    if expression:
        return (expression,)
    licence = headers.get("license", "")
    if licence and len(licence) <= 100 and licence.upper() not in ("UNKNOWN", "NONE"):
        return (licence,)
    return tuple(dict.fromkeys(c for c in classifiers if c))


def site_distributions(fs: FileSystem, site_dir: str) -> list[Distribution]:
    """The distributions of one site directory, by canonical name (one per name)."""
    found: dict[str, Distribution] = {}
    for entry, node in sorted(fs.listdir(site_dir).items()):
        if not entry.endswith((".dist-info", ".egg-info")):
            continue
        stem = entry.rsplit(".", 1)[0]
        file_name, _, file_version = stem.partition("-")
        path = posixpath.join(site_dir, entry)
        if node.children is not None:
            meta = node.children.get("METADATA") or node.children.get("PKG-INFO")
            content, layer = (meta.content, meta.layer) if meta is not None else (None, node.layer)
            metadata_path = posixpath.join(
                path,
                "METADATA"
                if entry.endswith("-info") and "METADATA" in node.children
                else "PKG-INFO",
            )
        elif node.kind == "file":
            content, layer, metadata_path = None, node.layer, path
        else:
            continue
        headers, classifiers = _headers(content)
        name = headers.get("name") or file_name
        version = headers.get("version") or file_version.split("-")[0]
        if not name:
            continue
        key = canonical_name(name)
        if key not in found:
            found[key] = Distribution(
                name, version, _licenses(headers, classifiers), layer, metadata_path
            )
    return list(found.values())


def live_site_dirs(fs: FileSystem, candidates: Iterable[str]) -> list[str]:
    """The site directories (relative paths seen in layers) that are still directories,
    as canonical absolute paths, each once."""
    live: dict[str, None] = {}
    for candidate in sorted(candidates):
        real = fs.realpath(candidate)
        node = fs.lookup(candidate)
        if real is not None and node is not None and node.is_dir:
            live[real] = None
    return list(live)
