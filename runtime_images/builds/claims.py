"""Which process runs a build: a claim with a lease, shared through the builds directory.

Every process with a build controller on one data directory (a JupyterLab server, a
``jupyter server``, the CLI running a build itself, another user's server on a shared home)
scans the same resources; exactly one of them must run each build. Before running one, a
controller claims it: ``.claims/<name>.json`` records the owner (one id per controller),
its process id, start time and host, and when the lease expires. The owner renews the
lease while the build runs and removes the claim when it ends. A claim is taken over when
its lease expired (the owner hung, or lives on another host that went away) or, on the
same host, at once when its process is gone (SIGKILL, a crash) — the store's lock
discipline (an ``flock``-guarded read-modify-write) applied to builds.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import documents
from ..fileio import atomic_write_bytes

__all__ = ["Claim", "ClaimRegistry", "process_start"]


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), to tell it from a
    later process that reuses its id; None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()  # field 22 of stat(5), counted after "(comm)"
    except (OSError, IndexError):
        return None


@dataclass(frozen=True)
class Claim:
    owner: str
    pid: int
    started: str | None
    host: str
    expires: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Claim | None:
        try:
            return cls(
                owner=str(data["owner"]),
                pid=int(data["pid"]),
                started=None if data["started"] is None else str(data["started"]),
                host=str(data["host"]),
                expires=float(data["expires"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def alive(self, now: float) -> bool:
        """Whether the claim still holds: its lease runs, and (on this host) its process
        is the one that claimed."""
        if self.expires <= now:
            return False
        if self.host != socket.gethostname():
            return True  # nothing to check from here: the lease decides
        return process_start(self.pid) == self.started if self.started else _exists(self.pid)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ClaimRegistry:
    """Claims of one builds directory; every change is made under the builds' lock."""

    def __init__(self, directory: Path, lock: Callable[[], Any], owner: str) -> None:
        self.directory = directory / ".claims"
        self._lock = lock
        self.owner = owner
        self._pid = os.getpid()
        self._started = process_start(self._pid)
        self.host = socket.gethostname()

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def holder(self, name: str) -> Claim | None:
        """The live claim on ``name``, if any."""
        claim = self._read(name)
        return claim if claim is not None and claim.alive(time.time()) else None

    def lapsed(self, name: str) -> bool:
        """Whether nobody holds ``name`` (its claimer is gone, or its lease ran out)."""
        return self.holder(name) is None

    def claim(self, name: str, lease: float) -> tuple[bool, Claim | None]:
        """Take ``name`` for this owner unless someone else holds it. Returns whether it is
        ours now, and the lapsed claim of another owner it replaced (a takeover), if any."""
        with self._lock():
            previous = self._read(name)
            if previous is not None and previous.owner == self.owner:
                previous = None
            if previous is not None and previous.alive(time.time()):
                return False, previous
            self._write(name, lease)
            return True, previous

    def renew(self, name: str, lease: float) -> bool:
        """Extend our lease; False when the claim is no longer ours (taken over)."""
        with self._lock():
            current = self._read(name)
            if current is None or current.owner != self.owner:
                return False
            self._write(name, lease)
            return True

    def release(self, name: str) -> None:
        with self._lock():
            current = self._read(name)
            if current is not None and current.owner == self.owner:
                self._path(name).unlink(missing_ok=True)

    def forget(self, name: str) -> None:
        """Remove the claim whoever holds it (the build itself was deleted)."""
        with contextlib.suppress(OSError):
            self._path(name).unlink()

    def _read(self, name: str) -> Claim | None:
        try:
            return Claim.from_json(documents.loads_json(self._path(name).read_bytes()))
        except (OSError, ValueError):
            return None

    def _write(self, name: str, lease: float) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        claim = Claim(self.owner, self._pid, self._started, self.host, time.time() + lease)
        atomic_write_bytes(self._path(name), documents.dumps(claim.to_json()).encode())
