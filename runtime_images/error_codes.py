"""The one error contract: the HTTP status, the machine-readable code and the exit code of
the command line for every error the core raises.

The REST handlers and the CLI both answer through :func:`error_code`, so a failure means
the same wherever it surfaces: a registry that refuses is a 424 and exit code 2 whether it
happened in ``validate`` or in ``pin``. Exit codes, for every verb: 0 done; 1 refused (the
request or a document breaks a rule, a name is taken or missing, checks failed); 2 could
not be done (the command line, a registry, a missing dependency, a busy or full disk).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from functools import cache

from .errors import (
    ConflictError,
    ForbiddenError,
    InsufficientStorageError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    RuntimeImagesError,
    UpstreamError,
    ValidationFailedError,
)
from .fields import FieldError

__all__ = ["EXIT_NOT_DONE", "EXIT_OK", "EXIT_REFUSED", "ErrorCode", "error_code"]

EXIT_OK, EXIT_REFUSED, EXIT_NOT_DONE = 0, 1, 2


@dataclass(frozen=True)
class ErrorCode:
    """How an error is answered: ``status`` over HTTP, ``exit_code`` on the command line,
    ``code`` (the cause, machine-readable), and the fields it names."""

    status: int
    exit_code: int
    code: str
    fields: tuple[FieldError, ...] = ()


@cache
def _table() -> tuple[tuple[type[BaseException], int, int], ...]:
    """Most specific first; the first class an error is an instance of decides. Made on
    first use: the classes of registries and inspection bring their packages with them,
    which a command line that fails early should not have to import."""
    from .fileio import LockTimeoutError
    from .inspect.profiles import UnknownProfile
    from .reference import InvalidReferenceError
    from .registry.errors import ImageNotFound, RateLimited, RegistryError
    from .vulns.errors import VulnerabilityDatabaseMissing

    return (
        # What a command line names wrongly (an image reference, a profile): not done.
        (UnknownProfile, 400, EXIT_NOT_DONE),
        # No vulnerability database: a 409 (the server's state), and not done (a missing
        # dependency) on the command line.
        (VulnerabilityDatabaseMissing, 409, EXIT_NOT_DONE),
        (InvalidReferenceError, 400, EXIT_NOT_DONE),
        (ValidationFailedError, 400, EXIT_REFUSED),
        (ForbiddenError, 403, EXIT_REFUSED),
        (NotFoundError, 404, EXIT_REFUSED),
        (ConflictError, 409, EXIT_REFUSED),  # AlreadyExistsError too
        (PreconditionFailedError, 412, EXIT_REFUSED),
        (PayloadTooLargeError, 413, EXIT_REFUSED),
        # Registries and dependencies: 4xx that cannot be mistaken for this server's own
        # failure — not 502, since "no 5xx" is the contract.
        (ImageNotFound, 422, EXIT_NOT_DONE),
        (RateLimited, 429, EXIT_NOT_DONE),
        (RegistryError, 424, EXIT_NOT_DONE),
        (UpstreamError, 424, EXIT_NOT_DONE),
        (LockTimeoutError, 503, EXIT_NOT_DONE),
        (InsufficientStorageError, 507, EXIT_NOT_DONE),
    )


def error_code(error: BaseException) -> ErrorCode | None:
    """How ``error`` is answered, or None when it is not a domain error (a bug)."""
    for kind, status, exit_code in _table():
        if isinstance(error, kind):
            return ErrorCode(status, exit_code, _code(error), _fields(error))
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return ErrorCode(507, EXIT_NOT_DONE, "DiskFull")
    return None


def _code(error: BaseException) -> str:
    """The error's own code (``GatewayProvisionersMissing``), else its class name (the
    registry's reasons: ``AuthRequired``, ``InvalidCredentials``…)."""
    code = getattr(error, "code", None)
    return code if isinstance(code, str) and code else type(error).__name__


def _fields(error: BaseException) -> tuple[FieldError, ...]:
    return tuple(error.errors) if isinstance(error, RuntimeImagesError) else ()
