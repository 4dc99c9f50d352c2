"""ImageImport builds of the embedded engine: pin, inspect and validate, then configure.

Steps, each a condition: ``Importing`` (resolve the tag to the digest the registry serves),
``Validating`` (stream the layers, check the requirement profiles), then ``Ready`` (create
or update the runtime image named like the resource, pinned to the digest with the tag
kept). Nothing touches the runtime image unless every step succeeded. A build resumed after
a restart reuses the digest it had already pinned, so it validates what it resolved.
"""

from __future__ import annotations

from .. import registry
from ..reference import Reference, parse
from . import model
from .engine import BuildContext
from .outcome import Outcomes, failure_of, push_image
from .settings import BuildSettings

__all__ = ["ImageImport"]

STEPS = 3


class ImageImport:
    """Imports an existing image inside the server, with no container runtime."""

    def __init__(
        self, settings: BuildSettings, client: registry.RegistryClient, outcomes: Outcomes
    ) -> None:
        self.settings = settings
        self.client = client
        self.outcomes = outcomes

    async def run(self, build: BuildContext) -> None:
        pinned = await self._pin(build, build.spec["fromImage"])
        validation = await self.outcomes.validate_in_registry(build, pinned, 1, STEPS)
        result = await self._copy(build, pinned)
        await self.outcomes.ready(build, result, validation, "Imported")

    async def _pin(self, build: BuildContext, source: str) -> Reference:
        already = build.status.get("image")
        if already:  # resumed: validate exactly what was resolved before the restart
            return parse(already)
        await build.step(model.IMPORTING, f"Resolving {source} in its registry.")
        build.progress(0, 0, 0, STEPS)
        try:
            pinned = await self.client.pin(source)
        except registry.RegistryError as error:
            raise failure_of(error, source, model.IMPORTING) from None
        await build.update(image=str(pinned))
        await build.condition(
            model.IMPORTING, "True", "Resolved", f"{source} resolved to {pinned.digest}."
        )
        return pinned

    async def _copy(self, build: BuildContext, pinned: Reference) -> Reference:
        """With ImageBuilder.copy_imports, copy the image to the target registry."""
        settings = self.settings
        if not settings.copy_imports or not settings.target_registry:
            return pinned
        prefix = settings.target_registry.rstrip("/")
        target = parse(f"{prefix}/{build.name}:{pinned.tag or 'latest'}").with_digest(
            str(pinned.digest)
        )
        await push_image(
            build,
            target,
            lambda progress: self.client.copy_image(
                pinned, target.without_digest(), progress=progress
            ),
        )
        await build.update(image=str(target), sourceImage=str(pinned))
        return target
