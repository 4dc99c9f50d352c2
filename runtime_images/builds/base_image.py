"""Base images of builds made here: downloaded once into the local OCI layout, parsed once.

A base's layers are kept in the layout (verified by digest; the push of the built image
reuses them), and its merged filesystem is kept in memory for the next build on it and
recorded in the layout (``.parsed/``) for a restarted server — both within
``ImageBuilder.base_cache_bytes``. Downloading and parsing one after the other is as fast
as parsing while the layer streams in: both hold the GIL most of the time.
"""

from __future__ import annotations

import asyncio
import json
import tarfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from .. import documents
from ..fileio import atomic_write_bytes, hold
from ..inspect import ImageInspector, ImageView
from ..inspect.filesystem import DEFAULT_LIMITS, FileSystem, Limits
from ..inspect.inspector import resolved_report
from ..inspect.report import build_report
from ..inspect.stream import open_layer_file
from ..reference import Reference
from ..registry import RegistryClient, ResolvedImage
from ..registry.layout import Layout
from .engine import BuildContext
from .settings import BuildSettings

__all__ = ["BaseImages", "FileObserver", "apply_layer_file", "read_layout_image"]

FileObserver = Callable[[str, tarfile.TarInfo], None]
_DOWNLOAD_CHUNK = 1 << 20
_BYTES_PER_ENTRY = 230  # measured: a Node, its name and its slot in the parent's dict


class BaseImages:
    """Fetch and parse base images, keeping parsed ones within the cache's budget."""

    def __init__(
        self, settings: BuildSettings, client: RegistryClient, inspector: ImageInspector
    ) -> None:
        self.settings = settings
        self.client = client
        self.inspector = inspector
        # Parsed base filesystems by (digest, platform), most recently used last; shared
        # read-only by the builds that use them.
        self._parsed: OrderedDict[tuple[str, str], FileSystem] = OrderedDict()

    def forget(self) -> None:
        """Drop the parsed bases kept in memory (as a restarted server has none)."""
        self._parsed.clear()

    async def fetch(
        self,
        build: BuildContext,
        layout: Layout,
        ref: Reference,
        resolved: ResolvedImage,
        steps_total: int,
        on_file: FileObserver | None = None,
    ) -> ImageView:
        """Download the base layers the layout lacks (verified), then read them locally.

        ``on_file`` sees each regular file of the base as it is parsed (for work that can
        start early).
        """
        layers = resolved.manifest.layers
        FileSystem(self.inspector.limits).check_layers(len(layers))
        total = sum(layer.size for layer in layers)
        done = 0
        for layer in layers:
            if not layout.has_blob(layer.digest):
                incoming = layout.temp_file()
                try:
                    with open(incoming, "wb") as handle:  # noqa: ASYNC230 (writes off the loop)
                        hold(handle)
                        async for chunk in self.client.stream_blob(ref, layer, _DOWNLOAD_CHUNK):
                            await asyncio.to_thread(handle.write, chunk)
                            done += len(chunk)
                            build.progress(done, total, 0, steps_total)
                    layout.add_file(incoming, layer.digest)
                finally:
                    incoming.unlink(missing_ok=True)
            else:
                done += layer.size
            build.progress(done, total, 0, steps_total)
        fs = await self._parse(layout, resolved, on_file)
        return await resolved_report(fs, ref, resolved, total)

    async def _parse(
        self, layout: Layout, resolved: ResolvedImage, on_file: FileObserver | None
    ) -> FileSystem:
        """The base's merged filesystem: from memory, from the layout's record of it (a
        restarted server), or read from the layout's blobs (and recorded there)."""
        key = (resolved.digest, str(resolved.platform))
        fs = self._parsed.get(key)
        if fs is not None:
            self._parsed.move_to_end(key)
            return fs
        record = (
            layout.root / ".parsed" / f"{key[0].replace(':', '-')}-{key[1].replace('/', '-')}.json"
        )
        limits = self.inspector.limits
        budget = self.settings.base_cache_bytes
        fs = await asyncio.to_thread(_read_record, record, limits, budget)
        if fs is None:
            fs = FileSystem(limits)
            for layer in resolved.manifest.layers:
                await asyncio.to_thread(
                    apply_layer_file, fs, layout.blob_path(layer.digest), on_file
                )
            if _footprint(fs) <= budget:
                await asyncio.to_thread(_write_record, record, fs)
        if self.settings.base_cache_size > 0 and _footprint(fs) <= budget:
            self._parsed[key] = fs
            while len(self._parsed) > self.settings.base_cache_size or (
                sum(_footprint(kept) for kept in self._parsed.values()) > budget
            ):
                self._parsed.popitem(last=False)
        return fs


def read_layout_image(
    layout: Layout, digest: str, reference: Reference, limits: Limits = DEFAULT_LIMITS
) -> ImageView:
    """Read an image of the local layout (its manifest ``digest``) like one in a registry
    (blocking: run it in a thread)."""
    manifest = documents.loads_json(layout.read_blob(digest), f"the manifest {digest}")
    config = documents.loads_json(
        layout.read_blob(manifest["config"]["digest"]), f"the config of {digest}"
    )
    fs = FileSystem(limits)
    fs.check_layers(len(manifest["layers"]))
    for layer in manifest["layers"]:
        apply_layer_file(fs, layout.blob_path(layer["digest"]))
    platform = f"{config.get('os', 'linux')}/{config.get('architecture', 'amd64')}"
    return build_report(
        fs,
        config,
        reference=str(reference),
        digest=digest,
        platform=platform,
        compressed_size=sum(int(layer["size"]) for layer in manifest["layers"]),
    )


def apply_layer_file(fs: FileSystem, blob: Path, on_file: FileObserver | None = None) -> None:
    """Apply a layer blob of the layout (blocking: run it in a thread)."""
    with open_layer_file(blob) as stream:
        fs.apply_layer(stream, on_file=on_file)


def _read_record(record: Path, limits: Limits, max_bytes: int) -> FileSystem | None:
    """A base filesystem recorded by an earlier build, or None (none, unreadable, or over
    the budget: the record is this product's own file, but in a directory users write)."""
    try:
        if record.stat().st_size > max_bytes:
            return None
        return FileSystem.from_json(documents.loads_json(record.read_bytes()), limits)
    except (OSError, ValueError):
        return None


def _write_record(record: Path, fs: FileSystem) -> None:
    record.parent.mkdir(exist_ok=True)
    data = json.dumps(fs.to_json(), separators=(",", ":")).encode()
    atomic_write_bytes(record, data, mode=0o644)


def _footprint(fs: FileSystem) -> int:
    """Estimated memory of a parsed filesystem, for the base cache's budget."""
    return fs.entries * _BYTES_PER_ENTRY + fs.kept_bytes
