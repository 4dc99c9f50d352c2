"""Re-pinning: move a pinned runtime image to the digest its tag has now, and with it every
kernelspec this product created from it.

The tag is resolved afresh (not taken from the last watch), the runtime image is patched
under ``If-Match`` (the caller's, else the version read before asking the registry), the
move is appended to the image's history as ``repinned``, and the kernelspecs that launched
the old image launch the new one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConflictError
from ..kernelspec import repoint_kernelspecs
from ..reference import parse
from ..registry import RegistryClient
from ..store import Entry, RuntimeImageStore
from .subjects import tag_of

__all__ = ["RepinResult", "move_image", "repin"]


@dataclass
class RepinResult:
    """What a re-pin did (or, with ``dry_run``, would do)."""

    entry: Entry
    source: str
    target: str
    kernelspecs: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return self.source != self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.entry.to_api(),
            "from": self.source,
            "to": self.target,
            "kernelspecs": self.kernelspecs,
            "changed": self.changed,
            "dryRun": self.dry_run,
        }


async def repin(
    store: RuntimeImageStore,
    client: RegistryClient,
    name: str,
    *,
    dry_run: bool = False,
    if_match: str | None = None,
) -> RepinResult:
    """Point runtime image ``name`` (``repo:tag@sha256:…``) at its tag's digest now."""
    entry = await asyncio.to_thread(store.get, name)
    image = str(((entry.document or {}).get("metadata") or {}).get("image_name"))
    reference = parse(image)
    tag = tag_of(reference)
    if tag is None:
        raise ConflictError(
            f"The runtime image {name!r} is pinned by digest only ({image}): it has no tag "
            "to follow; give its image_name a tag to re-pin it."
        )
    if reference.digest is None:
        raise ConflictError(
            f"The runtime image {name!r} is not pinned ({image}): pin it first "
            "(POST images/{name}/pin or `jupyter runtime-images pin --name`)."
        )
    current = await client.pin(tag)
    target = current.familiar()
    if target == image or current.digest == reference.digest:
        return RepinResult(entry, image, image, [], dry_run)
    if dry_run:
        names = await asyncio.to_thread(repoint_kernelspecs, store, name, image, target, True)
        return RepinResult(entry, image, target, names, True)
    updated, names = await asyncio.to_thread(
        move_image, store, name, target, "repinned", if_match or entry.etag
    )
    return RepinResult(updated, image, target, names)


def move_image(
    store: RuntimeImageStore,
    name: str,
    new_image: str,
    reason: str,
    if_match: str,
) -> tuple[Entry, list[str]]:
    """Point the runtime image ``name`` at ``new_image`` (blocking), with what follows it:
    its history (``reason``: ``repinned``, ``published``) and the kernelspecs created from
    it that launched its old image; the updated entry and those kernelspecs' names.

    ``if_match`` is the version read before the new image was found or made: an edit
    made meanwhile is not overwritten (:class:`~runtime_images.errors.PreconditionFailedError`),
    so the old image is the one of that version.
    """
    old_image = str(((store.get(name).document or {}).get("metadata") or {}).get("image_name"))
    updated = store.patch(name, {"metadata": {"image_name": new_image}}, if_match)
    store.record_history(name, new_image, reason)
    return updated, repoint_kernelspecs(store, name, old_image, new_image)
