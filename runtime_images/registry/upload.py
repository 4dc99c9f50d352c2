"""Putting blobs and manifests into a registry (OCI distribution spec, "Pushing").

A blob is checked for first (``HEAD``), mounted from another repository of the same
registry when the caller knows one that has it (``POST ?mount=&from=``; a registry that
cannot mount answers 202 with an upload session, which is then used), and otherwise
uploaded: in one ``PUT`` up to ``RegistryClient.chunked_upload_threshold`` bytes, in
``PATCH`` chunks of ``upload_chunk_size`` above it (for proxies that cap request bodies).
Bytes stream from a file or an async byte source and are never held whole in memory;
they are hashed as they go out, and the last piece is only sent once the digest and size
are known to match, so a corrupted source never completes an upload. Manifests are sent
as the exact bytes their digest covers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import httpx

from ..digest import Digest
from .authflow import RetrySettings, push_scopes
from .budget import TransferRate, back_off
from .download import BlobRateSettings, stalled
from .errors import (
    AccessDenied,
    DigestMismatch,
    ImageNotFound,
    RegistryError,
    RegistryUnavailable,
)
from .location import RegistryLocation, resolve_url
from .manifest import ACCEPT_MANIFESTS, compute_digest, parse_digest_field
from .transport import Body, Transport

__all__ = ["BlobSource", "UploadSettings", "Uploader"]

BlobSource = Path | str | AsyncIterable[bytes]
"""Where a blob's bytes come from: a file (re-readable, so a failed upload is retried) or
an async byte stream (sent once)."""

_FILE_PIECE = 1024 * 1024
_THREADED_HASH = 256 * 1024
_RANGE = re.compile(r"(?:bytes=)?0-([0-9]{1,19})")


class UploadSettings(RetrySettings, BlobRateSettings, Protocol):
    """The client settings uploads read (RegistryClient's traits, read when used)."""

    @property
    def chunked_upload_threshold(self) -> int: ...
    @property
    def upload_chunk_size(self) -> int: ...


def _unreadable(path: Path, error: OSError) -> ImageNotFound:
    return ImageNotFound(f"{path} cannot be read: {error.strerror or error}")


async def _file_pieces(path: Path) -> AsyncGenerator[bytes, None]:
    """A file's bytes in 1 MiB pieces, each read in a worker thread."""
    try:
        handle = await asyncio.to_thread(open, path, "rb")
    except OSError as error:
        raise _unreadable(path, error) from None
    try:
        while True:
            try:
                piece = await asyncio.to_thread(handle.read, _FILE_PIECE)
            except OSError as error:
                raise _unreadable(path, error) from None
            if not piece:
                return
            yield piece
    finally:
        await asyncio.to_thread(handle.close)


class _Reader:
    """A blob's bytes, counted and hashed as they pass, handed out in exact-size spans.

    The piece that completes the blob is only handed out after the digest and size are
    verified (and, for a stream, after checking that nothing follows), so the registry
    never receives the last byte of content that is not what its digest says.
    """

    def __init__(self, pieces: AsyncIterator[bytes], digest: Digest, size: int, what: str):
        self._pieces = pieces
        self.digest, self.size, self._what = digest, size, what
        self._hasher = digest.hasher()
        self._left = b""
        self.read = 0

    async def span(self, length: int) -> AsyncIterator[bytes]:
        """The next ``length`` bytes, in the source's pieces (split where needed)."""
        if self.size == 0:  # nothing to hold back: an empty blob is checked at once
            await self._verify()
        wanted = length
        while wanted > 0:
            piece = self._left
            self._left = b""
            if not piece:
                try:
                    piece = await self._pieces.__anext__()
                except StopAsyncIteration:
                    raise DigestMismatch(
                        f"{self._what} has only {self.read} bytes, not the {self.size} its "
                        "descriptor declares: the source is truncated"
                    ) from None
                if not piece:
                    continue
                if self.read + len(piece) > self.size:
                    self._too_long()
            if len(piece) > wanted:
                piece, self._left = piece[:wanted], piece[wanted:]
            wanted -= len(piece)
            self.read += len(piece)
            if len(piece) >= _THREADED_HASH:  # hashlib lets go of the GIL: off the loop
                await asyncio.to_thread(self._hasher.update, piece)
            else:
                self._hasher.update(piece)
            if self.read == self.size:
                await self._verify()
            yield piece

    def _too_long(self) -> None:
        raise DigestMismatch(
            f"{self._what} is longer than the {self.size} bytes its descriptor declares: "
            "the source is corrupted"
        )

    async def _verify(self) -> None:
        with contextlib.suppress(StopAsyncIteration):
            if await self._pieces.__anext__():
                self._too_long()
        actual = f"{self.digest.algorithm}:{self._hasher.hexdigest()}"
        if actual != str(self.digest):
            raise DigestMismatch(
                f"{self._what} hashes to {actual}, not {self.digest}: the source is "
                "corrupted; nothing was completed in the registry"
            )


class Uploader:
    """Blob and manifest writes for one client, over its transport."""

    def __init__(self, transport: Transport, settings: UploadSettings) -> None:
        self._transport = transport
        self._settings = settings

    # -- blobs -----------------------------------------------------------------------------

    async def push_blob(
        self,
        loc: RegistryLocation,
        digest: str,
        size: int,
        source: BlobSource,
        *,
        mount_from: str | None = None,
        sent: Callable[[int], None] | None = None,
    ) -> str:
        """Make sure the repository has the blob: ``exists``, ``mounted`` or ``uploaded``.

        ``mount_from`` is another repository of the same registry that may have it. A
        registry that cannot mount it (or a user who may not read that repository) gets
        an upload instead.
        """
        if await self.exists(loc, digest):
            return "exists"
        session: str | None = None
        if mount_from and mount_from != loc.repository:
            try:
                session = await self.mount(loc, digest, mount_from)
            except AccessDenied as error:
                self._settings.log.debug("Not mounting %s: %s", digest, error.message)
            else:
                if session is None:
                    return "mounted"
        await self.upload(loc, digest, size, source, session=session, sent=sent)
        return "uploaded"

    async def exists(self, loc: RegistryLocation, digest: str) -> bool:
        """Whether the repository has the blob (``HEAD /v2/<name>/blobs/<digest>``)."""
        return await self._has(loc, "blob", digest)

    async def _has(
        self, loc: RegistryLocation, kind: str, digest: str, accept: str | None = None
    ) -> bool:
        """``HEAD /v2/<name>/<kind>s/<digest>`` with push scopes: a 404 is no, an error raises."""
        what = f"{kind} {digest} in {loc.repository}"
        async with self._transport.operation(loc.host, f"checking {what}"):
            response = await self._transport.request(
                "HEAD",
                loc,
                f"/v2/{loc.repository}/{kind}s/{digest}",
                accept=accept,
                what=what,
                scopes=push_scopes(loc.repository),
            )
            await response.aclose()
            if response.status_code == 404:
                return False
            await self._transport.raise_for_status(response, loc, what, "push")
        return True

    async def mount(self, loc: RegistryLocation, digest: str, source_repository: str) -> str | None:
        """Mount the blob from ``source_repository``: None when mounted, else the upload
        session the registry opened instead (202), to upload into."""
        what = f"mounting blob {digest} from {source_repository} into {loc.repository}"
        query = urlencode({"mount": digest, "from": source_repository})
        async with self._transport.operation(loc.host, what):
            response = await self._transport.request(
                "POST",
                loc,
                f"/v2/{loc.repository}/blobs/uploads/?{query}",
                what=what,
                scopes=push_scopes(loc.repository, source_repository),
            )
            if response.status_code == 201:
                await response.aclose()
                self._check_digest_header(response, digest, loc, what)
                return None
            return await self._session(response, loc, what)

    async def start(self, loc: RegistryLocation, what: str) -> str:
        """Open an upload session; its URL."""
        async with self._transport.operation(loc.host, f"starting the upload of {what}"):
            response = await self._transport.request(
                "POST",
                loc,
                f"/v2/{loc.repository}/blobs/uploads/",
                what=what,
                scopes=push_scopes(loc.repository),
            )
            return await self._session(response, loc, what)

    async def _session(self, response: httpx.Response, loc: RegistryLocation, what: str) -> str:
        if response.status_code != 202:
            await self._transport.raise_for_status(response, loc, what, "push")
            await response.aclose()
            raise RegistryError(
                f"{loc.host} answered HTTP {response.status_code} instead of opening an "
                f"upload session for {what}",
                status=response.status_code,
            )
        await response.aclose()
        return self._next_url(response, loc, what)

    @staticmethod
    def _next_url(response: httpx.Response, loc: RegistryLocation, what: str) -> str:
        """The upload URL a registry answer points to (it changes after every chunk)."""
        location = str(response.headers.get("location", ""))
        url = resolve_url(loc.base_url + "/", location, loc.host, f"an upload location for {what}")
        if not location or urlsplit(url).scheme not in ("http", "https"):
            raise RegistryError(f"{loc.host} gave no usable upload location for {what}")
        return url

    async def upload(
        self,
        loc: RegistryLocation,
        digest: str,
        size: int,
        source: BlobSource,
        *,
        session: str | None = None,
        sent: Callable[[int], None] | None = None,
    ) -> None:
        """Upload a blob, retrying from the start after a failure when ``source`` is a file.

        ``session`` is an upload session already open (a mount the registry declined).
        ``sent`` is told every piece that left, and a negative count when a retry starts
        over, so progress never counts a byte twice.
        """
        parsed = parse_digest_field(digest, "the blob digest to upload")
        what = f"blob {digest} to {loc.repository}"
        restartable = not isinstance(source, AsyncIterable)
        attempt = 0
        while True:
            if session is None:  # the transport has already retried this request
                session = await self.start(loc, what)
            moved = 0

            def count(length: int) -> None:
                nonlocal moved
                moved += length
                if sent is not None:
                    sent(length)

            try:
                await self._upload_into(session, loc, parsed, size, source, what, count)
                return
            except (RegistryUnavailable, _SessionLost) as error:
                await self.cancel(session, loc)
                if not restartable or attempt >= self._settings.retries:
                    if isinstance(error, _SessionLost):
                        raise RegistryUnavailable(str(error)) from None
                    raise
                attempt += 1
                if sent is not None and moved:
                    sent(-moved)
                session = None
                await back_off(
                    attempt, self._settings.retry_backoff, f"upload of {what}", self._settings.log
                )
            except Exception:
                await self.cancel(session, loc)
                raise

    async def _upload_into(
        self,
        session: str,
        loc: RegistryLocation,
        digest: Digest,
        size: int,
        source: BlobSource,
        what: str,
        sent: Callable[[int], None],
    ) -> None:
        if isinstance(source, AsyncIterable):
            reader = _Reader(aiter(source), digest, size, f"blob {digest}")
            await self._send_blob(session, loc, reader, what, sent)
            return
        path = Path(source)
        try:
            actual = await asyncio.to_thread(os.path.getsize, path)
        except OSError as error:
            raise _unreadable(path, error) from None
        if actual != size:
            raise DigestMismatch(
                f"{what}: {path} has {actual} bytes, not the {size} its descriptor "
                "declares: the source is corrupted"
            )
        pieces = _file_pieces(path)
        try:
            reader = _Reader(pieces, digest, size, f"blob {digest}")
            await self._send_blob(session, loc, reader, what, sent)
        finally:
            await pieces.aclose()

    async def _send_blob(
        self,
        session: str,
        loc: RegistryLocation,
        reader: _Reader,
        what: str,
        sent: Callable[[int], None],
    ) -> None:
        size = reader.size
        digest = reader.digest
        threshold = self._settings.chunked_upload_threshold
        chunk = max(1, self._settings.upload_chunk_size)
        url = session
        if size > threshold:
            while reader.read < size:
                length = min(chunk, size - reader.read)
                start = reader.read
                headers = {
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(length),
                    "Content-Range": f"{start}-{start + length - 1}",
                }
                body = self._body(reader, length, loc, what, sent)
                response = await self._send("PATCH", url, loc, headers, body, what)
                if response.status_code != 202:
                    await self._refused(response, loc, what)
                await response.aclose()
                self._check_range(response, start + length, loc, what)
                url = self._next_url(response, loc, what)
            length, body = 0, None
        else:
            length, body = size, self._body(reader, size, loc, what, sent)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
        sep = "&" if urlsplit(url).query else "?"
        final = f"{url}{sep}{urlencode({'digest': str(digest)})}"
        response = await self._send("PUT", final, loc, headers, body, what)
        if response.status_code not in (200, 201, 204):
            await self._refused(response, loc, what)
        await response.aclose()
        self._check_digest_header(response, str(digest), loc, what)

    def _body(
        self,
        reader: _Reader,
        length: int,
        loc: RegistryLocation,
        what: str,
        sent: Callable[[int], None],
    ) -> Body:
        """The next ``length`` bytes as a request body, under the minimum transfer rate.

        The time between handing a piece to httpx and being asked for the next one is the
        time the network took to take it; only that counts toward the rate.
        """
        used = False
        settings = self._settings

        def fresh() -> AsyncIterator[bytes]:
            nonlocal used
            if used:  # a redirect or a 401 on a body that has already gone
                raise RegistryUnavailable(
                    f"{loc.host} asked for {what} to be sent again (redirect or "
                    "re-authentication in the middle of an upload); try again"
                )
            used = True
            return stream()

        async def stream() -> AsyncIterator[bytes]:
            loop = asyncio.get_running_loop()
            rate = TransferRate(settings.min_blob_rate, settings.blob_rate_window)
            async for piece in reader.span(length):
                handed = loop.time()
                yield piece
                sent(len(piece))
                slow = rate.too_slow(loop.time() - handed, len(piece))
                if slow is not None:
                    raise stalled(
                        settings, f"{loc.host} took", slow, what, f"{reader.read} bytes read"
                    )

        return fresh

    async def _send(
        self,
        method: str,
        url: str,
        loc: RegistryLocation,
        headers: dict[str, str],
        body: Body,
        what: str,
    ) -> httpx.Response:
        """One upload request: not retried (a half-sent body moved the session on)."""
        response = await self._transport.request(
            method,
            loc,
            url,
            headers=headers,
            content=body,
            what=what,
            scopes=push_scopes(loc.repository),
            retry=False,
        )
        if response.status_code == 404:
            codes = await self._transport.error_codes(response)
            await response.aclose()
            raise _SessionLost(
                f"{loc.host} lost the upload session of {what} "
                f"({', '.join(codes[:3]) or 'HTTP 404'})"
            )
        return response

    async def _refused(self, response: httpx.Response, loc: RegistryLocation, what: str) -> None:
        await self._transport.raise_for_status(response, loc, what, "push")
        await response.aclose()
        raise RegistryError(
            f"{loc.host} answered HTTP {response.status_code} to {what}",
            status=response.status_code,
        )

    @staticmethod
    def _check_range(response: httpx.Response, end: int, loc: RegistryLocation, what: str) -> None:
        """A chunk's answer says how much the registry has; it must be all that was sent."""
        header = response.headers.get("range")
        match = _RANGE.fullmatch(header.strip()) if header else None
        if header and (match is None or int(match.group(1)) + 1 != end):
            raise RegistryUnavailable(
                f"{loc.host} acknowledged {header[:60]!r} after {end} bytes of {what}"
            )

    @staticmethod
    def _check_digest_header(
        response: httpx.Response, digest: str, loc: RegistryLocation, what: str
    ) -> None:
        header = response.headers.get("docker-content-digest")
        if header is None:
            return
        answered = parse_digest_field(header, f"the Docker-Content-Digest header for {what}")
        if str(answered) != digest:
            raise DigestMismatch(
                f"{loc.host} stored {what} as {answered}, not {digest}: the content was "
                "altered on the way (a proxy?)"
            )

    async def cancel(self, session: str | None, loc: RegistryLocation) -> None:
        """Best effort: tell the registry to drop a failed upload's data."""
        if session is None:
            return
        with contextlib.suppress(RegistryError, httpx.HTTPError):
            async with self._transport.operation(loc.host, "cancelling an upload"):
                response = await self._transport.request(
                    "DELETE",
                    loc,
                    session,
                    what="cancelling an upload",
                    scopes=push_scopes(loc.repository),
                    retry=False,
                )
                await response.aclose()

    # -- manifests -------------------------------------------------------------------------

    async def manifest_exists(self, loc: RegistryLocation, digest: str) -> bool:
        """Whether the repository has the manifest ``digest``."""
        return await self._has(loc, "manifest", digest, ACCEPT_MANIFESTS)

    async def put_manifest(
        self,
        loc: RegistryLocation,
        target: str,
        raw: bytes,
        media_type: str,
        digest: str,
    ) -> None:
        """``PUT`` the manifest bytes as they are under ``target`` (a tag or its digest)."""
        what = f"the manifest {digest} ({target}) to {loc.repository}"
        algorithm = parse_digest_field(digest, what).algorithm
        if compute_digest(raw, algorithm) != digest:
            raise DigestMismatch(f"{what}: its bytes do not hash to {digest}")
        async with self._transport.operation(loc.host, f"pushing {what}"):
            response = await self._transport.request(
                "PUT",
                loc,
                f"/v2/{loc.repository}/manifests/{target}",
                headers={"Content-Type": media_type},
                content=raw,
                what=what,
                scopes=push_scopes(loc.repository),
            )
            await response.aclose()
            if response.status_code not in (200, 201, 202, 204):
                await self._refused(response, loc, what)
            self._check_digest_header(response, digest, loc, what)


class _SessionLost(Exception):
    """The registry no longer knows the upload session (404): start a new one."""
