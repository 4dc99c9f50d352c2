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

from ..vulns import LEVELS, VulnerabilityDatabase
from ..vulns.scan import scan_image, select, summary
from .base import AppObject, field_error
from .contents import ContentsMixin


class VulnsMixin(ContentsMixin):
    vulnerabilities: AppObject[VulnerabilityDatabase] = AppObject("runtime_images_vulns")


class VulnsHandler(VulnsMixin):
    """``GET vulns``: the findings of one image."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        severity = self.text_argument("severity")
        if severity is not None and severity not in LEVELS[:4]:
            raise field_error(400, f"severity must be one of {', '.join(LEVELS[:4])}.", "severity")
        fixable = self.bool_argument("fixable")
        report = await scan_image(
            self.contents,
            self.vulnerabilities,
            self.registry,
            await self.reference(),
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
