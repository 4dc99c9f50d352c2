"""Known vulnerabilities: ``GET vulns`` (one image) and ``GET vulns/summary`` (the counts
of every runtime image already matched, for the panel's row badges).

``vulns`` names an image by ``image=REF`` or ``name=N`` (a runtime image: its reference),
with optional ``platform``, ``severity`` (low|medium|high|critical: that level or worse)
and ``fixable=true``. The image's contents are read off the event loop, once per digest
(:class:`~runtime_images.contents.ContentsReader`); the match runs in a thread and is
cached by digest and database version. No database is a 409 ``VulnerabilityDatabaseMissing``
whose message says how to get one. ``vulns/summary`` reads only that cache.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..contents import ContentsReader
from ..reference import InvalidReferenceError, parse
from ..vulns import LEVELS, VulnerabilityDatabase
from ..vulns.scan import scan_image, select, summary
from .base import field_error
from .registry import RegistryMixin

_MAX_ARGUMENT = 1024


class VulnsMixin(RegistryMixin):
    @property
    def contents(self) -> ContentsReader:
        reader: ContentsReader = self.settings["runtime_images_contents"]
        return reader

    @property
    def vulnerabilities(self) -> VulnerabilityDatabase:
        database: VulnerabilityDatabase = self.settings["runtime_images_vulns"]
        return database

    def text_argument(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        if value is None:
            return None
        if not value.strip() or len(value) > _MAX_ARGUMENT:
            raise field_error(
                400, f"The query argument {name!r} must be 1 to {_MAX_ARGUMENT} characters.", name
            )
        return value


class VulnsHandler(VulnsMixin):
    """``GET vulns``: the findings of one image."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        severity = self.text_argument("severity")
        if severity is not None and severity not in LEVELS[:4]:
            raise field_error(400, f"severity must be one of {', '.join(LEVELS[:4])}.", "severity")
        fixable = self.bool_argument("fixable")
        image, name = self.text_argument("image"), self.text_argument("name")
        if (image is None) == (name is None):
            raise field_error(400, "Give exactly one of image and name.", "image")
        field = "image"
        if name is not None:
            entry = await self.call(self.store.get, name)
            image = str(((entry.document or {}).get("metadata") or {}).get("image_name"))
            field = "name"
        assert image is not None
        try:
            parse(image)
        except InvalidReferenceError as error:
            raise field_error(400, str(error), field) from None
        report = await scan_image(
            self.contents,
            self.vulnerabilities,
            self.registry,
            image,
            platform=self.text_argument("platform"),
        )
        self.write_json(select(report, severity, fixable))


class VulnsSummaryHandler(VulnsMixin):
    """``GET vulns/summary``: counts of the runtime images matched already (never reads an
    image)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        listing = await self.call(self.store.listing)
        images = {
            entry.name: str(((entry.document or {}).get("metadata") or {}).get("image_name"))
            for entry in listing.instances
        }
        self.write_json(await self.call(summary, self.vulnerabilities, images))
