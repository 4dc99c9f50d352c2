"""Inspect and validate images straight from a registry, streaming their layers.

Nothing here parses on the event loop: layers are read in a worker thread as they stream
in, and the report and the checks, which walk the whole tree, run in a thread too.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from traitlets import Integer, List, Unicode, validate
from traitlets.config import LoggingConfigurable

from ..reference import Reference, parse
from ..registry import RegistryClient, ResolvedImage
from .filesystem import DEFAULT_LIMITS, FileSystem, Limits
from .profiles import PROFILES, CheckResult, check_profile_names, run_profiles
from .report import ImageReport, ImageView, build_report
from .stream import run_blocking_reader

__all__ = ["ImageInspector", "Progress", "Validation", "inspect_image", "resolved_report"]

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
        }


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
    layers = resolved.manifest.layers
    total = sum(layer.size for layer in layers)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    if progress is not None:
        progress(0, total)
    fs = FileSystem(limits)
    fs.check_layers(len(layers))
    for layer in layers:
        chunks = client.stream_blob(ref, layer, progress=advance)

        def apply(reader: io.RawIOBase) -> None:
            fs.apply_layer(reader)

        await run_blocking_reader(chunks, apply, f"layer {layer.digest} of {ref.familiar()}")
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
    )


class ImageInspector(LoggingConfigurable):
    """Inspect and validate images; holds the configurable defaults."""

    default_profiles = List(
        Unicode(),
        default_value=["elyra"],
        config=True,
        help=f"""Requirement profiles checked when a request names none. Known profiles:
        {", ".join(PROFILES)}.""",
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

        unknown = [p for p in proposal["value"] if p not in PROFILES]
        if unknown:
            raise TraitError(f"unknown profiles {unknown}; known: {', '.join(PROFILES)}")
        return list(proposal["value"])

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
        names = check_profile_names(profiles if profiles else self.default_profiles)
        view = await self.inspect(client, reference, platform=platform, progress=progress)
        checks = await asyncio.to_thread(run_profiles, view, names)
        return Validation(view.report, names, checks)
