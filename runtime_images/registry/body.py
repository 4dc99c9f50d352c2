"""Response bodies read under a byte budget that counts *decoded* bytes.

httpx decodes ``Content-Encoding`` for ``aread()``/``json()``/``aiter_bytes()`` without an
output limit, so a registry can send 1 MB of gzip that becomes 1 GB in memory before any
size check runs. Here the raw bytes are read (``aiter_raw``) and inflated with an output
bound per call (zlib's ``max_length``), so no more than the budget plus one slice is ever
held, whatever the compression ratio. Encodings other than gzip and deflate (the only ones
the client advertises) are refused rather than passed through undecoded.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["BodyTooLarge", "UnsupportedEncoding", "read_body"]

_SLICE = 64 * 1024


class BodyTooLarge(Exception):
    """The decoded body is over the budget; ``received`` decoded bytes were read."""

    def __init__(self, received: int) -> None:
        super().__init__(f"over the budget after {received} bytes")
        self.received = received


class UnsupportedEncoding(Exception):
    """A ``Content-Encoding`` the client did not ask for."""


class _Decoder:
    """gzip, deflate (zlib or raw, as browsers accept) or identity, with bounded output."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._raw_deflate = False
        self._finished = False
        self._inflate: Any = self._new() if encoding != "identity" else None

    def _new(self) -> Any:
        if self._encoding == "gzip":
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)

    def decode(self, data: bytes, room: int) -> tuple[bytes, bytes]:
        """Up to ``room`` decoded bytes from ``data``, and the input left over."""
        if self._inflate is None:
            return data[:room], data[room:]
        if self._finished:  # bytes after the last member are ignored, as httpx does
            return b"", b""
        try:
            out = self._inflate.decompress(data, room)
        except zlib.error:
            if self._encoding != "deflate" or self._raw_deflate:
                raise
            self._raw_deflate = True  # "deflate" sent without its zlib header
            self._inflate = self._new()
            out = self._inflate.decompress(data, room)
        if self._inflate.eof:
            rest = self._inflate.unused_data
            if self._encoding == "gzip" and rest.startswith(b"\x1f\x8b"):
                self._inflate = self._new()  # concatenated gzip members are legal
            else:
                self._finished = True
            return out, rest
        return out, self._inflate.unconsumed_tail


def _encoding(response: httpx.Response) -> str:
    values = [
        v.strip().lower()
        for v in response.headers.get("content-encoding", "").split(",")
        if v.strip() and v.strip().lower() != "identity"
    ]
    if not values:
        return "identity"
    if len(values) == 1 and values[0] in ("gzip", "x-gzip", "deflate"):
        return "gzip" if values[0] == "x-gzip" else values[0]
    raise UnsupportedEncoding(
        f"Content-Encoding {response.headers.get('content-encoding', '')[:60]!r}"
    )


async def read_body(
    response: httpx.Response,
    limit: int,
    *,
    truncate: bool = False,
    on_bytes: Callable[[int], None] | None = None,
) -> bytes:
    """The decoded body, at most ``limit`` bytes; the response is closed at the end.

    Over the limit: :class:`BodyTooLarge`, or with ``truncate`` the first ``limit`` bytes
    (for error bodies, where only the start matters). Raw bytes are bounded too (a stream
    of empty deflate blocks decodes to nothing but never ends). ``on_bytes`` is told
    every decoded count (deadline messages say how much had arrived).
    """
    out = bytearray()
    raw_received = 0
    raw_limit = limit + _SLICE + 1024
    try:
        decoder = _Decoder(_encoding(response))
        async for chunk in response.aiter_raw():  # network reads as they come
            raw_received += len(chunk)
            if raw_received > raw_limit:
                if truncate:
                    return bytes(out[:limit])
                raise BodyTooLarge(len(out))
            pending = chunk
            while pending:
                room = limit + 1 - len(out)
                decoded, left = decoder.decode(pending, min(room, _SLICE))
                out += decoded
                if on_bytes is not None and decoded:
                    on_bytes(len(decoded))
                if len(out) > limit:
                    if truncate:
                        return bytes(out[:limit])
                    raise BodyTooLarge(len(out) - 1)
                if left == pending and not decoded:
                    break  # the decoder needs more input
                pending = left
    finally:
        await response.aclose()
    return bytes(out)
