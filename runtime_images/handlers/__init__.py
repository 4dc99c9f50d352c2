"""Route table of the REST API under ``{base_url}runtime-images/``."""

from __future__ import annotations

from typing import Any

from .images import (
    DuplicateHandler,
    ExportHandler,
    ImageCollectionHandler,
    ImageHandler,
    ImportHandler,
)
from .meta import OpenAPIHandler, SchemaHandler

_NAME = r"(?P<name>[^/]+)"

ROUTES: list[tuple[str, type[Any]]] = [
    (r"/runtime-images/images", ImageCollectionHandler),
    (rf"/runtime-images/images/{_NAME}", ImageHandler),
    (rf"/runtime-images/images/{_NAME}/duplicate", DuplicateHandler),
    (r"/runtime-images/export", ExportHandler),
    (r"/runtime-images/import", ImportHandler),
    (r"/runtime-images/schema", SchemaHandler),
    (r"/runtime-images/openapi.yaml", OpenAPIHandler),
]
