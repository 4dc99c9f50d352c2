"""The OCI distribution client: configuration, transport, auth flow and API calls."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ipaddress
import math
import random
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
from traitlets import Dict, Float, Int, List, Unicode, default, observe, validate
from traitlets.config import LoggingConfigurable

from ..reference import (
    DEFAULT_TAG,
    InvalidReferenceError,
    Reference,
    normalise_mirrors,
    parse,
    rewrite_for_mirror,
)
from .auth import Challenge, Credentials, CredentialStore, parse_challenge
from .body import BodyTooLarge, UnsupportedEncoding, read_body
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
from .manifest import (
    ACCEPT_MANIFESTS,
    INDEX_TYPES,
    MANIFEST_TYPES,
    Descriptor,
    Manifest,
    Platform,
    check_image_config,
    compute_digest,
    load_document,
    parse_digest_field,
    parse_manifest,
    select_platform,
    verify_digest,
)

if TYPE_CHECKING:
    from typing import Self

__all__ = ["RegistryClient", "ResolvedImage", "TagList"]

MAX_REDIRECTS = 5
ERROR_BODY_BYTES = 64 * 1024
"""Of an error answer only the start is read (for its error codes), decoded."""
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class ResolvedImage:
    """One platform's image behind a reference.

    ``digest`` is the top-level digest the tag points to (the index for multi-arch images);
    ``manifest`` is the platform's image manifest and ``config`` its parsed config blob.
    """

    reference: Reference
    digest: str
    media_type: str
    manifest: Manifest
    platform: Platform
    config: dict[str, Any]

    @property
    def pinned(self) -> Reference:
        return self.reference.with_tag(self.reference.tag or DEFAULT_TAG).with_digest(self.digest)


@dataclass
class _Location:
    """Where a reference is fetched from (after mirror rewriting)."""

    host: str
    repository: str
    base_url: str


@dataclass
class _Token:
    value: str
    expires: float


class TagList(list[str]):
    """Tags of a repository; ``truncated`` says why the list is incomplete, if it is."""

    truncated: str | None = None


@dataclass
class _Operation:
    """One registry operation under its deadline: what it is and how far it got."""

    host: str
    what: str
    timeout: float
    step: str = ""
    received: int = 0

    def count(self, received: int) -> None:
        self.received += received

    def expired(self) -> RegistryUnavailable:
        step = f" while reading {self.step}" if self.step else ""
        return RegistryUnavailable(
            f"{self.host} did not finish {self.what} within {self.timeout:g} s{step} "
            f"({self.received} bytes received): the registry or the network is stalled or "
            "too slow. If the registry is only slow, raise RegistryClient.operation_timeout"
        )


_OPERATION: contextvars.ContextVar[_Operation | None] = contextvars.ContextVar(
    "registry_operation", default=None
)


class _TransferRate:
    """Is a blob still arriving at ``minimum`` bytes/s, over windows of waiting time?

    Only time spent waiting for the registry counts, so a slow consumer (a disk, a parser)
    never makes a registry look slow.
    """

    def __init__(self, minimum: float, window: float) -> None:
        self.minimum, self.window = minimum, window
        self.waited = 0.0
        self.bytes = 0

    def too_slow(self, waited: float, received: int) -> tuple[int, float] | None:
        """Record one read; at the end of a window below the rate, its (bytes, seconds)."""
        self.waited += waited
        self.bytes += received
        if self.minimum <= 0 or self.waited < self.window:
            return None
        window = (self.bytes, self.waited)
        self.waited, self.bytes = 0.0, 0
        return window if window[0] < self.minimum * window[1] else None


def _describe(error: BaseException) -> str:
    """An exception as text that is never empty (httpx timeouts often have no message)."""
    return str(error) or type(error).__name__


def _parse_retry_after(value: str | None) -> float | None:
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


def _is_loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RegistryClient(LoggingConfigurable):
    """Read images from OCI / Docker registries over the distribution API (async).

    One instance per application; it keeps one HTTP connection pool and a token cache.
    Use ``async with RegistryClient(...) as client`` or call :meth:`aclose`.
    """

    auth_file = Unicode(
        None,
        allow_none=True,
        config=True,
        help="""Registry credentials file (docker ``config.json`` or podman ``auth.json``
        format, read only). When unset: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/
        auth.json, ~/.config/containers/auth.json, then $DOCKER_CONFIG/config.json
        (~/.docker/config.json), first match wins.""",
    )
    insecure_registries = List(
        Unicode(),
        config=True,
        help="""Registries (``host[:port]``) reached over plain http instead of https.
        Loopback registries (localhost, 127.0.0.0/8, [::1]) always use plain http, as Docker
        does.""",
    )
    mirrors = Dict(
        value_trait=Unicode(),
        config=True,
        help="""Registry mirrors for air-gapped sites: repository prefix -> where it is
        served, e.g. {"docker.io": "mirror.local:5000/dockerhub"}. The longest matching prefix
        wins. Images are fetched from the mirror; pinned references keep their original
        name.""",
    )
    platform = Unicode(
        "linux/amd64",
        config=True,
        help="Platform (os/architecture[/variant]) chosen from multi-arch images.",
    )
    connect_timeout = Float(10.0, config=True, help="Seconds to wait for a connection.")
    read_timeout = Float(
        60.0,
        config=True,
        help="""Seconds to wait for each read from the registry. A registry that sends a
        byte now and then never hits this; operation_timeout and min_blob_rate bound
        those.""",
    )
    operation_timeout = Float(
        120.0,
        config=True,
        help="""Seconds one registry operation may take in all: resolving an image (its
        manifests, index and config, with token requests and retries), pinning, fetching a
        manifest or listing tags. Layer downloads are bounded by min_blob_rate instead, so a
        large image on a slow link still works.""",
    )
    min_blob_rate = Float(
        10 * 1024,
        config=True,
        help="""Bytes per second a blob (layer) download must keep up, averaged over
        blob_rate_window seconds of waiting for the registry; below it the download fails
        rather than hang (a registry that trickles a byte every few seconds). Time spent
        consuming the data does not count. 0 turns the check off.""",
    )
    blob_rate_window = Float(
        60.0,
        config=True,
        help="Seconds of waiting over which min_blob_rate is averaged.",
    )
    max_manifest_bytes = Int(
        4 * 1024 * 1024,
        config=True,
        help="""Largest manifest or index accepted, in bytes after Content-Encoding is
        decoded (4 MiB is distribution's own limit).""",
    )
    max_config_bytes = Int(
        32 * 1024 * 1024,
        config=True,
        help="Largest image config blob accepted, in bytes (configs are JSON, usually < 1 MiB).",
    )
    max_response_bytes = Int(
        4 * 1024 * 1024,
        config=True,
        help="""Largest other JSON answer accepted (a page of a tags list, a token), in bytes
        after Content-Encoding is decoded, so a small compressed body cannot become a large
        one in memory. Of an error answer only the first 64 KiB are read.""",
    )
    max_tag_pages = Int(
        100,
        config=True,
        help="""Pages of a tags list followed (Link pagination, 1000 tags a page); the list
        is returned marked as truncated after that.""",
    )
    max_tags = Int(
        100_000,
        config=True,
        help="Tags kept from a tags list; the list is returned marked as truncated after that.",
    )
    retries = Int(
        3,
        config=True,
        help="""Retries after a connection error, a timeout or a 5xx answer (never after
        other errors). Streams are only retried before their first byte.""",
    )
    retry_backoff = Float(
        0.5, config=True, help="Seconds before the first retry; doubles on each retry."
    )
    ca_file = Unicode(
        None,
        allow_none=True,
        config=True,
        help="PEM bundle of CA certificates for registries with a private CA.",
    )

    @default("insecure_registries")
    def _default_insecure(self) -> list[str]:
        return []

    @validate("mirrors")
    def _validate_mirrors(self, proposal: Any) -> dict[str, str]:
        try:
            return normalise_mirrors(proposal["value"])
        except InvalidReferenceError as error:
            from traitlets import TraitError

            raise TraitError(str(error)) from None

    @observe("auth_file")
    def _auth_file_changed(self, change: Any) -> None:
        self._credentials = CredentialStore([change["new"]] if change["new"] else None)
        self._basic.clear()
        self._tokens.clear()

    @validate("platform")
    def _validate_platform(self, proposal: Any) -> str:
        from traitlets import TraitError

        try:
            Platform.parse(proposal["value"])
        except ValueError as error:
            raise TraitError(str(error)) from None
        return str(proposal["value"])

    def __init__(self, **kwargs: Any) -> None:
        # Before super().__init__: configuration may already trigger the auth_file observer.
        self._http: httpx.AsyncClient | None = None
        self._challenges: dict[str, Challenge] = {}
        self._basic: dict[str, str] = {}
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._auth_lock = asyncio.Lock()
        super().__init__(**kwargs)
        self._credentials = CredentialStore([self.auth_file] if self.auth_file else None)

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # The system's trust store (where sites install their private CAs), plus ca_file.
            verify = ssl.create_default_context()
            if self.ca_file:
                verify.load_verify_locations(cafile=self.ca_file)
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.read_timeout, connect=self.connect_timeout),
                follow_redirects=False,  # we follow them, dropping credentials across hosts
                verify=verify,
                headers={"User-Agent": "jupyter-runtime-images"},
            )
        return self._http

    # -- budgets ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _operation(self, host: str, what: str) -> AsyncIterator[_Operation]:
        """Run the block under ``operation_timeout``; nested operations share the outer one.

        At the deadline every await inside is cancelled (requests, retries' sleeps, token
        requests) and :class:`RegistryUnavailable` says what was being read and how much had
        arrived.
        """
        outer = _OPERATION.get()
        if outer is not None:
            yield outer
            return
        operation = _Operation(host, what, self.operation_timeout)
        token = _OPERATION.set(operation)
        try:
            async with asyncio.timeout(self.operation_timeout) as deadline:
                yield operation
        except TimeoutError:
            if deadline.expired():
                raise operation.expired() from None
            raise
        finally:
            _OPERATION.reset(token)

    async def _read(
        self,
        response: httpx.Response,
        loc: _Location,
        limit: int,
        what: str,
        trait: str,
        source: str | None = None,
    ) -> bytes:
        """A whole body, decoded, at most ``limit`` bytes (``trait`` sets the limit).

        ``source`` is the host that sent it when that is not the registry (a token server).
        """
        source = source or loc.host
        operation = _OPERATION.get()
        if operation is not None:
            operation.step = what
        try:
            return await read_body(
                response, limit, on_bytes=operation.count if operation is not None else None
            )
        except BodyTooLarge:
            raise InvalidManifest(
                f"{what} from {source} is larger than {limit} bytes (decoded); raise "
                f"RegistryClient.{trait} if it is genuine"
            ) from None
        except UnsupportedEncoding as error:
            raise InvalidManifest(f"{what} from {source} uses an unsupported {error}") from None
        except zlib.error as error:
            raise InvalidManifest(
                f"{what} from {source} is not valid {response.headers.get('content-encoding')} "
                f"data ({error})"
            ) from None
        except httpx.TimeoutException:
            raise RegistryUnavailable(
                f"{source} sent nothing for {self.read_timeout:g} s while sending {what} "
                "(RegistryClient.read_timeout)"
            ) from None
        except httpx.TransportError as error:
            raise RegistryUnavailable(
                f"the connection to {source} broke while reading {what}: {_describe(error)}"
            ) from None

    # -- locations and credentials ---------------------------------------------------------

    def _locate(self, ref: Reference) -> _Location:
        target = rewrite_for_mirror(ref, self.mirrors) if self.mirrors else ref
        host = target.registry_host
        scheme = "http" if host in self.insecure_registries or _is_loopback(host) else "https"
        return _Location(host, target.path, f"{scheme}://{host}")

    async def _creds(self, host: str, repository: str) -> Credentials | None:
        return await self._credentials.lookup_async(host, repository)

    # -- transport -------------------------------------------------------------------------

    async def _send_once(
        self, method: str, url: str, headers: dict[str, str], auth: str | None
    ) -> httpx.Response:
        """One request, following redirects; Authorization only goes to the original origin.

        Always streamed: a body is only ever read through :meth:`_read`, under a budget of
        decoded bytes, and the caller closes the response.
        """
        origin = urlsplit(url)[:2]
        client = self._client()
        for _ in range(MAX_REDIRECTS + 1):
            hop_headers = dict(headers)
            if auth and urlsplit(url)[:2] == origin:
                hop_headers["Authorization"] = auth
            request = client.build_request(method, url, headers=hop_headers)
            response = await client.send(request, stream=True)
            # Path only: query strings of storage redirects can carry signatures.
            self.log.debug(
                "registry: %s %s -> %s", method, urlsplit(url).path, response.status_code
            )
            if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                await response.aclose()
                url = urljoin(url, response.headers["location"])
                if response.status_code == 303:
                    method = "GET"
                continue
            return response
        raise RegistryUnavailable(f"too many redirects from {urlsplit(url).netloc}")

    async def _request(
        self,
        method: str,
        loc: _Location,
        path: str,
        *,
        accept: str | None = None,
        what: str,
    ) -> httpx.Response:
        """Send with auth and retries; returns any response that is not 401-retriable or 5xx.

        The response is streamed: read it with :meth:`_read` or close it.
        """
        url = loc.base_url + path
        headers = {"Accept": accept} if accept else {}
        authenticated = False
        attempt = 0
        while True:
            auth = self._auth_header(loc)
            try:
                response = await self._send_once(method, url, headers, auth)
            except httpx.TransportError as error:
                if (
                    attempt >= self.retries
                    or _unknown_host(error)
                    or _untrusted_certificate(error)
                    or _plain_http_answer(error)
                ):
                    raise self._transport_error(loc, error, what, attempt + 1) from None
                attempt += 1
                await self._sleep(attempt, f"{method} {loc.host}: {type(error).__name__}")
                continue
            if response.status_code in _RETRY_STATUSES and attempt < self.retries:
                await response.aclose()
                attempt += 1
                await self._sleep(attempt, f"{method} {loc.host}: HTTP {response.status_code}")
                continue
            if response.status_code == 401 and not authenticated:
                challenge = parse_challenge(response.headers.get("www-authenticate", ""))
                await response.aclose()
                await self._authenticate(loc, challenge, what)
                authenticated = True
                continue
            return response

    async def _sleep(self, attempt: int, why: str) -> None:
        delay = self.retry_backoff * (2 ** (attempt - 1)) * (1 + random.random() / 4)
        self.log.debug("Retrying in %.2fs after %s", delay, why)
        await asyncio.sleep(delay)

    def _transport_error(
        self, loc: _Location, error: Exception, what: str, attempts: int = 1
    ) -> RegistryError:
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
                f"no connection within the timeout ({self.connect_timeout:g} s, "
                "RegistryClient.connect_timeout)"
            )
        elif isinstance(error, httpx.TimeoutException):
            detail = (
                f"no answer within the timeout ({self.read_timeout:g} s, "
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

    # -- authentication --------------------------------------------------------------------

    def _auth_header(self, loc: _Location) -> str | None:
        """What to send as ``Authorization``, from what was derived from current credentials.

        An auth file that changed since the last request (a rotated password, a logout)
        drops every Basic header and token derived from the old one (one stat per file).
        """
        if self._credentials.changed():
            self._basic.clear()
            self._tokens.clear()
        challenge = self._challenges.get(loc.host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return self._basic.get(loc.host)
        token = self._tokens.get((loc.host, self._scope(loc)))
        if token and token.expires > time.monotonic():
            return f"Bearer {token.value}"
        return None

    @staticmethod
    def _scope(loc: _Location) -> str:
        return f"repository:{loc.repository}:pull"

    async def _authenticate(self, loc: _Location, challenge: Challenge | None, what: str) -> None:
        creds = await self._creds(loc.host, loc.repository)
        if challenge is None or challenge.scheme not in ("basic", "bearer"):
            raise AuthRequired(
                f"{loc.host} refused {what} without a supported authentication method "
                f"({challenge.scheme if challenge else 'no challenge'})",
                status=401,
            )
        self._challenges[loc.host] = challenge
        if challenge.scheme == "basic":
            if creds is None:
                raise self._auth_required(loc, what)
            self._basic[loc.host] = creds.basic_header()
            return
        async with self._auth_lock:
            await self._fetch_token(loc, challenge, creds, what)

    def _auth_required(self, loc: _Location, what: str) -> AuthRequired:
        challenge = self._challenges.get(loc.host)
        maybe_missing = (
            " (token registries such as Docker Hub answer the same way when the repository "
            "does not exist: check the name too)"
            if challenge is not None and challenge.scheme == "bearer"
            else ""
        )
        return AuthRequired(
            f"{loc.host} requires authentication for {what}, and no credentials for it were "
            f"found in {', '.join(self._credentials.paths)}. Log in with "
            f"'podman login {loc.host}' or 'docker login {loc.host}', or set "
            f"RegistryClient.auth_file{maybe_missing}",
            status=401,
        )

    async def _fetch_token(
        self, loc: _Location, challenge: Challenge, creds: Credentials | None, what: str
    ) -> None:
        realm = challenge.params.get("realm")
        if not realm or urlsplit(realm).scheme not in ("http", "https"):
            raise AuthRequired(f"{loc.host} sent a Bearer challenge without a usable realm")
        realm_host = urlsplit(realm).netloc
        if (
            creds is not None
            and urlsplit(realm).scheme == "http"
            and not (_is_loopback(realm_host) or realm_host in self.insecure_registries)
        ):
            raise AuthRequired(
                f"{loc.host} wants credentials sent to {realm_host} over plain http; refusing. "
                f"Add {realm_host} to RegistryClient.insecure_registries if that is intended"
            )
        query = {"scope": self._scope(loc)}
        if "service" in challenge.params:
            query["service"] = challenge.params["service"]
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
                if attempt >= self.retries:
                    raise RegistryUnavailable(
                        f"cannot reach the token server {realm_host} of {loc.host}: "
                        f"{_describe(error)}"
                    ) from None
                attempt += 1
                await self._sleep(attempt, f"token request: {type(error).__name__}")
                continue
            if response.status_code in _RETRY_STATUSES and attempt < self.retries:
                await response.aclose()
                attempt += 1
                await self._sleep(attempt, f"token request: HTTP {response.status_code}")
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
            raise self._auth_required(loc, what)
        if response.status_code == 429:
            raise RateLimited(f"the token server of {loc.host} is rate-limiting requests")
        if response.status_code != 200:
            raise RegistryUnavailable(
                f"the token server of {loc.host} answered HTTP {response.status_code}",
                status=response.status_code,
            )
        raw = await self._read(
            response, loc, self.max_response_bytes, token_what, "max_response_bytes", realm_host
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
        self._tokens[(loc.host, self._scope(loc))] = _Token(
            token, time.monotonic() + float(lifetime) - 10
        )

    # -- errors ----------------------------------------------------------------------------

    async def _raise_for_status(self, response: httpx.Response, loc: _Location, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        codes: list[str] = []
        if response.request.method != "HEAD":
            codes = await self._error_codes(response)
        await response.aclose()
        creds = await self._creds(loc.host, loc.repository)
        challenge = self._challenges.get(loc.host)
        if status == 401:
            if creds is None:
                raise self._auth_required(loc, what)
            if challenge is not None and challenge.scheme == "basic":
                raise InvalidCredentials(
                    f"{loc.host} rejected the credentials for user {creds.username!r} "
                    f"(from {creds.source}); log in again",
                    status=401,
                )
            raise AccessDenied(
                f"user {creds.username!r} may not pull {loc.host}/{loc.repository} "
                "(or the repository does not exist); ask for pull access",
                status=401,
            )
        if status == 403:
            who = f"user {creds.username!r}" if creds else "anonymous users"
            raise AccessDenied(
                f"{loc.host} denied access to {loc.repository} for {who}", status=403
            )
        if status == 404:
            if "NAME_UNKNOWN" in codes:
                raise ImageNotFound(
                    f"the repository {loc.host}/{loc.repository} does not exist", status=404
                )
            raise ImageNotFound(f"{what} was not found in {loc.host}", status=404)
        if status == 429:
            retry_after = _parse_retry_after(response.headers.get("retry-after"))
            wait = f"; try again in {retry_after:.0f} s" if retry_after else "; try again later"
            raise RateLimited(f"{loc.host} is rate-limiting pulls{wait}", retry_after=retry_after)
        if status >= 500:
            raise RegistryUnavailable(
                f"{loc.host} failed with HTTP {status} for {what} after {self.retries + 1} "
                "attempts",
                status=status,
            )
        raise RegistryError(f"{loc.host} answered HTTP {status} for {what}", status=status)

    @staticmethod
    async def _error_codes(response: httpx.Response) -> list[str]:
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

    async def _raise_manifest_status(
        self, response: httpx.Response, loc: _Location, ref: Reference, what: str
    ) -> None:
        """Like _raise_for_status, but a missing tag says whether the repository exists."""
        try:
            await self._raise_for_status(response, loc, what)
        except ImageNotFound as error:
            if "does not exist" in error.message:
                raise
            try:
                tags = await self.list_tags(ref)
            except ImageNotFound:
                raise ImageNotFound(
                    f"the repository {loc.host}/{loc.repository} does not exist "
                    f"(looking for {what})",
                    status=404,
                ) from None
            except RegistryError:
                raise error from None
            more = len(tags) > 10 or tags.truncated is not None
            shown = ", ".join(tag[:128] for tag in sorted(tags)[:10]) + (", …" if more else "")
            raise ImageNotFound(
                f"{what} was not found in {loc.host}; the repository has "
                + (f"the tags: {shown}" if tags else "no tags"),
                status=404,
            ) from None

    # -- API -------------------------------------------------------------------------------

    @staticmethod
    def _ref(reference: Reference | str) -> Reference:
        return parse(reference) if isinstance(reference, str) else reference

    async def ping(self, registry: str) -> str | None:
        """Check that ``registry`` speaks the distribution API; return its auth scheme or None."""
        scheme = (
            "http" if registry in self.insecure_registries or _is_loopback(registry) else "https"
        )
        loc = _Location(registry, "", f"{scheme}://{registry}")
        async with self._operation(loc.host, "GET /v2/"):
            try:
                response = await self._send_once("GET", loc.base_url + "/v2/", {}, None)
            except httpx.TransportError as error:
                raise self._transport_error(loc, error, "/v2/") from None
            await response.aclose()
        if response.status_code == 200:
            return None
        if response.status_code == 401:
            challenge = parse_challenge(response.headers.get("www-authenticate", ""))
            return challenge.scheme if challenge else "unknown"
        raise RegistryUnavailable(
            f"{loc.host} does not implement the registry API (GET /v2/ answered "
            f"HTTP {response.status_code})",
            status=response.status_code,
        )

    async def head_manifest(self, reference: Reference | str) -> Descriptor:
        """The top-level descriptor (type, digest, size) a tag or digest resolves to."""
        ref = self._ref(reference)
        loc = self._locate(ref)
        what = f"{ref.familiar()}"
        async with self._operation(loc.host, f"looking up {what}"):
            response = await self._request(
                "HEAD",
                loc,
                f"/v2/{loc.repository}/manifests/{ref.for_pull()}",
                accept=ACCEPT_MANIFESTS,
                what=what,
            )
            await response.aclose()
            await self._raise_manifest_status(response, loc, ref, what)
            header = response.headers.get("docker-content-digest")
            digest = (
                str(parse_digest_field(header, f"the Docker-Content-Digest header for {what}"))
                if header
                else None
            )
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            length = response.headers.get("content-length", "")
            size = int(length) if length.isdigit() and len(length) < 19 else 0
            if ref.digest and digest and digest != ref.digest:
                raise DigestMismatch(f"{loc.host} answered {digest} for {ref.digest}")
            if not digest or media_type not in INDEX_TYPES | MANIFEST_TYPES:
                manifest = await self.get_manifest(ref)
                return Descriptor(manifest.media_type, manifest.digest, len(manifest.raw))
            return Descriptor(media_type, digest, size)

    async def get_manifest(
        self, reference: Reference | str, tag_or_digest: str | None = None
    ) -> Manifest:
        """Fetch a manifest or index by tag or digest; its digest is always verified."""
        ref = self._ref(reference)
        loc = self._locate(ref)
        target = tag_or_digest or ref.for_pull()
        if ":" in target:  # a digest: parsed before it goes into a URL
            target = str(parse_digest_field(target, f"the manifest digest of {ref.familiar()}"))
        what = ref.familiar() if tag_or_digest is None else f"{ref.familiar_name}@{target}"
        async with self._operation(loc.host, f"fetching the manifest of {what}"):
            response = await self._request(
                "GET",
                loc,
                f"/v2/{loc.repository}/manifests/{target}",
                accept=ACCEPT_MANIFESTS,
                what=what,
            )
            await self._raise_manifest_status(response, loc, ref, what)
            raw = await self._read(
                response,
                loc,
                self.max_manifest_bytes,
                f"the manifest of {what}",
                "max_manifest_bytes",
            )
        header_digest = response.headers.get("docker-content-digest")
        if ":" in target:
            digest = verify_digest(raw, target, f"the manifest of {what}")
        elif header_digest:
            parse_digest_field(header_digest, f"the Docker-Content-Digest header for {what}")
            digest = verify_digest(raw, header_digest, f"the manifest of {what}")
        else:
            digest = compute_digest(raw)
        return parse_manifest(raw, response.headers.get("content-type"), digest, what)

    async def resolve(
        self, reference: Reference | str, platform: str | Platform | None = None
    ) -> ResolvedImage:
        """The platform's image manifest and config behind a reference (index -> manifest)."""
        ref = self._ref(reference)
        wanted = (
            platform
            if isinstance(platform, Platform)
            else Platform.parse(platform or self.platform)
        )
        async with self._operation(self._locate(ref).host, f"resolving {ref.familiar()}"):
            top = await self.get_manifest(ref)
            manifest = top
            for _ in range(3):  # nested indexes are legal; stop at a small depth
                if not manifest.is_index:
                    break
                entry = select_platform(manifest, wanted)
                manifest = await self.get_manifest(ref, entry.digest)
            if manifest.is_index:
                raise InvalidManifest(f"{ref.familiar()}: indexes nested too deeply")
            config_desc = manifest.config
            config_raw = await self.get_blob(ref, config_desc, max_size=self.max_config_bytes)
        what = f"the image config of {ref.familiar()}"
        config = check_image_config(load_document(config_raw, what), what)
        actual = Platform(
            config.get("os") or wanted.os,
            config.get("architecture") or wanted.architecture,
            config.get("variant") or None,
        )
        if (actual.os, actual.architecture) != (wanted.os, wanted.architecture):
            raise PlatformNotFound(
                f"{ref.familiar()} is a {actual} image, not {wanted}; choose its platform "
                "(RegistryClient.platform) or use a multi-arch image"
            )
        return ResolvedImage(ref, top.digest, top.media_type, manifest, actual, config)

    async def get_blob(
        self, reference: Reference | str, descriptor: Descriptor, max_size: int | None = None
    ) -> bytes:
        """A small blob (config) in memory, digest and size verified.

        ``max_size`` defaults to ``max_config_bytes``; the whole read is one operation.
        """
        limit = self.max_config_bytes if max_size is None else max_size
        if descriptor.size > limit:
            raise InvalidManifest(
                f"blob {descriptor.digest} is {descriptor.size} bytes, over the {limit} limit "
                "(RegistryClient.max_config_bytes)"
            )
        ref = self._ref(reference)
        async with self._operation(self._locate(ref).host, f"fetching blob {descriptor.digest}"):
            chunks = [chunk async for chunk in self.stream_blob(ref, descriptor)]
        return b"".join(chunks)

    async def stream_blob(
        self,
        reference: Reference | str,
        descriptor: Descriptor,
        chunk_size: int = 256 * 1024,
        progress: Callable[[int], None] | None = None,
    ) -> AsyncIterator[bytes]:
        """Yield a blob's bytes as they arrive, with backpressure; verify at the end.

        The digest and size are checked after the last chunk: a consumer must treat the
        content as untrusted until the iteration finishes without :class:`DigestMismatch`.
        Bytes are read raw (a Content-Encoding would change what the digest covers). The
        request is one operation (``operation_timeout``); the transfer must then keep up
        ``min_blob_rate``.
        """
        ref = self._ref(reference)
        loc = self._locate(ref)
        what = f"blob {descriptor.digest} of {ref.familiar()}"
        digest = parse_digest_field(descriptor.digest, what)
        async with self._operation(loc.host, f"requesting {what}"):
            response = await self._request(
                "GET", loc, f"/v2/{loc.repository}/blobs/{digest}", what=what
            )
            await self._raise_for_status(response, loc, what)
        operation = _OPERATION.get()
        if operation is not None:  # a config fetched inside resolve(): say so at a deadline
            operation.step = what
        loop = asyncio.get_running_loop()
        rate = _TransferRate(self.min_blob_rate, self.blob_rate_window)
        try:
            hasher = digest.hasher()
            received = 0
            pending: list[bytes] = []
            pending_size = 0
            # Network reads as they come (a chunk_size here would wait for a full chunk,
            # hiding a trickle from the rate check), regrouped into chunk_size pieces.
            pieces = response.aiter_raw().__aiter__()
            try:
                while True:
                    waiting_since = loop.time()
                    try:
                        piece = await pieces.__anext__()
                    except StopAsyncIteration:
                        break
                    received += len(piece)
                    if operation is not None:
                        operation.count(len(piece))
                    slow = rate.too_slow(loop.time() - waiting_since, len(piece))
                    if slow is not None:
                        raise RegistryUnavailable(
                            f"{loc.host} sent only {slow[0]} bytes of {what} in {slow[1]:.0f} s "
                            f"of waiting ({received} of {descriptor.size} bytes received), "
                            f"below RegistryClient.min_blob_rate ({self.min_blob_rate:g} "
                            f"bytes/s over RegistryClient.blob_rate_window, "
                            f"{self.blob_rate_window:g} s): the registry or the network is "
                            "stalled. If it is only slow, lower RegistryClient.min_blob_rate"
                        )
                    if received > descriptor.size:
                        raise DigestMismatch(
                            f"{what} is larger than the {descriptor.size} bytes its manifest "
                            "declares: corrupted or tampered with"
                        )
                    hasher.update(piece)
                    pending.append(piece)
                    pending_size += len(piece)
                    if pending_size >= chunk_size:
                        chunk = b"".join(pending) if len(pending) > 1 else pending[0]
                        pending, pending_size = [], 0
                        if progress is not None:
                            progress(len(chunk))
                        yield chunk
            except httpx.TimeoutException:
                raise RegistryUnavailable(
                    f"{loc.host} sent nothing for {self.read_timeout:g} s "
                    f"(RegistryClient.read_timeout) after {received} of {descriptor.size} "
                    f"bytes of {what}"
                ) from None
            except httpx.TransportError as error:
                raise RegistryUnavailable(
                    f"the connection to {loc.host} broke after {received} of "
                    f"{descriptor.size} bytes of {what}: {_describe(error)}"
                ) from None
            if received != descriptor.size:
                raise DigestMismatch(
                    f"{what} has {received} bytes, not the {descriptor.size} its manifest "
                    "declares: truncated or corrupted"
                )
            if pending:
                chunk = b"".join(pending)
                if progress is not None:
                    progress(len(chunk))
                yield chunk
            actual = f"{digest.algorithm}:{hasher.hexdigest()}"
            if actual != str(digest):
                raise DigestMismatch(
                    f"{what} is corrupted: its content hashes to {actual}. The registry's "
                    "storage or a proxy altered it; push the image again"
                )
        finally:
            await response.aclose()

    async def list_tags(self, reference: Reference | str) -> TagList:
        """The repository's tags, following ``Link`` pagination within the budgets.

        At most ``max_tag_pages`` pages and ``max_tags`` tags: past either the answer is
        cut and its ``truncated`` says so (a registry can paginate forever).
        """
        ref = self._ref(reference)
        loc = self._locate(ref)
        what = f"the tags of {ref.familiar_name}"
        tags = TagList()
        path: str | None = f"/v2/{loc.repository}/tags/list?n=1000"
        pages = 0
        async with self._operation(loc.host, f"listing {what}"):
            while path:
                if pages >= self.max_tag_pages:
                    tags.truncated = (
                        f"{loc.host} has more than {pages} pages of tags; stopped there "
                        "(RegistryClient.max_tag_pages)"
                    )
                    break
                pages += 1
                response = await self._request("GET", loc, path, what=what)
                await self._raise_for_status(response, loc, what)
                link = response.links.get("next", {}).get("url")
                raw = await self._read(
                    response,
                    loc,
                    self.max_response_bytes,
                    f"page {pages} of {what}",
                    "max_response_bytes",
                )
                body = load_document(raw, f"page {pages} of {what} from {loc.host}")
                names = body.get("tags") if isinstance(body, dict) else None
                if names is not None and not isinstance(names, list):
                    raise InvalidManifest(f"{loc.host} returned a tags list without a list")
                for name in names or []:
                    if len(tags) >= self.max_tags:
                        tags.truncated = (
                            f"{loc.host} lists more than {self.max_tags} tags; stopped there "
                            "(RegistryClient.max_tags)"
                        )
                        break
                    if isinstance(name, str):
                        tags.append(name)
                path = None
                if link and tags.truncated is None:
                    parsed = urlsplit(urljoin(loc.base_url + "/", link))
                    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        if tags.truncated:
            self.log.warning("%s", tags.truncated)
        return tags

    async def pin(self, reference: Reference | str) -> Reference:
        """Resolve the tag to the digest the registry serves now: ``repo:tag@sha256:…``.

        The digest is the top-level one (the index for multi-arch images), so the pinned
        reference still works on every platform. One HEAD request when the registry sends
        ``Docker-Content-Digest`` (all do); a GET otherwise. A digest-only reference is
        checked to exist and returned unchanged.
        """
        ref = self._ref(reference)
        async with self._operation(self._locate(ref).host, f"pinning {ref.familiar()}"):
            if ref.digest and not ref.tag:
                descriptor = await self.head_manifest(ref)
                return ref.with_digest(descriptor.digest)
            tagged = ref.with_tag(ref.tag or DEFAULT_TAG)
            descriptor = await self.head_manifest(tagged.without_digest())
            return tagged.with_digest(descriptor.digest)
