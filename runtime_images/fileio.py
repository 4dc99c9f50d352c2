"""Crash-safe file writes and an inter-process lock, shared by every on-disk store.

Writers are the Jupyter server, the CLI and possibly a second server on the same data
directory, so the lock must work across processes (``fcntl.flock`` on a lock file) and
threads (each acquisition opens its own file description). Readers never take the lock:
``os.replace`` makes every file either its old or its new complete version.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "LockTimeoutError",
    "atomic_write_bytes",
    "file_lock",
    "held_temp_dir",
    "hold",
    "remove_abandoned",
]

ABANDONED_AFTER = 60.0
"""Seconds after its last change a temporary file with no live writer counts as abandoned."""


class LockTimeoutError(TimeoutError):
    """The store's lock could not be taken in time (another writer holds it)."""


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old or the new file, never a mix.

    A temporary file in the same directory is written, flushed and fsynced, then renamed
    over the target; the directory is fsynced so the rename itself survives a power loss.
    """
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    fcntl.flock(fd, fcntl.LOCK_EX)  # tells remove_abandoned() that its writer lives
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def file_lock(lock_path: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created if needed) for the ``with`` block.

    ``flock`` locks belong to an open file description, so two threads of one process that
    open the file separately exclude each other as two processes do.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(
                        f"another writer holds {lock_path} for more than {timeout:g} s"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextlib.contextmanager
def held_temp_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary directory under ``parent``, removed at the end, that
    :func:`remove_abandoned` in any process leaves alone while this one holds it."""
    import shutil

    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def hold(handle: Any) -> None:
    """Mark an open temporary file as being written (see :func:`remove_abandoned`)."""
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def remove_abandoned(paths: list[Path], older_than: float = ABANDONED_AFTER) -> int:
    """Delete temporary files or directories left by writers that died (a crash, SIGKILL).

    Live writers hold an ``flock`` on their temporary file (a directory's lock is its
    ``.lock`` file), and one that has not changed for ``older_than`` seconds is not being
    written; both must hold before anything is removed, so a cleaner in one process never
    takes a file from under a writer in another. Returns how many were removed.
    """
    import shutil

    removed = 0
    now = time.time()
    for path in paths:
        try:
            if now - path.lstat().st_mtime < older_than:
                continue
            lock = path / ".lock" if path.is_dir() and not path.is_symlink() else path
            fd = os.open(lock, os.O_RDONLY | os.O_CREAT if lock != path else os.O_RDONLY)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its writer is alive
            if lock != path:
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
        finally:
            os.close(fd)
    return removed
