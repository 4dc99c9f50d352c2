"""``GET export/{format}``: the selected runtime images in another platform's format.

Query: ``name`` and ``tag`` (repeatable; none: every valid image), ``style`` (a format's
variant, e.g. ``choice`` for kubespawner, ``list`` for prepuller), ``creator`` (ODH),
``platform`` (whose contents the ODH annotations describe) and ``download=true`` (an
attachment). The body is the document itself (YAML, JSON or text); images skipped (kept on
this machine only) are named in the ``X-Runtime-Images-Warnings`` header (a JSON array).
"""

from __future__ import annotations

import json

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..exports import ImageExporter
from ..inspect import ImageInspector
from .base import AppObject, field_error
from .registry import RegistryMixin

MAX_WARNINGS_IN_HEADER = 20


class ExportFormatHandler(RegistryMixin):
    exporter: AppObject[ImageExporter] = AppObject("runtime_images_exporter")
    inspector: AppObject[ImageInspector] = AppObject("runtime_images_inspector")

    def _one(self, name: str) -> str | None:
        values = self.get_query_arguments(name)
        if len(values) > 1:
            raise field_error(400, f"Give the query argument {name!r} at most once.", name)
        return values[0] if values else None

    @web.authenticated
    @authorized
    async def get(self, format: str) -> None:
        download = self.bool_argument("download")
        platform = self._one("platform")
        if platform is not None:
            from ..registry import Platform

            try:
                Platform.parse(platform)
            except ValueError as error:
                raise field_error(400, str(error), "platform") from None
        listing = await self.call(self.store.listing)
        result = await self.exporter.export(
            listing.instances,
            format,
            registry=self.registry,
            inspector=self.inspector,
            names=self.get_query_arguments("name"),
            tags=self.get_query_arguments("tag"),
            style=self._one("style"),
            creator=self._one("creator"),
            platform=platform,
        )
        if result.warnings:
            shown = result.warnings[:MAX_WARNINGS_IN_HEADER]
            self.set_header("X-Runtime-Images-Warnings", json.dumps(shown, ensure_ascii=True))
        if download:
            self.set_header("Content-Disposition", f'attachment; filename="{result.filename}"')
        self.finish(
            result.text.encode("utf-8"), set_content_type=f"{result.media_type}; charset=utf-8"
        )
