"""``POST images/{name}/publish`` and ``POST builds/{name}/publish``: copy an image out of
this machine (or out of its registry) to a registry, an archive or an engine's storage.

The request waits for the copy; its progress goes to the event bus (schema
``publish.yaml``) at most twice a second, so the panel can show it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..builds import model
from ..builds.controller import BuildController
from ..errors import ConflictError
from ..publish import ImagePublisher, Published, PublishRequest
from ..registry import RegistryClient
from ..watch import move_image
from .base import RuntimeImagesHandler

PROGRESS_INTERVAL = 0.5


class PublishMixin(RuntimeImagesHandler):
    async def publish(self, source: str, runtime_image: str | None) -> None:
        """Publish ``source``; with ``repoint``, move ``runtime_image`` to the copy."""
        root = Path(self.settings.get("server_root_dir") or ".").expanduser()
        request = PublishRequest.parse(await self.json_body(), root)
        etag = None
        if request.repoint and runtime_image is not None:
            # Read now: an edit made while the image is copied is not overwritten (412).
            entry = await self.call(self.store.get, runtime_image)
            etag = self.request.headers.get("If-Match") or entry.etag
            self.store.check_if_match(entry, etag)  # a stale version is refused before copying
        publisher: ImagePublisher = self.settings["runtime_images_publisher"]
        client: RegistryClient = self.settings["runtime_images_registry"]
        emit = self.settings["runtime_images_emit_publish"]
        event = {"source": source, "to": str(request.to)}
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL:
                last = now
                emit({**event, "phase": "Publishing", "bytesDone": done, "bytesTotal": total})

        try:
            published: Published = await publisher.publish(client, source, request.to, progress)
        except Exception as error:
            emit({**event, "phase": "Failed", "message": str(error)[:2000]})
            raise
        document: dict[str, Any] | None = None
        kernelspecs: list[str] = []
        if request.repoint and runtime_image is not None and etag is not None:
            entry, kernelspecs = await self.call(
                move_image, self.store, runtime_image, published.image, "published", etag
            )
            document = entry.to_api()
        emit({**event, "phase": "Published", "digest": published.digest, "image": published.image})
        self.write_json(
            {**published.to_json(), "runtimeImage": document, "kernelspecs": kernelspecs}
        )


class ImagePublishHandler(PublishMixin):
    """Publish the image a runtime image names."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        entry = await self.call(self.store.get, name)
        image = ((entry.document or {}).get("metadata") or {}).get("image_name")
        await self.publish(str(image), name)


class BuildPublishHandler(PublishMixin):
    """Publish the image a Ready build made (its runtime image is the one repointed)."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        controller: BuildController = self.settings["runtime_images_build_controller"]
        resource = await self.call(controller.get, name)
        status = resource.get("status") or {}
        if status.get("phase") != model.READY or not status.get("image"):
            raise ConflictError(
                f"The build {name!r} has no image to publish yet (phase "
                f"{status.get('phase') or model.PENDING}); publish it once it is Ready."
            )
        await self.publish(str(status["image"]), status.get("runtimeImage"))
