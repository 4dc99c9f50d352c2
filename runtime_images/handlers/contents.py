"""What is inside an image: ``GET inspect``, ``GET sbom``, ``GET layers`` and ``GET diff``.

Each names an image by ``image=REF`` or ``name=N`` (a runtime image: its reference), with
an optional ``platform=os/arch``; ``diff`` takes ``a=REF`` and ``b=REF``. The reading
happens off the event loop (:class:`~runtime_images.contents.ContentsReader`: layers in a
worker thread, the result cached by manifest digest, so a second request answers at once).
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import documents
from ..contents import ContentsReader
from ..contents.compare import diff_documents, layers_document
from ..contents.sbom import FORMATS, make_sbom
from ..reference import InvalidReferenceError, parse
from ..vulns import VulnerabilityDatabase
from ..vulns.sbom import diff_vulnerabilities, sbom_with_vulnerabilities
from .base import AppObject, field_error
from .registry import RegistryMixin

_MAX_ARGUMENT = 1024
_PLATFORM_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}(?:/[A-Za-z0-9_.-]{1,64})?$")


class ContentsMixin(RegistryMixin):
    contents: AppObject[ContentsReader] = AppObject("runtime_images_contents")
    vulns: AppObject[VulnerabilityDatabase] = AppObject("runtime_images_vulns")

    def text_argument(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        if value is None:
            return None
        if not value.strip() or len(value) > _MAX_ARGUMENT:
            raise field_error(
                400, f"The query argument {name!r} must be 1 to {_MAX_ARGUMENT} characters.", name
            )
        return value

    async def reference(self, field: str = "image") -> str:
        """The image reference the query names: ``image=`` (``field``) or ``name=``."""
        image, name = self.text_argument(field), self.text_argument("name")
        if (image is None) == (name is None):
            raise field_error(400, f"Give exactly one of {field} and name.", field)
        if name is not None:
            entry = await self.call(self.store.get, name)
            image = str(((entry.document or {}).get("metadata") or {}).get("image_name"))
            field = "name"
        assert image is not None
        try:
            parse(image)
        except InvalidReferenceError as error:
            raise field_error(400, str(error), field) from None
        return image

    def platform(self) -> str | None:
        """The ``platform`` argument, ``os/arch[/variant]`` (a 400 naming it otherwise)."""
        value = self.text_argument("platform")
        if value is not None and not _PLATFORM_RE.match(value):
            raise field_error(400, "The platform must be os/arch[/variant].", "platform")
        return value

    async def document(self, field: str = "image", image: str | None = None) -> dict[str, Any]:
        reference = image if image is not None else await self.reference(field)
        return await self.contents.read(self.registry, reference, platform=self.platform())


class InspectHandler(ContentsMixin):
    """``GET inspect``: the ``inspect --json`` document."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(await self.document())


class LayersHandler(ContentsMixin):
    """``GET layers``: per layer sizes, files, history and wasted bytes."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(layers_document(await self.document()))


class SbomHandler(ContentsMixin):
    """``GET sbom?format=cyclonedx-json|spdx-json``: the SBOM, as an attachment."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        sbom_format = self.get_query_argument("format", "cyclonedx-json")
        if sbom_format not in FORMATS:
            raise field_error(400, f"The format must be one of {', '.join(FORMATS)}.", "format")
        document = await self.document()
        sbom = await self.call(make_sbom, document, sbom_format)
        sbom = await self.call(sbom_with_vulnerabilities, self.vulns, document, sbom)
        media_type, extension = FORMATS[sbom_format]
        digest = document["image"]["digest"].replace(":", "-")
        self.set_header("Content-Disposition", f'attachment; filename="{digest}.{extension}"')
        self.finish(documents.dumps(sbom), set_content_type=media_type)


class DiffHandler(ContentsMixin):
    """``GET diff?a=REF&b=REF[&profile=P…]``: two images side by side."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        references = []
        for field in ("a", "b"):
            value = self.text_argument(field)
            if value is None:
                raise field_error(400, f"The query argument {field!r} is required.", field)
            try:
                parse(value)
            except InvalidReferenceError as error:
                raise field_error(400, str(error), field) from None
            references.append(value)
        names = self.contents.inspector.profile_names(self.get_query_arguments("profile"))
        a = await self.document(image=references[0])
        b = await self.document(image=references[1])
        diff = diff_documents(a, b, names)
        changes = await self.call(diff_vulnerabilities, self.vulns, a, b)
        if changes is not None:
            diff["vulnerabilities"] = changes
        self.write_json(diff)
