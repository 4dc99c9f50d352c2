"""The Jupyter server extension: configuration, components and routes."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Instance, Integer, default

from . import __version__
from .handlers import ROUTES
from .store import RuntimeImageStore


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

    def initialize_settings(self) -> None:
        self.settings.update(
            {
                "runtime_images_store": self.store,
                "runtime_images_max_body_bytes": self.max_body_bytes,
                "runtime_images_max_import_bytes": self.max_import_bytes,
            }
        )
        self.log.info("runtime-images: user images in %s", self.store.user_layer.directory)

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)


main = launch_new_instance = RuntimeImages.launch_instance
