"""What the registry tests share: running client code on a fresh event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from runtime_images.registry import RegistryClient

T = TypeVar("T")


def run(fn: Callable[[RegistryClient], Awaitable[T]], **config: Any) -> T:
    """``fn`` with a ``RegistryClient(**config)`` that is closed after, on a new event loop."""

    async def main() -> T:
        async with RegistryClient(**config) as client:
            return await fn(client)

    return asyncio.run(main())


def pin(ref: str, **config: Any) -> str:
    """``ref`` pinned by a ``RegistryClient(**config)``, as text."""
    return str(run(lambda client: client.pin(ref), **config))
