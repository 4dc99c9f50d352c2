"""Budgets on every exchange with a registry: deadlines, transfer rates, body sizes, retries.

A registry is hostile until proven otherwise: it may answer slowly forever, trickle a
byte every few seconds, or send a small compressed body that inflates to gigabytes. Each
bound here turns that into a :class:`RegistryUnavailable` or :class:`InvalidManifest`
that names the host, what was being read, how far it got and the trait to change.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from .body import BodyTooLarge, UnsupportedEncoding, read_body
from .errors import InvalidManifest, RegistryUnavailable

__all__ = [
    "Operation",
    "TransferRate",
    "back_off",
    "current_operation",
    "describe",
    "operation",
    "read_bounded",
]


@dataclass
class Operation:
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


_CURRENT: contextvars.ContextVar[Operation | None] = contextvars.ContextVar(
    "registry_operation", default=None
)


def current_operation() -> Operation | None:
    """The operation the calling task runs under, if any."""
    return _CURRENT.get()


@contextlib.asynccontextmanager
async def operation(host: str, what: str, timeout: float) -> AsyncIterator[Operation]:
    """Run the block under ``timeout`` seconds; nested operations share the outer one.

    At the deadline every await inside is cancelled (requests, retries' sleeps, token
    requests) and :class:`RegistryUnavailable` says what was being read and how much had
    arrived.
    """
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    current = Operation(host, what, timeout)
    token = _CURRENT.set(current)
    try:
        async with asyncio.timeout(timeout) as deadline:
            yield current
    except TimeoutError:
        if deadline.expired():
            raise current.expired() from None
        raise
    finally:
        _CURRENT.reset(token)


class TransferRate:
    """Is a blob still moving at ``minimum`` bytes/s, over windows of waiting time?

    Only time spent waiting for the registry (or the network) counts, so a slow consumer
    or producer (a disk, a parser) never makes a registry look slow.
    """

    def __init__(self, minimum: float, window: float) -> None:
        self.minimum, self.window = minimum, window
        self.waited = 0.0
        self.bytes = 0

    def too_slow(self, waited: float, moved: int) -> tuple[int, float] | None:
        """Record one read or write; at the end of a window below the rate, its (bytes, s)."""
        self.waited += waited
        self.bytes += moved
        if self.minimum <= 0 or self.waited < self.window:
            return None
        window = (self.bytes, self.waited)
        self.waited, self.bytes = 0.0, 0
        return window if window[0] < self.minimum * window[1] else None


def describe(error: BaseException) -> str:
    """An exception as text that is never empty (httpx timeouts often have no message)."""
    return str(error) or type(error).__name__


async def back_off(attempt: int, backoff: float, why: str, log: Any) -> None:
    """Sleep before retry ``attempt`` (1, 2, …): ``backoff`` doubling, with some jitter."""
    delay = backoff * (2 ** (attempt - 1)) * (1 + random.random() / 4)
    log.debug("Retrying in %.2fs after %s", delay, why)
    await asyncio.sleep(delay)


async def read_bounded(
    response: httpx.Response,
    limit: int,
    *,
    what: str,
    trait: str,
    source: str,
    read_timeout: float,
) -> bytes:
    """A whole body, decoded, at most ``limit`` bytes (``trait`` sets the limit).

    ``source`` is the host that sent it. The current operation is told what is being read
    and every byte that arrives, so a deadline message can say both.
    """
    current = _CURRENT.get()
    if current is not None:
        current.step = what
    try:
        return await read_body(
            response, limit, on_bytes=current.count if current is not None else None
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
            f"{source} sent nothing for {read_timeout:g} s while sending {what} "
            "(RegistryClient.read_timeout)"
        ) from None
    except httpx.TransportError as error:
        raise RegistryUnavailable(
            f"the connection to {source} broke while reading {what}: {describe(error)}"
        ) from None
