"""Writing an image, or a multi-arch index, as an ``oci-archive``: a tar of an OCI image
layout (``oci-layout``, ``index.json``, ``blobs/``) that skopeo, podman, buildah and
``docker load`` read.

Written here rather than with :mod:`tarfile`'s ``addfile``: the blobs come from a layout
or stream from a registry, and tarfile wants a file object of known size it reads itself.
Each member's header is made by :class:`tarfile.TarInfo` (so the format is tarfile's), the
bytes are copied as they arrive, and every blob's digest and size are checked before the
archive is renamed into place — a corrupted source never leaves a file behind. File
writes happen in worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..errors import InsufficientStorageError
from .download import running_total
from .errors import DigestMismatch, ImageNotFound
from .manifest import Descriptor, parse_digest_field
from .publish import ImageSource, plan_image
from .upload import BlobSource

__all__ = ["REF_NAME_ANNOTATION", "write_oci_archive"]

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
"""The ``index.json`` annotation that names an image in a layout (skopeo's ``:tag``)."""
CHUNK = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE


def _header(name: str, size: int, directory: bool = False) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = 0 if directory else size
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.mtime = 0  # the same image gives the same archive
    return info.tobuf(format=tarfile.PAX_FORMAT)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


class _ArchiveWriter:
    """Appends members to the archive file, in worker threads."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    async def member(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(
            self._handle.write, _header(name, len(data)) + data + _padding(len(data))
        )

    async def directory(self, name: str) -> None:
        await asyncio.to_thread(self._handle.write, _header(name, 0, directory=True))

    async def blob(
        self,
        descriptor: Descriptor,
        source: BlobSource,
        progress: Callable[[int], None],
    ) -> None:
        """Copy one blob, checking its digest and size (the header promises the size)."""
        expected = parse_digest_field(descriptor.digest, "blob digest")
        hasher = expected.hasher()
        written = 0
        name = f"blobs/{expected.algorithm}/{expected.encoded}"
        await asyncio.to_thread(self._handle.write, _header(name, descriptor.size))

        async def write(chunk: bytes) -> None:
            nonlocal written
            written += len(chunk)
            if written > descriptor.size:
                raise DigestMismatch(
                    f"blob {descriptor.digest} is larger than {descriptor.size} bytes"
                )
            hasher.update(chunk)
            await asyncio.to_thread(self._handle.write, chunk)
            progress(len(chunk))

        if isinstance(source, (str, Path)):
            handle = await asyncio.to_thread(open, source, "rb")
            try:
                while chunk := await asyncio.to_thread(handle.read, CHUNK):
                    await write(chunk)
            finally:
                await asyncio.to_thread(handle.close)
        else:
            async for chunk in source:
                await write(chunk)
        actual = f"{expected.algorithm}:{hasher.hexdigest()}"
        if written != descriptor.size or actual != descriptor.digest:
            raise DigestMismatch(
                f"blob {descriptor.digest} does not match its digest and size "
                f"({written} of {descriptor.size} bytes, {actual})"
            )
        await asyncio.to_thread(self._handle.write, _padding(written))


async def write_oci_archive(
    source: ImageSource,
    digest: str,
    destination: Path,
    ref_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_free: int = 0,
) -> int:
    """Write the image or index ``digest`` of ``source`` to ``destination``; its size.

    ``ref_name`` (a tag) names the image in the archive's ``index.json``. The archive is
    written next to ``destination`` and renamed into place when complete and verified.
    ``progress`` is told the blob bytes written so far and their total. An archive that
    would leave less than ``keep_free`` bytes free on its disk (the sizes are the
    manifests', read before any blob) is refused before anything is written.
    """
    plan = await plan_image(source, digest)
    if plan.elsewhere:
        missing = ", ".join(d.digest for d in plan.elsewhere[:3])
        raise ImageNotFound(
            f"an archive must hold every platform, but {source.name} lacks {missing}"
        )
    top = plan.manifests[-1]
    total = sum(d.size for d in plan.blobs.values()) + sum(len(m.raw) for m in plan.manifests)
    advance = running_total(progress, total)
    entry = Descriptor(top.media_type, top.digest, len(top.raw)).to_json()
    if ref_name:
        entry["annotations"] = {REF_NAME_ANNOTATION: ref_name}
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [entry],
    }

    directory = destination.parent
    free = (await asyncio.to_thread(shutil.disk_usage, directory)).free
    if total + keep_free > free:
        raise InsufficientStorageError(
            f"{destination.name} would take {total:,} bytes and {directory} has {free:,} "
            f"free; at least {keep_free:,} must stay free"
        )
    fd, temp_name = await asyncio.to_thread(
        tempfile.mkstemp, prefix=f".{destination.name}.", suffix=".partial", dir=directory
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer = _ArchiveWriter(handle)
            await writer.member("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
            await writer.member("index.json", json.dumps(index, separators=(",", ":")).encode())
            await writer.directory("blobs/")
            await writer.directory("blobs/sha256/")
            for blob in plan.blobs.values():
                blob_source = await source.blob(blob)
                if blob_source is None:
                    raise ImageNotFound(f"blob {blob.digest} is not in {source.name}")
                await writer.blob(blob, blob_source, advance)
            for manifest in plan.manifests:
                algorithm, encoded = manifest.digest.split(":", 1)
                await writer.member(f"blobs/{algorithm}/{encoded}", manifest.raw)
                advance(len(manifest.raw))
            await asyncio.to_thread(handle.write, b"\0" * (2 * BLOCK))
            await asyncio.to_thread(handle.flush)
            await asyncio.to_thread(os.fsync, handle.fileno())
        size = (await asyncio.to_thread(temp.stat)).st_size
        await asyncio.to_thread(os.replace, temp, destination)
        return size
    except BaseException:
        await asyncio.to_thread(temp.unlink, missing_ok=True)
        raise
