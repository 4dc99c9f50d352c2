"""The default engine: builds in the Jupyter server itself, with no daemon.

ImageImport builds are imported (:mod:`.importer`); PackageList and GitRepository builds
are made by layer append (:mod:`.layer_append`). What layer append cannot build goes to
the fallback engine (``ImageBuilder.fallback_engine``, e.g. buildah) or fails with its
reason (``RequiresBuild``, ``BuildFailed``).
"""

from __future__ import annotations

from . import model
from .engine import BuildContext, BuildFailure, Engine
from .importer import ImageImport
from .layer_append import CannotAppend, LayerAppend

__all__ = ["EmbeddedEngine"]


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, importer: ImageImport, layer_append: LayerAppend) -> None:
        self.importer = importer
        self.layer_append = layer_append
        self.fallback: Engine | None = None  # ImageBuilder.fallback_engine, set by the wiring

    async def run(self, build: BuildContext) -> None:
        if build.spec["buildType"] == model.IMAGE_IMPORT:
            await self.importer.run(build)
            return
        try:
            await self.layer_append.run(build)
        except CannotAppend as error:
            if self.fallback is None:
                raise BuildFailure(error.reason, str(error), model.BUILDING_STEP) from None
            if model.requested_platforms(build.resource):
                message = (
                    f"{error} (not handed to the {self.fallback.name} engine: it builds one "
                    "platform, and this build asks for several)"
                )
                raise BuildFailure(error.reason, message, model.BUILDING_STEP) from None
            message = (
                f"Layer append cannot build this ({error}); handing it to the "
                f"{self.fallback.name} engine (ImageBuilder.fallback_engine)."
            )
            await build.condition(model.BUILDING_STEP, "Unknown", "HandedOver", message)
            await build.update(handedOverTo=self.fallback.name)
            await self.fallback.run(build)
