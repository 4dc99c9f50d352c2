"""Digests from a hostile registry or layout are parsed before anything uses them.

Each bad digest (path traversal, wrong length, upper case, an unknown algorithm) in each
place it can come from (a manifest's layers and config, an index's entries, the
``Docker-Content-Digest`` header, a layout's manifests and index.json) ends in
``InvalidManifest`` naming the field, before any request or file is made from it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from runtime_images.registry import InvalidManifest, RegistryClient
from runtime_images.registry.layout import Layout, canonical_json
from tests.fixtures.hostile_registry import HostileRegistry, Reply, watch_opens

from . import support

pytestmark = pytest.mark.timeout(60)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SHA = hashlib.sha256(b"anything").hexdigest()
LAYER = b"layer bytes: never fetched, so never parsed"
BAD_DIGESTS = {
    "traversal": "sha256:../../../../../../etc/passwd",
    "traversal-hex-prefix": f"sha256:{SHA[:8]}/../../../../etc/passwd",
    "uppercase": "sha256:" + SHA.upper(),
    "short": "sha256:" + SHA[:63],
    "long": "sha256:" + SHA + "00",
    "unknown-algorithm": "md5:" + "a" * 32,
    "no-colon": SHA,
    "not-a-string": 12345,
}


def run(fn: Any, **config: Any) -> Any:
    """:func:`.support.run` with no retries (each answer is the registry's first)."""
    return support.run(fn, retries=0, **config)


def blob_requests(registry: HostileRegistry) -> list[str]:
    return [r.path for r in registry.requests if "/blobs/" in r.path]


@pytest.mark.parametrize("bad", BAD_DIGESTS.values(), ids=BAD_DIGESTS.keys())
@pytest.mark.parametrize("where", ["layers[1]", "config"])
def test_bad_digest_in_a_manifest(
    hostile_registry: HostileRegistry, isolated_home: Path, where: str, bad: object
) -> None:
    layer = LAYER

    def corrupt(manifest: dict[str, Any]) -> None:
        if where == "config":
            manifest["config"]["digest"] = bad
        else:
            manifest["layers"][1]["digest"] = bad

    served = hostile_registry.serve_image("evil/image", "1", [layer, layer], edit=corrupt)
    with pytest.raises(InvalidManifest) as info:
        run(lambda c: c.resolve(served.reference))
    assert f"manifest {served.manifest_digest} {where}.digest: " in info.value.message
    assert info.value.reason == "InvalidManifest"
    assert blob_requests(hostile_registry) == [], "nothing is fetched from a bad manifest"


@pytest.mark.parametrize("bad", BAD_DIGESTS.values(), ids=BAD_DIGESTS.keys())
def test_bad_digest_in_an_index_entry(
    hostile_registry: HostileRegistry, isolated_home: Path, bad: object
) -> None:
    layer = LAYER
    good = hostile_registry.serve_image("evil/index", "amd64", [layer])
    platform = {"os": "linux", "architecture": "amd64"}
    entries = [
        {"mediaType": OCI_MANIFEST, "digest": digest, "size": 10, "platform": platform}
        for digest in (good.manifest_digest, bad)
    ]
    digest, _ = hostile_registry.serve_index("evil/index", "1", entries)
    with pytest.raises(InvalidManifest) as info:
        run(lambda c: c.resolve(f"{hostile_registry.host}/evil/index:1"))
    assert f"index {digest} manifests[1].digest: " in info.value.message
    requested = [r.path for r in hostile_registry.requests]
    assert requested == ["/v2/evil/index/manifests/1"], "no entry of a bad index is fetched"


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_bad_docker_content_digest_header(
    hostile_registry: HostileRegistry, isolated_home: Path, method: str
) -> None:
    layer = LAYER
    served = hostile_registry.serve_image("evil/header", "1", [layer])
    raw, media_type = hostile_registry.manifests[("evil/header", "1")]
    hostile_registry.on(
        method,
        r"/manifests/1$",
        Reply(
            200,
            {"Content-Type": media_type, "Docker-Content-Digest": BAD_DIGESTS["traversal"]},
            raw,
        ),
    )

    async def call(client: RegistryClient) -> Any:
        if method == "HEAD":
            return await client.pin(served.reference)
        return await client.get_manifest(served.reference)

    with pytest.raises(
        InvalidManifest, match=r"the Docker-Content-Digest header for .*evil/header:1: "
    ):
        run(call)


def test_bad_digest_in_a_descriptor_made_by_code() -> None:
    from runtime_images.registry import Descriptor

    with pytest.raises(InvalidManifest, match="descriptor digest"):
        Descriptor("application/octet-stream", BAD_DIGESTS["traversal"], 1)


# -- the local OCI layout (builds' base images and results) --------------------------------


@pytest.fixture
def layout_and_marker(tmp_path: Path) -> tuple[Layout, Path, str]:
    """A layout in tmp_path/layout and a host file that a traversal digest would name."""
    layout = Layout(tmp_path / "layout")
    marker = tmp_path / "host-secret"
    marker.write_text("not for the build\n")
    traversal = "sha256:../../../host-secret"
    # Without the parser this digest names the marker: the test would catch a regression.
    assert (layout.root / "blobs" / "sha256" / "../../../host-secret").resolve() == marker
    return layout, marker, traversal


def test_layout_blob_path_refuses_what_is_not_a_digest(
    layout_and_marker: tuple[Layout, Path, str],
) -> None:
    layout, marker, traversal = layout_and_marker
    with watch_opens(marker) as opened:
        for call in (layout.blob_path, layout.has_blob, layout.read_blob):
            with pytest.raises(InvalidManifest, match="is not a digest"):
                call(traversal)
        assert not opened()


def test_layout_manifest_with_a_traversal_layer(
    layout_and_marker: tuple[Layout, Path, str],
) -> None:
    layout, marker, traversal = layout_and_marker
    config = layout.add_bytes(b"{}", "application/vnd.oci.image.config.v1+json")
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": traversal, "size": 18}
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.to_json(),
        "layers": [layer],
    }
    descriptor = layout.add_bytes(canonical_json(manifest), OCI_MANIFEST)
    with watch_opens(marker) as opened:
        with pytest.raises(InvalidManifest) as info:
            layout.read_manifest(descriptor.digest)
        assert not opened(), "the host file was not opened"
    assert f"manifest {descriptor.digest} layers[0].digest: " in info.value.message


