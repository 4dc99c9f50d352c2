"""``POST images/{name}/pin`` through a real Jupyter server and a real registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.fixtures import images, oci
from tests.fixtures.registry import PASSWORD, USERNAME, RegistryServer, write_auth_file
from tests.support import Fetch

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    return tmp_path / "registry-auth" / "config.json"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], auth_file: Path) -> dict[str, Any]:
    return {**jp_server_config, "RegistryClient": {"auth_file": str(auth_file), "retries": 0}}


async def call(fetch: Fetch, method: str, *parts: str, body: Any = None, **kwargs: Any) -> Any:
    try:
        response = await fetch(
            "runtime-images",
            *parts,
            method=method,
            body=json.dumps(body) if body is not None else "" if method == "POST" else None,
            **kwargs,
        )
    except HTTPClientError as error:
        response = error.response
        assert response is not None
    text = response.body.decode() if response.body else ""
    return response.code, response.headers, json.loads(text) if text.strip() else None


async def create(fetch: Fetch, image_name: str) -> str:
    body = {
        "display_name": f"Pinned {image_name}",
        "schema_name": "runtime-image",
        "metadata": {"image_name": image_name},
    }
    status, _, created = await call(fetch, "POST", "images", body=body)
    assert status == 201, created
    return str(created["name"])


async def test_pin_stores_the_index_digest_keeping_the_tag(
    jp_fetch: Fetch, registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    arm = oci.make_image([images.base_layer()], oci.ImageConfig(architecture="arm64"))
    amd = images.elyra_ok()
    index = oci.make_index([arm, amd])
    with registry.pusher() as pusher:
        pusher.push_index(repo_name, "1.0", [arm, amd], index)
    name = await create(jp_fetch, f"{registry.host}/{repo_name}:1.0")
    status, headers, pinned = await call(jp_fetch, "POST", "images", name, "pin")
    assert status == 200, pinned
    assert pinned["metadata"]["image_name"] == f"{registry.host}/{repo_name}:1.0@{index.digest}"
    assert headers["ETag"]
    _, _, stored = await call(jp_fetch, "GET", "images", name)
    assert stored["metadata"]["image_name"] == pinned["metadata"]["image_name"]
    # Pinning again follows the tag: a new push moves the digest.
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1.0", amd)
    _, _, again = await call(jp_fetch, "POST", "images", name, "pin")
    assert again["metadata"]["image_name"] == f"{registry.host}/{repo_name}:1.0@{amd.digest}"


async def test_pin_errors_name_their_cause(
    jp_fetch: Fetch,
    registry: RegistryServer,
    basic_registry: RegistryServer,
    repo_name: str,
    isolated_home: Path,
    auth_file: Path,
) -> None:
    missing = await create(jp_fetch, f"{registry.host}/{repo_name}:nope")
    status, _, error = await call(jp_fetch, "POST", "images", missing, "pin")
    assert (status, error["code"]) == (422, "ImageNotFound"), error
    assert "does not exist" in error["message"]

    private = await create(jp_fetch, f"{basic_registry.host}/{repo_name}:1")
    status, _, error = await call(jp_fetch, "POST", "images", private, "pin")
    assert (status, error["code"]) == (424, "AuthRequired"), error
    assert "requires authentication" in error["message"]

    write_auth_file(str(auth_file), basic_registry.host, USERNAME, PASSWORD + "x")
    status, _, error = await call(jp_fetch, "POST", "images", private, "pin")
    assert (status, error["code"]) == (424, "InvalidCredentials"), error
    assert PASSWORD not in json.dumps(error)

    status, _, error = await call(jp_fetch, "POST", "images", "no-such-image", "pin")
    assert status == 404
