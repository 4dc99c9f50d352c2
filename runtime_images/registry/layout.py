"""Local OCI image layouts: where built images are assembled, kept and pushed from.

A layout (``oci-layout``, ``index.json``, ``blobs/sha256/…``) is the embedded engine's
default build target (no registry needed) and the source ``skopeo copy`` pushes from when
a target registry is configured. Blobs are shared by every image in the layout, so a base
image's layers are downloaded once for all the builds on top of it.

A blob's path is only ever built from a parsed digest (:meth:`Layout.blob_path`): digests
come from registries' manifests and from layouts other tools wrote, and
``sha256:../../etc/passwd`` must name no file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_bytes, file_lock, remove_abandoned
from .errors import InvalidManifest
from .manifest import (
    Descriptor,
    Manifest,
    load_document,
    parse_digest_field,
    parse_manifest,
    verify_digest,
)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REF_NAME = "org.opencontainers.image.ref.name"
MAX_LAYOUT_MANIFEST_BYTES = 4 * 1024 * 1024


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def default_layout_dir() -> str:
    """Where this machine's images are kept unless configured otherwise."""
    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "runtime-images", "oci-layout")


def configured_layout_dir(config: Any, *places: tuple[str, str]) -> str | None:
    """The first layout directory configured at ``(section, trait)``: the builds'
    (``ImageBuilder.layout_dir``) and the registry client's (``local_layout_dir``) default
    to each other, so setting either moves both — what builds write is what is read."""
    for section, trait in places:
        value = config[section].get(trait) if section in config else None
        if value:
            return str(value)
    return None


