"""Registry failures a person can act on, one class per cause.

``reason`` is the machine-readable name (the build conditions' reason, REST ``reason``);
the message says what happened and what to do. Messages never contain credentials.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AuthRequired",
    "DigestMismatch",
    "ImageNotFound",
    "InvalidCredentials",
    "InvalidManifest",
    "PlatformNotFound",
    "RateLimited",
    "RegistryError",
    "RegistryUnavailable",
]


class RegistryError(Exception):
    """Base class: anything that went wrong talking to a registry."""

    reason = "RegistryError"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AuthRequired(RegistryError):
    """The registry wants credentials and we have none (or anonymous access is not enough)."""

    reason = "AuthRequired"


class InvalidCredentials(AuthRequired):
    """Credentials were sent and rejected (wrong user name, password or token)."""


class AccessDenied(RegistryError):
    """Authenticated, but not allowed to pull this repository."""

    reason = "AccessDenied"


class ImageNotFound(RegistryError):
    """The repository, tag or digest does not exist in the registry."""

    reason = "ImageNotFound"


class PlatformNotFound(ImageNotFound):
    """A multi-arch image has no entry for the wanted platform."""


class RegistryUnavailable(RegistryError):
    """The registry cannot be reached, or keeps failing (5xx, connection errors, timeouts)."""

    reason = "RegistryUnavailable"


class RateLimited(RegistryError):
    """The registry answered 429 Too Many Requests."""

    reason = "RateLimited"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class DigestMismatch(RegistryError):
    """Content does not hash to the digest that names it: corrupted or tampered with."""

    reason = "DigestMismatch"


class InvalidManifest(RegistryError):
    """A manifest that is not JSON, has an unsupported media type, or contradicts itself."""

    reason = "InvalidManifest"
