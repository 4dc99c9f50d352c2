"""REST routes that talk to registries: ``POST images/{name}/pin``.

Registry failures are answered by the one error table (:mod:`runtime_images.error_codes`):
4xx that cannot be mistaken for this server's own — the runtime image exists but its
image does not (422), the registry rate-limits (429, with ``Retry-After``), or it needs
other credentials, is unreachable or served corrupt content (424 Failed Dependency) — with
the cause in ``code`` (``AuthRequired``, ``RegistryUnavailable``, ``DigestMismatch``…).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..registry import RegistryClient
from .base import AppObject
from .images import ImagesMixin


class RegistryMixin(ImagesMixin):
    registry: AppObject[RegistryClient] = AppObject("runtime_images_registry")


class PinHandler(RegistryMixin):
    """``POST images/{name}/pin``: resolve the tag in the registry, store ``name:tag@digest``."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        entry = await self.call(self.store.get, name)
        image_name = ((entry.document or {}).get("metadata") or {}).get("image_name")
        pinned = await self.registry.pin(str(image_name))
        # If-Match (the caller's, else the version we read): a concurrent edit made while
        # the registry answered is not overwritten (412).
        if_match = self.request.headers.get("If-Match") or entry.etag
        patch = {"metadata": {"image_name": pinned.familiar()}}
        updated = await self.call(self.store.patch, name, patch, if_match)
        await self.call(self.store.record_history, name, pinned.familiar(), "pinned")
        self.write_entry(updated)
