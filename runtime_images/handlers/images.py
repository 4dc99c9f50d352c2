"""REST routes for runtime image configurations (``/runtime-images/images…``)."""

from __future__ import annotations

import json
from collections.abc import Callable

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_escape, url_path_join
from tornado import web

from ..exports import FORMATS
from ..store import Entry
from .base import RuntimeImagesHandler

MAX_IMPORT_ITEMS = 10_000


class ImagesMixin(RuntimeImagesHandler):
    def location_of(self, name: str) -> str:
        return url_path_join(self.base_url, "runtime-images", "images", url_escape(name))

    def write_entry(self, entry: Entry, status: int = 200) -> None:
        self.set_header("ETag", entry.etag)
        if status == 201:
            self.set_header("Location", self.location_of(entry.name))
        self.write_json(entry.to_api(), status)


class ImageCollectionHandler(ImagesMixin):
    """``GET`` lists the images; ``POST`` creates one."""

    # The serialized list of the last listing version: polling clients and repeated
    # requests on an unchanged store skip re-encoding thousands of instances.
    _cached_body: tuple[str, bytes] | None = None

    @web.authenticated
    @authorized
    async def get(self) -> None:
        include_invalid = self.bool_argument("include_invalid")
        listing = await self.call(self.store.listing)
        version = f"{listing.version}{'-all' if include_invalid else ''}"
        self.set_header("ETag", f'"{version}"')
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return
        cached = ImageCollectionHandler._cached_body
        if cached is None or cached[0] != version:
            payload: dict[str, object] = {"runtime-images": [e.to_api() for e in listing.instances]}
            if include_invalid:
                payload["invalid"] = [e.to_invalid_api() for e in listing.invalid]
            cached = (version, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
            ImageCollectionHandler._cached_body = cached
        self.finish(cached[1])

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = await self.json_body()
        entry = await self.call(self.store.create, body)
        self.write_entry(entry, 201)


class ImageHandler(ImagesMixin):
    """One image: ``GET``, ``PUT`` (replace), ``PATCH`` (merge patch), ``DELETE``."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        entry = await self.call(self.store.get, name)
        self.set_header("ETag", entry.etag)
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return
        self.write_entry(entry)

    @web.authenticated
    @authorized
    async def put(self, name: str) -> None:
        await self._write(name, self.store.replace)

    @web.authenticated
    @authorized
    async def patch(self, name: str) -> None:
        await self._write(name, self.store.patch)

    async def _write(self, name: str, write: Callable[[str, object, str | None], Entry]) -> None:
        """PUT and PATCH: the body applied by ``write`` (replace or merge patch), honouring
        the request's If-Match."""
        body = await self.json_body()
        if_match = self.request.headers.get("If-Match")
        self.write_entry(await self.call(write, name, body, if_match))

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        if_match = self.request.headers.get("If-Match")
        await self.call(self.store.delete, name, if_match)
        self.set_status(204)
        self.finish()


class DuplicateHandler(ImagesMixin):
    """``POST images/{name}/duplicate`` copies an image as "<display name> (copy)"."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        entry = await self.call(self.store.duplicate, name)
        self.write_entry(entry, 201)


class ExportHandler(RuntimeImagesHandler):
    """``GET export``: every valid image in Elyra's file format plus its name (the bundle
    ``POST import`` reads), and the formats of ``GET export/{format}``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        listing = await self.call(self.store.listing)
        items = [{"name": e.name, **e.to_file()} for e in listing.instances]
        formats = [f.to_json() for f in FORMATS.values()]
        self.write_json({"runtime-images": items, "formats": formats})


class ImportHandler(RuntimeImagesHandler):
    """``POST import[?overwrite=true]``: import a bundle, reporting on every item."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        overwrite = self.bool_argument("overwrite")
        body = await self.json_body(
            limit=int(self.settings.get("runtime_images_max_import_bytes", 0))
        )
        items = body.get("runtime-images") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise web.HTTPError(
                400, 'The body must be {"runtime-images": [...]} as written by export.'
            )
        if len(items) > MAX_IMPORT_ITEMS:
            raise web.HTTPError(413, f"Import at most {MAX_IMPORT_ITEMS} images at once.")
        results = await self.call(self.store.import_instances, items, overwrite)
        self.write_json({"results": [r.to_json() for r in results]})
