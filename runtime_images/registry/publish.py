"""Pushing a whole image, or a multi-arch index of images, from a local OCI layout or
from another registry.

The order is the one registries need: every blob first (skipped when the repository has
it, mounted when another repository of the registry does, uploaded otherwise; several at
once), then the manifests an index lists (by digest), then the top manifest or index
under its tag. Manifests are sent as the exact bytes they were read as, so the pushed image
has the digest it had at its source. Reading a layout (files, JSON) happens in worker
threads, never on the event loop; a registry's blobs stream from one registry to the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .errors import ImageNotFound, InvalidManifest
from .location import RegistryLocation
from .manifest import Descriptor, Manifest
from .upload import BlobSource, Uploader

__all__ = [
    "ImagePlan",
    "ImageSource",
    "LayoutFiles",
    "LayoutSource",
    "Publisher",
    "PushProgress",
    "RegistrySource",
    "plan_image",
]

MAX_DEPTH = 3
"""Indexes of indexes are legal; deeper nesting than this is refused (as pulling does)."""
MAX_MANIFESTS = 1000
"""Manifests one push may carry (an index of every platform has a few dozen at most)."""


class LayoutFiles(Protocol):
    """An OCI image layout's files: :class:`runtime_images.registry.layout.Layout` has
    this shape (so tests can hand in their own)."""

    def blob_path(self, digest: str) -> Path:
        """The file holding the blob ``digest`` (a parsed digest, never a traversal)."""
        ...

    def read_manifest(self, digest: str) -> Manifest:
        """The manifest or index ``digest``, verified against its digest and parsed."""
        ...


class ImageSource(Protocol):
    """Where an image's manifests and blobs are read from, for a push or an archive."""

    name: str
    """What the source is, for messages (``the layout``, a repository)."""

    async def manifest(self, digest: str) -> Manifest | None:
        """The manifest or index ``digest``, verified; ``None`` when the source lacks it."""
        ...

    async def blob(self, descriptor: Descriptor) -> BlobSource | None:
        """The blob's bytes (a file, or a stream read when iterated); ``None`` when the
        source lacks it."""
        ...


class LayoutSource:
    """An OCI image layout as an :class:`ImageSource` (its files read in worker threads)."""

    name = "the layout"

    def __init__(self, layout: LayoutFiles) -> None:
        self.layout = layout

    async def manifest(self, digest: str) -> Manifest | None:
        if not await asyncio.to_thread(self.layout.blob_path(digest).is_file):
            return None
        try:
            return await asyncio.to_thread(self.layout.read_manifest, digest)
        except OSError as error:
            raise InvalidManifest(
                f"the manifest {digest} cannot be read from the layout: {error.strerror or error}"
            ) from None

    async def blob(self, descriptor: Descriptor) -> BlobSource | None:
        path = self.layout.blob_path(descriptor.digest)
        return path if await asyncio.to_thread(path.is_file) else None


class RegistrySource:
    """An image in a registry as an :class:`ImageSource`: manifests fetched and verified,
    blobs streamed straight into their destination (never held whole, never on disk)."""

    def __init__(
        self,
        name: str,
        get_manifest: Callable[[str], Awaitable[Manifest]],
        stream_blob: Callable[[Descriptor], AsyncIterable[bytes]],
    ) -> None:
        self.name = name
        self._get_manifest = get_manifest
        self._stream_blob = stream_blob

    async def manifest(self, digest: str) -> Manifest | None:
        try:
            return await self._get_manifest(digest)
        except ImageNotFound:
            return None

    async def blob(self, descriptor: Descriptor) -> BlobSource | None:
        return self._stream_blob(descriptor)


@dataclass(frozen=True)
class PushProgress:
    """How far a push is, reported after every piece sent and every blob settled.

    ``digest`` is the blob this report is about; ``blob_done``/``blob_size`` its bytes done
    (uploaded, or all of them once it is found or mounted) and ``done``/``total`` the same
    over every blob of the image; a failed upload that is retried takes its bytes back
    from both. ``uploaded`` counts the bytes that went over the network (retries
    included). ``state``: ``uploading``, ``uploaded``, ``exists``, ``mounted``, or
    ``skipped`` (a non-distributable layer neither side has).
    """

    digest: str
    blob_done: int
    blob_size: int
    done: int
    total: int
    uploaded: int
    state: str


@dataclass
class ImagePlan:
    """What copying an image involves, read from its source before anything is sent."""

    manifests: list[Manifest] = field(default_factory=list)
    """Every manifest in the layout, children before the index that lists them."""
    elsewhere: list[Descriptor] = field(default_factory=list)
    """Index entries not in the layout: the destination must already have them."""
    blobs: dict[str, Descriptor] = field(default_factory=dict)
    """Config and layer blobs of every manifest, each once."""


def _is_non_distributable(media_type: str) -> bool:
    return "nondistributable" in media_type or "foreign" in media_type


