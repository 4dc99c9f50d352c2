"""The Jupyter server extension: configuration, components and routes."""

from __future__ import annotations

from typing import Any, cast

from jupyter_events import EventLogger
from jupyter_server.extension.application import ExtensionApp
from traitlets import Instance, Integer, Type, default

from . import __version__
from .builds.controller import BuildController
from .builds.wiring import make_build_controller
from .handlers import ROUTES
from .inspect import ImageInspector
from .kernelspec import KernelspecInstaller
from .publish import ImagePublisher
from .registry import RegistryClient
from .schemas import schema_path
from .store import RuntimeImageStore

BUILD_EVENT_SCHEMA = schema_path("events/build.yaml")
BUILD_EVENT_SCHEMA_ID = "https://events.jupyter.org/runtime_images/build"
PUBLISH_EVENT_SCHEMA = schema_path("events/publish.yaml")
PUBLISH_EVENT_SCHEMA_ID = "https://events.jupyter.org/runtime_images/publish"


def _component(klass: type[Any], what: str) -> Type[Any, Any]:
    """A component's class, swappable with a subclass named in configuration."""
    return Type(
        default_value=klass,
        klass=klass,
        config=True,
        help=f"{what}: this class or a subclass (configure it as c.{klass.__name__}.<trait>).",
    )


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

    # The components, swappable the jupyter_server way (a subclass named in configuration)
    # and made once; configure each as c.<ClassName>.<trait>.

    store_class = _component(RuntimeImageStore, "The runtime image store")
    registry_class = _component(RegistryClient, "The OCI registry client")
    inspector_class = _component(ImageInspector, "Image inspection and checks")
    kernelspec_installer_class = _component(KernelspecInstaller, "The kernelspec installer")
    build_controller_class = _component(BuildController, "The build controller")
    publisher_class = _component(ImagePublisher, "Publishing images out of this machine")

    store = Instance(RuntimeImageStore)
    registry = Instance(RegistryClient)
    inspector = Instance(ImageInspector)
    kernelspec_installer = Instance(KernelspecInstaller)
    build_controller = Instance(BuildController)
    publisher = Instance(ImagePublisher)

    @default("store")
    def _default_store(self) -> RuntimeImageStore:
        return cast(RuntimeImageStore, self.store_class(parent=self))

    @default("registry")
    def _default_registry(self) -> RegistryClient:
        return cast(RegistryClient, self.registry_class(parent=self))

    @default("inspector")
    def _default_inspector(self) -> ImageInspector:
        return cast(ImageInspector, self.inspector_class(parent=self))

    @default("kernelspec_installer")
    def _default_kernelspec_installer(self) -> KernelspecInstaller:
        return cast(KernelspecInstaller, self.kernelspec_installer_class(parent=self))

    @default("publisher")
    def _default_publisher(self) -> ImagePublisher:
        return cast(ImagePublisher, self.publisher_class(parent=self))

    @default("build_controller")
    def _default_build_controller(self) -> BuildController:
        return make_build_controller(
            self,
            self.store,
            self.registry,
            self.inspector,
            emit=self._emit_build_event,
            controller_class=self.build_controller_class,
        )

    @property
    def event_logger(self) -> EventLogger:
        assert self.serverapp is not None and self.serverapp.event_logger is not None
        return self.serverapp.event_logger

    def _emit_build_event(self, event: dict[str, Any]) -> None:
        self.event_logger.emit(schema_id=BUILD_EVENT_SCHEMA_ID, data=event)

    def _emit_publish_event(self, event: dict[str, Any]) -> None:
        self.event_logger.emit(schema_id=PUBLISH_EVENT_SCHEMA_ID, data=event)

    def initialize_settings(self) -> None:
        self.event_logger.register_event_schema(BUILD_EVENT_SCHEMA)
        self.event_logger.register_event_schema(PUBLISH_EVENT_SCHEMA)
        self.settings.update(
            {
                "runtime_images_build_controller": self.build_controller,
                "runtime_images_kernelspec_installer": self.kernelspec_installer,
                "runtime_images_store": self.store,
                "runtime_images_registry": self.registry,
                "runtime_images_inspector": self.inspector,
                "runtime_images_publisher": self.publisher,
                "runtime_images_emit_publish": self._emit_publish_event,
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
        await self.build_controller.start()

    async def stop_extension(self) -> None:
        await self.build_controller.stop()
        await self.registry.aclose()


main = launch_new_instance = RuntimeImages.launch_instance
