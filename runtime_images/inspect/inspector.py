"""Inspect and validate images straight from a registry, streaming their layers."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from traitlets import List, Unicode, validate
from traitlets.config import LoggingConfigurable

from ..reference import Reference, parse
from ..registry import RegistryClient
from .filesystem import FileSystem
from .profiles import PROFILES, CheckResult, check_profile_names, run_profiles
from .report import ImageReport, ImageView, build_report
from .stream import run_blocking_reader

__all__ = ["ImageInspector", "Progress", "Validation", "inspect_image"]

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
    fs = FileSystem()
    for layer in layers:
        chunks = client.stream_blob(ref, layer, progress=advance)

        def apply(reader: io.RawIOBase) -> None:
            fs.apply_layer(reader)

        await run_blocking_reader(chunks, apply, f"layer {layer.digest} of {ref.familiar()}")
    return build_report(
        fs,
        resolved.config,
        reference=str(ref),
        digest=resolved.digest,
        platform=str(resolved.platform),
        compressed_size=total,
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
        return await inspect_image(client, reference, platform=platform, progress=progress)

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
        return Validation(view.report, names, run_profiles(view, names))
