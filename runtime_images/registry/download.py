"""Reading a blob as a verified stream: backpressure, a minimum rate, digest and size.

The digest and size are checked as the bytes arrive and after the last one; bytes are read
raw (a Content-Encoding would change what the digest covers). A registry that trickles is
cut off by the minimum transfer rate, which only counts time spent waiting for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol

import httpx

from ..reference import Reference, parse
from .budget import TransferRate, current_operation, describe
from .errors import DigestMismatch, RegistryUnavailable
from .location import RegistryLocation
from .manifest import Descriptor, parse_digest_field
from .transport import Transport

__all__ = [
    "BlobRateSettings",
    "DownloadSettings",
    "blob_stream",
    "running_total",
    "stalled",
]


class BlobRateSettings(Protocol):
    """The client settings that bound a blob transfer's rate (RegistryClient's traits)."""

    @property
    def min_blob_rate(self) -> float: ...
    @property
    def blob_rate_window(self) -> float: ...


def stalled(
    settings: BlobRateSettings, who: str, slow: tuple[int, float], what: str, progress: str
) -> RegistryUnavailable:
    """The error for a transfer below the minimum rate (``slow``: its window's bytes and
    seconds), naming the setting to lower; ``who`` is e.g. "host sent"."""
    return RegistryUnavailable(
        f"{who} only {slow[0]} bytes of {what} in {slow[1]:.0f} s of waiting ({progress}), "
        f"below RegistryClient.min_blob_rate ({settings.min_blob_rate:g} bytes/s over "
        f"RegistryClient.blob_rate_window, {settings.blob_rate_window:g} s): the registry or "
        "the network is stalled. If it is only slow, lower RegistryClient.min_blob_rate"
    )


class DownloadSettings(BlobRateSettings, Protocol):
    """The client settings a download reads (RegistryClient's traits, read when used)."""

    @property
    def read_timeout(self) -> float: ...


async def blob_stream(
    transport: Transport,
    settings: DownloadSettings,
    location: Callable[[Reference], RegistryLocation],
    reference: Reference | str,
    descriptor: Descriptor,
    chunk_size: int,
    progress: Callable[[int], None] | None,
) -> AsyncGenerator[bytes, Any]:
    """The blob's bytes in ``chunk_size`` pieces as they arrive (see
    :meth:`RegistryClient.stream_blob`)."""
    ref = parse(reference) if isinstance(reference, str) else reference
    loc = location(ref)
    what = f"blob {descriptor.digest} of {ref.familiar()}"
    digest = parse_digest_field(descriptor.digest, what)
    async with transport.operation(loc.host, f"requesting {what}"):
        response = await transport.request(
            "GET", loc, f"/v2/{loc.repository}/blobs/{digest}", what=what
        )
        await transport.raise_for_status(response, loc, what)
    operation = current_operation()
    if operation is not None:  # a config fetched inside resolve(): say so at a deadline
        operation.step = what
    loop = asyncio.get_running_loop()
    rate = TransferRate(settings.min_blob_rate, settings.blob_rate_window)
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
                    raise stalled(
                        settings,
                        f"{loc.host} sent",
                        slow,
                        what,
                        f"{received} of {descriptor.size} bytes received",
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
                f"{loc.host} sent nothing for {settings.read_timeout:g} s "
                f"(RegistryClient.read_timeout) after {received} of {descriptor.size} "
                f"bytes of {what}"
            ) from None
        except httpx.TransportError as error:
            raise RegistryUnavailable(
                f"the connection to {loc.host} broke after {received} of "
                f"{descriptor.size} bytes of {what}: {describe(error)}"
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


def running_total(progress: Callable[[int, int], None] | None, total: int) -> Callable[[int], None]:
    """A counter to give every piece's byte count to, which tells ``progress`` (if any) the
    bytes done so far out of ``total`` (for work over many blobs)."""
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    return advance
