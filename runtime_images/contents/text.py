"""Lines of a file streaming out of a layer: decoded, cut short, and paid for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from .budget import ContentBudget

__all__ = ["read_lines"]

_MAX_LINE = 64 << 10


def read_lines(stream: IO[bytes], budget: ContentBudget, what: str) -> Iterator[str]:
    """Decoded lines (without the newline), each cut at 64 KiB; bytes counted."""
    while True:
        line = stream.readline(_MAX_LINE)
        if not line:
            return
        budget.spend_bytes(len(line), what)
        if len(line) == _MAX_LINE and not line.endswith(b"\n"):
            while True:  # the rest of an over-long line is skipped, not kept
                rest = stream.readline(_MAX_LINE)
                budget.spend_bytes(len(rest), what)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line.decode("utf-8", "replace").rstrip("\r\n")
