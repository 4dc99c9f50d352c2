"""The fixtures themselves: images we write are real images to an independent client."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer

# skopeo is installed by ./scripts/dev.sh test; without it these tests fail, never skip.


def skopeo(*args: str) -> str:
    return subprocess.run(
        ["skopeo", *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


@pytest.mark.parametrize("server", ["registry", "basic_registry", "token_registry"])
def test_skopeo_reads_pushed_index(
    server: str, request: pytest.FixtureRequest, repo_name: str, isolated_home: Path
) -> None:
    srv: RegistryServer = request.getfixturevalue(server)
    arm = oci.make_image([images.base_layer()], oci.ImageConfig(architecture="arm64"))
    amd = images.elyra_ok()
    index = oci.make_index([arm, amd])
    with srv.pusher() as pusher:
        pusher.push_index(repo_name, "1.0", [arm, amd], index)
    creds = [] if srv.auth is None else ["--creds", f"{srv.username}:{srv.password}"]
    ref = f"docker://{srv.host}/{repo_name}:1.0"
    assert (
        skopeo("inspect", "--tls-verify=false", *creds, "--format", "{{.Digest}}", ref).strip()
        == index.digest
    )
    raw = json.loads(skopeo("inspect", "--tls-verify=false", *creds, "--raw", ref))
    assert [m["digest"] for m in raw["manifests"]] == [arm.digest, amd.digest]


def test_docker_schema2_image_copies(
    registry: RegistryServer, repo_name: str, tmp_path: Path, isolated_home: Path
) -> None:
    image = oci.make_image([images.base_layer()], docker=True)
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "v2", image)
    skopeo(
        "copy",
        "--src-tls-verify=false",
        f"docker://{registry.host}/{repo_name}:v2",
        f"dir:{tmp_path / 'out'}",
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["mediaType"] == oci.DOCKER_MANIFEST
    assert manifest["layers"][0]["mediaType"] == oci.DOCKER_LAYER
