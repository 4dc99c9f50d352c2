"""Feed an async byte stream to blocking parsers (tarfile) in a worker thread, boundedly.

The event loop pumps chunks into a small queue; the worker thread pulls them, gunzips with
a bounded output size (a highly compressible layer cannot blow up memory) and hands plain
tar bytes to :mod:`tarfile`. Memory is a few chunks plus tarfile's buffer, whatever the
layer's size.

Gunzip is most of the time spent reading a layer, so it uses python-isal (Intel's ISA-L:
0.36 s against zlib's 1.27 s for the 139 MB Debian layer of benchmarks/bench_build.py)
when it is installed, and the standard library's zlib otherwise.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import tarfile
import threading
import types
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .errors import InvalidLayer, UnsupportedLayer

_inflate_module: types.ModuleType
try:
    from isal import isal_zlib as _inflate_module
except ImportError:  # pragma: no cover - isal has wheels for the platforms Jupyter runs on
    _inflate_module = zlib

__all__ = ["InvalidLayer", "UnsupportedLayer", "open_layer_file", "run_blocking_reader"]

T = TypeVar("T")
_QUEUE_CHUNKS = 8
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_FILE_CHUNK = 1 << 20
_INFLATE_SLICE = 64 << 10
#: What a corrupt layer raises while it is parsed.
LAYER_ERRORS: tuple[type[BaseException], ...] = (
    tarfile.TarError,
    zlib.error,
    _inflate_module.error,
    EOFError,
)


def _inflater() -> Any:
    return _inflate_module.decompressobj(47)  # gzip or zlib header, auto-detected


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
    """``read(n)`` over the (optionally gzip-compressed) chunks of a layer.

    ``next_chunk`` returns the next compressed bytes, ``b""`` at the end. A chunk is
    consumed through a moving offset, and fed to the decompressor a slice at a time, so
    no read copies the rest of a large chunk (``unconsumed_tail`` is at most a slice).
    """

    def __init__(self, next_chunk: Callable[[], bytes]) -> None:
        self._next_chunk = next_chunk
        self._chunk = memoryview(b"")
        self._offset = 0
        self._mode: str | None = None
        self._inflate = _inflater()

    def readable(self) -> bool:
        return True

    def _available(self) -> bool:
        """Whether input is left, fetching the next chunk when the current one is used up."""
        while self._offset >= len(self._chunk):
            chunk = self._next_chunk()
            if not chunk:
                return False
            self._chunk, self._offset = memoryview(chunk), 0
        return True

    def _detect(self) -> None:
        head = b""
        while len(head) < 4:
            chunk = self._next_chunk()
            if not chunk:
                break
            head += chunk
        self._chunk, self._offset = memoryview(head), 0
        if head.startswith(_ZSTD_MAGIC):
            raise UnsupportedLayer("zstd-compressed layers are not supported; push with gzip")
        self._mode = "gzip" if head.startswith(_GZIP_MAGIC) else "tar"

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if self._mode is None:
            self._detect()
        if size < 0:
            size = 1 << 20
        if not self._available():
            return b""
        if self._mode == "tar":
            data = self._chunk[self._offset : self._offset + size]
            self._offset += len(data)
            return bytes(data)
        out = bytearray()
        while len(out) < size and self._available():
            piece = self._chunk[self._offset : self._offset + _INFLATE_SLICE]
            inflate = self._inflate
            out += inflate.decompress(piece, size - len(out))
            if inflate.eof:  # concatenated gzip members are legal
                self._offset += len(piece) - len(inflate.unused_data)
                self._inflate = _inflater()
            else:
                self._offset += len(piece) - len(inflate.unconsumed_tail)
        return bytes(out)


@contextlib.contextmanager
def open_layer_file(path: Path, chunk_size: int = _FILE_CHUNK) -> Iterator[io.RawIOBase]:
    """A local layer blob (gzip or plain tar) as a readable stream of tar bytes."""
    with open(path, "rb") as handle:
        yield _LayerReader(lambda: handle.read(chunk_size))


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
            result = consume(_LayerReader(source.next_chunk))
        except LAYER_ERRORS as error:
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
