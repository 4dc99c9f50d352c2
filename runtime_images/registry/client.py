"""The OCI distribution client: its configuration, lifecycle and public API.

Reading (ping, manifests, blobs, tags, resolving and pinning) is here; the pieces it is
made of each have their own module: :mod:`.location` (where a reference lives),
:mod:`.transport` (sending, redirects, retries, answers as errors), :mod:`.authflow`
(challenges, Basic, Bearer tokens), :mod:`.budget` (deadlines, rates, bounded bodies),
:mod:`.pushing` (the client's push and copy methods, over :mod:`.upload` and
:mod:`.publish`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from traitlets import Dict, Float, Int, List, TraitError, Unicode, default, observe, validate
from traitlets.config import LoggingConfigurable

from ..documents import parse_count
from ..reference import (
    DEFAULT_TAG,
    InvalidReferenceError,
    Reference,
    normalise_mirrors,
    parse,
)
from .auth import CredentialStore, parse_challenge
from .download import blob_stream
from .errors import (
    DigestMismatch,
    ImageNotFound,
    InvalidManifest,
    PlatformNotFound,
    RegistryError,
    RegistryUnavailable,
)
from .layout import configured_layout_dir, default_layout_dir
from .local import LocalImages
from .location import RegistryLocation, locate, registry_base_url, resolve_url
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
from .publish import Publisher
from .pushing import RegistryPushing
from .transport import Transport
from .upload import Uploader

if TYPE_CHECKING:
    from typing import Self

__all__ = ["RegistryClient", "ResolvedImage", "TagList"]


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


class TagList(list[str]):
    """Tags of a repository; ``truncated`` says why the list is incomplete, if it is."""

    truncated: str | None = None


class RegistryClient(RegistryPushing, LoggingConfigurable):
    """Read and push images in OCI / Docker registries over the distribution API (async).

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
    max_retry_after = Float(
        30.0,
        min=0.0,
        config=True,
        help="""Longest wait asked by a 429 (Too Many Requests) answer's Retry-After that is
        honoured: the registry is then left alone that long by every request of this client
        and the request is retried (up to ``retries`` times). A longer wait, or a 429 with no
        Retry-After, fails at once with RateLimited (HTTP 429 with Retry-After here).""",
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

    chunked_upload_threshold = Int(
        64 * 1024 * 1024,
        config=True,
        help="""Blobs up to this many bytes are uploaded in one request (POST, then PUT);
        larger ones in chunks of upload_chunk_size (PATCH each, then PUT), which proxies
        that cap request bodies let through.""",
    )
    upload_chunk_size = Int(
        16 * 1024 * 1024,
        min=1024,
        config=True,
        help="Bytes per PATCH request of a chunked upload.",
    )
    local_layout_dir = Unicode(
        config=True,
        help="""The OCI image layout this machine's images are read from: a reference
        localhost/<name>[:tag] (localhost with no port) names an image in it, as podman
        names local images, and is served with no registry. Defaults to
        c.ImageBuilder.layout_dir, where builds keep what they make.""",
    )
    push_concurrency = Int(
        3,
        min=1,
        config=True,
        help="Blobs of one image uploaded at the same time.",
    )

    @default("local_layout_dir")
    def _default_local_layout_dir(self) -> str:
        return (
            configured_layout_dir(
                self.config, ("BuildSettings", "layout_dir"), ("ImageBuilder", "layout_dir")
            )
            or default_layout_dir()
        )

    @default("insecure_registries")
    def _default_insecure(self) -> list[str]:
        return []

    @validate("mirrors")
    def _validate_mirrors(self, proposal: Any) -> dict[str, str]:
        try:
            return normalise_mirrors(proposal["value"])
        except InvalidReferenceError as error:
            raise TraitError(str(error)) from None

    @observe("auth_file")
    def _auth_file_changed(self, change: Any) -> None:
        self._transport.auth.use(CredentialStore([change["new"]] if change["new"] else None))

    @validate("platform")
    def _validate_platform(self, proposal: Any) -> str:
        try:
            Platform.parse(proposal["value"])
        except ValueError as error:
            raise TraitError(str(error)) from None
        return str(proposal["value"])

    def __init__(self, **kwargs: Any) -> None:
        # Before super().__init__: configuration may already trigger the auth_file observer.
        # The parts read this client's traits when they need them, so they are built first.
        self._transport = Transport(self, CredentialStore(None))
        self._uploader = Uploader(self._transport, self)
        self._publisher = Publisher(self._uploader, lambda: self.push_concurrency)
        self._local = LocalImages(lambda: self.local_layout_dir)
        super().__init__(**kwargs)
        self._transport.auth.use(CredentialStore([self.auth_file] if self.auth_file else None))

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- where references live -------------------------------------------------------------

    def location(self, reference: Reference | str, *, push: bool = False) -> RegistryLocation:
        """Where ``reference`` is read from (``push=False``: mirrors apply) or pushed to.

        Pushes go to the registry the reference names: mirrors are for reading only, as
        for podman and skopeo. ``plain_http`` follows insecure_registries and loopback.
        """
        ref = self._ref(reference)
        if push and ref.is_local:
            raise InvalidReferenceError(
                f"{ref.familiar()} names this machine's own images, which no registry serves; "
                "push to a registry host (host[:port]/repository)"
            )
        return locate(ref, self.insecure_registries, None if push else self.mirrors)

    @staticmethod
    def _ref(reference: Reference | str) -> Reference:
        return parse(reference) if isinstance(reference, str) else reference

    # -- reading ---------------------------------------------------------------------------

    async def ping(self, registry: str) -> str | None:
        """Check that ``registry`` speaks the distribution API; return its auth scheme or None."""
        base_url = registry_base_url(registry, self.insecure_registries)
        loc = RegistryLocation(registry, "", base_url, base_url.startswith("http:"))
        async with self._transport.operation(loc.host, "GET /v2/"):
            try:
                response = await self._transport.send_once("GET", loc.base_url + "/v2/", {}, None)
            except httpx.TransportError as error:
                raise self._transport.transport_error(loc, error, "/v2/") from None
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
        if ref.is_local:
            return await asyncio.to_thread(self._local.descriptor, ref)
        loc = self.location(ref)
        what = f"{ref.familiar()}"
        async with self._transport.operation(loc.host, f"looking up {what}"):
            response = await self._manifest_answer("HEAD", ref, loc, ref.for_pull(), what)
            header = response.headers.get("docker-content-digest")
            digest = (
                str(parse_digest_field(header, f"the Docker-Content-Digest header for {what}"))
                if header
                else None
            )
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            length = response.headers.get("content-length", "")
            size = parse_count(length) or 0
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
        target = tag_or_digest or ref.for_pull()
        if ref.is_local:
            return await asyncio.to_thread(self._local.manifest, ref, target)
        loc = self.location(ref)
        if ":" in target:  # a digest: parsed before it goes into a URL
            target = str(parse_digest_field(target, f"the manifest digest of {ref.familiar()}"))
        what = ref.familiar() if tag_or_digest is None else f"{ref.familiar_name}@{target}"
        async with self._transport.operation(loc.host, f"fetching the manifest of {what}"):
            response = await self._manifest_answer("GET", ref, loc, target, what)
            raw = await self._transport.read(
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
        async with self._transport.operation(
            self.location(ref).host, f"resolving {ref.familiar()}"
        ):
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
        async with self._transport.operation(
            self.location(ref).host, f"fetching blob {descriptor.digest}"
        ):
            chunks = [chunk async for chunk in self.stream_blob(ref, descriptor)]
        return b"".join(chunks)

    def stream_blob(
        self,
        reference: Reference | str,
        descriptor: Descriptor,
        chunk_size: int = 256 * 1024,
        progress: Callable[[int], None] | None = None,
    ) -> AsyncGenerator[bytes, Any]:
        """Yield a blob's bytes as they arrive, with backpressure; verify at the end.

        The digest and size are checked after the last chunk: a consumer must treat the
        content as untrusted until the iteration finishes without :class:`DigestMismatch`.
        Bytes are read raw (a Content-Encoding would change what the digest covers). The
        request is one operation (``operation_timeout``); the transfer must then keep up
        ``min_blob_rate``.
        """
        if self._ref(reference).is_local:
            return self._local.stream(descriptor, chunk_size, progress)
        return blob_stream(
            self._transport, self, self.location, reference, descriptor, chunk_size, progress
        )

    async def list_tags(self, reference: Reference | str) -> TagList:
        """The repository's tags, following ``Link`` pagination within the budgets.

        At most ``max_tag_pages`` pages and ``max_tags`` tags: past either the answer is
        cut and its ``truncated`` says so (a registry can paginate forever).
        """
        ref = self._ref(reference)
        tags = TagList()
        if ref.is_local:
            tags.extend(await asyncio.to_thread(self._local.tags, ref))
            return tags
        loc = self.location(ref)
        what = f"the tags of {ref.familiar_name}"
        path: str | None = f"/v2/{loc.repository}/tags/list?n=1000"
        pages = 0
        async with self._transport.operation(loc.host, f"listing {what}"):
            while path:
                if pages >= self.max_tag_pages:
                    tags.truncated = (
                        f"{loc.host} has more than {pages} pages of tags; stopped there "
                        "(RegistryClient.max_tag_pages)"
                    )
                    break
                pages += 1
                response = await self._transport.request("GET", loc, path, what=what)
                await self._transport.raise_for_status(response, loc, what)
                link = response.links.get("next", {}).get("url")
                raw = await self._transport.read(
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
                    next_page = resolve_url(loc.base_url + "/", link, loc.host, "a Link")
                    parsed = urlsplit(next_page)
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
        async with self._transport.operation(self.location(ref).host, f"pinning {ref.familiar()}"):
            if ref.digest and not ref.tag:
                descriptor = await self.head_manifest(ref)
                return ref.with_digest(descriptor.digest)
            tagged = ref.with_tag(ref.tag or DEFAULT_TAG)
            descriptor = await self.head_manifest(tagged.without_digest())
            return tagged.with_digest(descriptor.digest)

    async def _manifest_answer(
        self, method: str, ref: Reference, loc: RegistryLocation, target: str, what: str
    ) -> httpx.Response:
        """The registry's answer to ``method`` (GET or HEAD) on the manifest ``target`` (a
        tag or digest), raised when it is an error; a HEAD answer comes back closed."""
        response = await self._transport.request(
            method,
            loc,
            f"/v2/{loc.repository}/manifests/{target}",
            accept=ACCEPT_MANIFESTS,
            what=what,
        )
        if method == "HEAD":
            await response.aclose()
        await self._raise_manifest_status(response, loc, ref, what)
        return response

    async def _raise_manifest_status(
        self, response: httpx.Response, loc: RegistryLocation, ref: Reference, what: str
    ) -> None:
        """Like _raise_for_status, but a missing tag says whether the repository exists."""
        try:
            await self._transport.raise_for_status(response, loc, what)
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
