"""Manifests, indexes, descriptors and platforms (OCI image-spec and Docker schema2).

Pure data and parsing: no I/O, so the inspector and builds can reuse it on local OCI
layouts too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import DigestMismatch, InvalidManifest, PlatformNotFound

__all__ = [
    "ACCEPT_MANIFESTS",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Descriptor",
    "Manifest",
    "Platform",
    "compute_digest",
    "parse_manifest",
    "select_platform",
    "verify_digest",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT_MANIFESTS = f"{OCI_INDEX}, {OCI_MANIFEST}, {DOCKER_MANIFEST_LIST}, {DOCKER_MANIFEST}"
"""The Accept header for manifests: all four v2 types, so no registry falls back to schema1."""

_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{_HASHES[algorithm](data).hexdigest()}"


def verify_digest(data: bytes, expected: str, what: str) -> str:
    """Check ``data`` against ``expected``; return the digest or raise DigestMismatch."""
    algorithm = expected.partition(":")[0]
    if algorithm not in _HASHES:
        raise InvalidManifest(f"{what}: unsupported digest algorithm {algorithm!r}")
    actual = compute_digest(data, algorithm)
    if actual != expected:
        raise DigestMismatch(
            f"{what} is corrupted: its content hashes to {actual}, not {expected}. "
            "The registry's storage or a proxy altered it; re-push the image."
        )
    return actual


@dataclass(frozen=True)
class Platform:
    """``os/architecture[/variant]``, e.g. ``linux/amd64`` or ``linux/arm64/v8``."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, value: str) -> Platform:
        parts = value.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {value!r}: expected os/architecture[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def from_json(cls, data: Any) -> Platform | None:
        if not isinstance(data, dict):
            return None
        os_, arch = data.get("os"), data.get("architecture")
        if not isinstance(os_, str) or not isinstance(arch, str):
            return None
        variant = data.get("variant")
        return cls(os_, arch, variant if isinstance(variant, str) and variant else None)

    def matches(self, other: Platform) -> bool:
        """Does an index entry ``other`` satisfy this wanted platform?

        A wanted platform without variant takes any variant; ``arm64`` with no variant in
        the index counts as ``v8`` (its only variant), as containerd's matcher does.
        """
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        if self.variant is None:
            return True
        default = "v8" if self.architecture == "arm64" else None
        return (other.variant or default) == self.variant

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any, what: str) -> Descriptor:
        if not isinstance(data, dict):
            raise InvalidManifest(f"{what}: a descriptor must be an object")
        digest, size = data.get("digest"), data.get("size")
        if not isinstance(digest, str) or ":" not in digest:
            raise InvalidManifest(f"{what}: descriptor without a valid digest")
        if not isinstance(size, int) or size < 0:
            raise InvalidManifest(f"{what}: descriptor {digest} without a valid size")
        annotations = data.get("annotations")
        return cls(
            media_type=str(data.get("mediaType", "")),
            digest=digest,
            size=size,
            platform=Platform.from_json(data.get("platform")),
            annotations=dict(annotations) if isinstance(annotations, dict) else {},
        )


@dataclass(frozen=True)
class Manifest:
    """A manifest or index exactly as served: its bytes, type and verified digest."""

    media_type: str
    digest: str
    raw: bytes
    data: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def manifests(self) -> list[Descriptor]:
        """Index entries (empty for an image manifest)."""
        entries = self.data.get("manifests", []) if self.is_index else []
        return [Descriptor.from_json(e, f"index {self.digest}") for e in entries]

    @property
    def config(self) -> Descriptor:
        if self.is_index:
            raise InvalidManifest(f"{self.digest} is an index, not an image manifest")
        return Descriptor.from_json(self.data.get("config"), f"manifest {self.digest} config")

    @property
    def layers(self) -> list[Descriptor]:
        if self.is_index:
            raise InvalidManifest(f"{self.digest} is an index, not an image manifest")
        layers = self.data.get("layers")
        if not isinstance(layers, list):
            raise InvalidManifest(f"manifest {self.digest} has no layers list")
        return [Descriptor.from_json(layer, f"manifest {self.digest} layer") for layer in layers]


def parse_manifest(raw: bytes, content_type: str | None, digest: str, what: str) -> Manifest:
    """Parse a manifest body; the Content-Type decides its type, the body must agree."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidManifest(f"{what}: the manifest is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InvalidManifest(f"{what}: the manifest is not a JSON object")
    header_type = (content_type or "").split(";")[0].strip().lower()
    body_type = data.get("mediaType")
    if body_type is not None and not isinstance(body_type, str):
        raise InvalidManifest(f"{what}: mediaType must be a string")
    media_type = header_type if header_type in INDEX_TYPES | MANIFEST_TYPES else None
    if media_type is None:
        # Generic Content-Type (application/json): trust the body, or infer from its shape
        # (umoci writes OCI manifests without mediaType).
        media_type = body_type or (OCI_INDEX if "manifests" in data else OCI_MANIFEST)
    if media_type in DOCKER_SCHEMA1 or data.get("schemaVersion") == 1:
        raise InvalidManifest(
            f"{what} uses the obsolete Docker schema 1 format; push it again with a current "
            "client (docker, podman, skopeo)"
        )
    if media_type not in INDEX_TYPES | MANIFEST_TYPES:
        raise InvalidManifest(f"{what}: unsupported manifest media type {media_type!r}")
    if body_type is not None and body_type != media_type:
        raise InvalidManifest(
            f"{what}: the registry says {media_type} but the manifest says {body_type}"
        )
    return Manifest(media_type=media_type, digest=digest, raw=raw, data=data)


def select_platform(index: Manifest, wanted: Platform) -> Descriptor:
    """The first index entry for ``wanted``; entries without platform or unknown types skipped."""
    available: list[str] = []
    for entry in index.manifests:
        if entry.platform is None or entry.media_type not in INDEX_TYPES | MANIFEST_TYPES | {""}:
            continue
        if entry.platform.os == "unknown":  # attestation manifests (buildx)
            continue
        available.append(str(entry.platform))
        if wanted.matches(entry.platform):
            return entry
    raise PlatformNotFound(
        f"the image has no {wanted} variant (it has: {', '.join(available) or 'none'}); "
        "choose one of those platforms (RegistryClient.platform)"
    )
