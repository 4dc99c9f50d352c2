"""Persistence of CustomNBImage resources and their logs (one JSON file and one log each).

The directory plays the part of the Kubernetes API server for the embedded engine: the
server's controller, the CLI and a second server all read and write it, with the same
atomic writes and inter-process lock as the runtime image store, so a build survives a
server restart and the CLI can submit one while no server runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import documents
from ..errors import AlreadyExistsError, NotFoundError
from ..fileio import atomic_write_bytes, file_lock, remove_abandoned
from ..naming import is_safe_file_name

LOCK_FILE_NAME = ".builds.lock"
MAX_LOG_BYTES = 4 * 1024 * 1024
MAX_RESOURCE_BYTES = 4 * 1024 * 1024


def default_directory() -> str:
    """``<jupyter_data_dir()>/runtime-images/builds``, unless configured otherwise."""
    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "runtime-images", "builds")


class BuildStore:
    """CustomNBImage resources in ``directory``/<name>.json, logs in <name>.log."""

    def __init__(
        self,
        directory: Path,
        lock_timeout: float = 30.0,
        max_resource_bytes: int = MAX_RESOURCE_BYTES,
    ) -> None:
        self.directory = directory
        self.lock_timeout = lock_timeout
        self.max_resource_bytes = max_resource_bytes

    def _path(self, name: str, suffix: str = ".json") -> Path:
        if not is_safe_file_name(name):
            raise NotFoundError(f"No build named {name!r}.")
        return self.directory / f"{name}{suffix}"

    def lock(self) -> Any:
        return file_lock(self.directory / LOCK_FILE_NAME, timeout=self.lock_timeout)

    def list(self) -> list[dict[str, Any]]:
        """Every readable resource, oldest first."""
        resources = []
        try:
            paths = sorted(self.directory.glob("*.json"))
        except OSError:
            return []
        for path in paths:
            try:
                resources.append(self._read(path))
            except (OSError, ValueError):
                continue  # removed meanwhile, or not ours
        resources.sort(
            key=lambda r: (str(r["metadata"].get("creationTimestamp", "")), r["metadata"]["name"])
        )
        return resources

    def stamps(self) -> dict[str, tuple[int, int]]:
        """(mtime_ns, size) of every resource file: a cheap way to notice outside changes."""
        result: dict[str, tuple[int, int]] = {}
        try:
            with os.scandir(self.directory) as scan:
                for entry in scan:
                    if entry.name.endswith(".json") and not entry.name.startswith("."):
                        st = entry.stat()
                        result[entry.name[:-5]] = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            pass
        return result

    def stamp(self, name: str) -> tuple[int, int] | None:
        """(mtime_ns, size) of one resource file, None when there is none."""
        try:
            st = self._path(name).stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def get(self, name: str) -> dict[str, Any]:
        try:
            return self._read(self._path(name))
        except (FileNotFoundError, ValueError):
            raise NotFoundError(f"No build named {name!r}.") from None

    def _read(self, path: Path) -> dict[str, Any]:
        """A resource file, strictly (ValueError when it is not one of ours)."""
        if path.stat().st_size > self.max_resource_bytes:
            raise ValueError(f"{path} is larger than {self.max_resource_bytes} bytes")
        resource = documents.loads_json(path.read_bytes(), str(path))
        if not _named_resource(resource):
            raise ValueError(f"{path} is not a CustomNBImage resource")
        return dict(resource)

    def create(self, resource: dict[str, Any]) -> None:
        name = resource["metadata"]["name"]
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.lock():
            if self._path(name).exists():
                raise AlreadyExistsError(
                    f"A build named {name!r} already exists; delete it or choose another name."
                )
            self.save(resource)
            self._path(name, ".log").unlink(missing_ok=True)

    def save(self, resource: dict[str, Any]) -> None:
        """Write a resource atomically; too large a one is refused before anything is written
        (PayloadTooLargeError)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = (documents.dumps(resource, indent=2) + "\n").encode("utf-8")
        documents.check_size(
            data,
            self.max_resource_bytes,
            "The CustomNBImage resource",
            "BuildController.max_resource_bytes",
        )
        atomic_write_bytes(self._path(resource["metadata"]["name"]), data)

    def remove_abandoned_files(self) -> int:
        """Temporary files of writes that a crash interrupted."""
        try:
            leftovers = list(self.directory.glob(".*.json.*.tmp"))
        except OSError:
            return 0
        return remove_abandoned(leftovers)

    def delete(self, name: str) -> None:
        with self.lock():
            path = self._path(name)
            if not path.exists():
                raise NotFoundError(f"No build named {name!r}.")
            path.unlink()
            self._path(name, ".log").unlink(missing_ok=True)

    def append_log(self, name: str, line: str) -> None:
        path = self._path(name, ".log")
        try:
            if path.stat().st_size > MAX_LOG_BYTES:
                return
        except FileNotFoundError:
            pass
        with open(path, "a", encoding="utf-8") as log:
            log.write(line.rstrip("\n") + "\n")

    def read_log(self, name: str) -> str:
        self.get(name)  # 404 for unknown builds
        try:
            return self._path(name, ".log").read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""


def _named_resource(value: Any) -> bool:
    metadata = value.get("metadata") if isinstance(value, dict) else None
    return isinstance(metadata, dict) and isinstance(metadata.get("name"), str)
