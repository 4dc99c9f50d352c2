"""What the watch has seen, on disk: every tag's digests with when each was first seen, the
digest an unpinned image started from, which moves were notified and acted on.

One JSON file (``state.json``) in the watch directory, changed only by read-modify-write
under the directory's inter-process lock and written atomically (:mod:`runtime_images.fileio`),
so the server, the CLI and a second server on one data directory never lose each other's
results nor notify one move twice. Readers take no lock. The file is bounded
(``MAX_DIGESTS_PER_TAG``, ``MAX_ENTRIES``) and read defensively: it is on disk for anyone to
edit, and a bad entry is dropped, not trusted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ..fileio import atomic_write_bytes, file_lock
from ..records import camel_json

__all__ = ["MAX_ENTRIES", "TagRecord", "WatchState", "now_iso"]

MAX_DIGESTS_PER_TAG = 50
MAX_ENTRIES = 100_000
MAX_STATE_BYTES = 64 * 1024 * 1024
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
T = TypeVar("T")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _digest(value: object) -> str | None:
    return value if isinstance(value, str) and _DIGEST.fullmatch(value) else None


def _text(value: object, limit: int = 2048) -> str | None:
    return value[:limit] if isinstance(value, str) else None


@dataclass
class TagRecord:
    """One tag: the digest it pointed at when last checked and every digest seen, each with
    when it was first seen (oldest first)."""

    current: str | None = None
    checked_at: str | None = None
    error: str | None = None
    first_seen: dict[str, str] = field(default_factory=dict)

    def observe(self, digest: str, at: str) -> None:
        self.current, self.checked_at, self.error = digest, at, None
        self.first_seen.setdefault(digest, at)
        while len(self.first_seen) > MAX_DIGESTS_PER_TAG:
            oldest = next(iter(self.first_seen))
            if oldest == digest:
                break
            del self.first_seen[oldest]

    def to_json(self) -> dict[str, Any]:
        return camel_json(self)

    @classmethod
    def from_json(cls, value: object) -> TagRecord | None:
        if not isinstance(value, dict):
            return None
        seen = value.get("firstSeen")
        first_seen = {
            digest: at[:64]
            for digest, at in (seen.items() if isinstance(seen, dict) else [])
            if _digest(digest) and isinstance(at, str)
        }
        return cls(
            _digest(value.get("current")),
            _text(value.get("checkedAt"), 64),
            _text(value.get("error")),
            dict(list(first_seen.items())[-MAX_DIGESTS_PER_TAG:]),
        )


@dataclass
class WatchState:
    """The whole state; :meth:`load` and :meth:`update` read and change it on disk."""

    checked_at: str | None = None
    tags: dict[str, TagRecord] = field(default_factory=dict)
    baselines: dict[str, str] = field(default_factory=dict)
    """Subject key -> the digest an unpinned reference pointed at when first seen."""
    notified: dict[str, str] = field(default_factory=dict)
    """Subject key -> the digest whose move was last announced (one event per move)."""
    acted: dict[str, str] = field(default_factory=dict)
    """Subject key -> the base digest a rebuild was last started for."""
    summaries: dict[str, Any] = field(default_factory=dict)
    """``pinned..current`` -> the change summary between them (or None: none available)."""

    # -- on disk ---------------------------------------------------------------------------

    @staticmethod
    def path(directory: Path) -> Path:
        return directory / "state.json"

    @classmethod
    def load(cls, directory: Path) -> WatchState:
        """The state on disk; an empty one when there is none or it cannot be read."""
        path = cls.path(directory)
        try:
            if path.stat().st_size > MAX_STATE_BYTES:
                return cls()
            value = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return cls()
        return cls.from_json(value)

    @classmethod
    @contextmanager
    def locked(cls, directory: Path) -> Iterator[WatchState]:
        """The state for a read-modify-write: read under the lock, written when the block
        ends without an error."""
        directory.mkdir(parents=True, exist_ok=True)
        with file_lock(directory / ".watch.lock"):
            state = cls.load(directory)
            yield state
            data = json.dumps(state.to_json(), ensure_ascii=False, separators=(",", ":"))
            atomic_write_bytes(cls.path(directory), data.encode("utf-8"))

    @classmethod
    def update(cls, directory: Path, change: Callable[[WatchState], T]) -> T:
        with cls.locked(directory) as state:
            return change(state)

    # -- JSON ------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "checkedAt": self.checked_at,
            "tags": {ref: record.to_json() for ref, record in self.tags.items()},
            "baselines": self.baselines,
            "notified": self.notified,
            "acted": self.acted,
            "summaries": self.summaries,
        }

    @classmethod
    def from_json(cls, value: object) -> WatchState:
        if not isinstance(value, dict):
            return cls()
        state = cls(_text(value.get("checkedAt"), 64))
        tags = value.get("tags")
        for ref, record in list(tags.items() if isinstance(tags, dict) else [])[:MAX_ENTRIES]:
            parsed = TagRecord.from_json(record)
            if isinstance(ref, str) and parsed is not None:
                state.tags[ref[:2048]] = parsed
        for name in ("baselines", "notified", "acted"):
            mapping = value.get(name)
            items = list(mapping.items() if isinstance(mapping, dict) else [])[:MAX_ENTRIES]
            setattr(
                state,
                name,
                {k[:2048]: d for k, d in items if isinstance(k, str) and _digest(d)},
            )
        summaries = value.get("summaries")
        if isinstance(summaries, dict):
            state.summaries = {
                k: v
                for k, v in list(summaries.items())[-MAX_ENTRIES:]
                if isinstance(k, str) and (v is None or isinstance(v, dict))
            }
        return state
