"""This machine's images: ``localhost/<name>[:tag]`` served from the local OCI layout.

The embedded engine keeps what it builds in an OCI image layout and names it
``localhost/<name>:latest@sha256:…``, as podman and buildah name local images. No registry
serves such a reference, so the client reads it from the layout instead — with the checks
a registry answer gets (digests verified, manifests parsed and bounded) — and inspect,
validate, pin, builds' bases and publish work with nothing running. The files are read in
worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from ..reference import DEFAULT_TAG, Reference
from .errors import DigestMismatch, ImageNotFound, InvalidManifest
from .layout import Layout
from .manifest import Descriptor, Manifest, parse_digest_field

__all__ = ["LocalImages"]

PUBLISH_HINT = "publish it to a registry (jupyter runtime-images publish) to use it elsewhere"


class LocalImages:
    """Reads the images of the layout at ``root()`` (read when used: it is configurable)."""

    def __init__(self, root: Callable[[], str]) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return Path(self._root())

    def layout(self) -> Layout:
        """The layout, which must exist (:class:`ImageNotFound` naming it otherwise)."""
        try:
            return Layout(self.root, create=False)
        except FileNotFoundError:
            raise ImageNotFound(
                f"this machine has no local images yet ({self.root} is not an OCI image "
                "layout); localhost/… names images that builds made here"
            ) from None

    def descriptor(self, ref: Reference) -> Descriptor:
        """What ``ref`` names: its manifest's type, digest and size (blocking)."""
        manifest = self.manifest(ref, ref.for_pull())
        return Descriptor(manifest.media_type, manifest.digest, len(manifest.raw))

    def manifest(self, ref: Reference, tag_or_digest: str) -> Manifest:
        """The manifest or index ``ref`` names by tag or digest, verified (blocking)."""
        layout = self.layout()
        if ":" in tag_or_digest:
            digest = str(parse_digest_field(tag_or_digest, f"the digest of {ref.familiar()}"))
        else:
            digest = self._tagged(layout, ref, tag_or_digest)
        try:
            return layout.read_manifest(digest)
        except FileNotFoundError:
            raise ImageNotFound(
                f"{ref.familiar_name}@{digest} is not in this machine's images ({layout.root})"
            ) from None
        except OSError as error:
            raise InvalidManifest(
                f"the manifest {digest} cannot be read from {layout.root}: "
                f"{error.strerror or error}"
            ) from None

    def tags(self, ref: Reference) -> list[str]:
        """The tags the layout has for ``ref``'s name (blocking)."""
        prefix = f"{ref.path}:"
        return [n[len(prefix) :] for n in self.layout().names() if n.startswith(prefix)]

    def _tagged(self, layout: Layout, ref: Reference, tag: str) -> str:
        try:
            return layout.find(f"{ref.path}:{tag}").digest
        except LookupError:
            tags = self.tags(ref)
            known = f"it has the tags: {', '.join(sorted(tags)[:20])}" if tags else "none"
            raise ImageNotFound(
                f"{ref.with_tag(tag or DEFAULT_TAG).without_digest().familiar()} is not among "
                f"this machine's images ({layout.root}; for {ref.path}, {known})"
            ) from None

    def blob_path(self, descriptor: Descriptor) -> Path:
        """The file of a blob the layout has (:class:`ImageNotFound` otherwise; blocking)."""
        path = self.layout().blob_path(descriptor.digest)
        if not path.is_file():
            raise ImageNotFound(f"blob {descriptor.digest} is not in {self.root}")
        return path

    async def stream(
        self,
        descriptor: Descriptor,
        chunk_size: int,
        progress: Callable[[int], None] | None,
    ) -> AsyncGenerator[bytes, Any]:
        """A blob's bytes, read in worker threads; digest and size verified at the end,
        as for a registry's blob (a layout's files can be changed by anyone who can
        write there)."""
        path = await asyncio.to_thread(self.blob_path, descriptor)
        expected = parse_digest_field(descriptor.digest, "blob digest")
        hasher = expected.hasher()
        size = 0
        handle = await asyncio.to_thread(open, path, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                size += len(chunk)
                if size > descriptor.size:
                    break
                hasher.update(chunk)
                if progress is not None:
                    progress(len(chunk))
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)
        actual = f"{expected.algorithm}:{hasher.hexdigest()}"
        if size != descriptor.size or actual != descriptor.digest:
            raise DigestMismatch(
                f"blob {descriptor.digest} in {self.root} is corrupted: its content does not "
                f"match its digest and size ({descriptor.size} bytes)"
            )
