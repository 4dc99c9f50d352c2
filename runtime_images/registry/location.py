"""Where a reference lives: registry host, repository, base URL and http or https.

Public because engines need the same answer the client uses (a ``skopeo``/``buildah``
command line gets ``--tls-verify=false`` exactly when the client would speak plain http).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

from ..reference import Reference, rewrite_for_mirror
from .errors import RegistryError

__all__ = [
    "RegistryLocation",
    "is_loopback",
    "locate",
    "registry_base_url",
    "resolve_url",
    "split_url",
]


@dataclass(frozen=True)
class RegistryLocation:
    """A repository in a registry, as the client reaches it (after mirror rewriting).

    ``host`` is ``host[:port]``; ``repository`` the path inside the registry
    (``library/python``); ``base_url`` ``http(s)://host[:port]``; ``plain_http`` whether
    the registry is spoken to without TLS (loopback or listed as insecure).
    """

    host: str
    repository: str
    base_url: str
    plain_http: bool


def split_url(url: str) -> SplitResult | None:
    """The parts of a URL a registry sent, or None: urllib raises ``ValueError`` on
    brackets that hold no IPv6 address (``http://[x``, ``http://[::1x]/``)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def resolve_url(base: str, given: str, host: str, what: str) -> str:
    """``given`` (a ``Location`` or ``Link`` ``host`` sent) resolved against ``base``; one
    that is not a URL is the registry's error, named, not a crash of whatever asked it."""
    try:
        url = urljoin(base, given)
    except ValueError:
        url = ""
    if not url or split_url(url) is None:
        raise RegistryError(f"{host} sent {what} that is not a URL: {given[:80]!r}")
    return url


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ``[::1]``, with or without a port."""
    name = urlsplit(f"//{host}").hostname or host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def registry_base_url(host: str, insecure_registries: Iterable[str]) -> str:
    """``http://host`` for loopback and listed registries (as Docker does), else https."""
    plain = host in insecure_registries or is_loopback(host)
    return f"{'http' if plain else 'https'}://{host}"


def locate(
    ref: Reference,
    insecure_registries: Iterable[str],
    mirrors: Mapping[str, str] | None = None,
) -> RegistryLocation:
    """Where ``ref`` is read from; ``mirrors`` (prefix -> mirror) rewrite it first."""
    target = rewrite_for_mirror(ref, mirrors) if mirrors else ref
    host = target.registry_host
    base_url = registry_base_url(host, insecure_registries)
    return RegistryLocation(host, target.path, base_url, base_url.startswith("http:"))
