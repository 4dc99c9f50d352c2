"""A Python client of the REST API, for notebooks and scripts.

    from runtime_images.client import RuntimeImages
    images = RuntimeImages()          # finds the Jupyter server this kernel belongs to
    images.create("My image", "quay.io/me/img:1.0", tags=["gpu"])
    images.build({...CustomNBImage...}); images.wait("my-build")
    images.cancel_build("my-build"); images.retry_build("my-build"); images.delete_build("my-build")
    images.pin("my_image"); images.validate("my_image", profiles=["elyra"])
    images.kernelspec("my_image", provisioner="kubernetes")

It uses only the standard library (``urllib``) so it works in any kernel environment, and
raises the product's own error classes (:mod:`runtime_images.errors`) carrying the
server's message, status, code and field errors.
"""

from __future__ import annotations

import builtins
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

from .errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    RuntimeImagesError,
    UpstreamError,
    ValidationFailedError,
)
from .fields import FieldError

__all__ = [
    "ClientError",
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "PreconditionFailedError",
    "RuntimeImages",
    "ServerNotFoundError",
    "UpstreamError",
    "ValidationError",
    "custom_nb_image",
    "image_import_resource",
]


ClientError = RuntimeImagesError
"""What every error the client raises is: the server's ``message``, the answer's
``status``, ``reason`` and ``code`` (the machine-readable cause, e.g. ``AuthRequired``) and
the offending fields in ``errors`` (each ``error.path`` / ``error["path"]``, and message)."""

ValidationError = ValidationFailedError
"""400: ``errors`` names every offending field."""


class ServerNotFoundError(RuntimeImagesError):
    """No running Jupyter server with this extension could be found or reached."""


# The server's statuses, by the same error table it answers with
# (runtime_images.error_codes): 422, 424 and 429 are a registry or a dependency failing.
_ERRORS: dict[int, type[RuntimeImagesError]] = {
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    422: UpstreamError,
    424: UpstreamError,
    429: UpstreamError,
}


def _running_servers() -> Iterable[dict[str, Any]]:
    from jupyter_server.serverapp import list_running_servers

    return list_running_servers()


def discover(url: str | None = None, token: str | None = None) -> tuple[str, str]:
    """The server URL (ending in ``/``) and token: explicit, JupyterHub's, or a running one."""
    if url:
        return url.rstrip("/") + "/", token or ""
    hub_url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    hub_token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if hub_url and hub_token:
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
        parsed = urllib.parse.urlsplit(hub_url)
        host = parsed.hostname if parsed.hostname not in (None, "0.0.0.0", "") else "127.0.0.1"
        base = f"{parsed.scheme}://{host}:{parsed.port or 80}{prefix}"
        return base.rstrip("/") + "/", token or hub_token
    cwd = os.getcwd()
    servers = sorted(
        _running_servers(),
        # Prefer the server whose root contains this kernel's directory.
        key=lambda s: not cwd.startswith(str(s.get("root_dir", s.get("notebook_dir", "")))),
    )
    for server in servers:
        return str(server["url"]).rstrip("/") + "/", token or str(server.get("token", ""))
    raise ServerNotFoundError(
        "No running Jupyter server was found; start JupyterLab, or pass url= and token=."
    )


