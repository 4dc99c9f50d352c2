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
from .contents import DiffHandler, InspectHandler, LayersHandler, SbomHandler
from .exports import ExportFormatHandler
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
from .vulns import VulnsHandler, VulnsSummaryHandler
from .watch import HistoryHandler, RepinHandler, UpdatesCheckHandler, UpdatesHandler

_NAME = r"(?P<name>[^/]+)"

ROUTES: list[tuple[str, type[Any]]] = [
    (r"/runtime-images/images", ImageCollectionHandler),
    (rf"/runtime-images/images/{_NAME}", ImageHandler),
    (rf"/runtime-images/images/{_NAME}/duplicate", DuplicateHandler),
    (rf"/runtime-images/images/{_NAME}/pin", PinHandler),
    (rf"/runtime-images/images/{_NAME}/kernelspec", KernelspecHandler),
    (rf"/runtime-images/images/{_NAME}/repin", RepinHandler),
    (rf"/runtime-images/images/{_NAME}/history", HistoryHandler),
    (r"/runtime-images/updates", UpdatesHandler),
    (r"/runtime-images/updates/check", UpdatesCheckHandler),
    (rf"/runtime-images/images/{_NAME}/publish", ImagePublishHandler),
    (r"/runtime-images/builds", BuildCollectionHandler),
    (rf"/runtime-images/builds/{_NAME}", BuildHandler),
    (rf"/runtime-images/builds/{_NAME}/log", BuildLogHandler),
    (rf"/runtime-images/builds/{_NAME}/cancel", BuildCancelHandler),
    (rf"/runtime-images/builds/{_NAME}/retry", BuildRetryHandler),
    (rf"/runtime-images/builds/{_NAME}/publish", BuildPublishHandler),
    (r"/runtime-images/validate", ValidateHandler),
    (r"/runtime-images/inspect", InspectHandler),
    (r"/runtime-images/sbom", SbomHandler),
    (r"/runtime-images/layers", LayersHandler),
    (r"/runtime-images/diff", DiffHandler),
    (r"/runtime-images/vulns", VulnsHandler),
    (r"/runtime-images/vulns/summary", VulnsSummaryHandler),
    (r"/runtime-images/export", ExportHandler),
    (r"/runtime-images/export/(?P<format>[^/]+)", ExportFormatHandler),
    (r"/runtime-images/import", ImportHandler),
    (r"/runtime-images/schema", SchemaHandler),
    (r"/runtime-images/openapi.yaml", OpenAPIHandler),
]
