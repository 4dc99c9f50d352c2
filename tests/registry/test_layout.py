"""The local OCI image layout: adopting what another tool wrote into a private layout."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from runtime_images.registry import InvalidManifest
from runtime_images.registry.layout import OCI_CONFIG, OCI_MANIFEST, REF_NAME, Layout


def image_in(layout: Layout, ref_name: str, payload: bytes) -> str:
    config = layout.add_bytes(payload, OCI_CONFIG)
    manifest = layout.add_bytes(
        json.dumps({"schemaVersion": 2, "config": config.to_json(), "layers": []}).encode(),
        OCI_MANIFEST,
    )
    layout.tag(ref_name, manifest)
    return manifest.digest


def refs(layout: Layout) -> dict[str, str]:
    index = json.loads((layout.root / "index.json").read_text())
    return {m["annotations"][REF_NAME]: m["digest"] for m in index["manifests"]}


def test_adopt_moves_the_blobs_in_and_tags_the_image(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    kept = image_in(layout, "kept:latest", b'{"kept": true}')
    staging = Layout(tmp_path / "layout" / ".work" / "staging")
    built = image_in(staging, "built:latest", b'{"built": true}')

    descriptor = layout.adopt(staging, "built:latest")

    assert descriptor.digest == built and descriptor.media_type == OCI_MANIFEST
    assert refs(layout) == {"kept:latest": kept, "built:latest": built}
    assert layout.has_blob(built)
    assert not list((staging.root / "blobs" / "sha256").iterdir())  # moved, not copied


def test_adopt_refuses_a_layout_without_the_image(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    staging = Layout(tmp_path / "staging")
    image_in(staging, "other:latest", b"{}")
    with pytest.raises(LookupError, match="no single image named 'built:latest'"):
        layout.adopt(staging, "built:latest")
    assert refs(layout) == {}


def test_concurrent_adopts_and_tags_lose_no_tag(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    stagings = []
    for number in range(8):
        staging = Layout(tmp_path / "layout" / f".staging-{number}")
        image_in(staging, f"built-{number}:latest", f'{{"n": {number}}}'.encode())
        stagings.append(staging)

    def adopt(number: int) -> None:
        layout.adopt(stagings[number], f"built-{number}:latest")

    def tag(number: int) -> None:
        image_in(layout, f"tagged-{number}:latest", f'{{"t": {number}}}'.encode())

    threads = [threading.Thread(target=adopt, args=(n,)) for n in range(8)]
    threads += [threading.Thread(target=tag, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(refs(layout)) == sorted(
        [f"built-{n}:latest" for n in range(8)] + [f"tagged-{n}:latest" for n in range(8)]
    )


@pytest.mark.parametrize(
    "index",
    [
        b'{"schemaVersion": 2, "manifests": {}}',
        b"[" * 100_000 + b"]" * 100_000,
        b"not json",
    ],
    ids=["manifests-an-object", "too-deep", "not-json"],
)
def test_tagging_into_an_index_that_is_not_one_names_the_file(tmp_path: Path, index: bytes) -> None:
    """index.json is a file in the data directory: tagging a build's image into one that
    is not an image index raised RecursionError or JSONDecodeError (the build ended as an
    "Unexpected error"), or replaced it; now it is InvalidManifest naming the file, and
    the file is left as it was."""
    layout = Layout(tmp_path / "layout")
    (layout.root / "index.json").write_bytes(index)
    manifest = layout.add_bytes(b'{"schemaVersion": 2}', OCI_MANIFEST)
    with pytest.raises(InvalidManifest, match=r"index\.json"):
        layout.tag("built:latest", manifest)
    assert (layout.root / "index.json").read_bytes() == index


def test_tagging_keeps_entries_it_does_not_understand(tmp_path: Path) -> None:
    """An entry that is not an object, or whose annotations are not one, raised
    AttributeError; such entries are not this product's to drop, and stay."""
    layout = Layout(tmp_path / "layout")
    odd = ["sha256:x", {"annotations": []}]
    (layout.root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": odd}))
    manifest = layout.add_bytes(b'{"schemaVersion": 2}', OCI_MANIFEST)
    layout.tag("built:latest", manifest)
    entries = json.loads((layout.root / "index.json").read_text())["manifests"]
    assert entries[:2] == odd and entries[2]["digest"] == manifest.digest
    assert layout.names() == ["built:latest"]
