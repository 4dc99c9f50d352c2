"""Persistence of CustomNBImage resources and their logs (one JSON file and one log each).

The directory plays the part of the Kubernetes API server for the embedded engine: the
server's controller, the CLI and a second server all read and write it, with the same
atomic writes and inter-process lock as the runtime image store, so a build survives a
server restart and the CLI can submit one while no server runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import AlreadyExistsError, NotFoundError
from ..fileio import atomic_write_bytes, file_lock
from ..naming import is_safe_file_name

LOCK_FILE_NAME = ".builds.lock"
MAX_LOG_BYTES = 4 * 1024 * 1024


class BuildStore:
    """CustomNBImage resources in ``directory``/<name>.json, logs in <name>.log."""

    def __init__(self, directory: Path, lock_timeout: float = 30.0) -> None:
        self.directory = directory
        self.lock_timeout = lock_timeout

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
                resources.append(json.loads(path.read_text("utf-8")))
            except (OSError, ValueError):
                continue  # removed meanwhile, or not ours
        resources.sort(
            key=lambda r: (r["metadata"].get("creationTimestamp", ""), r["metadata"]["name"])
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

    def get(self, name: str) -> dict[str, Any]:
        try:
            resource: dict[str, Any] = json.loads(self._path(name).read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            raise NotFoundError(f"No build named {name!r}.") from None
        return resource

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
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
        atomic_write_bytes(self._path(resource["metadata"]["name"]), data.encode("utf-8"))

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
