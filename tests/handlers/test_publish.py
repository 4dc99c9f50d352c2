"""``POST images/{name}/publish`` and ``builds/{name}/publish`` through a real Jupyter server,
a real registry and a local OCI layout written by the tests."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer, write_layout
from tests.support import Fetch, create_image, rest

pytestmark = pytest.mark.timeout(90)
PUBLISH_EVENTS = "https://events.jupyter.org/runtime_images/publish"


@pytest.fixture
def layout_dir(tmp_path: Path) -> Path:
    return tmp_path / "layout"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], layout_dir: Path) -> dict[str, Any]:
    return {
        **jp_server_config,
        "RegistryClient": {
            "auth_file": str(layout_dir.parent / "none.json"),
            "retries": 0,
            "local_layout_dir": str(layout_dir),
        },
    }


@pytest.fixture
def local_image(layout_dir: Path) -> oci.Image:
    extra = oci.LayerBuilder().random_file("data/blob.bin", 100_000, seed=7).build()
    image = oci.make_image([images.base_layer(), extra])
    write_layout(layout_dir, [image], image.manifest, ref_name="app:latest")
    return image


async def test_publish_and_repoint_a_local_image(
    jp_fetch: Fetch,
    jp_serverapp: Any,
    local_image: oci.Image,
    registry: RegistryServer,
    repo_name: str,
) -> None:
    events: list[dict[str, Any]] = []

    async def listen(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        events.append(data)

    jp_serverapp.event_logger.add_listener(schema_id=PUBLISH_EVENTS, listener=listen)
    created = await create_image(jp_fetch, "App", f"localhost/app:latest@{local_image.digest}")
    assert created["local"] is True
    assert any("only this machine" in w for w in created["warnings"])

    to = f"docker://{registry.host}/{repo_name}:1.0"
    status, _, answer = await rest(
        jp_fetch, "POST", "images", created["name"], "publish", body={"to": to, "repoint": True}
    )
    assert status == 200, answer
    pinned = f"{registry.host}/{repo_name}:1.0@{local_image.digest}"
    assert answer["image"] == pinned and answer["digest"] == local_image.digest
    assert answer["to"] == to
    assert answer["runtimeImage"]["metadata"]["image_name"] == pinned
    assert answer["runtimeImage"]["local"] is False
    inspected = await asyncio.to_thread(
        subprocess.run,
        [
            "skopeo",
            "inspect",
            "--tls-verify=false",
            "--raw",
            f"docker://{registry.host}/{repo_name}:1.0",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert "sha256:" + hashlib.sha256(inspected.stdout).hexdigest() == local_image.digest
    for _ in range(50):  # listeners run as tasks
        if events and events[-1]["phase"] == "Published":
            break
        await asyncio.sleep(0.05)
    assert events[-1] == {
        "source": f"localhost/app:latest@{local_image.digest}",
        "to": to,
        "phase": "Published",
        "digest": local_image.digest,
        "image": pinned,
    }


async def test_publish_to_an_archive_in_the_server_root(
    jp_fetch: Fetch, jp_root_dir: Path, local_image: oci.Image
) -> None:
    created = await create_image(jp_fetch, "App", "localhost/app:latest")
    status, _, answer = await rest(
        jp_fetch, "POST", "images", created["name"], "publish", body={"to": "oci-archive:app.tar"}
    )
    assert status == 200, answer
    assert answer["to"] == f"oci-archive:{jp_root_dir.resolve() / 'app.tar'}"
    assert answer["runtimeImage"] is None
    assert (jp_root_dir / "app.tar").stat().st_size > 100_000


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"to": "registry.example.com/app"}, ["to"]),
        ({"to": "oci-archive:../escape.tar"}, ["to"]),
        ({"to": "oci-archive:a.tar", "repoint": True}, ["repoint"]),
        ({"to": "docker://r.example/a:1", "repoint": "yes"}, ["repoint"]),
        ({}, ["to"]),
    ],
)
async def test_bad_requests_name_the_field_and_change_nothing(
    jp_fetch: Fetch, jp_root_dir: Path, body: dict[str, Any], fields: list[str]
) -> None:
    created = await create_image(jp_fetch, "App", "localhost/app:latest")
    status, _, answer = await rest(
        jp_fetch, "POST", "images", created["name"], "publish", body=body
    )
    assert status == 400, answer
    assert [e["path"] for e in answer["errors"]] == fields
    _, _, stored = await rest(jp_fetch, "GET", "images", created["name"])
    assert stored["metadata"] == created["metadata"]
    assert not list(jp_root_dir.parent.glob("*.tar"))


async def test_a_stale_if_match_is_refused_before_copying(
    jp_fetch: Fetch, local_image: oci.Image, logged_registry: RegistryServer
) -> None:
    created = await create_image(jp_fetch, "App", "localhost/app:latest")
    status, _, answer = await rest(
        jp_fetch,
        "POST",
        "images",
        created["name"],
        "publish",
        body={"to": f"docker://{logged_registry.host}/team/app:1", "repoint": True},
        headers={"If-Match": '"not-the-version"'},
    )
    assert status == 412, answer
    assert not [r for r in logged_registry.requests() if r.method in ("POST", "PUT")]


async def test_a_local_image_missing_from_the_layout_is_a_clear_error(
    jp_fetch: Fetch, local_image: oci.Image
) -> None:
    created = await create_image(jp_fetch, "App", "localhost/gone:latest")
    status, _, answer = await rest(
        jp_fetch, "POST", "images", created["name"], "publish", body={"to": "oci-archive:x.tar"}
    )
    assert status == 422, answer
    assert "localhost/gone:latest is not among this machine's images" in answer["message"]


async def test_a_build_that_is_not_ready_has_nothing_to_publish(jp_fetch: Fetch) -> None:
    status, _, answer = await rest(
        jp_fetch, "POST", "builds", "nothing", "publish", body={"to": "oci-archive:x.tar"}
    )
    assert status == 404, answer
