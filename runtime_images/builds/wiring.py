"""Builds the build controller and its engines from configuration: the one place the
server, the CLI, tests and benchmarks get a controller from."""

from __future__ import annotations

from typing import Any

from traitlets.config import Config

from ..contents import ContentsReader
from ..inspect import ImageInspector
from ..registry import RegistryClient
from ..store import RuntimeImageStore
from .base_image import BaseImages
from .buildah import BuildahEngine
from .controller import BuildController, Emit
from .embedded import EmbeddedEngine
from .importer import ImageImport
from .layer_append import LayerAppend
from .outcome import DocumentChecks, Outcomes
from .settings import BuildSettings
from .store import default_directory

__all__ = ["builds_directory", "make_build_controller"]


def make_build_controller(
    parent: Any,
    store: RuntimeImageStore,
    registry: RegistryClient,
    inspector: ImageInspector,
    emit: Emit | None = None,
    controller_class: type[BuildController] = BuildController,
    document_checks: DocumentChecks | None = None,
    contents: ContentsReader | None = None,
    **traits: Any,
) -> BuildController:
    """The build controller with its engines.

    The embedded engine is always there; the buildah engine when the buildah command is
    installed (``c.BuildahEngine.command``); the kubernetes engine only when it is configured
    (``c.BuildController.engine = "kubernetes"`` or any ``c.KubernetesEngine`` setting).
    ``c.ImageBuilder.fallback_engine`` names the engine the embedded one hands what layer
    append cannot build to. ``contents`` (the server's reader) checks images in registries
    through the contents cache.
    """
    controller = controller_class(parent=parent, engines={}, emit=emit, **traits)
    settings = BuildSettings(parent=parent, config=controller.config)
    outcomes = Outcomes(
        store,
        registry,
        inspector,
        controller.default_profiles,
        contents,
        document_checks=document_checks,
    )
    importer = ImageImport(settings, registry, outcomes)
    bases = BaseImages(settings, registry, inspector)
    embedded = EmbeddedEngine(importer, LayerAppend(settings, registry, bases, outcomes))
    controller.engines[embedded.name] = embedded
    buildah = BuildahEngine(
        settings, registry, outcomes, importer, parent=parent, config=controller.config
    )
    if buildah.available:
        controller.engines[buildah.name] = buildah
    if controller.engine == "kubernetes" or "KubernetesEngine" in controller.config:
        from .kubernetes import KubernetesEngine

        controller.engines["kubernetes"] = KubernetesEngine(
            store, registry=registry, parent=controller
        )
    fallback = settings.fallback_engine
    if fallback:
        embedded.fallback = controller.engines.get(fallback)
        if embedded.fallback is None:
            controller.log.warning(
                "runtime-images: ImageBuilder.fallback_engine = %r, but no such engine is "
                "available (is its command installed?); builds layer append cannot do will fail.",
                fallback,
            )
    return controller


def builds_directory(config: Config) -> str:
    """Where the builds of this configuration live (``BuildController.builds_dir``), without
    making a controller."""
    configured = config.BuildController.get("builds_dir") if "BuildController" in config else None
    return str(configured) if configured else default_directory()