async def plan_image(source: ImageSource, digest: str) -> ImagePlan:
    """The manifests reachable from ``digest`` and the blobs they name, each once."""
    plan = ImagePlan()
    seen: set[str] = set()

    async def visit(descriptor_digest: str, depth: int, entry: Descriptor | None) -> None:
        if descriptor_digest in seen:
            return
        seen.add(descriptor_digest)
        if depth > MAX_DEPTH:
            raise InvalidManifest(f"{digest}: indexes nested more than {MAX_DEPTH} deep")
        manifest = await source.manifest(descriptor_digest)
        if manifest is None:
            if entry is None:
                raise ImageNotFound(f"the manifest {digest} is not in {source.name}")
            plan.elsewhere.append(entry)
            return
        if manifest.is_index:
            for child in manifest.manifests:
                await visit(child.digest, depth + 1, child)
        else:
            for blob in manifest.descriptors():
                plan.blobs.setdefault(blob.digest, blob)
        plan.manifests.append(manifest)
        if len(plan.manifests) > MAX_MANIFESTS:
            raise InvalidManifest(f"{digest} lists more than {MAX_MANIFESTS} manifests")

    await visit(digest, 0, None)
    return plan


class _Tracker:
    """Adds up the bytes of every blob and reports :class:`PushProgress`."""

    def __init__(
        self, blobs: list[Descriptor], report: Callable[[PushProgress], None] | None
    ) -> None:
        self._report = report
        self._sizes = {blob.digest: blob.size for blob in blobs}
        self._done = dict.fromkeys(self._sizes, 0)
        self.total = sum(self._sizes.values())
        self.done = 0
        self.uploaded = 0

    def sent(self, digest: str, length: int) -> None:
        """``length`` more bytes of ``digest`` went out (negative: a retry starts over)."""
        self._done[digest] += length
        self.done += length
        self.uploaded += max(length, 0)
        self._emit(digest, "uploading")

    def settled(self, digest: str, state: str) -> None:
        """The blob is in the registry (``state`` says how): all of it counts as done."""
        self.done += self._sizes[digest] - self._done[digest]
        self._done[digest] = self._sizes[digest]
        self._emit(digest, state)

    def _emit(self, digest: str, state: str) -> None:
        if self._report is not None:
            self._report(
                PushProgress(
                    digest,
                    self._done[digest],
                    self._sizes[digest],
                    self.done,
                    self.total,
                    self.uploaded,
                    state,
                )
            )


class Publisher:
    """Pushes images from a layout with one client's uploader."""

    def __init__(self, uploader: Uploader, concurrency: Callable[[], int]) -> None:
        self._uploader = uploader
        self._concurrency = concurrency

    async def push_image(
        self,
        source: ImageSource,
        digest: str,
        loc: RegistryLocation,
        target: str,
        mount_from: str | None,
        progress: Callable[[PushProgress], None] | None,
    ) -> None:
        """Push the image or index ``digest`` of ``source`` to ``loc`` as ``target``."""
        plan = await plan_image(source, digest)
        for entry in plan.elsewhere:  # before anything is sent
            if not await self._uploader.manifest_exists(loc, entry.digest):
                raise ImageNotFound(
                    f"the index {digest} lists {entry.digest}, which is neither in the "
                    f"layout nor in {loc.host}/{loc.repository}"
                )
        blobs = sorted(plan.blobs.values(), key=lambda blob: -blob.size)  # long ones first
        tracker = _Tracker(blobs, progress)
        limit = asyncio.Semaphore(max(1, self._concurrency()))

        async def one(blob: Descriptor) -> None:
            async with limit:
                content = await source.blob(blob)
                if content is None:
                    await self._absent_blob(blob, loc, tracker)
                    return
                state = await self._uploader.push_blob(
                    loc,
                    blob.digest,
                    blob.size,
                    content,
                    mount_from=mount_from,
                    sent=lambda length: tracker.sent(blob.digest, length),
                )
                tracker.settled(blob.digest, state)

        tasks = [asyncio.create_task(one(blob)) for blob in blobs]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        for manifest in plan.manifests:
            top = manifest.digest == digest
            await self._uploader.put_manifest(
                loc,
                target if top else manifest.digest,
                manifest.raw,
                manifest.media_type,
                manifest.digest,
            )

    async def _absent_blob(
        self, blob: Descriptor, loc: RegistryLocation, tracker: _Tracker
    ) -> None:
        """A blob the layout lacks: fine if the registry has it, or if it may not be
        distributed anyway (foreign layers are fetched from their own URLs)."""
        if await self._uploader.exists(loc, blob.digest):
            tracker.settled(blob.digest, "exists")
        elif _is_non_distributable(blob.media_type):
            tracker.settled(blob.digest, "skipped")
        else:
            raise ImageNotFound(
                f"blob {blob.digest} is neither in the layout nor in {loc.host}/{loc.repository}"
            )