class RuntimeImages:
    """The runtime images and builds of one Jupyter server."""

    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float = 60.0
    ) -> None:
        self.base_url, self.token = discover(url, token)
        self.timeout = timeout

    # -- transport -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        url = urllib.parse.urljoin(self.base_url, "runtime-images/" + path.lstrip("/"))
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        if self.token:
            request.add_header("Authorization", f"token {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise self._error(error) from None
        except urllib.error.URLError as error:
            raise ServerNotFoundError(
                f"The Jupyter server at {self.base_url} cannot be reached: {error.reason}"
            ) from None
        if raw:
            return payload.decode("utf-8", errors="replace")
        return json.loads(payload) if payload.strip() else None

    @staticmethod
    def _error(error: urllib.error.HTTPError) -> RuntimeImagesError:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        message = body.get("message") or f"HTTP {error.code}"
        answer = {"status": error.code, "reason": body.get("reason"), "code": body.get("code")}
        fields = [
            FieldError(str(item.get("path", "")), str(item.get("message", "")))
            for item in body.get("errors") or []
            if isinstance(item, dict)
        ]
        if error.code == 400:
            return ValidationFailedError(fields, message, **answer)
        return _ERRORS.get(error.code, RuntimeImagesError)(message, errors=fields, **answer)

    @staticmethod
    def _quote(name: str) -> str:
        return urllib.parse.quote(name, safe="")

    # -- runtime images ------------------------------------------------------------------

    def list(self, include_invalid: bool = False) -> list[dict[str, Any]]:
        query = "?include_invalid=true" if include_invalid else ""
        result = self.request("GET", f"images{query}")
        items: list[dict[str, Any]] = result["runtime-images"]
        return items + list(result.get("invalid", []))

    def get(self, name: str) -> dict[str, Any]:
        image: dict[str, Any] = self.request("GET", f"images/{self._quote(name)}")
        return image

    def create(
        self, display_name: str, image_name: str, *, name: str | None = None, **metadata: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "display_name": display_name,
            "metadata": {"image_name": image_name, **metadata},
        }
        if name is not None:
            body["name"] = name
        image: dict[str, Any] = self.request("POST", "images", body)
        return image

    def update(
        self, name: str, *, display_name: str | None = None, **metadata: Any
    ) -> dict[str, Any]:
        """Merge the given fields into the image (``None`` removes a metadata field)."""
        patch: dict[str, Any] = {"metadata": metadata} if metadata else {}
        if display_name is not None:
            patch["display_name"] = display_name
        image: dict[str, Any] = self.request("PATCH", f"images/{self._quote(name)}", patch)
        return image

    def delete(self, name: str) -> None:
        self.request("DELETE", f"images/{self._quote(name)}")

    def duplicate(self, name: str) -> dict[str, Any]:
        image: dict[str, Any] = self.request("POST", f"images/{self._quote(name)}/duplicate")
        return image

    def pin(self, name: str, *, if_match: str | None = None) -> dict[str, Any]:
        """Resolve the image's tag to its digest in the registry and store
        ``repo:tag@sha256:…``; ``if_match`` (an ETag) refuses to overwrite a newer edit."""
        headers = {"If-Match": if_match} if if_match else None
        image: dict[str, Any] = self.request(
            "POST", f"images/{self._quote(name)}/pin", headers=headers
        )
        return image

    def validate(
        self,
        image_or_name: str,
        profiles: builtins.list[str] | None = None,
        *,
        platform: str | None = None,
    ) -> dict[str, Any]:
        """Check an image against requirement profiles (default: the server's).

        ``image_or_name`` is a runtime image's name when one exists with that name (names
        never hold ``/``, ``:``, ``@`` or ``.``), else an image reference. Returns
        ``{"ok", "profiles", "checks", "report"}``; a failed check is ``ok: False``, not an
        exception.
        """
        body: dict[str, Any] = {self._image_or_name(image_or_name): image_or_name}
        if profiles:
            body["profiles"] = list(profiles)
        if platform:
            body["platform"] = platform
        result: dict[str, Any] = self.request("POST", "validate", body)
        return result

    def _image_or_name(self, value: str) -> str:
        if any(c in value for c in "/:@."):
            return "image"
        try:
            self.get(value)
        except (NotFoundError, ValidationError):
            return "image"
        return "name"

    def kernelspec(
        self,
        name: str,
        provisioner: str = "kubernetes",
        *,
        kernel_name: str | None = None,
        display_name: str | None = None,
        language: str | None = None,
        replace: bool = False,
        launch_timeout: int | None = None,
        port_range: str | None = None,
        authorized_users: builtins.list[str] | None = None,
        unauthorized_users: builtins.list[str] | None = None,
        prefix: str | None = None,
        sys_prefix: bool = False,
    ) -> dict[str, Any]:
        """Install a kernelspec launching kernels in the image (Gateway Provisioners).

        Returns ``{"kernel_name", "resource_dir", "path", "kernel_json"}``. The server
        installs it in the user's Jupyter data directory (``prefix``/``sys_prefix`` only
        when it allows them); ``ConflictError`` when it exists and ``replace`` is false.
        """
        options: dict[str, Any] = {
            "provisioner": provisioner,
            "kernel_name": kernel_name,
            "display_name": display_name,
            "language": language,
            "replace": replace or None,
            "launch_timeout": launch_timeout,
            "port_range": port_range,
            "authorized_users": authorized_users,
            "unauthorized_users": unauthorized_users,
            "prefix": prefix,
            "sys_prefix": sys_prefix or None,
        }
        body = {key: value for key, value in options.items() if value is not None}
        result: dict[str, Any] = self.request(
            "POST", f"images/{self._quote(name)}/kernelspec", body
        )
        return result

    # -- builds --------------------------------------------------------------------------

    def build(self, resource: dict[str, Any], engine: str | None = None) -> dict[str, Any]:
        """Submit a CustomNBImage (to ``engine``, e.g. "buildah", when given); returns it as
        stored (Pending)."""
        path = "builds" + (f"?engine={urllib.parse.quote(engine)}" if engine else "")
        created: dict[str, Any] = self.request("POST", path, resource)
        return created

    def import_image(
        self,
        image: str,
        display_name: str,
        *,
        name: str | None = None,
        description: str = "",
        creator: str | None = None,
        profiles: builtins.list[str] | None = None,
    ) -> dict[str, Any]:
        """Submit an ImageImport of ``image``."""
        return self.build(
            image_import_resource(
                image,
                display_name,
                name=name,
                description=description,
                creator=creator,
                profiles=profiles,
            )
        )

    def builds(self) -> builtins.list[dict[str, Any]]:
        result: builtins.list[dict[str, Any]] = self.request("GET", "builds")["builds"]
        return result

    def get_build(self, name: str) -> dict[str, Any]:
        build: dict[str, Any] = self.request("GET", f"builds/{self._quote(name)}")
        return build

    def build_log(self, name: str) -> str:
        log: str = self.request("GET", f"builds/{self._quote(name)}/log", raw=True)
        return log

    def cancel_build(self, name: str) -> dict[str, Any]:
        """Stop a Pending or Building build (it ends Failed, ``Cancelled``); returns it.
        ConflictError when it has already ended."""
        build: dict[str, Any] = self.request("POST", f"builds/{self._quote(name)}/cancel")
        return build

    def retry_build(self, name: str) -> dict[str, Any]:
        """Run an ended build again (a new generation); returns it, Pending. ConflictError
        while it still runs."""
        build: dict[str, Any] = self.request("POST", f"builds/{self._quote(name)}/retry")
        return build

    def delete_build(self, name: str) -> None:
        """Cancel the build if it runs, and delete it and its log (the runtime image it
        configured stays)."""
        self.request("DELETE", f"builds/{self._quote(name)}")

    def wait(self, name: str, timeout: float = 3600.0, interval: float = 1.0) -> dict[str, Any]:
        """Wait until the build is Ready or Failed; return it."""
        deadline = time.monotonic() + timeout
        while True:
            build = self.get_build(name)
            if build.get("status", {}).get("phase") in ("Ready", "Failed"):
                return build
            if time.monotonic() > deadline:
                raise TimeoutError(f"The build {name!r} did not end within {timeout:g} s.")
            time.sleep(interval)


def custom_nb_image(
    spec: dict[str, Any],
    display_name: str,
    *,
    name: str | None = None,
    description: str = "",
    creator: str | None = None,
) -> dict[str, Any]:
    """A CustomNBImage resource with ``spec`` (e.g. ``{"buildType": "PackageList",
    "builderImage": …, "packageVersions": […]}``), for :meth:`RuntimeImages.build`: its
    name derived from the display name when not given, the description defaulting to the
    display name and the creator to the current user."""
    import getpass
    import re

    from .naming import derive_name

    if name is None:
        name = re.sub(r"[^a-z0-9-]+", "-", derive_name(display_name).replace("_", "-"))
        name = name.strip("-")[:63].rstrip("-") or "image"
    return {
        "apiVersion": "meteor.zone/v1alpha1",
        "kind": "CustomNBImage",
        "metadata": {
            "name": name,
            "annotations": {
                "opendatahub.io/notebook-image-name": display_name,
                "opendatahub.io/notebook-image-desc": description or display_name,
                "opendatahub.io/notebook-image-creator": creator or getpass.getuser(),
            },
        },
        "spec": spec,
    }


def image_import_resource(
    image: str,
    display_name: str,
    *,
    name: str | None = None,
    description: str = "",
    creator: str | None = None,
    profiles: list[str] | None = None,
) -> dict[str, Any]:
    """A CustomNBImage that imports ``image`` (the ``import-image`` shortcut)."""
    spec: dict[str, Any] = {"buildType": "ImageImport", "fromImage": image}
    if profiles:
        spec["profiles"] = profiles
    return custom_nb_image(spec, display_name, name=name, description=description, creator=creator)
