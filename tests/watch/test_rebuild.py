"""Rebuild on base update through a real server, a real registry and the embedded engine:
Ready on the new base moves the runtime image; a rebuild made to fail keeps the old one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime_images.watch import REBUILD_ANNOTATION
from tests.builds.test_controller import import_resource
from tests.builds.test_handlers import wait_phase
from tests.fixtures import images
from tests.fixtures.registry import RegistryServer
from tests.support import Fetch, rest, server_config

from .test_rest import push_first, version_two

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return server_config(
        jp_server_config,
        tmp_path,
        BuildController={"poll_interval": 0.2},
        TagWatcher={"interval": 0},
    )


@pytest.fixture
def controller(jp_serverapp: Any, jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """pytest-jupyter does not start extensions: the build controller is started here."""
    controller = jp_serverapp.web_app.settings["runtime_images_build_controller"]
    jp_asyncio_loop.run_until_complete(controller.start())
    yield controller
    jp_asyncio_loop.run_until_complete(controller.stop())


async def test_a_build_rebuilds_on_its_moved_base_and_a_failed_rebuild_keeps_the_old_image(
    jp_fetch: Fetch, controller: Any, registry: RegistryServer, repo_name: str
) -> None:
    tag, v1 = push_first(registry, repo_name, "base")
    resource = import_resource(tag, name="follows-base")
    resource["metadata"]["annotations"][REBUILD_ANNOTATION] = "true"
    assert (await rest(jp_fetch, "POST", "builds", body=resource))[0] == 201
    built = await wait_phase(jp_fetch, "follows-base")
    assert built["status"]["phase"] == "Ready", built["status"]
    _, _, image = await rest(jp_fetch, "GET", "images", "follows-base")
    assert image["metadata"]["image_name"] == f"{tag}@{v1}"
    assert (await rest(jp_fetch, "POST", "updates", "check"))[2]["updates"] == []

    # The base moves to a good image: the build runs again and is Ready on it
    with registry.pusher() as pusher:
        v2 = pusher.push_image(repo_name, "base", version_two())
    _, _, report = await rest(jp_fetch, "POST", "updates", "check")
    moves = {(u["kind"], u["name"]): u for u in report["updates"]}
    assert moves[("build-base", "follows-base")]["rebuilding"] is True
    assert moves[("runtime-image", "follows-base")]["current"] == v2
    rebuilt = await wait_phase(jp_fetch, "follows-base")
    assert rebuilt["status"]["phase"] == "Ready", rebuilt["status"]
    assert rebuilt["status"]["rebuild"]["base"] == f"{tag}@{v2}"
    _, _, image = await rest(jp_fetch, "GET", "images", "follows-base")
    assert image["metadata"]["image_name"] == f"{tag}@{v2}"
    assert (await rest(jp_fetch, "POST", "updates", "check"))[2]["updates"] == []

    # The base moves to an image that fails the checks: the rebuild fails, the image stays
    with registry.pusher() as pusher:
        v3 = pusher.push_image(repo_name, "base", images.elyra_no_python())
    _, _, report = await rest(jp_fetch, "POST", "updates", "check")
    assert {(u["kind"], u["current"]) for u in report["updates"]} == {
        ("build-base", v3),
        ("runtime-image", v3),
    }
    failed = await wait_phase(jp_fetch, "follows-base", ("Failed",))
    ready = next(c for c in failed["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "RequirementsNotMet"
    assert f"keeps the last good image {tag}@{v2}" in ready["message"]
    assert failed["status"]["rebuild"]["result"] == "Failed"
    _, _, image = await rest(jp_fetch, "GET", "images", "follows-base")
    assert image["metadata"]["image_name"] == f"{tag}@{v2}"

    # The move is still reported (the build uses the old base) but not rebuilt again
    _, _, again = await rest(jp_fetch, "POST", "updates", "check")
    base_move = next(u for u in again["updates"] if u["kind"] == "build-base")
    assert (base_move["pinned"], base_move["current"]) == (v2, v3)
    assert "rebuilding" not in base_move
    assert (await rest(jp_fetch, "GET", "builds", "follows-base"))[2]["status"]["phase"] == "Failed"

    _, _, history = await rest(jp_fetch, "GET", "images", "follows-base", "history")
    assert [(h["reason"], h["digest"]) for h in history["history"]] == [
        ("created", v1),
        ("rebuilt", v2),
    ]
