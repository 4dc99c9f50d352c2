"""REST routes of the watch: ``GET updates``, ``POST updates/check``,
``POST images/{name}/repin`` and ``GET images/{name}/history``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import ValidationFailedError
from ..fields import FieldError
from ..watch import TagWatcher, repin
from .base import AppObject
from .registry import RegistryMixin


class WatchMixin(RegistryMixin):
    watcher: AppObject[TagWatcher] = AppObject("runtime_images_tag_watcher")


class UpdatesHandler(WatchMixin):
    """``GET updates``: the tags that moved, as the last check saw them."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(await self.call(self.watcher.updates))


class UpdatesCheckHandler(WatchMixin):
    """``POST updates/check``: resolve every watched tag now, then answer as ``GET updates``."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.write_json(await self.watcher.check())


class RepinHandler(WatchMixin):
    """``POST images/{name}/repin`` ``{"dryRun": bool}``: move the image and its kernelspecs
    to the digest its tag has now (``If-Match`` honoured as by PUT)."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        dry_run = False
        if self.request.body.strip():
            body = await self.json_body()
            if not isinstance(body, dict):
                raise ValidationFailedError([FieldError("", "the body must be a JSON object")])
            unknown = [FieldError(str(k), "is not a repin option") for k in body if k != "dryRun"]
            dry_run_value = body.get("dryRun", False)
            if not isinstance(dry_run_value, bool):
                unknown.append(FieldError("dryRun", "must be true or false"))
            if unknown:
                raise ValidationFailedError(unknown)
            dry_run = dry_run_value
        result = await repin(
            self.store,
            self.registry,
            name,
            dry_run=dry_run,
            if_match=self.request.headers.get("If-Match"),
        )
        self.set_header("ETag", result.entry.etag)
        self.write_json(result.to_json())


class HistoryHandler(WatchMixin):
    """``GET images/{name}/history``: the digests the image pointed at, when and why."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        await self.call(self.store.get_entry, name)  # 404 for an unknown image
        self.write_json({"history": await self.call(self.store.history, name)})
