"""The thin REST layer's shared behaviour: auth resource, body parsing and error answers.

Core modules raise domain errors; every route answers them through the one error table
(:mod:`runtime_images.error_codes`), here, so bad input gets a JSON 4xx naming the problem
(and its fields and code), never a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http.client import responses
from typing import Any, Generic, TypeVar, overload

from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import documents
from ..error_codes import error_code
from ..errors import RuntimeImagesError
from ..fields import FieldError
from ..fileio import LockTimeoutError
from ..reference import InvalidReferenceError
from ..registry.errors import RegistryError
from ..store import RuntimeImageStore

AUTH_RESOURCE = "runtime_images"
T = TypeVar("T")
DOMAIN_ERRORS = (
    RuntimeImagesError,
    RegistryError,
    LockTimeoutError,
    InvalidReferenceError,
    OSError,
)
"""What the core raises for a person to read (everything else is a bug: a 500)."""


class DomainHTTPError(web.HTTPError):
    """An HTTP error for a domain error: its ``code``, the fields it names, and headers to
    send (``Retry-After`` of a rate-limiting registry)."""

    def __init__(
        self,
        status_code: int,
        message: str,
        code: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, message.replace("%", "%%"))
        self.code = code
        self.errors = errors or []
        self.headers = headers or {}


def field_error(status: int, message: str, path: str) -> DomainHTTPError:
    """A 4xx naming one field of the request (a query argument, a body key)."""
    return DomainHTTPError(status, message, "ValidationFailedError", [FieldError(path, message)])


def http_error(error: BaseException) -> DomainHTTPError:
    """The answer to a domain error, by the one table (:mod:`runtime_images.error_codes`)."""
    answer = error_code(error)
    if answer is None:
        raise error
    message = str(error) or answer.code
    if answer.code == "DiskFull":
        message = "The disk holding the runtime images is full."
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > 0:
        headers["Retry-After"] = str(int(retry_after))
    return DomainHTTPError(answer.status, message, answer.code, list(answer.fields), headers)


class AppObject(Generic[T]):
    """A handler attribute that is one of the application's objects, which the app puts in
    the tornado settings under ``key`` (typed, so each route's use of it is checked)."""

    def __init__(self, key: str) -> None:
        self.key = key

    @overload
    def __get__(self, handler: None, owner: type) -> AppObject[T]: ...
    @overload
    def __get__(self, handler: web.RequestHandler, owner: type) -> T: ...
    def __get__(self, handler: web.RequestHandler | None, owner: type) -> AppObject[T] | T:
        if handler is None:
            return self
        value: T = handler.settings[self.key]
        return value


class RuntimeImagesHandler(APIHandler):
    """Base of every route under ``/runtime-images/``."""

    auth_resource = AUTH_RESOURCE

    store: AppObject[RuntimeImageStore] = AppObject("runtime_images_store")

    @property
    def max_body_bytes(self) -> int:
        return int(self.settings.get("runtime_images_max_body_bytes", 1024 * 1024))

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking core work off the event loop."""
        return await asyncio.to_thread(function, *args, **kwargs)

    def _handle_request_exception(self, e: BaseException) -> None:
        """A domain error raised anywhere in a route is answered by the one table
        (:mod:`runtime_images.error_codes`): a 4xx naming the problem, never a 500."""
        if isinstance(e, DOMAIN_ERRORS) and error_code(e) is not None:
            try:  # tornado reads the error being handled from sys.exc_info()
                raise http_error(e) from e
            except DomainHTTPError as answer:
                super()._handle_request_exception(answer)
            return
        super()._handle_request_exception(e)

    def body_text(self, limit: int | None = None, needs: str = "a JSON body") -> bytes:
        """The raw request body; 413 when it is over ``limit``, 400 when it is empty."""
        limit = self.max_body_bytes if limit is None else limit
        body = self.request.body
        if len(body) > limit:
            raise web.HTTPError(413, f"The request body is larger than {limit} bytes.")
        if not body.strip():
            raise web.HTTPError(400, f"The request needs {needs}.")
        return body

    async def json_body(self, limit: int | None = None) -> Any:
        """The request body as strict JSON (:mod:`runtime_images.documents`), parsed off the
        event loop; 400 naming the problem when it is not, 413 when it is too large."""
        body = self.body_text(limit)
        return await self.call(documents.loads_json, body, "The request body")

    def bool_argument(self, name: str, default: bool = False) -> bool:
        """A ``true``/``false`` query argument (anything else is a 400 naming it)."""
        value = self.get_query_argument(name, None)
        if value is None:
            return default
        if value in ("true", "false"):
            return value == "true"
        raise field_error(400, f"The query argument {name!r} must be true or false.", name)

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(documents.dumps(payload))

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The HTTP methods this route implements (for the ``Allow`` header of a 405)."""
        return [
            method
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
            if getattr(cls, method.lower()) is not getattr(web.RequestHandler, method.lower())
        ]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """JSON ``{message, reason}`` as jupyter_server writes it, plus ``errors`` per field."""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if not isinstance(error, web.HTTPError):
            super().write_error(status_code, **kwargs)
            return
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        reply: dict[str, Any] = {
            "message": (error.log_message or "").replace("%%", "%") or responses.get(status_code),
            "reason": error.reason or responses.get(status_code, "Unknown"),
        }
        if isinstance(error, DomainHTTPError):
            for header, value in error.headers.items():
                self.set_header(header, value)
            if error.errors:
                reply["errors"] = [e.to_json() for e in error.errors]
            if error.code:
                reply["code"] = error.code
        self.finish(documents.dumps(reply))
