"""Inspect and validate images straight from a registry, streaming their layers.

Nothing here parses on the event loop: layers are read in a worker thread as they stream
in, and the report and the checks, which walk the whole tree, run in a thread too.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from traitlets import Integer, List, Unicode, validate
from traitlets.config import LoggingConfigurable

from ..reference import Reference, parse
from ..registry import RegistryClient, ResolvedImage
from ..registry.download import running_total
from .filesystem import DEFAULT_LIMITS, FileSystem, LayerObserver, Limits
from .profiles import CheckResult, check_profile_names, known_profiles, run_profiles
from .report import ImageReport, ImageView, build_report
from .stream import run_blocking_reader

__all__ = [
    "ALL_PLATFORMS",
    "ImageInspector",
    "PlatformValidation",
    "Progress",
    "Validation",
    "image_platforms",
    "inspect_image",
    "inspect_resolved",
    "resolved_report",
]

ALL_PLATFORMS = "all"
"""The ``platform`` that asks for every platform of an image index."""

Progress = Callable[[int, int], None]
"""Called with (bytes of layers read so far, total compressed bytes of the layers)."""


@dataclass(frozen=True)
class Validation:
    """Checks of one image; ``ok`` when no check failed (warnings allowed)."""

    report: ImageReport
    profiles: list[str]
    checks: list[CheckResult]

    @property
    def ok(self) -> bool:
        return not any(check.result == "fail" for check in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [check for check in self.checks if check.result == "fail"]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "profiles": self.profiles,
            "checks": [check.to_json() for check in self.checks],
            "report": self.report.to_json(),
            "suggestedTags": self.report.suggested_tags,
        }


@dataclass(frozen=True)
class PlatformValidation:
    """The checks of every platform of an image (``--platform all``)."""

    reference: str
    digest: str
    profiles: list[str]
    platforms: list[Validation]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.platforms)

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.reference,
            "digest": self.digest,
            "ok": self.ok,
            "profiles": self.profiles,
            "platforms": [
                {
                    "platform": v.report.platform,
                    "digest": v.report.manifest_digest,
                    "size": v.report.compressed_size,
                    "ok": v.ok,
                    "checks": [check.to_json() for check in v.checks],
                    "accelerators": [asdict(a) for a in v.report.accelerators],
                    "suggestedTags": v.report.suggested_tags,
                }
                for v in self.platforms
            ],
        }


async def image_platforms(client: RegistryClient, reference: Reference | str) -> list[str]:
    """The platforms an image offers: its index's entries (attestations left out), or the
    one platform of a single image."""
    ref = parse(reference) if isinstance(reference, str) else reference
    top = await client.get_manifest(ref)
    if not top.is_index:
        return [str((await client.resolve(ref)).platform)]
    found = [
        str(entry.platform)
        for entry in top.manifests
        if entry.platform is not None and entry.platform.os != "unknown"
    ]
    return list(dict.fromkeys(found))


async def inspect_image(
    client: RegistryClient,
    reference: Reference | str,
    *,
    platform: str | None = None,
    progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ImageView:
    """Build the merged filesystem and report of one platform's image.

    Layers are streamed in order and parsed in a worker thread; nothing is written to disk
    and every blob's digest is verified (:class:`~runtime_images.registry.DigestMismatch`).
    """
    ref = parse(reference) if isinstance(reference, str) else reference
    resolved = await client.resolve(ref, platform)
    return await inspect_resolved(client, resolved, progress=progress, limits=limits)


async def inspect_resolved(
    client: RegistryClient,
    resolved: ResolvedImage,
    *,
    progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
    observer: LayerObserver | None = None,
) -> ImageView:
    """:func:`inspect_image` of an image already resolved; ``observer`` sees each layer
    applied (in the worker thread)."""
    ref = resolved.reference
    layers = resolved.manifest.layers
    total = sum(layer.size for layer in layers)
    advance = running_total(progress, total)
    if progress is not None:
        progress(0, total)
    fs = FileSystem(limits)
    fs.observer = observer
    fs.check_layers(len(layers))
    for layer in layers:
        chunks = client.stream_blob(ref, layer, progress=advance)

        def apply(reader: io.RawIOBase) -> None:
            fs.apply_layer(reader)

        await run_blocking_reader(chunks, apply, f"layer {layer.digest} of {ref.familiar()}")
    fs.observer = None
    return await resolved_report(fs, ref, resolved, total)


async def resolved_report(
    fs: FileSystem, ref: Reference, resolved: ResolvedImage, compressed_size: int
) -> ImageView:
    """The report of ``resolved``'s merged filesystem ``fs`` (built in a worker thread)."""
    return await asyncio.to_thread(
        build_report,
        fs,
        resolved.config,
        reference=str(ref),
        digest=resolved.digest,
        platform=str(resolved.platform),
        compressed_size=compressed_size,
        manifest_digest=resolved.manifest.digest,
    )


