"""Domain errors of the framework-free core; the REST layer maps each class to a status."""

from __future__ import annotations

from collections.abc import Sequence

from .validation import FieldError


class RuntimeImagesError(Exception):
    """Base class: ``str(error)`` is a message a person can act on."""


class NotFoundError(RuntimeImagesError):
    """The named runtime image (or build) does not exist."""


class AlreadyExistsError(RuntimeImagesError):
    """The name is taken at some level of the search path."""


class ReadOnlyError(RuntimeImagesError):
    """The instance lives in a factory or shared directory, which is never modified."""


class PreconditionFailedError(RuntimeImagesError):
    """``If-Match`` named a version that is no longer the stored one."""


class ConflictError(RuntimeImagesError):
    """The request cannot apply to the stored state (e.g. patching a malformed file)."""


class ValidationFailedError(RuntimeImagesError):
    """A document breaks the rules; ``errors`` names every offending field."""

    def __init__(self, errors: Sequence[FieldError], message: str | None = None) -> None:
        self.errors = list(errors)
        summary = "; ".join(str(e) for e in self.errors[:5])
        if len(self.errors) > 5:
            summary += f"; and {len(self.errors) - 5} more"
        super().__init__(message or f"Invalid runtime image: {summary}")


class PayloadTooLargeError(RuntimeImagesError):
    """What would be written is over a configured size limit."""
