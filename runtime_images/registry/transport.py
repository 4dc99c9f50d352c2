"""Sending requests to a registry: redirects, authentication, retries, and answers as errors.

HTTP client: httpx (``httpx.AsyncClient``), one connection pool per client. Redirects are
followed here, not by the library, so that ``Authorization`` never leaves the registry's
origin (blob redirects to object storage are common). Every response is streamed and its
body only ever read under a budget (:mod:`.budget`); every failure becomes one of the
classes in :mod:`.errors` with a message a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from .auth import CredentialStore, parse_challenge
from .authflow import RETRY_STATUSES, Authenticator, AuthSettings, Scopes, pull_scopes
from .body import BodyTooLarge, UnsupportedEncoding, read_body
from .budget import Operation, back_off, operation, read_bounded
from .errors import (
    AccessDenied,
    DigestMismatch,
    ImageNotFound,
    InvalidCredentials,
    InvalidManifest,
    RateLimited,
    RegistryError,
    RegistryUnavailable,
)
from .location import RegistryLocation, resolve_url
from .manifest import load_document

__all__ = ["Body", "Transport", "TransportSettings"]

MAX_REDIRECTS = 5
ERROR_BODY_BYTES = 64 * 1024
"""Of an error answer only the start is read (for its error codes), decoded."""
_MAX_RETRY_AFTER = 24 * 3600.0

Body = bytes | Callable[[], AsyncIterator[bytes]] | None
"""A request body: bytes, or a function giving a fresh stream each time it is sent (a
redirect or an authentication retry sends it again)."""


class TransportSettings(AuthSettings, Protocol):
    """The client settings the transport reads (RegistryClient's traits, read when used):
    its authenticator's and these."""

    @property
    def connect_timeout(self) -> float: ...
    @property
    def operation_timeout(self) -> float: ...
    @property
    def ca_file(self) -> str | None: ...
    @property
    def max_retry_after(self) -> float: ...


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from ``Retry-After`` (a number), or None when absent or absurd."""
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds <= _MAX_RETRY_AFTER else None


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _unknown_host(error: BaseException) -> bool:
    """A DNS failure (no such host): retrying will not help, so fail at once."""
    return _caused_by(error, socket.gaierror)


def _untrusted_certificate(error: BaseException) -> bool:
    """TLS verification failed: retrying will not help either."""
    return _caused_by(error, ssl.SSLCertVerificationError) or (
        "CERTIFICATE_VERIFY_FAILED" in str(error)
    )


def _plain_http_answer(error: BaseException) -> bool:
    """A TLS handshake answered in plain http: the registry has no TLS; retrying won't help."""
    return "WRONG_VERSION_NUMBER" in str(error) or "record layer failure" in str(error)


class Transport:
    """One registry client's connection pool, authentication state and request logic."""

    def __init__(self, settings: TransportSettings, credentials: CredentialStore) -> None:
        self._settings = settings
        self._http: httpx.AsyncClient | None = None
        self.auth = Authenticator(settings, credentials, self.client)
        # Per registry host: the monotonic time before which no request is sent, set by a
        # 429 with Retry-After, so concurrent requests wait with the one that was refused.
        self._not_before: dict[str, float] = {}

    def client(self) -> httpx.AsyncClient:
        if self._http is None:
            settings = self._settings
            # The system's trust store (where sites install their private CAs), plus ca_file.
            verify = ssl.create_default_context()
            if settings.ca_file:
                verify.load_verify_locations(cafile=settings.ca_file)
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
                follow_redirects=False,  # we follow them, dropping credentials across hosts
                verify=verify,
                headers={"User-Agent": "jupyter-runtime-images"},
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def operation(self, host: str, what: str) -> contextlib.AbstractAsyncContextManager[Operation]:
        """The block as one operation under RegistryClient.operation_timeout."""
        return operation(host, what, self._settings.operation_timeout)

    async def read(
        self,
        response: httpx.Response,
        loc: RegistryLocation,
        limit: int,
        what: str,
        trait: str,
    ) -> bytes:
        """A whole body from the registry, decoded, at most ``limit`` bytes."""
        return await read_bounded(
            response,
            limit,
            what=what,
            trait=trait,
            source=loc.host,
            read_timeout=self._settings.read_timeout,
        )

    async def send_once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        auth: str | None,
        *,
        origin: str | None = None,
        content: Body = None,
    ) -> httpx.Response:
        """One request, following redirects; Authorization only goes to ``origin``.

        ``origin`` (``scheme://host``) defaults to the URL's own. Always streamed: a body
        is only ever read under a budget of decoded bytes, and the caller closes the
        response.
        """
        allowed = urlsplit(origin or url)[:2]
        client = self.client()
        for _ in range(MAX_REDIRECTS + 1):
            hop_headers = dict(headers)
            if auth and urlsplit(url)[:2] == allowed:
                hop_headers["Authorization"] = auth
            body = content() if callable(content) else content
            request = client.build_request(method, url, headers=hop_headers, content=body)
            response = await client.send(request, stream=True)
            # Path only: query strings of storage redirects and uploads can carry signatures.
            self._settings.log.debug(
                "registry: %s %s -> %s", method, urlsplit(url).path, response.status_code
            )
            if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                await response.aclose()
                location = response.headers["location"]
                url = resolve_url(url, location, urlsplit(url).netloc, "a redirect")
                if response.status_code == 303:
                    method, content = "GET", None
                continue
            return response
        raise RegistryUnavailable(f"too many redirects from {urlsplit(url).netloc}")

    async def request(
        self,
        method: str,
        loc: RegistryLocation,
        path: str,
        *,
        accept: str | None = None,
        headers: dict[str, str] | None = None,
        content: Body = None,
        what: str,
        scopes: Scopes | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """Send with auth and retries; returns any response that is not 401-retriable or 5xx.

        ``path`` is a path on the registry (``/v2/…``) or an absolute URL it gave (an
        upload's ``Location``). ``scopes`` are the token scopes the request needs (pull of
        ``loc``'s repository by default). With ``retry=False`` (uploads, whose session a
        half-sent body has changed) connection errors and 5xx answers are not retried.
        The response is streamed: read it with :meth:`read` or close it.
        """
        url = loc.base_url + path if path.startswith("/") else path
        wanted = scopes or pull_scopes(loc.repository)
        sent = dict(headers or {})
        if accept:
            sent["Accept"] = accept
        retries = self._settings.retries if retry else 0
        authenticated = False
        attempt = 0
        while True:
            await self._wait_if_rate_limited(loc.host)
            auth = self.auth.header(loc, wanted)
            try:
                response = await self.send_once(
                    method, url, sent, auth, origin=loc.base_url, content=content
                )
            except httpx.TransportError as error:
                if (
                    attempt >= retries
                    or _unknown_host(error)
                    or _untrusted_certificate(error)
                    or _plain_http_answer(error)
                ):
                    raise self.transport_error(loc, error, what, attempt + 1) from None
                attempt += 1
                await self._back_off(attempt, f"{method} {loc.host}: {type(error).__name__}")
                continue
            if response.status_code in RETRY_STATUSES and attempt < retries:
                await response.aclose()
                attempt += 1
                await self._back_off(attempt, f"{method} {loc.host}: HTTP {response.status_code}")
                continue
            if response.status_code == 429 and attempt < retries:
                wait = self._rate_limit_wait(loc.host, response)
                if wait is not None:
                    await response.aclose()
                    attempt += 1
                    continue
            if response.status_code == 401 and not authenticated:
                challenge = parse_challenge(response.headers.get("www-authenticate", ""))
                await response.aclose()
                await self.auth.authenticate(loc, challenge, what, wanted)
                authenticated = True
                continue
            return response

    def _rate_limit_wait(self, host: str, response: httpx.Response) -> float | None:
        """Seconds a 429 asks to wait when it says (``Retry-After``) and that is at most
        RegistryClient.max_retry_after; the host is then paused for every request. None:
        not worth waiting (no or a longer Retry-After), the answer is the caller's."""
        wait = parse_retry_after(response.headers.get("retry-after"))
        if wait is None or wait > self._settings.max_retry_after:
            return None
        until = time.monotonic() + wait
        self._not_before[host] = max(self._not_before.get(host, 0.0), until)
        self._settings.log.info("registry: %s rate-limits; waiting %.1f s", host, wait)
        return wait

    async def _wait_if_rate_limited(self, host: str) -> None:
        """Sleep until a host that answered 429 with Retry-After accepts requests again."""
        until = self._not_before.get(host)
        if until is None:
            return
        delay = until - time.monotonic()
        if delay <= 0:
            self._not_before.pop(host, None)
            return
        await asyncio.sleep(min(delay, self._settings.max_retry_after))

    async def _back_off(self, attempt: int, why: str) -> None:
        await back_off(attempt, self._settings.retry_backoff, why, self._settings.log)

    def transport_error(
        self, loc: RegistryLocation, error: Exception, what: str, attempts: int = 1
    ) -> RegistryError:
        """A connection failure as :class:`RegistryUnavailable`, with what to do about it."""
        detail = str(error) or type(error).__name__
        if _plain_http_answer(error):
            return RegistryUnavailable(
                f"cannot reach the registry {loc.host} for {what}: it answered in plain http "
                f"over https ({detail}); if it only speaks plain http, add {loc.host!r} to "
                "RegistryClient.insecure_registries"
            )
        if _untrusted_certificate(error):
            return RegistryUnavailable(
                f"cannot reach the registry {loc.host} for {what}: its TLS certificate is not "
                f"trusted ({detail}). Install its CA in the system trust store or set "
                "RegistryClient.ca_file; if it only speaks plain http, add it to "
                "RegistryClient.insecure_registries"
            )
        if isinstance(error, httpx.ConnectTimeout):
            detail = (
                f"no connection within the timeout ({self._settings.connect_timeout:g} s, "
                "RegistryClient.connect_timeout)"
            )
        elif isinstance(error, httpx.TimeoutException):
            detail = (
                f"no answer within the timeout ({self._settings.read_timeout:g} s, "
                f"RegistryClient.read_timeout; {type(error).__name__})"
            )
        if _unknown_host(error):
            return RegistryUnavailable(
                f"cannot reach the registry {loc.host} for {what}: its name does not resolve "
                f"({detail}); check the name, or configure RegistryClient.mirrors for an "
                "air-gapped site"
            )
        return RegistryUnavailable(
            f"cannot reach the registry {loc.host} for {what} after {attempts} "
            f"attempt{'s' if attempts > 1 else ''}: {detail}"
        )

    async def raise_for_status(
        self, response: httpx.Response, loc: RegistryLocation, what: str, action: str = "pull"
    ) -> None:
        """An error answer as the error class a person can act on; nothing for < 400.

        ``action`` (``pull`` or ``push``) is what the request was for: a refused push is
        :class:`AccessDenied` just as a refused pull is, and says which was refused.
        """
        status = response.status_code
        if status < 400:
            return
        codes: list[str] = []
        if response.request.method != "HEAD":
            codes = await self.error_codes(response)
        await response.aclose()
        creds = await self.auth.lookup(loc.host, loc.repository)
        challenge = self.auth.challenge(loc.host)
        pushing = action == "push"
        if status == 401:
            if creds is None:
                raise self.auth.auth_required(loc, what)
            if challenge is not None and challenge.scheme == "basic":
                raise InvalidCredentials(
                    f"{loc.host} rejected the credentials for user {creds.username!r} "
                    f"(from {creds.source}); log in again",
                    status=401,
                )
            raise AccessDenied(
                f"user {creds.username!r} may not {'push to' if pushing else 'pull'} "
                f"{loc.host}/{loc.repository} (or the repository does not exist); ask for "
                f"{action} access",
                status=401,
            )
        if status == 403:
            who = f"user {creds.username!r}" if creds else "anonymous users"
            access = "push access" if pushing else "access"
            raise AccessDenied(
                f"{loc.host} denied {access} to {loc.repository} for {who}", status=403
            )
        if status == 404 and not pushing:
            if "NAME_UNKNOWN" in codes:
                raise ImageNotFound(
                    f"the repository {loc.host}/{loc.repository} does not exist", status=404
                )
            raise ImageNotFound(f"{what} was not found in {loc.host}", status=404)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            wait = f"; try again in {retry_after:.0f} s" if retry_after else "; try again later"
            raise RateLimited(
                f"{loc.host} is rate-limiting {action}s{wait}", retry_after=retry_after
            )
        if status >= 500:
            raise RegistryUnavailable(
                f"{loc.host} failed with HTTP {status} for {what} after "
                f"{self._settings.retries + 1} attempts",
                status=status,
            )
        if pushing:
            self._raise_push_refusal(status, codes, loc, what)
        raise RegistryError(f"{loc.host} answered HTTP {status} for {what}", status=status)

    @staticmethod
    def _raise_push_refusal(
        status: int, codes: list[str], loc: RegistryLocation, what: str
    ) -> None:
        shown = f" ({', '.join(codes[:5])})" if codes else ""
        if "DIGEST_INVALID" in codes:
            raise DigestMismatch(
                f"{loc.host} computed another digest for {what}{shown}: the content was "
                "altered on the way (a proxy?) or the source is corrupted",
                status=status,
            )
        if status == 405 or "UNSUPPORTED" in codes:
            raise AccessDenied(
                f"{loc.host} does not accept pushes to {loc.repository} (HTTP {status}"
                f"{shown}); it may be a read-only mirror or pull-through cache",
                status=status,
            )
        if any(code.startswith("MANIFEST_") or code == "TAG_INVALID" for code in codes):
            raise InvalidManifest(
                f"{loc.host} refused {what} (HTTP {status}{shown})", status=status
            )
        raise RegistryError(f"{loc.host} refused {what} (HTTP {status}{shown})", status=status)

    @staticmethod
    async def error_codes(response: httpx.Response) -> list[str]:
        """The distribution error codes of an error body (its first 64 KiB, decoded)."""
        try:
            body = await read_body(response, ERROR_BODY_BYTES, truncate=True)
            document = load_document(body, "the error body")
        except (BodyTooLarge, UnsupportedEncoding, zlib.error, httpx.HTTPError, InvalidManifest):
            return []
        errors = document.get("errors") if isinstance(document, dict) else None
        if not isinstance(errors, list):
            return []
        return [str(e.get("code", ""))[:100] for e in errors[:100] if isinstance(e, dict)]
