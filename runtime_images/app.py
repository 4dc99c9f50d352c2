"""The Jupyter server extension: configuration, components and routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_events import EventLogger
from jupyter_server.extension.application import ExtensionApp
from traitlets import Instance, Integer, default

from . import __version__
from .builds.controller import BuildController
from .builds.wiring import make_build_controller
from .handlers import ROUTES
from .inspect import ImageInspector
from .registry import RegistryClient
from .store import RuntimeImageStore

BUILD_EVENT_SCHEMA = Path(__file__).parent / "schemas" / "events" / "build.yaml"
BUILD_EVENT_SCHEMA_ID = "https://events.jupyter.org/runtime_images/build"


class RuntimeImages(ExtensionApp):
    """Manage runtime images from JupyterLab: store, REST API, builds and checks.

    Configure it as ``c.RuntimeImages.<trait>`` and its components as
    ``c.RuntimeImageStore.<trait>`` in ``jupyter_server_config.py`` (read by the server and
    by the ``jupyter runtime-images`` CLI alike).
    """

    name = "runtime_images"
    version = __version__
    description = __doc__
    load_other_extensions = True

    max_body_bytes = Integer(
        1024 * 1024,
        help="Largest request body accepted for one runtime image (bytes); larger is a 413.",
    ).tag(config=True)

    max_import_bytes = Integer(
        16 * 1024 * 1024,
        help="Largest body accepted by POST /runtime-images/import (bytes).",
    ).tag(config=True)

    store = Instance(RuntimeImageStore, help="The runtime image store (not configurable).")

    @default("store")
    def _default_store(self) -> RuntimeImageStore:
        return RuntimeImageStore(parent=self)

    registry = Instance(
        RegistryClient,
        help="The registry client; configure it as c.RegistryClient.<trait> (not configurable).",
    )

    @default("registry")
    def _default_registry(self) -> RegistryClient:
        return RegistryClient(parent=self)

    inspector = Instance(
        ImageInspector,
        help="Image checks; configure them as c.ImageInspector.<trait> (not configurable).",
    )

    @default("inspector")
    def _default_inspector(self) -> ImageInspector:
        return ImageInspector(parent=self)

    builds = Instance(
        BuildController,
        help="The build controller; configure it as c.BuildController.<trait> (not configurable).",
    )

    @default("builds")
    def _default_builds(self) -> BuildController:
        return make_build_controller(
            self, self.store, self.registry, self.inspector, emit=self._emit_build_event
        )

    @property
    def event_logger(self) -> EventLogger:
        assert self.serverapp is not None and self.serverapp.event_logger is not None
        return self.serverapp.event_logger

    def _emit_build_event(self, event: dict[str, Any]) -> None:
        self.event_logger.emit(schema_id=BUILD_EVENT_SCHEMA_ID, data=event)

    def initialize_settings(self) -> None:
        self.event_logger.register_event_schema(BUILD_EVENT_SCHEMA)
        self.settings.update(
            {
                "runtime_images_builds": self.builds,
                "runtime_images_store": self.store,
                "runtime_images_registry": self.registry,
                "runtime_images_inspector": self.inspector,
                "runtime_images_max_body_bytes": self.max_body_bytes,
                "runtime_images_max_import_bytes": self.max_import_bytes,
            }
        )
        self.log.info("runtime-images: user images in %s", self.store.user_layer.directory)
        removed = self.store.remove_stale_temp_files()
        if removed:
            self.log.info("runtime-images: removed %d files left by interrupted writes", removed)

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        await self.builds.start()

    async def stop_extension(self) -> None:
        await self.builds.stop()
        await self.registry.aclose()


main = launch_new_instance = RuntimeImages.launch_instance
