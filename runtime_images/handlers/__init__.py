"""Route table of the REST API under ``{base_url}runtime-images/``."""

from __future__ import annotations

from typing import Any

from .builds import (
    BuildCancelHandler,
    BuildCollectionHandler,
    BuildHandler,
    BuildLogHandler,
    BuildRetryHandler,
)
from .images import (
    DuplicateHandler,
    ExportHandler,
    ImageCollectionHandler,
    ImageHandler,
    ImportHandler,
)
from .kernelspec import KernelspecHandler
from .meta import OpenAPIHandler, SchemaHandler
from .publish import BuildPublishHandler, ImagePublishHandler
from .registry import PinHandler
from .validate import ValidateHandler

_NAME = r"(?P<name>[^/]+)"

ROUTES: list[tuple[str, type[Any]]] = [
    (r"/runtime-images/images", ImageCollectionHandler),
    (rf"/runtime-images/images/{_NAME}", ImageHandler),
    (rf"/runtime-images/images/{_NAME}/duplicate", DuplicateHandler),
    (rf"/runtime-images/images/{_NAME}/pin", PinHandler),
    (rf"/runtime-images/images/{_NAME}/kernelspec", KernelspecHandler),
    (rf"/runtime-images/images/{_NAME}/publish", ImagePublishHandler),
    (r"/runtime-images/builds", BuildCollectionHandler),
    (rf"/runtime-images/builds/{_NAME}", BuildHandler),
    (rf"/runtime-images/builds/{_NAME}/log", BuildLogHandler),
    (rf"/runtime-images/builds/{_NAME}/cancel", BuildCancelHandler),
    (rf"/runtime-images/builds/{_NAME}/retry", BuildRetryHandler),
    (rf"/runtime-images/builds/{_NAME}/publish", BuildPublishHandler),
    (r"/runtime-images/validate", ValidateHandler),
    (r"/runtime-images/export", ExportHandler),
    (r"/runtime-images/import", ImportHandler),
    (r"/runtime-images/schema", SchemaHandler),
    (r"/runtime-images/openapi.yaml", OpenAPIHandler),
]
