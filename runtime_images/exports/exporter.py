"""Select runtime images, pin them, read their facts (cache first), render a format.

The one entry point of the REST route and of ``jupyter runtime-images export-to``. Images
are read from their registries only for what the cache lacks: an unpinned reference is
pinned (one HEAD request), and an image whose contents the format carries is inspected
once per digest and platform (the inspector's budgets apply; parsing runs in threads).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass

from traitlets import Integer, Unicode, default
from traitlets.config import LoggingConfigurable

from ..errors import NotFoundError, ValidationFailedError
from ..fields import FieldError
from ..inspect import ImageInspector
from ..reference import Reference, parse
from ..registry import Platform, RegistryClient
from ..store import Entry
from .cache import FactsCache
from .facts import ImageFacts, facts_of
from .formats import FORMATS, ExportFormat, ExportImage, ExportOptions, Style

__all__ = ["MAX_SELECTORS", "Export", "ImageExporter", "UnknownExportFormat", "export_format"]

MAX_SELECTORS = 1000
"""Most ``name`` and ``tag`` selectors in one request (each is matched against the store)."""


class UnknownExportFormat(NotFoundError):
    """The format is not one of :data:`~runtime_images.exports.formats.FORMATS`."""


@dataclass(frozen=True)
class Export:
    """A rendered document and what a download needs to name it."""

    format: str
    style: str
    text: str
    media_type: str
    extension: str
    images: list[str]
    warnings: list[str]

    @property
    def filename(self) -> str:
        return f"runtime-images-{self.format}.{self.extension}"


def export_format(name: str, style: str | None = None) -> tuple[ExportFormat, Style]:
    """The format and style named; errors name the ``format`` or ``style`` field."""
    fmt = FORMATS.get(name)
    if fmt is None:
        message = f"Unknown export format {name!r}; known: {', '.join(FORMATS)}."
        raise UnknownExportFormat(message, errors=[FieldError("format", message)])
    chosen = fmt.style(style)
    if chosen is None:
        known = ", ".join(s.name for s in fmt.styles)
        message = f"The {name} export has no style {style!r}; known: {known}."
        raise ValidationFailedError([FieldError("style", message)], message)
    return fmt, chosen


def _check_selectors(values: Sequence[str], field: str) -> None:
    if len(values) > MAX_SELECTORS:
        message = f"Give at most {MAX_SELECTORS} {field} selectors, not {len(values)}."
        raise ValidationFailedError([FieldError(field, message)], message)
    for value in values:
        if not isinstance(value, str) or not value.strip():
            message = f"Each {field} must be a non-empty string."
            raise ValidationFailedError([FieldError(field, message)], message)


def select(
    entries: Sequence[Entry], names: Sequence[str] = (), tags: Sequence[str] = ()
) -> list[Entry]:
    """The named images and the images with any of the tags (all valid images when neither
    is given), in the store's order. A missing name or a tag no image has is an error
    naming it, so a typo never silently shortens an export."""
    _check_selectors(names, "name")
    _check_selectors(tags, "tag")
    valid = [e for e in entries if e.valid and e.document is not None]
    if not names and not tags:
        return valid
    by_name = {e.name: e for e in valid}
    missing = [n for n in dict.fromkeys(names) if n not in by_name]
    if missing:
        message = f"No valid runtime image named {', '.join(map(repr, missing))}."
        raise NotFoundError(message, errors=[FieldError("name", message)])
    wanted_names, wanted_tags = set(names), set(tags)
    chosen = [e for e in valid if e.name in wanted_names or wanted_tags & set(_tags(e))]
    unused = [t for t in dict.fromkeys(tags) if not any(t in _tags(e) for e in chosen)]
    if unused:
        message = f"No runtime image has the tag {', '.join(map(repr, unused))}."
        raise NotFoundError(message, errors=[FieldError("tag", message)])
    return chosen


def _metadata(entry: Entry) -> dict[str, object]:
    metadata = (entry.document or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _tags(entry: Entry) -> list[str]:
    tags = _metadata(entry).get("tags")
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


class ImageExporter(LoggingConfigurable):
    """Exports of runtime images to other platforms' formats (``c.ImageExporter.*``)."""

    facts_dir = Unicode(
        help="""Where the inspected contents of images are kept by digest, so exports of
        many images read no registry (defaults to
        <jupyter_data_dir()>/runtime-images/facts). Safe to delete.""",
    ).tag(config=True)

    max_facts_bytes = Integer(
        4 << 20,
        help="Largest cached facts file read (bytes); a larger one is ignored and rewritten.",
    ).tag(config=True)

    max_concurrent_reads = Integer(
        2,
        help="""Images pinned or inspected at the same time by one export (each inspection
        holds an image's file tree in memory).""",
    ).tag(config=True)

    creator = Unicode(
        "jupyter-runtime-images",
        help="The default creator written in ODH ImageStreams (notebook-image-creator).",
    ).tag(config=True)

    @default("facts_dir")
    def _default_facts_dir(self) -> str:
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "runtime-images", "facts")

    _cache: FactsCache | None = None

    @property
    def cache(self) -> FactsCache:
        if self._cache is None or str(self._cache.directory) != self.facts_dir:
            self._cache = FactsCache(self.facts_dir, self.max_facts_bytes)
        return self._cache

    async def facts(
        self,
        registry: RegistryClient,
        inspector: ImageInspector,
        pinned: Reference,
        platform: str | None = None,
    ) -> ImageFacts:
        """The facts of a pinned image's platform: from the cache, else by inspecting it."""
        assert pinned.digest is not None
        wanted = str(Platform.parse(platform or registry.platform))
        cached = await asyncio.to_thread(self.cache.get, pinned.digest, wanted)
        if cached is not None:
            return cached
        view = await inspector.inspect(registry, pinned, platform=wanted)
        facts = dataclasses.replace(facts_of(view.report), digest=pinned.digest, platform=wanted)
        await asyncio.to_thread(self.cache.put, facts)
        return facts

    def remember(self, facts: ImageFacts) -> None:
        """Keep facts read elsewhere (an import's validation) for later exports."""
        self.cache.put(facts)

    async def export(
        self,
        entries: Sequence[Entry],
        format: str,
        *,
        registry: RegistryClient,
        inspector: ImageInspector,
        names: Sequence[str] = (),
        tags: Sequence[str] = (),
        style: str | None = None,
        creator: str | None = None,
        platform: str | None = None,
    ) -> Export:
        fmt, chosen_style = export_format(format, style)
        selected = select(entries, names, tags)
        warnings: list[str] = []
        usable: list[tuple[Entry, Reference]] = []
        for entry in selected:
            reference = parse(str(_metadata(entry).get("image_name")))
            if reference.is_local:
                message = (
                    f"{entry.name}: {reference.familiar()} is kept on this machine only; "
                    "publish it to a registry to export it."
                )
                if entry.name in names:
                    raise ValidationFailedError([FieldError("name", message)], message)
                warnings.append(f"skipped {message}")
                continue
            usable.append((entry, reference))
        gate = asyncio.Semaphore(max(1, self.max_concurrent_reads))

        async def pin(reference: Reference) -> Reference:
            if reference.digest:
                return reference
            async with gate:
                return await registry.pin(reference)

        pinned = list(await asyncio.gather(*(pin(r) for _, r in usable)))
        facts: list[ImageFacts | None] = [None] * len(pinned)
        if fmt.needs_facts:
            wanted = str(Platform.parse(platform or registry.platform))
            keys = [(str(p.digest), wanted) for p in pinned]
            facts = await asyncio.to_thread(self.cache.get_many, keys)

            async def inspect(reference: Reference) -> ImageFacts:
                async with gate:
                    return await self.facts(registry, inspector, reference, wanted)

            missing = [i for i, f in enumerate(facts) if f is None]
            found = await asyncio.gather(*(inspect(pinned[i]) for i in missing))
            for i, f in zip(missing, found, strict=True):
                facts[i] = f
        images = [
            ExportImage(entry.name, entry.display_name, dict(_metadata(entry)), ref, fact)
            for (entry, _), ref, fact in zip(usable, pinned, facts, strict=True)
        ]
        options = ExportOptions(creator=creator or self.creator)
        text = await asyncio.to_thread(fmt.render, images, chosen_style, options)
        return Export(
            fmt.format,
            chosen_style.name,
            text,
            chosen_style.media_type,
            chosen_style.extension,
            [image.name for image in images],
            warnings,
        )
