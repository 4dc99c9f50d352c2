"""The domain errors of the framework-free core, one class per cause.

``str(error)`` is a message a person can act on. The REST API and the command line answer
every one of them through one table (:mod:`runtime_images.error_codes`: HTTP status,
machine-readable code, exit code), and the Python client raises these same classes for
the server's answers, with the answer's ``status``, ``reason``, ``code`` and field
``errors`` attached.
"""

from __future__ import annotations

from collections.abc import Sequence

from .fields import FieldError

__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "ForbiddenError",
    "InsufficientStorageError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "ReadOnlyError",
    "RuntimeImagesError",
    "UpstreamError",
    "ValidationFailedError",
]


class RuntimeImagesError(Exception):
    """Base class. ``errors`` lists the offending fields, when there are any; ``status``,
    ``reason`` and ``code`` are the server's answer when the client raised it."""

    def __init__(
        self,
        message: str = "",
        *,
        errors: Sequence[FieldError] = (),
        status: int | None = None,
        reason: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors)
        self.status = status
        self.reason = reason
        self.code = code


class NotFoundError(RuntimeImagesError):
    """The named runtime image (or build) does not exist."""


class ForbiddenError(RuntimeImagesError):
    """Not allowed: not authorized, or a read-only image."""


class ReadOnlyError(ForbiddenError):
    """The instance lives in a factory or shared directory, which is never modified."""


class ConflictError(RuntimeImagesError):
    """The request cannot apply to the stored state (a build still running, a file that
    is not an object)."""


class AlreadyExistsError(ConflictError):
    """The name is taken at some level of the search path."""


class PreconditionFailedError(RuntimeImagesError):
    """``If-Match`` named a version that is no longer the stored one."""


class PayloadTooLargeError(RuntimeImagesError):
    """What would be written is over a configured size limit."""


class InsufficientStorageError(RuntimeImagesError):
    """Too little free disk space for what would be written (checked before writing, so
    nothing is left half-written)."""


class UpstreamError(RuntimeImagesError):
    """Something this product depends on failed: a registry, or a package it needs; the
    ``code`` says which (``AuthRequired``, ``RegistryUnavailable``,
    ``GatewayProvisionersMissing``…)."""


class ValidationFailedError(RuntimeImagesError):
    """A document breaks the rules; ``errors`` names every offending field."""

    def __init__(
        self,
        errors: Sequence[FieldError],
        message: str | None = None,
        *,
        status: int | None = None,
        reason: str | None = None,
        code: str | None = None,
    ) -> None:
        errors = list(errors)
        summary = "; ".join(str(e) for e in errors[:5])
        if len(errors) > 5:
            summary += f"; and {len(errors) - 5} more"
        super().__init__(
            message or f"Invalid runtime image: {summary}",
            errors=errors,
            status=status,
            reason=reason,
            code=code,
        )
