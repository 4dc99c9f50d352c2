"""Feed an async byte stream to blocking parsers (tarfile) in a worker thread, boundedly.

The event loop pumps chunks into a small queue; the worker thread pulls them, gunzips with
a bounded output size (a highly compressible layer cannot blow up memory) and hands plain
tar bytes to :mod:`tarfile`. Memory is a few chunks plus tarfile's buffer, whatever the
layer's size.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import tarfile
import threading
import zlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from ..registry.errors import RegistryError

__all__ = ["InvalidLayer", "UnsupportedLayer", "run_blocking_reader"]

T = TypeVar("T")
_QUEUE_CHUNKS = 8
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class InvalidLayer(RegistryError):
    """A layer that is not a (gzip-compressed) tar archive although its digest is right."""

    reason = "InvalidImage"


class UnsupportedLayer(InvalidLayer):
    """A layer compression we cannot read (zstd)."""


class _Source:
    """Blocking reads from the event loop's queue (called from the worker thread only)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[object]) -> None:
        self._loop, self._queue = loop, queue
        self.done = False
        self.abandoned = threading.Event()

    def next_chunk(self) -> bytes:
        if self.done:
            return b""
        future = asyncio.run_coroutine_threadsafe(self._queue.get(), self._loop)
        while True:
            try:
                item = future.result(timeout=0.5)
                break
            except concurrent.futures.TimeoutError:
                if self.abandoned.is_set():  # the awaiting task was cancelled
                    future.cancel()
                    raise asyncio.CancelledError() from None
        if isinstance(item, BaseException):
            self.done = True
            raise item
        if item is None:
            self.done = True
            return b""
        assert isinstance(item, bytes)
        return item

    def drain(self) -> None:
        """Read to the end so the producer finishes and verifies the digest."""
        while self.next_chunk():
            pass


class _LayerReader(io.RawIOBase):
    """``read(n)`` over the (optionally gzip-compressed) chunks of a layer."""

    def __init__(self, source: _Source) -> None:
        self._source = source
        self._pending = b""
        self._mode: str | None = None
        self._inflate = zlib.decompressobj(47)  # gzip or zlib header, auto-detected

    def readable(self) -> bool:
        return True

    def _detect(self) -> None:
        while len(self._pending) < 4:
            chunk = self._source.next_chunk()
            if not chunk:
                break
            self._pending += chunk
        if self._pending.startswith(_ZSTD_MAGIC):
            raise UnsupportedLayer("zstd-compressed layers are not supported; push with gzip")
        self._mode = "gzip" if self._pending.startswith(_GZIP_MAGIC) else "tar"

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if self._mode is None:
            self._detect()
        if size < 0:
            size = 1 << 20
        if self._mode == "tar":
            if not self._pending:
                self._pending = self._source.next_chunk()
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        out = bytearray()
        while len(out) < size:
            if not self._pending:
                self._pending = self._source.next_chunk()
                if not self._pending:
                    break
            inflate = self._inflate
            out += inflate.decompress(self._pending, size - len(out))
            self._pending = inflate.unconsumed_tail
            if inflate.eof:  # concatenated gzip members are legal
                self._pending = inflate.unused_data + self._pending
                self._inflate = zlib.decompressobj(47)
                if not self._pending:
                    self._pending = self._source.next_chunk()
                    if not self._pending:
                        break
        return bytes(out)


async def run_blocking_reader(
    chunks: AsyncIterator[bytes], consume: Callable[[io.RawIOBase], T], what: str = "the layer"
) -> T:
    """Run ``consume(reader)`` in a thread over ``chunks`` (decompressed if gzip).

    The stream is always read to its end, so its digest check runs even when the tar
    parser stops early; errors of either side propagate.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(_QUEUE_CHUNKS)

    async def pump() -> None:
        try:
            async for chunk in chunks:
                if chunk:
                    await queue.put(chunk)
            await queue.put(None)
        except Exception as error:  # noqa: BLE001 (handed to the worker, re-raised there)
            await queue.put(error)

    source = _Source(loop, queue)

    def work() -> T:
        try:
            result = consume(_LayerReader(source))
        except (tarfile.TarError, zlib.error, EOFError) as error:
            # Corruption shows up first as a parse error: let the digest check speak first.
            source.drain()
            raise InvalidLayer(
                f"{what} is not a valid tar archive ({error}), although its digest matches"
            ) from None
        source.drain()
        return result

    pump_task = asyncio.create_task(pump())
    try:
        return await asyncio.to_thread(work)
    finally:
        source.abandoned.set()  # a worker still waiting for chunks gives up
        if not pump_task.done():
            pump_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump_task
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
