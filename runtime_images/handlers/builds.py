"""REST routes for CustomNBImage builds (``/runtime-images/builds…``)."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_escape, url_path_join
from tornado import web

from ..builds.controller import BuildController
from ..builds.model import parse_text
from .base import AppObject, RuntimeImagesHandler


class BuildsMixin(RuntimeImagesHandler):
    controller: AppObject[BuildController] = AppObject("runtime_images_build_controller")

    async def resource_body(self) -> Any:
        """The body as JSON or YAML (``kubectl`` accepts both for a resource), parsed
        strictly and off the event loop (YAML is parsed in pure Python)."""
        body = self.body_text(needs="a CustomNBImage as JSON or YAML")
        return await self.call(parse_text, body)


class BuildCollectionHandler(BuildsMixin):
    """``GET`` lists the builds; ``POST`` submits a CustomNBImage (JSON or YAML).

    ``POST builds?engine=NAME`` runs it with that engine (e.g. ``buildah``) instead of the
    configured default; 409 when no such engine is available.
    """

    @web.authenticated
    @authorized
    async def get(self) -> None:
        builds = await self.call(self.controller.list)
        self.write_json({"builds": builds})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        document = await self.resource_body()
        engine = self.get_query_argument("engine", None) or None
        resource = await self.controller.submit(document, engine=engine)
        name = resource["metadata"]["name"]
        self.set_header(
            "Location", url_path_join(self.base_url, "runtime-images", "builds", url_escape(name))
        )
        self.write_json(resource, 201)


class BuildHandler(BuildsMixin):
    """One build: ``GET`` (status included), ``DELETE`` (cancel and remove)."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.write_json(await self.call(self.controller.get, name))

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await self.controller.delete(name)
        self.set_status(204)
        self.finish()


class BuildLogHandler(BuildsMixin):
    """``GET builds/{name}/log``: the build's log as text."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        text = await self.call(self.controller.read_log, name)
        self.finish(text, set_content_type="text/plain; charset=utf-8")


class BuildCancelHandler(BuildsMixin):
    """``POST builds/{name}/cancel``: stop a Pending or Building build (409 when ended)."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        self.write_json(await self.controller.cancel(name))


class BuildRetryHandler(BuildsMixin):
    """``POST builds/{name}/retry``: run an ended build again (409 while it runs)."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        self.write_json(await self.controller.retry(name))
