"""Content digests (``algorithm:encoded``), parsed by the OCI image-spec grammar.

Every digest from outside (a manifest's config and layers, an index's entries, a
registry's ``Docker-Content-Digest`` header, a layout's ``index.json``, a reference's
``@digest``) goes through :func:`parse_digest` before it names a URL or a file. Only the
algorithms this product can verify are accepted, each with its exact encoding (lower-case
hex of the hash's length), so ``sha256:../../etc/passwd`` never becomes a path and an
unknown algorithm never becomes content nobody checked.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ALGORITHMS", "Digest", "InvalidDigestError", "compute_digest", "parse_digest"]

ALGORITHMS: dict[str, int] = {"sha256": 64, "sha384": 96, "sha512": 128}
"""Accepted algorithms and the length of their lower-case hex encoding (go-digest's set)."""

# image-spec descriptor.md: algorithm-component ([+._-] algorithm-component)* ":" encoded.
_GRAMMAR = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
_LOWER_HEX = re.compile(r"[a-f0-9]+", re.ASCII)
_MAX_LENGTH = 256  # far above sha512's 135 characters; keeps hostile strings out of regexes


class InvalidDigestError(ValueError):
    """A string is not a digest this product accepts; the message says why."""


@dataclass(frozen=True)
class Digest:
    """A parsed digest. ``str()`` gives the canonical ``algorithm:encoded`` form."""

    algorithm: str
    encoded: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"

    def hasher(self) -> Any:
        """A fresh ``hashlib`` object of this digest's algorithm."""
        return hashlib.new(self.algorithm)


def _shown(value: str) -> str:
    """A hostile value quoted for a message, never more than 80 characters of it."""
    return repr(value if len(value) <= 80 else value[:77] + "...")


def parse_digest(value: object) -> Digest:
    """Parse ``algorithm:encoded``; raise :class:`InvalidDigestError` saying what is wrong."""
    if not isinstance(value, str):
        raise InvalidDigestError(f"a digest must be a string, not {type(value).__name__}")
    if len(value) > _MAX_LENGTH or not _GRAMMAR.fullmatch(value):
        raise InvalidDigestError(
            f"{_shown(value)} is not a digest: expected algorithm:hex, "
            "e.g. sha256:<64 lower-case hexadecimal characters>"
        )
    algorithm, _, encoded = value.partition(":")
    length = ALGORITHMS.get(algorithm)
    if length is None:
        raise InvalidDigestError(
            f"unsupported digest algorithm {algorithm!r} (use sha256, sha384 or sha512)"
        )
    if len(encoded) != length or not _LOWER_HEX.fullmatch(encoded):
        raise InvalidDigestError(
            f"invalid {algorithm} digest {_shown(value)}: expected {length} lower-case "
            "hexadecimal characters"
        )
    return Digest(algorithm, encoded)


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of ``data`` (``algorithm`` one of :data:`ALGORITHMS`)."""
    if algorithm not in ALGORITHMS:
        raise InvalidDigestError(f"unsupported digest algorithm {algorithm!r}")
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
