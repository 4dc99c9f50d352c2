"""The watch through a real server and a real registry: a tag moves, the check lists it once,
re-pinning moves the runtime image and its kernelspec, and the history says why."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from runtime_images.app import UPDATE_EVENT_SCHEMA_ID
from tests.fixtures import images
from tests.fixtures.oci import ImageConfig, make_image
from tests.fixtures.registry import RegistryServer
from tests.support import Fetch, rest, server_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return server_config(jp_server_config, tmp_path, TagWatcher={"interval": 0})


def push_first(registry: RegistryServer, repo_name: str, tag: str = "1.0") -> tuple[str, str]:
    """The first version (images.elyra_ok()) pushed under ``tag``: the tag's reference and
    the digest it points at."""
    with registry.pusher() as pusher:
        digest = pusher.push_image(repo_name, tag, images.elyra_ok())
    return f"{registry.host}/{repo_name}:{tag}", str(digest)


def version_two() -> Any:
    """Another image for the same tag: one more Python package."""
    layers = [images.base_layer(), images.python_packages_layer({"requests": "2.32.0"})]
    return make_image(layers, ImageConfig(cmd=["python3"]))


@pytest.fixture
def update_events(jp_serverapp: Any) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    async def listener(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        received.append(data)

    jp_serverapp.event_logger.add_listener(schema_id=UPDATE_EVENT_SCHEMA_ID, listener=listener)
    return received


async def test_a_moved_tag_is_listed_once_then_repinned_with_its_kernelspec(
    jp_fetch: Fetch,
    registry: RegistryServer,
    repo_name: str,
    update_events: list[dict[str, Any]],
) -> None:
    # Given: v1 under a tag, a runtime image pinned to it and a kernelspec made from it
    tag, v1 = push_first(registry, repo_name)
    body = {"name": "watched", "display_name": "Watched", "metadata": {"image_name": tag}}
    assert (await rest(jp_fetch, "POST", "images", body=body))[0] == 201
    status, _, pinned = await rest(jp_fetch, "POST", "images", "watched", "pin")
    assert status == 200 and pinned["metadata"]["image_name"] == f"{tag}@{v1}"
    status, _, kernelspec = await rest(
        jp_fetch, "POST", "images", "watched", "kernelspec", body={"provisioner": "kubernetes"}
    )
    assert status == 201
    kernel_json = Path(kernelspec["path"])
    image_in_kernelspec = json.loads(kernel_json.read_text())["metadata"]["kernel_provisioner"]
    assert image_in_kernelspec["config"]["image_name"] == f"{tag}@{v1}"

    status, _, before = await rest(jp_fetch, "POST", "updates", "check")
    assert status == 200 and before["updates"] == [] and before["checkedAt"]

    # When: v2 is pushed under the same tag
    with registry.pusher() as pusher:
        v2 = pusher.push_image(repo_name, "1.0", version_two())
    assert v2 != v1
    status, _, report = await rest(jp_fetch, "POST", "updates", "check")

    # Then: the check lists it, announced once
    assert status == 200
    (update,) = report["updates"]
    assert update["name"] == "watched" and update["kind"] == "runtime-image"
    assert update["reference"] == tag
    assert (update["pinned"], update["current"], update["new"]) == (v1, v2, True)
    assert update["since"]
    # What changed, from the two images' contents: v2 has one more package (requests);
    # no vulnerability database is configured here.
    assert update["summary"] == {
        "packages": {"added": 1, "removed": 0, "changed": 0},
        "vulnerabilities": None,
    }
    await asyncio.sleep(0.1)  # listeners run as tasks
    assert [(e["name"], e["pinned"], e["current"]) for e in update_events] == [("watched", v1, v2)]
    status, _, listed = await rest(jp_fetch, "GET", "updates")
    assert [(u["name"], u["current"]) for u in listed["updates"]] == [("watched", v2)]

    # A second check: the same move, nothing new, no second event
    status, _, again = await rest(jp_fetch, "POST", "updates", "check")
    assert [(u["name"], u["new"]) for u in again["updates"]] == [("watched", False)]
    assert again["updates"][0]["since"] == update["since"]
    await asyncio.sleep(0.1)
    assert len(update_events) == 1

    # A dry run changes nothing
    status, _, dry = await rest(
        jp_fetch, "POST", "images", "watched", "repin", body={"dryRun": True}
    )
    assert status == 200 and dry["dryRun"] and dry["to"] == f"{tag}@{v2}"
    assert dry["kernelspecs"] == [kernel_json.parent.name]
    assert dry["image"]["metadata"]["image_name"] == f"{tag}@{v1}"

    # A stale If-Match is refused and changes nothing
    status, _, _ = await rest(
        jp_fetch, "POST", "images", "watched", "repin", headers={"If-Match": '"stale"'}
    )
    assert status == 412

    # Re-pin: the runtime image and the kernelspec point at v2
    status, headers, moved = await rest(jp_fetch, "POST", "images", "watched", "repin")
    assert status == 200 and headers["ETag"]
    assert (moved["from"], moved["to"]) == (f"{tag}@{v1}", f"{tag}@{v2}")
    assert moved["image"]["metadata"]["image_name"] == f"{tag}@{v2}"
    assert moved["kernelspecs"] == [kernel_json.parent.name]
    config = json.loads(kernel_json.read_text())["metadata"]["kernel_provisioner"]["config"]
    assert config["image_name"] == f"{tag}@{v2}"

    # Nothing left to report, and no new event
    status, _, after = await rest(jp_fetch, "POST", "updates", "check")
    assert after["updates"] == []
    await asyncio.sleep(0.1)
    assert len(update_events) == 1

    # The history says what it pointed at and why
    status, _, history = await rest(jp_fetch, "GET", "images", "watched", "history")
    assert status == 200
    assert [(h["reason"], h["digest"]) for h in history["history"]] == [
        ("created", None),
        ("pinned", v1),
        ("repinned", v2),
    ]
    assert all(h["at"].endswith("Z") for h in history["history"])


async def test_an_unpinned_image_is_compared_with_the_digest_first_seen(
    jp_fetch: Fetch, registry: RegistryServer, repo_name: str
) -> None:
    _, v1 = push_first(registry, repo_name, "latest")
    body = {
        "name": "floating",
        "display_name": "Floating",
        "metadata": {"image_name": f"{registry.host}/{repo_name}"},
    }
    await rest(jp_fetch, "POST", "images", body=body)
    assert (await rest(jp_fetch, "POST", "updates", "check"))[2]["updates"] == []
    with registry.pusher() as pusher:
        v2 = pusher.push_image(repo_name, "latest", version_two())
    (update,) = (await rest(jp_fetch, "POST", "updates", "check"))[2]["updates"]
    assert (update["pinned"], update["current"], update["pinnedByDigest"]) == (v1, v2, False)
    status, _, refused = await rest(jp_fetch, "POST", "images", "floating", "repin")
    assert status == 409 and "not pinned" in refused["message"]


async def test_repin_and_history_name_what_is_wrong(jp_fetch: Fetch) -> None:
    status, _, missing = await rest(jp_fetch, "POST", "images", "nope", "repin")
    assert status == 404 and "nope" in missing["message"]
    status, _, missing = await rest(jp_fetch, "GET", "images", "nope", "history")
    assert status == 404 and "nope" in missing["message"]
    body = {"name": "x", "display_name": "X", "metadata": {"image_name": "quay.io/a/b:1"}}
    await rest(jp_fetch, "POST", "images", body=body)
    status, _, bad = await rest(jp_fetch, "POST", "images", "x", "repin", body={"dryRun": "yes"})
    assert status == 400 and [e["path"] for e in bad["errors"]] == ["dryRun"]
    status, _, bad = await rest(jp_fetch, "POST", "images", "x", "repin", body={"force": True})
    assert status == 400 and [e["path"] for e in bad["errors"]] == ["force"]
    status, _, bad = await rest(jp_fetch, "POST", "images", "x", "repin", body="[1]")
    assert status == 400
