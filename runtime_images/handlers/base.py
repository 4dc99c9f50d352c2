"""The thin REST layer's shared behaviour: auth resource, body parsing and error mapping.

Core modules raise domain errors (``runtime_images.errors``); this is the one place that
turns them into HTTP statuses, so every route answers bad input with a JSON 4xx naming the
problem, never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Callable, Iterator
from http.client import responses
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import documents
from ..errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ReadOnlyError,
    RuntimeImagesError,
    ValidationFailedError,
)
from ..fileio import LockTimeoutError
from ..store import RuntimeImageStore
from ..validation import FieldError

AUTH_RESOURCE = "runtime_images"
T = TypeVar("T")

_STATUS_OF_ERROR: list[tuple[type[Exception], int]] = [
    (ValidationFailedError, 400),
    (NotFoundError, 404),
    (AlreadyExistsError, 409),
    (ConflictError, 409),
    (ReadOnlyError, 403),
    (PreconditionFailedError, 412),
    (PayloadTooLargeError, 413),
    (LockTimeoutError, 503),
]


class FieldErrorsHTTPError(web.HTTPError):
    """An HTTP error whose JSON body lists the offending fields."""

    def __init__(self, status_code: int, message: str, errors: list[FieldError]) -> None:
        super().__init__(status_code, message.replace("%", "%%"))
        self.errors = errors


def _http_error(error: Exception) -> web.HTTPError:
    for error_class, status in _STATUS_OF_ERROR:
        if isinstance(error, error_class):
            if isinstance(error, ValidationFailedError):
                return FieldErrorsHTTPError(status, str(error), error.errors)
            return web.HTTPError(status, str(error).replace("%", "%%"))
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return web.HTTPError(507, "The disk holding the runtime images is full.")
    raise error


@contextlib.contextmanager
def domain_errors() -> Iterator[None]:
    """Map the core's domain errors raised in the block to HTTP errors."""
    try:
        yield
    except (RuntimeImagesError, LockTimeoutError, OSError) as error:
        raise _http_error(error) from error


class RuntimeImagesHandler(APIHandler):
    """Base of every route under ``/runtime-images/``."""

    auth_resource = AUTH_RESOURCE

    @property
    def store(self) -> RuntimeImageStore:
        store: RuntimeImageStore = self.settings["runtime_images_store"]
        return store

    @property
    def max_body_bytes(self) -> int:
        return int(self.settings.get("runtime_images_max_body_bytes", 1024 * 1024))

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking core work off the event loop and map its errors to HTTP."""
        with domain_errors():
            return await asyncio.to_thread(function, *args, **kwargs)

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
        raise FieldErrorsHTTPError(
            400,
            f"The query argument {name!r} must be true or false.",
            [FieldError(name, "must be true or false")],
        )

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
        if isinstance(error, FieldErrorsHTTPError):
            reply["errors"] = [e.to_json() for e in error.errors]
        code = getattr(error, "code", None)
        if isinstance(code, str):
            reply["code"] = code
        self.finish(documents.dumps(reply))
