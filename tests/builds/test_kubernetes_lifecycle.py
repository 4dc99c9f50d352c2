"""The kubernetes engine following a build: the watch, cancel, delete, retry, restart, REST.

Against the stand-in API server of ``tests/fixtures/kube`` (no cluster runs here); the
tests play the operator by posting its status updates.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime_images.builds.controller import BuildController
from runtime_images.builds.kubernetes import (
    OWNER_LABEL,
)
from runtime_images.errors import NotFoundError
from tests.fixtures.kube import FakeKube
from tests.support import server_config

from . import kubernetes_harness as kube
from .kubernetes_harness import CREATED, GIT, IMPORT, Harness, build_resource, ready

# The stand-in cluster and a controller on it (see kubernetes_harness).
engine_settings_fixture, fake_kube_fixture, harness_fixture, kubeconfig_fixture = kube.FIXTURES

pytestmark = pytest.mark.timeout(60)


# -- the watch -------------------------------------------------------------------------------


async def test_a_dropped_watch_resumes_from_the_last_resource_version(
    harness: Harness, fake_kube: FakeKube
) -> None:
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", {"phase": "Running", "conditions": [CREATED]})
    await harness.until("built", lambda b: b["status"]["phase"] == "Building")
    seen = fake_kube.get("built")
    assert seen is not None
    fake_kube.drop_watches()
    for _ in range(3000):  # patient on a loaded machine
        if len(fake_kube.watches()) >= 2:
            break
        await asyncio.sleep(0.01)
    watches = fake_kube.watches()
    assert watches[-1]["resourceVersion"] == seen["metadata"]["resourceVersion"]
    assert watches[-1]["fieldSelector"] == "metadata.name=built"
    fake_kube.set_status("built", kube.IMPORT_SUCCEEDED)
    assert (await harness.ended("built"))["status"]["phase"] == "Ready"


async def test_410_gone_lists_again_and_goes_on(harness: Harness, fake_kube: FakeKube) -> None:
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake_kube, "built")
    lists_before = sum(
        1 for method, path, query in fake_kube.requests if method == "GET" and "watch" not in query
    )
    # the operator moves on while the watch is down, and history is compacted
    fake_kube.pause_watches()
    fake_kube.drop_watches()
    fake_kube.set_status("built", {"phase": "Running", "conditions": [CREATED]})
    fake_kube.compact()
    fake_kube.set_status("built", kube.IMPORT_SUCCEEDED)
    fake_kube.pause_watches(False)
    build = await harness.ended("built")
    assert build["status"]["phase"] == "Ready"
    lists_after = sum(
        1 for method, path, query in fake_kube.requests if method == "GET" and "watch" not in query
    )
    assert lists_after > lists_before
    log = harness.controller.read_log("built")
    assert "listing again" in log and "too old resource version" in log


async def test_errors_are_retried_with_back_off(harness: Harness, fake_kube: FakeKube) -> None:
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", {"phase": "Running", "conditions": [CREATED]})
    await harness.until("built", lambda b: b["status"]["phase"] == "Building")
    fake_kube.fail_next.extend([503, 503, 500])
    fake_kube.drop_watches()
    build = await harness.until(
        "built", lambda b: b["status"]["conditions"][-1]["reason"] == "ClusterUnavailable"
    )
    assert "retrying in" in build["status"]["conditions"][-1]["message"]
    fake_kube.set_status("built", kube.IMPORT_SUCCEEDED)
    build = await harness.ended("built")
    assert build["status"]["phase"] == "Ready"
    log = harness.controller.read_log("built")
    assert "retrying in 0.05 s" in log and "retrying in 0.1 s" in log


async def test_deleted_in_the_cluster_fails_the_build(
    harness: Harness, fake_kube: FakeKube
) -> None:
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.delete_object("built")
    build = await harness.ended("built")
    assert ready(build)["reason"] == "DeletedInCluster"


# -- cancel, delete, retry, restart ----------------------------------------------------------


async def test_cancel_deletes_the_resource_in_the_cluster(
    harness: Harness, fake_kube: FakeKube
) -> None:
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake_kube, "built")
    cancelled = await harness.controller.cancel("built")
    assert ready(cancelled)["reason"] == "Cancelled"
    assert fake_kube.get("built") is None
    assert any(method == "DELETE" for method, _, _ in fake_kube.requests)


async def test_cancel_while_the_create_is_in_flight_leaves_nothing_behind(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.create_delay = 0.5
    await harness.controller.submit(build_resource(IMPORT))
    for _ in range(3000):  # patient on a loaded machine
        if any(method == "POST" for method, _, _ in fake_kube.requests):
            break
        await asyncio.sleep(0.01)
    cancelled = await harness.controller.cancel("built")
    assert ready(cancelled)["reason"] == "Cancelled"
    assert cancelled["status"]["cluster"]["uid"]  # the create landed, and was recorded
    assert fake_kube.get("built") is None  # ... and deleted


async def test_delete_deletes_the_resource_in_the_cluster(
    harness: Harness, fake_kube: FakeKube
) -> None:
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", kube.IMPORT_SUCCEEDED)
    await harness.ended("built")
    assert fake_kube.get("built") is not None
    await harness.controller.delete("built")
    assert fake_kube.get("built") is None
    with pytest.raises(NotFoundError):
        harness.controller.get("built")


async def test_retry_replaces_the_users_earlier_resource(
    harness: Harness, fake_kube: FakeKube
) -> None:
    await harness.controller.submit(build_resource(GIT))
    first = await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", kube.GIT_FAILED)
    await harness.ended("built")
    await harness.controller.retry("built")
    build = await harness.until(
        "built",
        lambda b: (
            (b["status"].get("cluster") or {}).get("uid") not in (None, first["metadata"]["uid"])
        ),
    )
    second = fake_kube.get("built")
    assert second is not None and second["metadata"]["uid"] == build["status"]["cluster"]["uid"]
    assert "status" not in second
    fake_kube.set_status("built", kube.GIT_SUCCEEDED)
    assert (await harness.ended("built"))["status"]["phase"] == "Ready"


async def test_a_name_taken_by_another_user_is_not_replaced(
    harness: Harness, fake_kube: FakeKube
) -> None:
    with fake_kube.lock:
        fake_kube.objects[("team", "built")] = {
            "apiVersion": "meteor.zone/v1alpha1",
            "kind": "CustomNBImage",
            "metadata": {
                "name": "built",
                "namespace": "team",
                "uid": "someone-elses",
                "annotations": {"runtime-images.jupyter.org/owner": "bob"},
                "labels": {OWNER_LABEL: "bob"},
            },
            "spec": {"buildType": "ImageImport", "fromImage": "quay.io/b/b:1"},
        }
    await harness.controller.submit(build_resource(IMPORT))
    build = await harness.ended("built")
    assert ready(build)["reason"] == "AlreadyExists"
    assert "created by bob" in ready(build)["message"]
    stored = fake_kube.get("built")
    assert stored is not None and stored["metadata"]["uid"] == "someone-elses"


async def test_a_build_is_followed_again_after_a_restart(
    tmp_path: Path, kubeconfig: Path, fake_kube: FakeKube, isolated_home: Path
) -> None:
    harness = Harness(tmp_path, kubeconfig)
    await harness.controller.start()
    await harness.controller.submit(build_resource(IMPORT))
    first = await harness.in_cluster(fake_kube, "built")
    await harness.controller.stop()  # the server stops: nothing is deleted in the cluster
    assert fake_kube.get("built") is not None
    fake_kube.set_status("built", kube.IMPORT_SUCCEEDED)

    harness.controller = harness.new_controller()
    await harness.controller.start()
    try:
        build = await harness.ended("built")
        assert build["status"]["phase"] == "Ready"
        assert build["status"]["cluster"]["uid"] == first["metadata"]["uid"]
        assert "Following CustomNBImage team/built in the cluster again" in (
            harness.controller.read_log("built")
        )
        creates = [m for m, _, _ in fake_kube.requests if m == "POST"]
        assert len(creates) == 1
    finally:
        await harness.controller.stop()
        await harness.client.aclose()


# -- through the REST API -------------------------------------------------------------------


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], tmp_path: Path, fake_kube: FakeKube
) -> dict[str, Any]:
    return server_config(
        jp_server_config,
        tmp_path,
        BuildController={"engine": "kubernetes"},
        KubernetesEngine={
            "kubeconfig": str(fake_kube.write_kubeconfig(tmp_path / "kubeconfig")),
            "owner": "alice",
        },
    )


@pytest.fixture
def rest_builds(
    jp_serverapp: Any, fake_kube: FakeKube, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> Iterator[BuildController]:
    """The server's build controller, started, and stopped before the fake cluster is.

    Stopped here rather than in the test's ``finally``: a test that ends abruptly (its
    timeout) does not run its ``finally``, and the builds would go on calling a stopped
    cluster while the rest of the teardown runs.
    """
    controller: BuildController = jp_serverapp.web_app.settings["runtime_images_build_controller"]
    jp_asyncio_loop.run_until_complete(controller.start())
    try:
        yield controller
    finally:
        jp_asyncio_loop.run_until_complete(controller.stop())


async def rest_build_until(
    jp_fetch: Any,
    predicate: Callable[[dict[str, Any]], object],
    name: str = "built",
    timeout: float = 30,
) -> dict[str, Any]:
    """GET the build until ``predicate`` holds; fails well within the test's timeout."""

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        build: dict[str, Any] = json.loads((await jp_fetch("runtime-images", "builds", name)).body)
        if predicate(build):
            return build
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{name} did not get there in {timeout:g} s: {build['status']}")
        await asyncio.sleep(0.02)


