"""RegistryClient's writing half: blobs, manifests, whole images and copies.

A mixin of :class:`~runtime_images.registry.client.RegistryClient`, kept apart so the
client module stays about reading; the client supplies where references live and how
they are read. The HTTP work is :mod:`.upload`'s (blobs, manifests) and :mod:`.publish`'s
(an image's blobs and manifests in order).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from ..reference import DEFAULT_TAG, Reference
from .errors import DigestMismatch
from .manifest import Descriptor, compute_digest, parse_digest_field
from .publish import ImageSource, LayoutFiles, LayoutSource, PushProgress, RegistrySource
from .upload import BlobSource

if TYPE_CHECKING:
    from .local import LocalImages
    from .location import RegistryLocation
    from .manifest import Manifest
    from .publish import Publisher
    from .upload import Uploader

__all__ = ["RegistryPushing"]


class RegistryPushing:
    """Pushing and copying images, for :class:`RegistryClient` (which mixes it in)."""

    if TYPE_CHECKING:  # what the client supplies
        _uploader: Uploader
        _publisher: Publisher
        _local: LocalImages

        def _ref(self, reference: Reference | str) -> Reference: ...
        def location(
            self, reference: Reference | str, *, push: bool = False
        ) -> RegistryLocation: ...
        async def head_manifest(self, reference: Reference | str) -> Descriptor: ...
        async def get_manifest(
            self, reference: Reference | str, tag_or_digest: str
        ) -> Manifest: ...
        def stream_blob(
            self, reference: Reference | str, descriptor: Descriptor
        ) -> AsyncGenerator[bytes, Any]: ...

    async def blob_exists(self, reference: Reference | str, digest: str) -> bool:
        """Whether the repository of ``reference`` has the blob ``digest``: the check a
        push makes first (its token is asked for push access too, as the push needs)."""
        loc = self.location(reference, push=True)
        return await self._uploader.exists(loc, str(parse_digest_field(digest, "blob digest")))

    async def mount_blob(
        self, reference: Reference | str, digest: str, source: Reference | str
    ) -> bool:
        """Mount the blob from ``source``'s repository (same registry) into ``reference``'s.

        False when the registry did not mount it (it does not have it there, or does not
        mount); the upload session it opened instead is cancelled.
        """
        loc = self.location(reference, push=True)
        checked = str(parse_digest_field(digest, "blob digest"))
        origin = self.location(source)
        if origin.host != loc.host:
            return False
        session = await self._uploader.mount(loc, checked, origin.repository)
        if session is None:
            return True
        await self._uploader.cancel(session, loc)
        return False

    async def push_blob(
        self,
        reference: Reference | str,
        descriptor: Descriptor,
        source: BlobSource,
        *,
        mount_from: Reference | str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> str:
        """Put a blob into ``reference``'s repository unless it is there; how it got there.

        ``source`` is a file path (retried after a failure) or an async byte stream (sent
        once). Returns ``exists``, ``mounted`` (from ``mount_from``'s repository) or
        ``uploaded``. The bytes are hashed as they go and the last piece is only sent when
        they match ``descriptor``: otherwise :class:`DigestMismatch`, and nothing is
        stored. ``progress`` is told the bytes of every piece sent (negative when a retry
        starts again).
        """
        loc = self.location(reference, push=True)
        return await self._uploader.push_blob(
            loc,
            descriptor.digest,
            descriptor.size,
            source,
            mount_from=self._mount_repository(mount_from, loc),
            sent=progress,
        )

    async def push_manifest(
        self, reference: Reference | str, raw: bytes, media_type: str
    ) -> Reference:
        """Put a manifest or index, byte for byte, under ``reference``'s tag (or digest).

        Its blobs (or, for an index, its manifests) must be in the repository already.
        The registry's ``Docker-Content-Digest`` must be the digest of ``raw``
        (:class:`DigestMismatch` otherwise). Returns the pinned reference.
        """
        ref = self._ref(reference)
        digest = compute_digest(raw)
        if ref.digest and ref.digest != digest:
            raise DigestMismatch(f"the manifest hashes to {digest}, not {ref.digest}")
        loc = self.location(ref, push=True)
        await self._uploader.put_manifest(loc, ref.tag or digest, raw, media_type, digest)
        return ref.with_digest(digest)

    async def push_image(
        self,
        source: LayoutFiles,
        manifest: str,
        destination: Reference | str,
        *,
        mount_from: Reference | str | None = None,
        progress: Callable[[PushProgress], None] | None = None,
    ) -> Reference:
        """Push the image or index ``manifest`` (a digest) of an OCI layout; its pinned name.

        ``source`` is a layout (:class:`~runtime_images.registry.layout.Layout`;
        ``layout.find(tag).digest`` gives the digest). Blobs go first, skipping what the
        repository has and mounting from ``mount_from``'s repository (an image of the same
        registry it was built on) what that has; then the manifests, byte for byte, and the
        tag: ``destination``'s, or ``latest``. A destination with a digest must name this
        image. ``progress`` gets a :class:`PushProgress` after every piece and every blob.
        """
        return await self._push(LayoutSource(source), manifest, destination, mount_from, progress)

    async def copy_image(
        self,
        source: Reference | str,
        destination: Reference | str,
        *,
        progress: Callable[[PushProgress], None] | None = None,
    ) -> Reference:
        """Copy the image ``source`` names — every platform of an index — to
        ``destination``; its pinned name there (the same digest).

        The source is one of this machine's images (``localhost/…``, read from the local
        layout) or an image in a registry, whose blobs stream from one registry to the other
        (mounted instead when both repositories are in the same registry).
        """
        ref = self._ref(source)
        image_source, descriptor = await self.image_source(ref)
        mount_from = None if ref.is_local else ref
        return await self._push(image_source, descriptor.digest, destination, mount_from, progress)

    async def image_source(self, reference: Reference | str) -> tuple[ImageSource, Descriptor]:
        """Where the image ``reference`` names is read from, and its manifest's descriptor:
        the local layout for this machine's images, its registry otherwise."""
        ref = self._ref(reference)
        descriptor = await self.head_manifest(ref)
        if ref.is_local:
            return LayoutSource(await asyncio.to_thread(self._local.layout)), descriptor
        source = RegistrySource(
            ref.familiar_name,
            lambda digest: self.get_manifest(ref, digest),
            lambda blob: self.stream_blob(ref, blob),
        )
        return source, descriptor

    async def _push(
        self,
        source: ImageSource,
        manifest: str,
        destination: Reference | str,
        mount_from: Reference | str | None,
        progress: Callable[[PushProgress], None] | None,
    ) -> Reference:
        ref = self._ref(destination)
        digest = str(parse_digest_field(manifest, "the manifest digest to push"))
        if ref.digest and ref.digest != digest:
            raise DigestMismatch(
                f"{ref.familiar()} names {ref.digest}, but the image to push is {digest}"
            )
        tag = ref.tag or (None if ref.digest else DEFAULT_TAG)
        loc = self.location(ref, push=True)
        await self._publisher.push_image(
            source,
            digest,
            loc,
            tag or digest,
            self._mount_repository(mount_from, loc),
            progress,
        )
        return ref.with_tag(tag).with_digest(digest)

    def _mount_repository(
        self, mount_from: Reference | str | None, loc: RegistryLocation
    ) -> str | None:
        """The repository blobs can be mounted from: ``mount_from``'s, if in the same
        registry as ``loc`` (where it was read from, so a mirror counts)."""
        if mount_from is None:
            return None
        origin = self.location(mount_from)
        return origin.repository if origin.host == loc.host else None