def test_layout_index_json_with_a_traversal_manifest(
    layout_and_marker: tuple[Layout, Path, str], tmp_path: Path
) -> None:
    layout, marker, traversal = layout_and_marker
    staging = Layout(tmp_path / "staging")
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": traversal,
                "size": 18,
                "annotations": {"org.opencontainers.image.ref.name": "built:latest"},
            }
        ],
    }
    (staging.root / "index.json").write_text(json.dumps(index))
    with watch_opens(marker) as opened:
        with pytest.raises(InvalidManifest, match=r"index\.json manifests\[0\]\.digest: "):
            layout.adopt(staging, "built:latest")
        assert not opened()
    assert json.loads((layout.root / "index.json").read_text())["manifests"] == []


def test_layout_adopt_refuses_a_symlinked_blob(
    layout_and_marker: tuple[Layout, Path, str], tmp_path: Path
) -> None:
    """A staging layout whose blob is a symlink to a host file moves no link in."""
    layout, marker, _ = layout_and_marker
    staging = Layout(tmp_path / "staging")
    manifest = staging.add_bytes(b"{}", OCI_MANIFEST)
    staging.tag("built:latest", manifest)
    link = staging.root / "blobs" / "sha256" / ("0" * 64)
    link.symlink_to(marker)
    with pytest.raises(InvalidManifest, match="is not a file"):
        layout.adopt(staging, "built:latest")
    assert not (layout.root / "blobs" / "sha256" / ("0" * 64)).exists()


# -- the image config: the fields readers rely on have their types -------------------------


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"rootfs": {"diff_ids": [BAD_DIGESTS["traversal"]]}}, "rootfs.diff_ids[0]: "),
        ({"config": []}, "config: must be an object"),
        ({"config": {"Env": 5}}, "config.Env: must be a list of strings"),
        ({"config": {"Cmd": ["sh", 1]}}, "config.Cmd: must be a list of strings"),
        ({"config": {"ExposedPorts": 8888}}, "config.ExposedPorts: must be an object"),
        ({"config": {"Labels": {"a": ["b"]}}}, "config.Labels: must be an object of strings"),
        ({"config": {"User": 1000}}, "config.User: must be a string"),
        ({"os": ["linux"]}, "os: must be a string"),
        ({"history": "all of it"}, "history: must be a list of objects"),
        ({"size": float("1e308") * 10}, "Infinity is not a JSON value"),
    ],
)
def test_bad_image_config_field(
    hostile_registry: HostileRegistry, isolated_home: Path, config: dict[str, Any], field: str
) -> None:
    served = hostile_registry.serve_image(
        "evil/config", "1", [LAYER], {"os": "linux", "architecture": "amd64", **config}
    )
    with pytest.raises(InvalidManifest) as info:
        run(lambda c: c.resolve(served.reference))
    assert info.value.message.startswith(f"the image config of {served.reference}")
    assert field in info.value.message
    assert blob_requests(hostile_registry) == [f"/v2/evil/config/blobs/{served.config_digest}"]


def test_docker_nulls_in_an_image_config_are_accepted(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    config = {
        "os": "linux",
        "architecture": "amd64",
        "config": {"Env": None, "Cmd": None, "Entrypoint": None, "Labels": None, "User": ""},
    }
    served = hostile_registry.serve_image("docker/nulls", "1", [LAYER], config)
    assert run(lambda c: c.resolve(served.reference)).config["config"]["Env"] is None
