"""Accelerator stacks an image carries, found statically in its merged filesystem.

CUDA, cuDNN, NCCL (NVIDIA), ROCm/HIP (AMD) and Intel Gaudi (Habana) are recognised by
the files their installers and wheels put in place: version files
(``/usr/local/cuda*/version.json`` or ``version.txt``, ``/opt/rocm*/.info/version``)
and runtime libraries by soname (``libcudart.so.12``, ``libcudnn.so.9``,
``libnccl.so.2``, ``libamdhip64.so.6``, ``libSynapse.so``, ``libhl-thunk.so``), wherever
they are (``/usr/lib``, ``/usr/local/cuda/lib64``, a wheel's ``site-packages/nvidia/…``).
The version is the most precise one found: a version file, else a soname's full version,
else its major. Each hint names the file that is its evidence. Nothing is run; version
files are read from the few kept bytes (:func:`~.filesystem.wanted_bytes`), parsed with
bounds, and ignored when malformed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..documents import InvalidDocument, loads_json
from .filesystem import FileSystem

__all__ = ["Accelerator", "detect_accelerators"]

_SONAMES: dict[str, re.Pattern[str]] = {
    "CUDA": re.compile(r"^libcudart\.so\.(\d+(?:\.\d+){0,3})$"),
    "cuDNN": re.compile(r"^libcudnn\.so\.(\d+(?:\.\d+){0,3})$"),
    "NCCL": re.compile(r"^libnccl\.so\.(\d+(?:\.\d+){0,3})$"),
    "ROCm": re.compile(r"^libamdhip64\.so\.(\d+(?:\.\d+){0,3})$"),
    "Intel Gaudi": re.compile(r"^lib(?:Synapse|hl-thunk)\.so(?:\.(\d+(?:\.\d+){0,3}))?$"),
}
_ORDER = ("CUDA", "cuDNN", "NCCL", "ROCm", "Intel Gaudi")
_VERSION = re.compile(r"\d+(?:\.\d+){0,3}(?:-\d+)?")
_CUDA_TXT = re.compile(r"CUDA Version (\d+(?:\.\d+){0,3})")


@dataclass(frozen=True)
class Accelerator:
    """``name`` (CUDA, cuDNN, NCCL, ROCm, Intel Gaudi), ``version`` ("" when unknown)
    and ``evidence``: the path of the file that says so."""

    name: str
    version: str
    evidence: str


def _precision(version: str) -> int:
    return version.count(".") + 1 if version else 0


def _cuda_version_file(path: str, data: bytes) -> str | None:
    text = data.decode("utf-8", "replace")
    if path.endswith(".json"):
        try:
            document = loads_json(text, path)  # bounded depth: json.loads recurses
        except InvalidDocument:
            return None
        cuda = document.get("cuda") if isinstance(document, dict) else None
        version = cuda.get("version") if isinstance(cuda, dict) else None
        found = _VERSION.fullmatch(version) if isinstance(version, str) else None
        return found.group() if found else None
    match = _CUDA_TXT.search(text)
    return match.group(1) if match else None


def _version_files(fs: FileSystem) -> Iterable[tuple[str, str, str]]:
    """(name, version, path) from the version files present."""
    for directory, names in (("/usr/local", ("version.json", "version.txt")), ("/opt", ())):
        for entry in sorted(fs.listdir(directory)):
            if directory == "/usr/local" and entry.startswith("cuda"):
                for name in names:
                    path = f"{directory}/{entry}/{name}"
                    data = fs.read(path)
                    version = _cuda_version_file(path, data) if data else None
                    if version:
                        yield "CUDA", version, fs.realpath(path) or path
            elif directory == "/opt" and entry.startswith("rocm"):
                path = f"/opt/{entry}/.info/version"
                data = fs.read(path)
                first = data.decode("utf-8", "replace").strip().splitlines() if data else []
                found = _VERSION.match(first[0].strip()) if first else None
                if found:
                    yield "ROCm", found.group(), fs.realpath(path) or path


def detect_accelerators(fs: FileSystem) -> list[Accelerator]:
    """The accelerator stacks in ``fs``, one per name, most precise evidence first."""
    best: dict[str, Accelerator] = {}

    def offer(name: str, version: str, evidence: str) -> None:
        known = best.get(name)
        if known is None or _precision(version) > _precision(known.version):
            best[name] = Accelerator(name, version, evidence)

    for name, version, path in _version_files(fs):
        offer(name, version, path)
    libraries: list[tuple[str, str, str]] = []
    root = fs.lookup("/")
    # A walk that makes a path only for directories and matching names: images have
    # hundreds of thousands of files, and this runs on every inspection.
    todo = [("", root)] if root is not None else []
    while todo:
        prefix, directory = todo.pop()
        for base, node in (directory.children or {}).items():
            if node.children is not None:
                todo.append((f"{prefix}/{base}", node))
            elif base.startswith("lib") and ".so" in base:
                for name, pattern in _SONAMES.items():
                    match = pattern.match(base)
                    if match:
                        libraries.append((f"{prefix}/{base}", name, match.group(1) or ""))
    for path, name, version in sorted(libraries):  # ties: the first path, every time
        offer(name, version, path)
    return [best[name] for name in _ORDER if name in best]
