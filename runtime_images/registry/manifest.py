"""Manifests, indexes, descriptors and platforms (OCI image-spec and Docker schema2).

Pure data and parsing: no I/O, so the inspector and builds can reuse it on local OCI
layouts too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .. import documents
from ..digest import Digest, InvalidDigestError, compute_digest, parse_digest
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
    "check_image_config",
    "compute_digest",
    "load_document",
    "parse_digest_field",
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


def parse_digest_field(value: object, what: str) -> Digest:
    """A digest from a registry or a layout, parsed; ``InvalidManifest`` naming ``what``."""
    try:
        return parse_digest(value)
    except InvalidDigestError as error:
        raise InvalidManifest(f"{what}: {error}") from None


def verify_digest(data: bytes, expected: str, what: str) -> str:
    """Check ``data`` against ``expected``; return the digest or raise DigestMismatch."""
    digest = parse_digest_field(expected, what)
    actual = compute_digest(data, digest.algorithm)
    if actual != str(digest):
        raise DigestMismatch(
            f"{what} is corrupted: its content hashes to {actual}, not {digest}. "
            "The registry's storage or a proxy altered it; re-push the image."
        )
    return actual


def load_document(raw: bytes, what: str) -> Any:
    """Parse a JSON document from a registry strictly (:mod:`runtime_images.documents`: no
    ``NaN``/``Infinity``, lone surrogates, deep nesting or huge integers, so nothing read
    from a registry can make the server's own answers invalid JSON later);
    ``InvalidManifest`` naming ``what``."""
    try:
        return documents.loads_json(raw, what)
    except documents.InvalidDocument as error:
        raise InvalidManifest(str(error)[:300]) from None


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

    def to_json(self) -> dict[str, str]:
        document = {"os": self.os, "architecture": self.architecture}
        if self.variant:
            document["variant"] = self.variant
        return document

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


_MAX_SIZE = 2**63 - 1  # descriptors' size is an int64


@dataclass(frozen=True)
class Descriptor:
    """What a manifest or index says about one blob or manifest.

    The digest is always a parsed, canonical digest (checked here, whoever builds one), so
    it is safe to put in a URL or a file path.
    """

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parse_digest_field(self.digest, "descriptor digest")

    @classmethod
    def from_json(cls, data: Any, what: str) -> Descriptor:
        """Parse one descriptor; ``what`` is its place (``manifest sha256:… layers[2]``)."""
        if not isinstance(data, dict):
            raise InvalidManifest(f"{what}: a descriptor must be an object")
        digest = str(parse_digest_field(data.get("digest"), f"{what}.digest"))
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _MAX_SIZE:
            raise InvalidManifest(f"{what}.size: must be a non-negative integer (bytes)")
        media_type = data.get("mediaType", "")
        if not isinstance(media_type, str):
            raise InvalidManifest(f"{what}.mediaType: must be a string")
        annotations = data.get("annotations")
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            platform=Platform.from_json(data.get("platform")),
            annotations=dict(annotations) if isinstance(annotations, dict) else {},
        )

    def to_json(self) -> dict[str, Any]:
        """The descriptor as a manifest or ``index.json`` entry holds it."""
        document: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.platform is not None:
            document["platform"] = self.platform.to_json()
        if self.annotations:
            document["annotations"] = dict(self.annotations)
        return document


@dataclass(frozen=True)
class Manifest:
    """A manifest or index exactly as served: its bytes, type and verified digest.

    :func:`parse_manifest` checks every descriptor in it, so ``manifests``, ``config`` and
    ``layers`` of a parsed manifest never raise for a bad digest later.
    """

    media_type: str
    digest: str
    raw: bytes
    data: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def descriptors(self) -> list[Descriptor]:
        """Every descriptor: an index's entries, or a manifest's config then its layers."""
        return list(self.manifests) if self.is_index else [self.config, *self.layers]

    @cached_property
    def manifests(self) -> list[Descriptor]:
        """Index entries (empty for an image manifest)."""
        if not self.is_index:
            return []
        entries = self.data.get("manifests", [])
        if not isinstance(entries, list):
            raise InvalidManifest(f"index {self.digest} manifests: must be a list")
        return [
            Descriptor.from_json(entry, f"index {self.digest} manifests[{i}]")
            for i, entry in enumerate(entries)
        ]

    @cached_property
    def config(self) -> Descriptor:
        if self.is_index:
            raise InvalidManifest(f"{self.digest} is an index, not an image manifest")
        return Descriptor.from_json(self.data.get("config"), f"manifest {self.digest} config")

    @cached_property
    def layers(self) -> list[Descriptor]:
        if self.is_index:
            raise InvalidManifest(f"{self.digest} is an index, not an image manifest")
        layers = self.data.get("layers")
        if not isinstance(layers, list):
            raise InvalidManifest(f"manifest {self.digest} has no layers list")
        return [
            Descriptor.from_json(layer, f"manifest {self.digest} layers[{i}]")
            for i, layer in enumerate(layers)
        ]


def parse_manifest(raw: bytes, content_type: str | None, digest: str, what: str) -> Manifest:
    """Parse a manifest body; the Content-Type decides its type, the body must agree."""
    data = load_document(raw, f"the manifest of {what}")
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
    manifest = Manifest(media_type=media_type, digest=digest, raw=raw, data=data)
    manifest.descriptors()  # every descriptor is parsed before anything uses one
    return manifest


def _field_error(what: str, name: str, expected: str) -> InvalidManifest:
    return InvalidManifest(f"{what} {name}: must be {expected}")


def check_image_config(config: Any, what: str) -> dict[str, Any]:
    """Check the shape of the image config fields this product reads (image-spec config.md).

    ``null`` is accepted wherever Docker writes it. Wrong types are ``InvalidManifest``
    naming the field, so no later reader (reports, builds) trips over a list where a
    string belongs; ``rootfs.diff_ids`` are digests and parsed as such.
    """
    if not isinstance(config, dict):
        raise InvalidManifest(f"{what} is not a JSON object")
    for name in ("os", "architecture", "variant", "created", "author"):
        if config.get(name) is not None and not isinstance(config[name], str):
            raise _field_error(what, name, "a string")
    inner = config.get("config")
    if inner is not None and not isinstance(inner, dict):
        raise _field_error(what, "config", "an object")
    for name, value in (inner or {}).items():
        field_name = f"config.{name}"
        if value is None:
            continue
        if name in ("User", "WorkingDir", "StopSignal") and not isinstance(value, str):
            raise _field_error(what, field_name, "a string")
        if name in ("Env", "Entrypoint", "Cmd") and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise _field_error(what, field_name, "a list of strings")
        if name in ("ExposedPorts", "Volumes") and not isinstance(value, dict):
            raise _field_error(what, field_name, "an object")
        if name == "Labels" and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        ):
            raise _field_error(what, field_name, "an object of strings")
    rootfs = config.get("rootfs")
    if rootfs is not None:
        if not isinstance(rootfs, dict):
            raise _field_error(what, "rootfs", "an object")
        diff_ids = rootfs.get("diff_ids")
        if diff_ids is not None:
            if not isinstance(diff_ids, list):
                raise _field_error(what, "rootfs.diff_ids", "a list")
            for i, diff_id in enumerate(diff_ids):
                parse_digest_field(diff_id, f"{what} rootfs.diff_ids[{i}]")
    history = config.get("history")
    if history is not None and not (
        isinstance(history, list) and all(isinstance(h, dict) for h in history)
    ):
        raise _field_error(what, "history", "a list of objects")
    return config


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
