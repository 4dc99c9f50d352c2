"""Content-addressed cache of inspection documents, on disk.

An image manifest's digest names its layers and config, so what an inspection finds in it
never changes: the document is kept under ``<manifest digest>-<platform>.json`` and the
same digest is never read twice. Files are written atomically; the least recently used
go first when the directory is over its byte budget. The directory is the user's, so a
file that does not read back as a document of this version is a miss, never an error.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .. import documents
from ..fileio import atomic_write_bytes

__all__ = ["CACHE_VERSION", "ContentsCache"]

CACHE_VERSION = 2  # 2: accelerators filled (issue 19)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class ContentsCache:
    """Inspection documents by (manifest digest, platform)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def path(self, digest: str, platform: str) -> Path:
        name = f"{_UNSAFE.sub('-', digest)}-{_UNSAFE.sub('-', platform)}.json"
        return self.directory / name

    def get(self, digest: str, platform: str) -> dict[str, Any] | None:
        """The document kept for this digest and platform, or None (blocking)."""
        path = self.path(digest, platform)
        try:
            if path.stat().st_size > self.max_bytes:
                return None
            # This product's own file: the C parser, refusing NaN/Infinity (which could not
            # be served as JSON); too deep a file is a RecursionError, a miss like the rest.
            data = json.loads(path.read_bytes(), parse_constant=_refuse_constant)
            os.utime(path)  # recently used: evicted last
        except (OSError, ValueError, RecursionError):
            return None
        if (
            not isinstance(data, dict)
            or data.get("cache_version") != CACHE_VERSION
            or data.get("image", {}).get("digest") != digest
        ):
            return None
        del data["cache_version"]
        return data

    def put(self, digest: str, platform: str, document: dict[str, Any]) -> None:
        """Keep a document (blocking); then evict the least recently used over budget."""
        data = documents.dumps({**document, "cache_version": CACHE_VERSION}).encode()
        if len(data) > self.max_bytes:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path(digest, platform), data, mode=0o600)
        self._evict()

    def _evict(self) -> None:
        files = []
        for entry in os.scandir(self.directory):
            if entry.name.endswith(".json") and entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                files.append((stat.st_mtime, stat.st_size, entry.path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size
