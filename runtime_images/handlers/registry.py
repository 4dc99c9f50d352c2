"""REST routes that talk to registries: ``POST images/{name}/pin``.

Registry failures become 4xx errors that cannot be mistaken for the server's own: the
runtime image exists but its image does not (422), the registry rate-limits (429), or it
needs other credentials, is unreachable or served corrupt content (424 Failed Dependency).
The JSON ``code`` names the cause (``AuthRequired``, ``RegistryUnavailable``,
``DigestMismatch``…). Not 502: this server did not fail, and "no 5xx" is its contract.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..reference import InvalidReferenceError
from ..registry import (
    ImageNotFound,
    RateLimited,
    RegistryClient,
    RegistryError,
)
from .images import ImagesMixin

T = TypeVar("T")


class RegistryHTTPError(web.HTTPError):
    """An HTTP error caused by a registry; ``code`` is the machine-readable cause."""

    def __init__(self, status_code: int, message: str, code: str) -> None:
        super().__init__(status_code, message.replace("%", "%%"))
        self.code = code


def registry_http_error(error: RegistryError) -> RegistryHTTPError:
    if isinstance(error, ImageNotFound):
        status = 422
    elif isinstance(error, RateLimited):
        status = 429
    else:
        status = 424
    return RegistryHTTPError(status, error.message, type(error).__name__)


class RegistryMixin(ImagesMixin):
    @property
    def registry(self) -> RegistryClient:
        client: RegistryClient = self.settings["runtime_images_registry"]
        return client

    async def registry_call(self, awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except RegistryError as error:
            if isinstance(error, RateLimited) and error.retry_after:
                self.set_header("Retry-After", str(int(error.retry_after)))
            raise registry_http_error(error) from error


class PinHandler(RegistryMixin):
    """``POST images/{name}/pin``: resolve the tag in the registry, store ``name:tag@digest``."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        entry = await self.call(self.store.get, name)
        image_name = ((entry.document or {}).get("metadata") or {}).get("image_name")
        try:
            pinned = await self.registry_call(self.registry.pin(str(image_name)))
        except InvalidReferenceError as error:
            raise web.HTTPError(400, str(error).replace("%", "%%")) from None
        # If-Match (the caller's, else the version we read): a concurrent edit made while
        # the registry answered is not overwritten (412).
        if_match = self.request.headers.get("If-Match") or entry.etag
        patch = {"metadata": {"image_name": pinned.familiar()}}
        updated = await self.call(self.store.patch, name, patch, if_match)
        self.write_entry(updated)
