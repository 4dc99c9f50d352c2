"""What the watch follows: the tag of every runtime image and the base of every build.

A pinned runtime image ``repo:tag@sha256:…`` is watched through its tag and compared with
its digest; an unpinned one (``repo:tag``) with the digest its tag had when first seen; a
digest-only reference has no tag to follow. A CustomNBImage is watched through the tag of
the base its last good image was made from (``status.baseImage`` of a build, the source of
an import), so a failed rebuild keeps reporting the move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..builds import model
from ..reference import DEFAULT_TAG, InvalidReferenceError, Reference, parse
from ..store import RuntimeImageStore

__all__ = [
    "BUILD_BASE",
    "REBUILD_ANNOTATION",
    "RUNTIME_IMAGE",
    "Subject",
    "build_bases",
    "runtime_images",
    "tag_of",
]

RUNTIME_IMAGE, BUILD_BASE = "runtime-image", "build-base"
REBUILD_ANNOTATION = "runtime-images.jupyter.org/rebuild-on-base-update"


@dataclass(frozen=True)
class Subject:
    """One thing that follows a tag: ``pinned`` is the digest it uses (None: unpinned,
    compared with the first digest seen)."""

    kind: str
    name: str
    reference: str
    pinned: str | None
    rebuild: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"


def tag_of(reference: Reference) -> Reference | None:
    """The tag reference to watch (``repo:tag``), or None for a digest-only reference."""
    if reference.digest and not reference.tag:
        return None
    return reference.with_tag(reference.tag or DEFAULT_TAG).without_digest()


def _subject(kind: str, name: str, image: object, rebuild: bool = False) -> Subject | None:
    if not isinstance(image, str):
        return None
    try:
        reference = parse(image)
    except InvalidReferenceError:
        return None
    tag = tag_of(reference)
    if tag is None:
        return None
    return Subject(kind, name, tag.familiar(), reference.digest, rebuild)


def runtime_images(store: RuntimeImageStore) -> list[Subject]:
    """A subject for every valid runtime image with a tag (blocking: run it in a thread)."""
    subjects = []
    for entry in store.listing().instances:
        metadata = (entry.document or {}).get("metadata") or {}
        subject = _subject(RUNTIME_IMAGE, entry.name, metadata.get("image_name"))
        if subject is not None:
            subjects.append(subject)
    return subjects


def last_good(resource: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The status of the build's last Ready run: its own when Ready, else what a rebuild
    kept (``status.lastGood``); None when it never was Ready."""
    status = resource.get("status") or {}
    if model.phase_of(resource) == model.READY:
        return status if isinstance(status, Mapping) else None
    kept = status.get("lastGood") if isinstance(status, Mapping) else None
    return kept if isinstance(kept, Mapping) else None


def build_bases(resources: Iterable[Mapping[str, Any]]) -> list[Subject]:
    """A subject for every build that was Ready once, following its base image's tag."""
    subjects = []
    for resource in resources:
        good = last_good(resource)
        name = (resource.get("metadata") or {}).get("name")
        if good is None or not isinstance(name, str):
            continue
        base = good.get("baseImage") or good.get("sourceImage")
        spec = resource.get("spec") or {}
        if base is None and spec.get("buildType") == model.IMAGE_IMPORT:
            base = good.get("image")
        annotations = (resource.get("metadata") or {}).get("annotations") or {}
        rebuild = isinstance(annotations, Mapping) and annotations.get(REBUILD_ANNOTATION) == "true"
        subject = _subject(BUILD_BASE, name, base, rebuild)
        if subject is not None:
            subjects.append(subject)
    return subjects
