"""``POST validate``: check an image (or a runtime image's) against requirement profiles.

The body names an image reference (``{"image": "quay.io/org/img:1"}``) or a runtime image
(``{"name": "my-image"}``), optionally ``profiles`` (default: the configured
``ImageInspector.default_profiles``) and ``platform``. The answer is the validation JSON of
``jupyter runtime-images validate --json``: ``ok``, ``profiles``, ``checks``, ``report`` and
``suggestedTags``, answered from the image's cached contents when it was read before; with
``"platform": "all"``, ``{image, digest, ok, profiles, platforms: [{platform, digest, size,
ok, checks, accelerators, suggestedTags}]}``.
A failed check is still a 200 (the result says so); registry failures map as for ``pin``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..contents import ContentsReader
from ..errors import ValidationFailedError
from ..fields import FieldError
from ..inspect import ALL_PLATFORMS, ImageInspector
from ..reference import InvalidReferenceError
from ..vulns.profile import vulnerability_profile
from .base import AppObject
from .registry import RegistryMixin

_KEYS = ("image", "name", "profiles", "platform")


def _field_errors(body: object) -> list[FieldError]:
    if not isinstance(body, Mapping):
        return [FieldError("", "the body must be a JSON object")]
    errors = [FieldError(str(k), "is not a validate option") for k in body if k not in _KEYS]
    given = [key for key in ("image", "name") if key in body]
    if len(given) != 1:
        errors.append(FieldError("image", "give exactly one of image and name"))
    for key in ("image", "name", "platform"):
        if key in body and (not isinstance(body[key], str) or not body[key].strip()):
            errors.append(FieldError(key, "must be a non-empty string"))
    profiles = body.get("profiles")
    if profiles is not None and (
        not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles)
    ):
        errors.append(FieldError("profiles", "must be a list of profile names"))
    return errors


class ValidateHandler(RegistryMixin):
    """Inspect the image in its registry and run the requirement profiles."""

    inspector: AppObject[ImageInspector] = AppObject("runtime_images_inspector")
    contents: AppObject[ContentsReader] = AppObject("runtime_images_contents")

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body: Any = await self.json_body()
        errors = _field_errors(body)
        if errors:
            summary = "; ".join(str(e) for e in errors)
            raise ValidationFailedError(errors, f"Invalid validate request: {summary}")
        if "name" in body:
            entry = await self.call(self.store.get, body["name"])
            image = str(((entry.document or {}).get("metadata") or {}).get("image_name"))
        else:
            image = body["image"]
        try:
            if body.get("platform") == ALL_PLATFORMS:
                every = await self.inspector.validate_platforms(
                    self.registry, image, body.get("profiles")
                )
                self.write_json(every.to_json())
                return
            result = await self.contents.validate(
                self.registry,
                image,
                body.get("profiles"),
                platform=body.get("platform"),
                document_checks=vulnerability_profile(self.settings["runtime_images_vulns"]),
            )
        except InvalidReferenceError as error:
            field = "name" if "name" in body else "image"
            raise ValidationFailedError([FieldError(field, str(error))], str(error)) from None
        self.write_json(result.to_json())
