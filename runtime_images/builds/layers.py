"""Reproducible image layers: the same files give the same bytes, hence the same digest.

Entries are sorted, timestamps fixed, owners set to the image's user, modes normalised,
and the gzip header carries no name or time. Whiteouts (``.wh.<name>``) hide files of
lower layers and opaque markers (``.wh..wh..opq``) hide a directory's lower contents, as
the OCI image spec defines, so an upgraded package leaves no older files importable.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

OPAQUE_MARKER = ".wh..wh..opq"
WHITEOUT_PREFIX = ".wh."
FIXED_MTIME = 0


@dataclass(frozen=True)
class LayerBlob:
    """A written layer: its compressed file, digest and size, and the uncompressed diff_id."""

    path: Path
    digest: str
    size: int
    diff_id: str


@dataclass
class LayerPlan:
    """What goes into one layer: host files placed at image paths, and whiteouts."""

    uid: int = 0
    gid: int = 0
    files: dict[str, Path] = field(default_factory=dict)  # image path -> host path
    directories: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)  # directories whose lower content is hidden
    whiteouts: set[str] = field(default_factory=set)  # image paths hidden from lower layers

    def add_tree(self, source: Path, target: str) -> None:
        """Place every file under ``source`` at ``target`` (symlinks kept as links)."""
        for root, dirs, names in os.walk(source):
            dirs.sort()
            relative = Path(root).relative_to(source)
            base = (
                PurePosixPath(target) / relative.as_posix()
                if str(relative) != "."
                else PurePosixPath(target)
            )
            self.directories.add(str(base))
            for name in sorted(names) + [d for d in dirs if (Path(root) / d).is_symlink()]:
                self.files[str(base / name)] = Path(root) / name

    def add_file(self, source: Path, target: str) -> None:
        self.files[target] = source


def _parents(path: str) -> Iterable[str]:
    parts = PurePosixPath(path).parts
    for end in range(2, len(parts)):
        yield str(PurePosixPath(*parts[:end]))


def _info(name: str, kind: bytes, mode: int, uid: int, gid: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name.lstrip("/"))
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.uname = info.gname = ""
    info.mtime = FIXED_MTIME
    info.size = size
    return info


class _Hashing(io.RawIOBase):
    """A write-only file that hashes what passes through to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.sha.update(data)
        self.size += len(data)
        self.target.write(data)
        return len(data)


def write_layer(plan: LayerPlan, destination: Path) -> LayerBlob:
    """Write ``plan`` as a gzip-compressed tar at ``destination``, reproducibly."""
    directories = set(plan.directories)
    for path in [*plan.files, *plan.whiteouts, *plan.opaque]:
        directories.update(_parents(path))
    directories.update(plan.opaque)
    entries: dict[str, tarfile.TarInfo | tuple[tarfile.TarInfo, Path]] = {}
    for directory in directories:
        entries[directory] = _info(directory, tarfile.DIRTYPE, 0o755, plan.uid, plan.gid)
    for directory in plan.opaque:
        marker = f"{directory}/{OPAQUE_MARKER}"
        entries[marker] = _info(marker, tarfile.REGTYPE, 0o644, 0, 0)
    for hidden in plan.whiteouts:
        parent, _, name = hidden.rpartition("/")
        marker = f"{parent}/{WHITEOUT_PREFIX}{name}"
        entries[marker] = _info(marker, tarfile.REGTYPE, 0o644, 0, 0)
    for target, source in plan.files.items():
        st = os.lstat(source)
        if stat.S_ISLNK(st.st_mode):
            info = _info(target, tarfile.SYMTYPE, 0o777, plan.uid, plan.gid)
            info.linkname = os.readlink(source)
            entries[target] = info
        else:
            mode = 0o755 if st.st_mode & 0o111 else 0o644
            entries[target] = (
                _info(target, tarfile.REGTYPE, mode, plan.uid, plan.gid, st.st_size),
                source,
            )

    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "wb") as raw:
        compressed = _Hashing(raw)
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=6
        ) as gz:
            uncompressed = _Hashing(gz)  # type: ignore[arg-type]
            with tarfile.open(fileobj=uncompressed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for name in sorted(entries):
                    entry = entries[name]
                    if isinstance(entry, tuple):
                        info, source = entry
                        with open(source, "rb") as handle:
                            tar.addfile(info, handle)
                    else:
                        tar.addfile(entry)
    return LayerBlob(
        path=destination,
        digest=f"sha256:{compressed.sha.hexdigest()}",
        size=compressed.size,
        diff_id=f"sha256:{uncompressed.sha.hexdigest()}",
    )
