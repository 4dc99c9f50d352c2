"""Routes that describe the API itself: the instance schema and the OpenAPI document."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..schemas import schema_path
from ..validation import load_schema
from .base import RuntimeImagesHandler


class SchemaHandler(RuntimeImagesHandler):
    """``GET schema``: the runtime-image JSON Schema that drives the frontend's form."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(load_schema())


class OpenAPIHandler(RuntimeImagesHandler):
    """``GET openapi.yaml``: the OpenAPI 3 description of every route."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        text = schema_path("openapi.yaml").read_text("utf-8")
        self.finish(text, set_content_type="application/yaml; charset=utf-8")
