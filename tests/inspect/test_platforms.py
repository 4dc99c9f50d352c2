"""Every platform of an image index: ``--platform all`` (inspector, CLI, REST), and
``PlatformNotFound`` naming the platforms an image has."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from runtime_images.inspect import ImageInspector, PlatformValidation
from runtime_images.registry import PlatformNotFound, RegistryClient
from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer
from tests.inspect.test_inspect import push
from tests.support import rest, run_cli, server_config

pytestmark = pytest.mark.timeout(120)


def push_two_platforms(
    registry: RegistryServer, repo: str
) -> tuple[str, oci.Image, oci.Image, str]:
    """linux/amd64 passes the elyra profile; linux/arm64 has no curl (fails it)."""
    amd = images.elyra_ok()
    arm = oci.make_image(
        [images.base_layer(curl=False)], oci.ImageConfig(architecture="arm64", variant="v8")
    )
    index = oci.make_index([amd, arm])
    with registry.pusher() as pusher:
        pusher.push_index(repo, "1.0", [amd, arm], index)
    return f"{registry.host}/{repo}:1.0", amd, arm, index.digest


def validate_all(ref: str) -> PlatformValidation:
    async def main() -> PlatformValidation:
        async with RegistryClient(retries=0) as client:
            return await ImageInspector().validate_platforms(client, ref, ["elyra"])

    return asyncio.run(main())


def test_every_platform_with_its_digest_size_and_checks(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    ref, amd, arm, index_digest = push_two_platforms(registry, repo_name)
    result = validate_all(ref).to_json()
    assert result["digest"] == index_digest and result["ok"] is False
    platforms = {p["platform"]: p for p in result["platforms"]}
    assert list(platforms) == ["linux/amd64", "linux/arm64/v8"]
    assert platforms["linux/amd64"]["digest"] == amd.digest
    assert platforms["linux/arm64/v8"]["digest"] == arm.digest
    assert platforms["linux/amd64"]["size"] == sum(layer.blob.size for layer in amd.layers)
    assert platforms["linux/amd64"]["ok"] is True
    failed = [c for c in platforms["linux/arm64/v8"]["checks"] if c["result"] == "fail"]
    assert [c["id"] for c in failed] == ["curl"]


def test_a_platform_the_image_lacks_is_named_with_those_it_has(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    ref, *_ = push_two_platforms(registry, repo_name)
    with pytest.raises(PlatformNotFound) as missing:
        validate_one(ref, "linux/s390x")
    assert "linux/amd64" in str(missing.value) and "linux/arm64/v8" in str(missing.value)
    single = push(registry, f"{repo_name}-amd64", images.elyra_ok())
    with pytest.raises(PlatformNotFound) as wrong:
        validate_one(single, "linux/arm64")
    assert "linux/amd64" in str(wrong.value)
    assert [p["platform"] for p in validate_all(single).to_json()["platforms"]] == ["linux/amd64"]


def validate_one(ref: str, platform: str) -> Any:
    async def main() -> Any:
        async with RegistryClient(retries=0) as client:
            return await ImageInspector().validate(client, ref, ["elyra"], platform=platform)

    return asyncio.run(main())


def test_cli_platform_all(env: dict[str, str], registry: RegistryServer, repo_name: str) -> None:
    ref, *_ = push_two_platforms(registry, repo_name)
    done = run_cli(env, "validate", ref, "--platform", "all", "--json")
    assert done.returncode == 1, done.stderr  # arm64 fails the elyra profile
    answer = json.loads(done.stdout)
    assert [p["ok"] for p in answer["platforms"]] == [True, False]
    done = run_cli(env, "inspect", ref, "--platform", "all")
    assert done.returncode == 1
    assert "linux/amd64" in done.stdout and "linux/arm64/v8" in done.stdout
    done = run_cli(env, "validate", ref, "--platform", "linux/s390x")
    assert done.returncode == 2 and "linux/arm64/v8" in done.stderr


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return server_config(jp_server_config, tmp_path)


async def test_rest_validate_platform_all(
    jp_fetch: Any, registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    ref, amd, arm, _ = push_two_platforms(registry, repo_name)
    status, _, answer = await rest(
        jp_fetch, "POST", "validate", body={"image": ref, "platform": "all"}
    )
    assert status == 200, answer
    assert [p["digest"] for p in answer["platforms"]] == [amd.digest, arm.digest]
    status, _, answer = await rest(
        jp_fetch, "POST", "validate", body={"image": ref, "platform": "linux/s390x"}
    )
    assert status == 422 and "linux/amd64" in answer["message"], answer
