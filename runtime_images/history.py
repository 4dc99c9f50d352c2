"""Which digests each runtime image pointed at, when and why: a small append-only record.

One JSON line per change in ``<data dir>/runtime-images/history/<name>.jsonl``, appended
under the data directory's inter-process lock with ``O_APPEND`` and fsync, so the server,
the CLI and a second server never interleave or lose a line. Whoever moves an image says
why: ``created`` (the store), ``pinned`` (pin), ``repinned`` (the watch), ``rebuilt`` (a
build that updated it) and ``published`` (publishing), through :func:`record`.

Reading is bounded (the last ``MAX_READ_BYTES`` of the file, at most ``MAX_ENTRIES``
entries) and skips lines that are not entries, since the file is on disk for anyone to
edit.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .fileio import file_lock
from .naming import is_safe_file_name

__all__ = ["MAX_ENTRIES", "REASONS", "history_dir", "read", "record"]

REASONS = ("created", "pinned", "repinned", "rebuilt", "published")
MAX_ENTRIES = 1000
MAX_READ_BYTES = 1024 * 1024
MAX_REFERENCE_CHARS = 1024
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_LOCK = ".history.lock"


def history_dir(data_dir: str | Path) -> Path:
    """Where the histories of the runtime images of ``data_dir`` (the store's) live."""
    return Path(data_dir) / "runtime-images" / "history"


def _digest_of(reference: str) -> str | None:
    _, _, digest = reference.partition("@")
    return digest if _DIGEST.fullmatch(digest) else None


def record(
    data_dir: str | Path, name: str, reference: str, reason: str, at: datetime | None = None
) -> dict[str, Any]:
    """Append that runtime image ``name`` now points at ``reference`` because of ``reason``.

    The publish code calls it with ``reason="published"``. Returns the entry written.
    """
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
    if not is_safe_file_name(name):
        raise ValueError(f"{name!r} is not a runtime image name")
    entry = {
        "digest": _digest_of(reference),
        "reference": reference[:MAX_REFERENCE_CHARS],
        "at": (at or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "reason": reason,
    }
    directory = history_dir(data_dir)
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    with file_lock(directory / _LOCK):
        fd = os.open(directory / f"{name}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return entry


def read(data_dir: str | Path, name: str) -> list[dict[str, Any]]:
    """The history of ``name``, oldest first (the last MAX_ENTRIES); [] when it has none."""
    if not is_safe_file_name(name):
        return []
    path = history_dir(data_dir) / f"{name}.jsonl"
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            start = max(0, size - MAX_READ_BYTES)
            handle.seek(start)
            data = handle.read(MAX_READ_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        return []
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first line was cut by the bound
    entries = [entry for entry in map(_entry, lines) if entry is not None]
    return entries[-MAX_ENTRIES:]


def _entry(line: bytes) -> dict[str, Any] | None:
    """A line as an entry, or None when it is not one (edited, truncated, hostile)."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    reference, at, reason = value.get("reference"), value.get("at"), value.get("reason")
    if not (isinstance(reference, str) and isinstance(at, str) and reason in REASONS):
        return None
    digest = value.get("digest")
    return {
        "digest": digest if isinstance(digest, str) and _DIGEST.fullmatch(digest) else None,
        "reference": reference[:MAX_REFERENCE_CHARS],
        "at": at[:64],
        "reason": reason,
    }