async def test_rest_submit_follow_and_delete(
    jp_fetch: Any, rest_builds: BuildController, fake_kube: FakeKube
) -> None:

    from tornado.httpclient import HTTPClientError

    response = await jp_fetch(
        "runtime-images", "builds", method="POST", body=json.dumps(build_resource(GIT))
    )
    assert response.code == 201
    assert json.loads(response.body)["status"]["engine"] == "kubernetes"
    obj = await asyncio.to_thread(fake_kube.wait_for, "built")
    assert obj["metadata"]["labels"][OWNER_LABEL] == "alice"
    fake_kube.set_status("built", kube.GIT_SUCCEEDED)  # M1: a GitRepository success
    build = await rest_build_until(jp_fetch, lambda b: b["status"]["phase"] == "Ready")
    assert build["status"]["engine"] == "kubernetes"
    response = await jp_fetch("runtime-images", "builds", "built", method="DELETE")
    assert response.code == 204
    assert fake_kube.get("built") is None
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("runtime-images", "builds", "built")
    assert missing.value.code == 404


async def test_rest_delete_refused_by_the_cluster_is_a_409(
    jp_fetch: Any, rest_builds: BuildController, fake_kube: FakeKube
) -> None:

    from tornado.httpclient import HTTPClientError

    await jp_fetch(
        "runtime-images", "builds", method="POST", body=json.dumps(build_resource(IMPORT))
    )
    await asyncio.to_thread(fake_kube.wait_for, "built")
    await rest_build_until(jp_fetch, lambda b: (b["status"].get("cluster") or {}).get("uid"))
    fake_kube.allowed_verbs = {"get", "list", "watch", "create"}
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("runtime-images", "builds", "built", method="DELETE")
    assert refused.value.code == 409
    body = json.loads(refused.value.response.body)
    assert "'delete' verb is missing" in body["message"]
    assert fake_kube.get("built") is not None
    await jp_fetch("runtime-images", "builds", "built")  # kept here too
