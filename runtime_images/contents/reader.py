"""Read an image's contents once per manifest digest; every consumer asks here.

:class:`ContentsReader` resolves a reference (a few small registry requests), then serves
the inspection document from the content-addressed cache (:mod:`.cache`) or reads the
layers once — the package databases and layer statistics observed while the merged
filesystem is built — and keeps the result. Concurrent requests for the same digest share
one reading. ``validate`` answers from the same document (every profile's checks are in
it), so inspecting, validating, the SBOM, the layers and a diff of one image read it once.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from traitlets import Instance, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

from ..inspect import (
    CheckResult,
    ImageInspector,
    ImageReport,
    Progress,
    Validation,
    inspect_resolved,
)
from ..reference import Reference, local_warning, parse
from ..registry import Platform, RegistryClient, RegistryError, ResolvedImage
from ..registry.manifest import select_platform
from .budget import ContentBudget, ContentLimits
from .cache import ContentsCache
from .document import ContentsObserver, assemble

__all__ = ["ContentsReader", "DocumentChecks"]

DocumentChecks = Callable[[dict[str, Any]], list[CheckResult]]
"""The checks of a profile computed from an inspection document rather than cached with it
(``vulnerabilities``: they follow the database as it is now); blocking, run in a thread."""


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jupyter-runtime-images", "contents")


class ContentsReader(LoggingConfigurable):
    """Inspection documents of images, read once per manifest digest and platform."""

    cache_dir = Unicode(
        config=True,
        help="""Directory of the content-addressed cache of inspection documents (one JSON
        file per image manifest digest and platform). Defaults to
        $XDG_CACHE_HOME/jupyter-runtime-images/contents (~/.cache/…).""",
    )
    cache_max_bytes = Integer(
        512 << 20,
        config=True,
        help="Most bytes the cache directory may hold; the least recently used go first.",
    )
    memory_cache_size = Integer(
        8,
        config=True,
        help="Documents also kept in memory, most recently used (0: none).",
    )
    inspector = Instance(ImageInspector)

    @default("cache_dir")
    def _default_cache_dir(self) -> str:
        return _default_cache_dir()

    @default("inspector")
    def _default_inspector(self) -> ImageInspector:
        return ImageInspector(parent=self)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._reading: dict[tuple[str, str], asyncio.Task[dict[str, Any]]] = {}
        self._recent: dict[tuple[str, str], dict[str, Any]] = {}

    @property
    def cache(self) -> ContentsCache:
        return ContentsCache(Path(self.cache_dir), self.cache_max_bytes)

    @property
    def content_limits(self) -> ContentLimits:
        inspector = self.inspector
        return ContentLimits(
            max_database_bytes=inspector.max_package_database_bytes,
            max_total_bytes=inspector.max_package_metadata_bytes,
            max_packages=inspector.max_packages,
        )

    async def read(
        self,
        client: RegistryClient,
        reference: Reference | str,
        *,
        platform: str | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """The inspection document of ``reference`` (cached by manifest digest)."""
        ref = parse(reference) if isinstance(reference, str) else reference
        cache = self.cache
        hit = await self._cached(client, ref, platform, cache)
        if hit is not None:
            return hit
        resolved = await client.resolve(ref, platform)
        key = (resolved.manifest.digest, str(resolved.platform))
        document = self._recent.get(key)
        if document is None:
            document = await asyncio.to_thread(cache.get, *key)
        if document is None:
            task = self._reading.get(key)
            if task is None:
                task = asyncio.create_task(self._read_layers(client, resolved, progress, cache))
                self._reading[key] = task
                task.add_done_callback(lambda _: self._reading.pop(key, None))
            document = await task
        self._remember(key, document)
        return _as_requested(document, ref, resolved.digest)

    async def _cached(
        self,
        client: RegistryClient,
        ref: Reference,
        platform: str | None,
        cache: ContentsCache,
    ) -> dict[str, Any] | None:
        """The document from the cache after one manifest request (the platform's manifest
        digest is in an index; a single image's is its own), or None: then the full resolve
        (manifest and config) runs, with its platform checks and errors."""
        try:
            wanted = Platform.parse(platform or client.platform)
        except ValueError:
            return None
        top = await client.get_manifest(ref)
        if top.is_index:
            try:
                digest = select_platform(top, wanted).digest
            except RegistryError:
                return None
        else:
            digest = top.digest
        key = (digest, str(wanted))
        document = self._recent.get(key)
        if document is None:
            document = await asyncio.to_thread(cache.get, *key)
        if document is None or document["image"]["platform"] != str(wanted):
            return None
        self._remember(key, document)
        return _as_requested(document, ref, top.digest)

    def _remember(self, key: tuple[str, str], document: dict[str, Any]) -> None:
        """Keep the last few documents in memory too (a Details view asks for an image's
        inspection, layers and SBOM one after the other)."""
        self._recent.pop(key, None)
        self._recent[key] = document
        while len(self._recent) > self.memory_cache_size:
            self._recent.pop(next(iter(self._recent)))

    async def _read_layers(
        self,
        client: RegistryClient,
        resolved: ResolvedImage,
        progress: Progress | None,
        cache: ContentsCache,
    ) -> dict[str, Any]:
        observer = ContentsObserver(ContentBudget(self.content_limits))
        view = await inspect_resolved(
            client,
            resolved,
            progress=progress,
            limits=self.inspector.limits,
            observer=observer,
        )
        document = await asyncio.to_thread(assemble, view, resolved, observer)
        key = (resolved.manifest.digest, str(resolved.platform))
        try:
            await asyncio.to_thread(cache.put, *key, document)
        except OSError as error:  # a full or read-only cache directory: serve anyway
            self.log.warning("runtime-images: could not cache %s: %s", key[0], error)
        return document

    async def validate(
        self,
        client: RegistryClient,
        reference: Reference | str,
        profiles: Iterable[str] | None = None,
        *,
        platform: str | None = None,
        progress: Progress | None = None,
        document_checks: Mapping[str, DocumentChecks] | None = None,
    ) -> Validation:
        """The checks of ``profiles`` (default: the inspector's) from the document, then
        those of ``document_checks`` for each of its profiles that ``profiles`` names."""
        names = self.inspector.profile_names(profiles)
        document = await self.read(client, reference, platform=platform, progress=progress)
        validation = validation_of(document, names)
        wanted = [checks for name, checks in (document_checks or {}).items() if name in names]
        if not wanted:
            return validation
        extra = await asyncio.to_thread(lambda: [c for checks in wanted for c in checks(document)])
        return Validation(validation.report, names, [*validation.checks, *extra])


def validation_of(document: dict[str, Any], names: list[str]) -> Validation:
    """A :class:`~runtime_images.inspect.Validation` of the named profiles, from a document."""
    report = ImageReport.from_json(document)
    by_profile: dict[str, list[CheckResult]] = {}
    for check in document["checks"]:
        by_profile.setdefault(check["profile"], []).append(CheckResult(**check))
    local = local_warning(report.reference) if report.reference else None
    checks = [CheckResult("image", "published", "warn", local)] if local else []
    for name in names:
        checks += by_profile.get(name, [])
    return Validation(report, names, checks)


def _as_requested(document: dict[str, Any], ref: Reference, index_digest: str) -> dict[str, Any]:
    """The cached document as this reference names it (a cache entry serves every name of
    the same manifest)."""
    image = {**document["image"], "reference": str(ref), "local": ref.is_local}
    image["index_digest"] = index_digest
    return {**document, "reference": str(ref), "digest": index_digest, "image": image}