class Layout:
    """An OCI image layout directory (created unless ``create`` is false, when it must
    exist: :class:`FileNotFoundError` otherwise)."""

    def __init__(self, root: Path, *, create: bool = True) -> None:
        self.root = root
        if not create:
            if not (root / "index.json").is_file():
                raise FileNotFoundError(f"{root} is not an OCI image layout (no index.json)")
            return
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        marker = root / "oci-layout"
        if not marker.exists():
            atomic_write_bytes(marker, b'{"imageLayoutVersion":"1.0.0"}', mode=0o644)
        if not (root / "index.json").exists():
            self._write_index({"schemaVersion": 2, "manifests": []})

    def blob_path(self, digest: str, what: str = "blob digest") -> Path:
        """Where the blob ``digest`` is kept; :class:`InvalidManifest` unless it is a digest."""
        parsed = parse_digest_field(digest, f"{what} in the layout {self.root}")
        return self.root / "blobs" / parsed.algorithm / parsed.encoded

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    def add_file(self, path: Path, digest: str) -> None:
        """Move a verified file into the layout under its digest."""
        target = self.blob_path(digest)
        if target.exists():
            path.unlink(missing_ok=True)
            return
        target.parent.mkdir(exist_ok=True)
        os.replace(path, target)

    def add_bytes(self, data: bytes, media_type: str) -> Descriptor:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if not self.has_blob(digest):
            atomic_write_bytes(self.blob_path(digest), data, mode=0o644)
        return Descriptor(media_type, digest, len(data))

    def temp_file(self) -> Path:
        fd, name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        os.close(fd)
        return Path(name)

    def tag(self, ref_name: str, manifest: Descriptor) -> None:
        """Point ``ref_name`` at ``manifest`` in index.json (replacing an older one)."""
        with file_lock(self.root / ".index.lock"):
            index, entries = self._index()
            manifests = [
                m
                for m in entries
                if not (isinstance(m, dict) and isinstance(m.get("annotations"), dict))
                or m["annotations"].get(REF_NAME) != ref_name
            ]
            manifests.append({**manifest.to_json(), "annotations": {REF_NAME: ref_name}})
            index["manifests"] = manifests
            self._write_index(index)

    def adopt(self, staging: Layout, ref_name: str) -> Descriptor:
        """Move the blobs of another layout (on the same filesystem) in, and tag its image
        ``ref_name`` here: tools that write layouts themselves (buildah) write to a private
        one, so only :meth:`tag`, under the lock, ever changes this index.json."""
        manifest = staging.find(ref_name)
        for blob in sorted((staging.root / "blobs").glob("*/*")):
            if blob.is_symlink() or not blob.is_file():
                raise InvalidManifest(f"{blob} in the layout {staging.root} is not a file")
            self.add_file(blob, f"{blob.parent.name}:{blob.name}")
        self.tag(ref_name, manifest)
        return manifest

    def names(self) -> list[str]:
        """The ``org.opencontainers.image.ref.name`` of every image in index.json."""
        return [name for _, name, _ in self._entries()]

    def find(self, ref_name: str) -> Descriptor:
        """The manifest tagged ``ref_name`` in index.json, every field of it checked
        (:class:`LookupError` when no single image has that name)."""
        found = [(i, entry) for i, name, entry in self._entries() if name == ref_name]
        if len(found) != 1:
            raise LookupError(f"{self.root} has no single image named {ref_name!r}")
        i, entry = found[0]
        field = f"{self.root / 'index.json'} manifests[{i}]"
        digest = str(parse_digest_field(entry.get("digest"), f"{field}.digest"))
        size, media_type = entry.get("size"), entry.get("mediaType")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidManifest(f"{field}.size: must be a non-negative integer")
        if not isinstance(media_type, str):
            raise InvalidManifest(f"{field}.mediaType: must be a string")
        return Descriptor(media_type, digest, size)

    def _entries(self) -> list[tuple[int, str, dict[str, Any]]]:
        """(position, ref name, entry) of the named entries of index.json."""
        _index, entries = self._index()
        return [
            (i, name, entry)
            for i, entry in enumerate(entries)
            if isinstance(entry, dict)
            and isinstance(entry.get("annotations"), dict)
            and isinstance(name := entry["annotations"].get(REF_NAME), str)
        ]

    def _index(self) -> tuple[dict[str, Any], list[Any]]:
        """index.json (a file in the data directory, read as input) and its manifests."""
        where = str(self.root / "index.json")
        try:
            with open(self.root / "index.json", "rb") as handle:
                raw = handle.read(MAX_LAYOUT_MANIFEST_BYTES + 1)
            if len(raw) > MAX_LAYOUT_MANIFEST_BYTES:
                raise InvalidManifest(f"{where} is larger than {MAX_LAYOUT_MANIFEST_BYTES} bytes")
            index = load_document(raw, where)
        except OSError as error:
            raise InvalidManifest(f"{where} cannot be read ({error.strerror or error})") from None
        entries = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(entries, list):
            raise InvalidManifest(f"{where}: manifests must be a list")
        return index, entries

    def _write_index(self, index: dict[str, Any]) -> None:
        atomic_write_bytes(self.root / "index.json", canonical_json(index), mode=0o644)

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def read_manifest(self, digest: str) -> Manifest:
        """The image manifest or index ``digest`` of this layout, verified and parsed.

        Every descriptor in it is checked (:class:`InvalidManifest` naming the field, e.g.
        ``manifest sha256:… layers[2].digest``) before any of its blobs is looked up.
        """
        with open(self.blob_path(digest, "manifest digest"), "rb") as handle:
            raw = handle.read(MAX_LAYOUT_MANIFEST_BYTES + 1)
        if len(raw) > MAX_LAYOUT_MANIFEST_BYTES:
            raise InvalidManifest(
                f"manifest {digest} in {self.root} is larger than {MAX_LAYOUT_MANIFEST_BYTES} bytes"
            )
        verify_digest(raw, digest, f"manifest {digest} in {self.root}")
        return parse_manifest(raw, None, digest, f"{digest} in {self.root}")

    def remove_abandoned(self) -> int:
        """Remove the downloads (``.incoming-*``) and build directories (``.build-*``) that
        processes which died left here; live ones hold them (:func:`fileio.remove_abandoned`)."""
        leftovers = [*self.root.glob(".incoming-*"), *self.root.glob(".build-*")]
        return remove_abandoned(leftovers)


def oci_layer_type(media_type: str) -> str:
    """Docker's gzip layer type is the same bytes as OCI's; an OCI manifest names the latter."""
    return OCI_LAYER_GZIP if media_type == DOCKER_LAYER_GZIP else media_type
