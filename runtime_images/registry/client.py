"""The OCI distribution client: configuration, transport, auth flow and API calls."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import random
import socket
import ssl
import time
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
    compute_digest,
    parse_manifest,
    select_platform,
    verify_digest,
)

if TYPE_CHECKING:
    from typing import Self

__all__ = ["RegistryClient", "ResolvedImage"]

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit
MAX_CONFIG_BYTES = 32 * 1024 * 1024
MAX_REDIRECTS = 5
_RETRY_STATUSES = frozenset({500, 502, 503, 504})


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
    read_timeout = Float(60.0, config=True, help="Seconds to wait for each read from the registry.")
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
        self, method: str, url: str, headers: dict[str, str], auth: str | None, stream: bool
    ) -> httpx.Response:
        """One request, following redirects; Authorization only goes to the original origin."""
        origin = urlsplit(url)[:2]
        client = self._client()
        for _ in range(MAX_REDIRECTS + 1):
            hop_headers = dict(headers)
            if auth and urlsplit(url)[:2] == origin:
                hop_headers["Authorization"] = auth
            request = client.build_request(method, url, headers=hop_headers)
            response = await client.send(request, stream=stream)
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
        stream: bool = False,
        what: str,
    ) -> httpx.Response:
        """Send with auth and retries; returns any response that is not 401-retriable or 5xx."""
        url = loc.base_url + path
        headers = {"Accept": accept} if accept else {}
        authenticated = False
        attempt = 0
        while True:
            auth = self._auth_header(loc)
            try:
                response = await self._send_once(method, url, headers, auth, stream)
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
        if isinstance(error, httpx.TimeoutException):
            detail = f"no answer within the timeout ({type(error).__name__})"
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
        attempt = 0
        while True:
            try:
                response = await client.get(url, headers=headers)
            except httpx.TransportError as error:
                if attempt >= self.retries:
                    raise RegistryUnavailable(
                        f"cannot reach the token server {realm_host} of {loc.host}: "
                        f"{str(error) or type(error).__name__}"
                    ) from None
                attempt += 1
                await self._sleep(attempt, f"token request: {type(error).__name__}")
                continue
            if response.status_code in _RETRY_STATUSES and attempt < self.retries:
                attempt += 1
                await self._sleep(attempt, f"token request: HTTP {response.status_code}")
                continue
            break
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
        try:
            body = response.json()
            token = body.get("token") or body.get("access_token")
            expires_in = max(int(body.get("expires_in") or 60), 60)
        except (ValueError, AttributeError, TypeError):
            token = None
        if not isinstance(token, str) or not token:
            raise AuthRequired(f"the token server of {loc.host} returned no token")
        self._tokens[(loc.host, self._scope(loc))] = _Token(
            token, time.monotonic() + expires_in - 10
        )

    # -- errors ----------------------------------------------------------------------------

    async def _raise_for_status(self, response: httpx.Response, loc: _Location, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        codes: list[str] = []
        if response.request.method != "HEAD":
            try:
                body = (await response.aread())[:65536]
                errors = json.loads(body).get("errors", [])
                codes = [str(e.get("code", "")) for e in errors if isinstance(e, dict)]
            except (ValueError, AttributeError, httpx.HTTPError):
                codes = []
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
            retry_after: float | None = None
            try:
                retry_after = float(response.headers.get("retry-after", ""))
            except ValueError:
                retry_after = None
            wait = f"; try again in {retry_after:.0f} s" if retry_after else "; try again later"
            raise RateLimited(f"{loc.host} is rate-limiting pulls{wait}", retry_after=retry_after)
        if status >= 500:
            raise RegistryUnavailable(
                f"{loc.host} failed with HTTP {status} for {what} after {self.retries + 1} "
                "attempts",
                status=status,
            )
        raise RegistryError(f"{loc.host} answered HTTP {status} for {what}", status=status)

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
            shown = ", ".join(sorted(tags)[:10]) + (", …" if len(tags) > 10 else "")
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
        try:
            response = await self._send_once("GET", loc.base_url + "/v2/", {}, None, False)
        except httpx.TransportError as error:
            raise self._transport_error(loc, error, "/v2/") from None
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
        response = await self._request(
            "HEAD",
            loc,
            f"/v2/{loc.repository}/manifests/{ref.for_pull()}",
            accept=ACCEPT_MANIFESTS,
            what=what,
        )
        await self._raise_manifest_status(response, loc, ref, what)
        digest = response.headers.get("docker-content-digest")
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        size = int(response.headers.get("content-length") or 0)
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
        what = ref.familiar() if tag_or_digest is None else f"{ref.familiar_name}@{target}"
        response = await self._request(
            "GET",
            loc,
            f"/v2/{loc.repository}/manifests/{target}",
            accept=ACCEPT_MANIFESTS,
            stream=True,
            what=what,
        )
        await self._raise_manifest_status(response, loc, ref, what)
        raw = await _read_limited(response, MAX_MANIFEST_BYTES, f"manifest of {what}")
        header_digest = response.headers.get("docker-content-digest")
        if ":" in target:
            digest = verify_digest(raw, target, f"the manifest of {what}")
        elif header_digest:
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
        config_raw = await self.get_blob(ref, config_desc, max_size=MAX_CONFIG_BYTES)
        try:
            config = json.loads(config_raw)
        except ValueError:
            raise InvalidManifest(f"the image config of {ref.familiar()} is not JSON") from None
        if not isinstance(config, dict):
            raise InvalidManifest(f"the image config of {ref.familiar()} is not an object")
        actual = Platform(
            str(config.get("os", wanted.os)),
            str(config.get("architecture", wanted.architecture)),
            config.get("variant") if isinstance(config.get("variant"), str) else None,
        )
        if (actual.os, actual.architecture) != (wanted.os, wanted.architecture):
            raise PlatformNotFound(
                f"{ref.familiar()} is a {actual} image, not {wanted}; choose its platform "
                "(RegistryClient.platform) or use a multi-arch image"
            )
        return ResolvedImage(ref, top.digest, top.media_type, manifest, actual, config)

    async def get_blob(
        self, reference: Reference | str, descriptor: Descriptor, max_size: int = MAX_CONFIG_BYTES
    ) -> bytes:
        """A small blob (config) in memory, digest and size verified."""
        if descriptor.size > max_size:
            raise InvalidManifest(
                f"blob {descriptor.digest} is {descriptor.size} bytes, over the {max_size} limit"
            )
        chunks = [chunk async for chunk in self.stream_blob(reference, descriptor)]
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
        """
        ref = self._ref(reference)
        loc = self._locate(ref)
        what = f"blob {descriptor.digest} of {ref.familiar()}"
        algorithm = descriptor.digest.partition(":")[0]
        if algorithm not in ("sha256", "sha384", "sha512"):
            raise InvalidManifest(f"{what}: unsupported digest algorithm {algorithm!r}")
        response = await self._request(
            "GET", loc, f"/v2/{loc.repository}/blobs/{descriptor.digest}", stream=True, what=what
        )
        try:
            await self._raise_for_status(response, loc, what)
            hasher = hashlib.new(algorithm)
            received = 0
            try:
                async for chunk in response.aiter_raw(chunk_size):
                    received += len(chunk)
                    if received > descriptor.size:
                        raise DigestMismatch(
                            f"{what} is larger than the {descriptor.size} bytes its manifest "
                            "declares: corrupted or tampered with"
                        )
                    hasher.update(chunk)
                    if progress is not None:
                        progress(len(chunk))
                    yield chunk
            except httpx.TransportError as error:
                raise RegistryUnavailable(
                    f"the connection to {loc.host} broke after {received} of "
                    f"{descriptor.size} bytes of {what}: {str(error) or type(error).__name__}"
                ) from None
            if received != descriptor.size:
                raise DigestMismatch(
                    f"{what} has {received} bytes, not the {descriptor.size} its manifest "
                    "declares: truncated or corrupted"
                )
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != descriptor.digest:
                raise DigestMismatch(
                    f"{what} is corrupted: its content hashes to {actual}. The registry's "
                    "storage or a proxy altered it; push the image again"
                )
        finally:
            await response.aclose()

    async def list_tags(self, reference: Reference | str) -> list[str]:
        """All tags of the repository (follows ``Link`` pagination)."""
        ref = self._ref(reference)
        loc = self._locate(ref)
        what = f"the tags of {ref.familiar_name}"
        tags: list[str] = []
        path: str | None = f"/v2/{loc.repository}/tags/list?n=1000"
        while path:
            response = await self._request("GET", loc, path, what=what)
            await self._raise_for_status(response, loc, what)
            try:
                body = response.json()
            except ValueError:
                raise InvalidManifest(f"{loc.host} returned invalid JSON for {what}") from None
            tags += [t for t in (body.get("tags") or []) if isinstance(t, str)]
            link = response.links.get("next", {}).get("url")
            path = None
            if link:
                parsed = urlsplit(urljoin(loc.base_url + "/", link))
                path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        return tags

    async def pin(self, reference: Reference | str) -> Reference:
        """Resolve the tag to the digest the registry serves now: ``repo:tag@sha256:…``.

        The digest is the top-level one (the index for multi-arch images), so the pinned
        reference still works on every platform. One HEAD request when the registry sends
        ``Docker-Content-Digest`` (all do); a GET otherwise. A digest-only reference is
        checked to exist and returned unchanged.
        """
        ref = self._ref(reference)
        if ref.digest and not ref.tag:
            descriptor = await self.head_manifest(ref)
            return ref.with_digest(descriptor.digest)
        tagged = ref.with_tag(ref.tag or DEFAULT_TAG)
        descriptor = await self.head_manifest(tagged.without_digest())
        return tagged.with_digest(descriptor.digest)


async def _read_limited(response: httpx.Response, limit: int, what: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                raise InvalidManifest(f"{what} is larger than {limit} bytes")
            chunks.append(chunk)
    except httpx.TransportError as error:
        raise RegistryUnavailable(
            f"the connection broke while reading the {what}: {error}"
        ) from None
    finally:
        await response.aclose()
    return b"".join(chunks)
