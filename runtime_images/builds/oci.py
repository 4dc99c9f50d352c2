"""Local OCI image layouts: where built images are assembled, kept and pushed from.

A layout (``oci-layout``, ``index.json``, ``blobs/sha256/…``) is the embedded engine's
default build target (no registry needed) and the source ``skopeo copy`` pushes from when
a target registry is configured. Blobs are shared by every image in the layout, so a base
image's layers are downloaded once for all the builds on top of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_bytes, file_lock

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


class Layout:
    """An OCI image layout directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        marker = root / "oci-layout"
        if not marker.exists():
            atomic_write_bytes(marker, b'{"imageLayoutVersion":"1.0.0"}', mode=0o644)
        if not (root / "index.json").exists():
            self._write_index({"schemaVersion": 2, "manifests": []})

    def blob_path(self, digest: str) -> Path:
        algorithm, _, encoded = digest.partition(":")
        return self.root / "blobs" / algorithm / encoded

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
            index = json.loads((self.root / "index.json").read_text("utf-8"))
            manifests = [
                m
                for m in index.get("manifests", [])
                if (m.get("annotations") or {}).get(REF_NAME) != ref_name
            ]
            manifests.append({**manifest.to_json(), "annotations": {REF_NAME: ref_name}})
            index["manifests"] = manifests
            self._write_index(index)

    def adopt(self, staging: Layout, ref_name: str) -> Descriptor:
        """Move the blobs of another layout (on the same filesystem) in, and tag its image
        ``ref_name`` here: tools that write layouts themselves (buildah) write to a private
        one, so only :meth:`tag`, under the lock, ever changes this index.json."""
        index = json.loads((staging.root / "index.json").read_text("utf-8"))
        found = [
            m
            for m in index.get("manifests", [])
            if (m.get("annotations") or {}).get(REF_NAME) == ref_name
        ]
        if len(found) != 1:
            raise ValueError(f"{staging.root} has no single image named {ref_name!r}")
        for blob in sorted((staging.root / "blobs").glob("*/*")):
            self.add_file(blob, f"{blob.parent.name}:{blob.name}")
        manifest = Descriptor(found[0]["mediaType"], found[0]["digest"], int(found[0]["size"]))
        self.tag(ref_name, manifest)
        return manifest

    def _write_index(self, index: dict[str, Any]) -> None:
        atomic_write_bytes(self.root / "index.json", canonical_json(index), mode=0o644)

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def remove_temp_files(self) -> None:
        for path in self.root.glob(".incoming-*"):
            path.unlink(missing_ok=True)


def oci_layer_type(media_type: str) -> str:
    """Docker's gzip layer type is the same bytes as OCI's; an OCI manifest names the latter."""
    return OCI_LAYER_GZIP if media_type == DOCKER_LAYER_GZIP else media_type
