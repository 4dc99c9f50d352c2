"""oci-archive files written from a layout or streamed from a registry, read back by skopeo.

skopeo is the reader other tools use for ``oci-archive:`` (podman and buildah share its
code), so an archive skopeo copies with the same digest is one they all load.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from runtime_images.registry import DigestMismatch, ImageNotFound, RegistryClient
from runtime_images.registry.archive import write_oci_archive
from runtime_images.registry.layout import Layout
from runtime_images.registry.publish import LayoutSource
from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer, write_layout

pytestmark = pytest.mark.timeout(90)


def skopeo_raw(reference: str, *flags: str) -> bytes:
    return subprocess.run(
        ["skopeo", "inspect", "--raw", *flags, reference],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


def small_image(seed: int = 0) -> oci.Image:
    extra = oci.LayerBuilder().random_file("data/blob.bin", 100_000, seed=seed).build()
    return oci.make_image([images.base_layer(), extra])


def test_an_archive_of_a_layout_image_has_its_digest_for_skopeo(tmp_path: Path) -> None:
    image = small_image()
    layout: Layout = write_layout(tmp_path / "layout", [image], image.manifest)
    archive = tmp_path / "image.tar"
    seen: list[tuple[int, int]] = []
    size = asyncio.run(
        write_oci_archive(
            LayoutSource(layout), image.digest, archive, "1.0", lambda d, t: seen.append((d, t))
        )
    )
    assert archive.stat().st_size == size
    raw = skopeo_raw(f"oci-archive:{archive}:1.0")
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest
    copied = tmp_path / "copy"
    subprocess.run(
        ["skopeo", "copy", "--quiet", f"oci-archive:{archive}", f"dir:{copied}"],
        check=True,
        timeout=60,
    )
    assert (copied / "manifest.json").read_bytes() == raw
    assert seen[-1][0] == seen[-1][1] > 100_000
    assert not list(tmp_path.glob(".image.tar.*"))  # no temporary file left


def test_the_same_image_gives_the_same_archive(tmp_path: Path) -> None:
    image = small_image()
    layout: Layout = write_layout(tmp_path / "layout", [image], image.manifest)
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    for path in (first, second):
        asyncio.run(write_oci_archive(LayoutSource(layout), image.digest, path, "1.0"))
    assert first.read_bytes() == second.read_bytes()


def test_an_index_streamed_from_a_registry_keeps_every_platform(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    amd = oci.make_image([images.base_layer()])
    arm = oci.make_image(
        [images.base_layer(curl=False)], oci.ImageConfig(architecture="arm64", variant="v8")
    )
    index = oci.make_index([amd, arm])
    with registry.pusher() as pusher:
        pusher.push_index(repo_name, "multi", [amd, arm], index)
    archive = tmp_path / "multi.tar"

    async def main() -> None:
        async with RegistryClient() as client:
            source, descriptor = await client.image_source(f"{registry.host}/{repo_name}:multi")
            assert descriptor.digest == index.digest
            await write_oci_archive(source, descriptor.digest, archive, "multi")

    asyncio.run(main())
    raw = skopeo_raw(f"oci-archive:{archive}:multi")
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == index.digest
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        index_json = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
    for image in (amd, arm):
        assert f"blobs/sha256/{image.digest.split(':')[1]}" in names
        assert f"blobs/sha256/{image.config.digest.split(':')[1]}" in names
    entry = index_json["manifests"][0]
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "multi"


def test_a_corrupted_layout_blob_leaves_no_archive(tmp_path: Path) -> None:
    """Hostile input: a layout's file changed after it was written (same size, other bytes)."""
    image = small_image()
    layout: Layout = write_layout(tmp_path / "layout", [image], image.manifest)
    layer = image.layers[-1].blob
    path = layout.blob_path(layer.digest)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    archive = tmp_path / "image.tar"
    with pytest.raises(DigestMismatch, match=layer.digest):
        asyncio.run(write_oci_archive(LayoutSource(layout), image.digest, archive))
    assert list(tmp_path.glob("*.tar*")) == []


def test_an_index_missing_a_platform_is_refused(tmp_path: Path) -> None:
    amd, arm = small_image(1), small_image(2)
    index = oci.make_index([amd, arm])
    layout: Layout = write_layout(tmp_path / "layout", [amd], index)
    with pytest.raises(ImageNotFound, match="must hold every platform"):
        asyncio.run(write_oci_archive(LayoutSource(layout), index.digest, tmp_path / "x.tar"))
    assert not (tmp_path / "x.tar").exists()
