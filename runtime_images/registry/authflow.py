"""The authentication flow: challenges, Basic headers, and Bearer tokens per scope.

A registry answers 401 with ``WWW-Authenticate``; the client then either sends Basic
credentials (from :mod:`.auth`'s credential store) or asks the challenge's token server for
a token covering the scopes the request needs: ``repository:<name>:pull`` to read,
``repository:<name>:pull,push`` to write, plus ``repository:<source>:pull`` to mount a blob
from another repository. Tokens are cached per registry and scopes until shortly before
they expire, and everything derived from credentials is dropped when an auth file changes.
Credentials never appear in a log line or a message (only the user name and the file).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from .auth import Challenge, Credentials, CredentialStore
from .budget import back_off, describe, read_bounded
from .errors import (
    AuthRequired,
    InvalidCredentials,
    InvalidManifest,
    RateLimited,
    RegistryUnavailable,
)
from .location import RegistryLocation, is_loopback, split_url
from .manifest import load_document

__all__ = [
    "RETRY_STATUSES",
    "AuthSettings",
    "Authenticator",
    "RetrySettings",
    "Scopes",
    "pull_scopes",
    "push_scopes",
]

RETRY_STATUSES = frozenset({500, 502, 503, 504})
"""Answers worth retrying: the registry (or its token server) failed, it did not refuse."""

Scopes = tuple[str, ...]
"""Token scopes a request needs, e.g. ``("repository:team/app:pull,push",)``."""


def pull_scopes(repository: str) -> Scopes:
    return (f"repository:{repository}:pull",)


def push_scopes(repository: str, mount_from: str | None = None) -> Scopes:
    """Push (and pull: a push checks what exists) to ``repository``; pull from a mount's
    source repository."""
    own = f"repository:{repository}:pull,push"
    if mount_from and mount_from != repository:
        return (own, f"repository:{mount_from}:pull")
    return (own,)


class RetrySettings(Protocol):
    """The client settings every retrying part reads (RegistryClient's traits)."""

    @property
    def log(self) -> Any: ...
    @property
    def retries(self) -> int: ...
    @property
    def retry_backoff(self) -> float: ...


class AuthSettings(RetrySettings, Protocol):
    """The client settings the flow reads (RegistryClient's traits, read when used)."""

    @property
    def read_timeout(self) -> float: ...
    @property
    def insecure_registries(self) -> Sequence[str]: ...
    @property
    def max_response_bytes(self) -> int: ...


@dataclass
class _Token:
    value: str
    expires: float


class Authenticator:
    """What to send as ``Authorization`` to each registry, and how to get it after a 401."""

    def __init__(
        self,
        settings: AuthSettings,
        credentials: CredentialStore,
        client: Callable[[], httpx.AsyncClient],
    ) -> None:
        self._settings = settings
        self.credentials = credentials
        self._client = client
        self._challenges: dict[str, Challenge] = {}
        self._basic: dict[str, str] = {}
        self._tokens: dict[tuple[str, Scopes], _Token] = {}
        self._lock = asyncio.Lock()

    def use(self, credentials: CredentialStore) -> None:
        """Read credentials from ``credentials`` from now on; forget what the old gave."""
        self.credentials = credentials
        self._forget()

    def _forget(self) -> None:
        self._basic.clear()
        self._tokens.clear()

    def challenge(self, host: str) -> Challenge | None:
        """The last challenge ``host`` sent (its scheme says how it authenticates)."""
        return self._challenges.get(host)

    async def lookup(self, host: str, repository: str) -> Credentials | None:
        return await self.credentials.lookup_async(host, repository)

    def header(self, loc: RegistryLocation, scopes: Scopes) -> str | None:
        """What to send as ``Authorization``, from what was derived from current credentials.

        An auth file that changed since the last request (a rotated password, a logout)
        drops every Basic header and token derived from the old one (one stat per file).
        """
        if self.credentials.changed():
            self._forget()
        challenge = self._challenges.get(loc.host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return self._basic.get(loc.host)
        token = self._tokens.get((loc.host, scopes))
        if token and token.expires > time.monotonic():
            return f"Bearer {token.value}"
        return None

    async def authenticate(
        self, loc: RegistryLocation, challenge: Challenge | None, what: str, scopes: Scopes
    ) -> None:
        """Answer a 401: remember its challenge, then derive a Basic header or get a token."""
        creds = await self.lookup(loc.host, loc.repository)
        if challenge is None or challenge.scheme not in ("basic", "bearer"):
            raise AuthRequired(
                f"{loc.host} refused {what} without a supported authentication method "
                f"({challenge.scheme if challenge else 'no challenge'})",
                status=401,
            )
        self._challenges[loc.host] = challenge
        if challenge.scheme == "basic":
            if creds is None:
                raise self.auth_required(loc, what)
            self._basic[loc.host] = creds.basic_header()
            return
        async with self._lock:
            await self._fetch_token(loc, challenge, creds, what, scopes)

    def auth_required(self, loc: RegistryLocation, what: str) -> AuthRequired:
        challenge = self._challenges.get(loc.host)
        maybe_missing = (
            " (token registries such as Docker Hub answer the same way when the repository "
            "does not exist: check the name too)"
            if challenge is not None and challenge.scheme == "bearer"
            else ""
        )
        return AuthRequired(
            f"{loc.host} requires authentication for {what}, and no credentials for it were "
            f"found in {', '.join(self.credentials.paths)}. Log in with "
            f"'podman login {loc.host}' or 'docker login {loc.host}', or set "
            f"RegistryClient.auth_file{maybe_missing}",
            status=401,
        )

    async def _fetch_token(
        self,
        loc: RegistryLocation,
        challenge: Challenge,
        creds: Credentials | None,
        what: str,
        scopes: Scopes,
    ) -> None:
        settings = self._settings
        realm = challenge.params.get("realm")
        parts = split_url(realm) if realm else None
        if not realm or parts is None or parts.scheme not in ("http", "https"):
            raise AuthRequired(f"{loc.host} sent a Bearer challenge without a usable realm")
        realm_host = parts.netloc
        if (
            creds is not None
            and parts.scheme == "http"
            and not (is_loopback(realm_host) or realm_host in settings.insecure_registries)
        ):
            raise AuthRequired(
                f"{loc.host} wants credentials sent to {realm_host} over plain http; refusing. "
                f"Add {realm_host} to RegistryClient.insecure_registries if that is intended"
            )
        query = [("scope", scope) for scope in scopes]
        if "service" in challenge.params:
            query.append(("service", challenge.params["service"]))
        headers = {"Authorization": creds.basic_header()} if creds else {}
        url = realm + ("&" if "?" in realm else "?") + urlencode(query)
        client = self._client()
        token_what = f"the token for {loc.host}"
        attempt = 0
        while True:
            try:
                response = await client.send(
                    client.build_request("GET", url, headers=headers), stream=True
                )
            except httpx.TransportError as error:
                if attempt >= settings.retries:
                    raise RegistryUnavailable(
                        f"cannot reach the token server {realm_host} of {loc.host}: "
                        f"{describe(error)}"
                    ) from None
                attempt += 1
                await back_off(
                    attempt,
                    settings.retry_backoff,
                    f"token request: {type(error).__name__}",
                    settings.log,
                )
                continue
            if response.status_code in RETRY_STATUSES and attempt < settings.retries:
                await response.aclose()
                attempt += 1
                await back_off(
                    attempt,
                    settings.retry_backoff,
                    f"token request: HTTP {response.status_code}",
                    settings.log,
                )
                continue
            break
        if response.status_code != 200:
            await response.aclose()
        if response.status_code in (401, 403):
            if creds is not None:
                raise InvalidCredentials(
                    f"the credentials for {loc.host} (user {creds.username!r} from "
                    f"{creds.source}) were rejected by its token server; log in again",
                    status=401,
                )
            raise self.auth_required(loc, what)
        if response.status_code == 429:
            raise RateLimited(f"the token server of {loc.host} is rate-limiting requests")
        if response.status_code != 200:
            raise RegistryUnavailable(
                f"the token server of {loc.host} answered HTTP {response.status_code}",
                status=response.status_code,
            )
        raw = await read_bounded(
            response,
            settings.max_response_bytes,
            what=token_what,
            trait="max_response_bytes",
            source=realm_host,
            read_timeout=settings.read_timeout,
        )
        try:
            body = load_document(raw, token_what)
        except InvalidManifest:
            body = None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthRequired(f"the token server of {loc.host} returned no token")
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        lifetime = (
            min(max(expires_in, 60), 24 * 3600) if isinstance(expires_in, int | float) else 60
        )
        self._tokens[(loc.host, scopes)] = _Token(token, time.monotonic() + float(lifetime) - 10)
