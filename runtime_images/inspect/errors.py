"""Why an image's layers cannot be read: corrupt, unsupported, or over a budget."""

from __future__ import annotations

from ..registry.errors import RegistryError

__all__ = ["InvalidLayer", "LimitExceeded", "UnsupportedLayer"]


class InvalidLayer(RegistryError):
    """A layer that is not a valid (gzip-compressed) tar archive of a filesystem tree,
    although its digest is right."""

    reason = "InvalidImage"


class UnsupportedLayer(InvalidLayer):
    """A layer compression we cannot read (zstd)."""


class LimitExceeded(InvalidLayer):
    """The image is larger than an inspection budget allows (files, depth, links, kept
    bytes); the message names the setting that raises the budget."""

    reason = "LimitExceeded"
