"""``/runtime-images/builds`` through a real server, real registries and the event bus."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime_images.app import BUILD_EVENT_SCHEMA_ID
from tests.fixtures import images
from tests.fixtures.plugin import PushedImage
from tests.fixtures.registry import RegistryServer
from tests.support import Fetch, rest, server_config

from .test_controller import import_resource

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return server_config(jp_server_config, tmp_path)


call = rest


@pytest.fixture
def events(
    jp_serverapp: Any, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> Iterator[list[dict[str, Any]]]:
    """Build events as the server's event bus delivers them (the panel's live feed).

    pytest-jupyter does not start extensions, so the build controller is started here as
    the server's start-up would.
    """
    received: list[dict[str, Any]] = []

    async def listener(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        received.append(data)

    jp_serverapp.event_logger.add_listener(schema_id=BUILD_EVENT_SCHEMA_ID, listener=listener)
    controller = jp_serverapp.web_app.settings["runtime_images_build_controller"]
    jp_asyncio_loop.run_until_complete(controller.start())
    yield received
    jp_asyncio_loop.run_until_complete(controller.stop())


async def wait_phase(fetch: Fetch, name: str, phases: tuple[str, ...] = ("Ready", "Failed")) -> Any:
    for _ in range(600):
        _, _, build = await call(fetch, "GET", "builds", name)
        if build["status"]["phase"] in phases:
            return build
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never reached {phases}")


async def test_yaml_import_through_rest_reaches_ready_with_events(
    jp_fetch: Fetch,
    events: list[dict[str, Any]],
    elyra_image: PushedImage,
    jp_base_url: str,
) -> None:
    digest = elyra_image.digest
    resource = import_resource(elyra_image.reference, name="from-yaml")
    status, headers, created = await call(
        jp_fetch,
        "POST",
        "builds",
        body=yaml.safe_dump(resource),
        headers={"Content-Type": "application/yaml"},
    )
    assert status == 201, created
    assert created["status"]["phase"] == "Pending"
    assert headers["Location"] == f"{jp_base_url}runtime-images/builds/from-yaml"

    build = await wait_phase(jp_fetch, "from-yaml")
    assert build["status"]["phase"] == "Ready"
    assert build["status"]["image"].endswith(digest)
    await asyncio.sleep(0.1)  # listeners run as tasks
    phases = [e["phase"] for e in events if e["name"] == "from-yaml"]
    assert phases[0] == "Pending" and phases[-1] == "Ready" and "Building" in phases
    assert any("progress" in e for e in events)

    _, _, listed = await call(jp_fetch, "GET", "builds")
    assert [b["metadata"]["name"] for b in listed["builds"]] == ["from-yaml"]
    status, headers, log = await call(jp_fetch, "GET", "builds", "from-yaml", "log")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "Ready=True" in log
    _, _, runtime_image = await call(jp_fetch, "GET", "images", "from-yaml")
    assert runtime_image["metadata"]["image_name"].endswith(digest)

    status, _, _ = await call(jp_fetch, "DELETE", "builds", "from-yaml")
    assert status == 204
    status, _, _ = await call(jp_fetch, "GET", "builds", "from-yaml")
    assert status == 404
    await asyncio.sleep(0.1)
    assert events[-1] == {"name": "from-yaml", "phase": "Deleted"}


async def test_failed_import_reports_the_reason(
    jp_fetch: Fetch, events: list[dict[str, Any]], registry: RegistryServer, repo_name: str
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_no_curl_old_python())
    await call(jp_fetch, "POST", "builds", body=import_resource(f"{registry.host}/{repo_name}:1"))
    build = await wait_phase(jp_fetch, "imported")
    latest = build["status"]["conditions"][-1]
    assert (latest["type"], latest["reason"]) == ("Ready", "RequirementsNotMet")
    assert "curl" in latest["message"]
    status, _, _ = await call(jp_fetch, "GET", "images", "imported")
    assert status == 404
    status, _, retried = await call(jp_fetch, "POST", "builds", "imported", "retry")
    assert status == 200 and retried["metadata"]["generation"] == 2
    status, _, _ = await call(jp_fetch, "POST", "builds", "nope", "retry")
    assert status == 404


async def test_bad_resources_get_field_errors(jp_fetch: Fetch, events: Any) -> None:
    bad = import_resource("Not An Image")
    bad["metadata"]["annotations"] = {}
    status, _, error = await call(jp_fetch, "POST", "builds", body=bad)
    assert status == 400
    paths = [e["path"] for e in error["errors"]]
    assert "spec.fromImage" in paths
    assert "metadata.annotations.opendatahub.io/notebook-image-creator" in paths
    for body in [b"", b"{[", b"\xff\xfe", b"- a\n- b\n", b"a: [unclosed"]:
        status, _, error = await call(jp_fetch, "POST", "builds", body=body)
        assert status == 400, (body, error)


async def test_duplicate_names_conflict_and_cancel_of_ended_builds_conflicts(
    jp_fetch: Fetch, events: Any, registry: RegistryServer
) -> None:
    resource = import_resource(f"{registry.host}/missing/image:1", name="dup")
    status, _, _ = await call(jp_fetch, "POST", "builds", body=resource)
    assert status == 201
    status, _, error = await call(jp_fetch, "POST", "builds", body=resource)
    assert status == 409 and "already exists" in error["message"]
    build = await wait_phase(jp_fetch, "dup")
    assert build["status"]["conditions"][-1]["reason"] == "ImageNotFound"
    status, _, error = await call(jp_fetch, "POST", "builds", "dup", "cancel")
    assert status == 409


@pytest.mark.parametrize(
    ("method", "parts"),
    [
        ("GET", ["builds"]),
        ("POST", ["builds"]),
        ("GET", ["builds", "x"]),
        ("DELETE", ["builds", "x"]),
        ("GET", ["builds", "x", "log"]),
        ("POST", ["builds", "x", "cancel"]),
        ("POST", ["builds", "x", "retry"]),
    ],
)
async def test_build_routes_require_authentication(
    jp_fetch: Fetch, method: str, parts: list[str]
) -> None:
    status, _, _ = await call(jp_fetch, method, *parts, headers={"Authorization": ""})
    assert status == 403