class ImageInspector(LoggingConfigurable):
    """Inspect and validate images; holds the configurable defaults."""

    default_profiles = List(
        Unicode(),
        default_value=["elyra"],
        config=True,
        help=f"""Requirement profiles checked when a request names none. Known profiles:
        {", ".join(known_profiles())}.""",
    )

    max_layers = Integer(
        DEFAULT_LIMITS.max_layers, config=True, help="Most layers an image may have."
    )
    max_files = Integer(
        DEFAULT_LIMITS.max_files,
        config=True,
        help="""Most files and directories an image may have (over all layers) to be
        inspected; each costs about 230 bytes of memory while the image is read.""",
    )
    max_path_depth = Integer(
        DEFAULT_LIMITS.max_depth, config=True, help="Deepest path (in directories) in an image."
    )
    max_symlink_hops = Integer(
        DEFAULT_LIMITS.max_symlink_hops,
        config=True,
        help="Symbolic links followed to resolve one path (beyond: not found, as ELOOP).",
    )
    max_metadata_files = Integer(
        DEFAULT_LIMITS.max_kept_files,
        config=True,
        help="""Most files whose leading bytes are read for the report (package metadata,
        /etc/passwd, os-release, script headers).""",
    )
    max_metadata_bytes = Integer(
        DEFAULT_LIMITS.max_kept_bytes,
        config=True,
        help="Most bytes kept of those files, over all layers.",
    )
    max_package_database_bytes = Integer(
        256 << 20,
        config=True,
        help="""Largest package database file read for the package inventory (an rpmdb is
        read into memory to be opened; a dpkg status or conda-meta record is parsed).""",
    )
    max_package_metadata_bytes = Integer(
        1 << 30,
        config=True,
        help="""Most bytes of package metadata parsed for the inventory, over every layer
        that rewrote a package database.""",
    )
    max_packages = Integer(
        500_000,
        config=True,
        help="""Most package records parsed for the inventory, over every layer (a package
        rewritten by five layers counts five times).""",
    )

    @property
    def limits(self) -> Limits:
        """The inspection budgets, for every reader of image layers (builds included)."""
        return Limits(
            max_layers=self.max_layers,
            max_files=self.max_files,
            max_depth=self.max_path_depth,
            max_symlink_hops=self.max_symlink_hops,
            max_kept_files=self.max_metadata_files,
            max_kept_bytes=self.max_metadata_bytes,
        )

    @validate("default_profiles")
    def _check_profiles(self, proposal: Any) -> list[str]:
        from traitlets import TraitError

        unknown = [p for p in proposal["value"] if p not in known_profiles()]
        if unknown:
            raise TraitError(f"unknown profiles {unknown}; known: {', '.join(known_profiles())}")
        return list(proposal["value"])

    def profile_names(self, profiles: Iterable[str] | None = None) -> list[str]:
        """The requirement profiles to run: ``profiles`` when any are named, else
        ``default_profiles``; an unknown name raises :class:`UnknownProfile`."""
        return check_profile_names(profiles if profiles else self.default_profiles)

    async def inspect(
        self,
        client: RegistryClient,
        reference: Reference | str,
        *,
        platform: str | None = None,
        progress: Progress | None = None,
    ) -> ImageView:
        return await inspect_image(
            client, reference, platform=platform, progress=progress, limits=self.limits
        )

    async def validate(
        self,
        client: RegistryClient,
        reference: Reference | str,
        profiles: Iterable[str] | None = None,
        *,
        platform: str | None = None,
        progress: Progress | None = None,
    ) -> Validation:
        """Inspect the image and run ``profiles`` (default: ``default_profiles``)."""
        names = self.profile_names(profiles)
        view = await self.inspect(client, reference, platform=platform, progress=progress)
        checks = await asyncio.to_thread(run_profiles, view, names)
        return Validation(view.report, names, checks)

    async def validate_platforms(
        self,
        client: RegistryClient,
        reference: Reference | str,
        profiles: Iterable[str] | None = None,
    ) -> PlatformValidation:
        """:meth:`validate` for every platform the image offers, one after the other (each
        holds its file tree in memory only while it is checked)."""
        names = self.profile_names(profiles)
        ref = parse(reference) if isinstance(reference, str) else reference
        results = [
            await self.validate(client, ref, names, platform=platform)
            for platform in await image_platforms(client, ref)
        ]
        digest = results[0].report.digest if results else ""
        return PlatformValidation(str(ref), digest, names, results)
