"""An async OCI distribution client: ping, manifests, blobs, tags, pinning, and pushing.

HTTP client: httpx (``httpx.AsyncClient``). Chosen over tornado's ``AsyncHTTPClient``,
which jupyter_server already brings, because layer streaming needs backpressure and
tornado only awaits a ``streaming_callback`` from 6.6 on (jupyter_server allows 6.2), with
status and headers arriving through a separate ``header_callback``; httpx gives an async
iterator over the body after the headers, per-phase timeouts (connect vs read), and a
connection pool, on the same asyncio loop as the server. Redirects are followed here, not
by the library, so that ``Authorization`` never leaves the registry's origin (blob
redirects to object storage are common).

Nothing here blocks the event loop: all network I/O is awaited, digests are computed
incrementally per chunk. Registries are treated as hostile: every digest they send is
parsed before use (``runtime_images.digest``), and every read has a budget (decoded
bytes, pages, one deadline per operation, a minimum rate for blobs; see docs/registry.md).
"""

from __future__ import annotations

from ..reference import Reference
from .auth import Credentials, CredentialStore
from .client import RegistryClient, ResolvedImage, TagList
from .errors import (
    AccessDenied,
    AuthRequired,
    DigestMismatch,
    ImageNotFound,
    InvalidCredentials,
    InvalidManifest,
    PlatformNotFound,
    RateLimited,
    RegistryError,
    RegistryUnavailable,
)
from .location import RegistryLocation
from .manifest import Descriptor, Manifest, Platform
from .publish import ImageSource, PushProgress

__all__ = [
    "AccessDenied",
    "AuthRequired",
    "CredentialStore",
    "Credentials",
    "Descriptor",
    "DigestMismatch",
    "ImageNotFound",
    "ImageSource",
    "InvalidCredentials",
    "InvalidManifest",
    "Manifest",
    "Platform",
    "PlatformNotFound",
    "PushProgress",
    "RateLimited",
    "RegistryClient",
    "RegistryError",
    "RegistryLocation",
    "RegistryUnavailable",
    "ResolvedImage",
    "TagList",
    "pin",
]


async def pin(reference: Reference | str, *, client: RegistryClient | None = None) -> Reference:
    """Resolve ``reference``'s tag to the digest its registry serves: ``repo:tag@sha256:…``.

    Uses ``client`` (configured by the application) or a default one for this call.
    """
    if client is not None:
        return await client.pin(reference)
    async with RegistryClient() as own:
        return await own.pin(reference)
