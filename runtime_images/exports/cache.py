"""Inspected facts kept on disk by digest, so an export of many images reads no registry.

An image's contents never change under its digest, so a cached entry never goes stale;
one small JSON file per (digest, platform), written atomically. Reads are bounded
(``max_bytes``) and checked: a file that is too large or not a facts document is ignored
(the image is inspected again and the file rewritten), never trusted.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .. import documents
from ..fileio import atomic_write_bytes
from .facts import ImageFacts

__all__ = ["FactsCache"]

_DIGEST_RE = re.compile(r"^(sha256|sha512):([0-9a-f]{64,128})$")
_PLATFORM_SAFE = re.compile(r"[^a-z0-9._-]+")


class FactsCache:
    """A directory of ``<algorithm>-<hex>--<os>-<arch>[-<variant>].json`` files."""

    def __init__(self, directory: str | Path, max_bytes: int = 4 << 20) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._memory: dict[Path, tuple[tuple[int, int], ImageFacts]] = {}

    def path(self, digest: str, platform: str) -> Path | None:
        """The file of an entry; None for a digest that cannot name a file safely."""
        match = _DIGEST_RE.match(digest)
        if match is None:
            return None
        where = _PLATFORM_SAFE.sub("-", platform.lower().replace("/", "-"))
        return self.directory / f"{match.group(1)}-{match.group(2)}--{where}.json"

    def get(self, digest: str, platform: str) -> ImageFacts | None:
        path = self.path(digest, platform)
        if path is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        remembered = self._memory.get(path)
        if remembered is not None and remembered[0] == stamp:
            return remembered[1]
        if st.st_size > self.max_bytes:
            return None
        try:
            with path.open("rb") as handle:
                raw = handle.read(self.max_bytes + 1)
            if len(raw) > self.max_bytes:
                return None
            facts = ImageFacts.from_json(documents.loads_json(raw, str(path)))
        except (OSError, ValueError, TypeError):  # InvalidDocument is a ValueError: a miss
            return None
        if (facts.digest, facts.platform) != (digest, platform):
            return None
        self._memory[path] = (stamp, facts)
        return facts

    def get_many(self, keys: list[tuple[str, str]]) -> list[ImageFacts | None]:
        """:meth:`get` for many (digest, platform) keys, in one call (one thread hop)."""
        return [self.get(digest, platform) for digest, platform in keys]

    def put(self, facts: ImageFacts) -> None:
        path = self.path(facts.digest, facts.platform)
        if path is None:
            return
        data = json.dumps(facts.to_json(), ensure_ascii=False, separators=(",", ":"))
        if len(data) > self.max_bytes:
            return  # larger than any real image's facts: not worth a file
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        atomic_write_bytes(path, data.encode("utf-8"))
        st = path.stat()
        self._memory[path] = ((st.st_mtime_ns, st.st_size), facts)
