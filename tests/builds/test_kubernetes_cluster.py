"""The kubernetes engine and the API server: configuration, credentials, refusals, watches.

Against the stand-in API server of ``tests/fixtures/kube`` (no cluster runs here), which
refuses, rotates credentials, compacts and restores its history as a real one does (its
docstring says how); the tests play the operator by posting its status updates. The
credentials plugin is a real ``exec`` plugin: a script the test writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from runtime_images.builds.kubernetes import OWNER_LABEL
from runtime_images.builds.kubernetes.cluster import load_connection, shutdown_socket
from tests.fixtures.kube import FakeKube, webhook_unreachable

from . import kubernetes_harness as kube
from .kubernetes_harness import CREATED, IMPORT, IMPORT_SUCCEEDED, Harness, build_resource, ready

# The stand-in cluster and a controller on it (see kubernetes_harness).
engine_settings_fixture, fake_kube_fixture, harness_fixture, kubeconfig_fixture = kube.FIXTURES

pytestmark = pytest.mark.timeout(60)


async def stopped(harness: Harness) -> None:
    await harness.controller.stop()
    await harness.client.aclose()


async def running(harness: Harness, fake: FakeKube) -> None:
    """Submitted, created in the cluster, followed, and Building."""
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake, "built")
    fake.set_status("built", {"phase": "Running", "conditions": [CREATED]})
    await harness.until("built", lambda b: b["status"]["phase"] == "Building")


# -- configuration and credentials -----------------------------------------------------------


async def test_every_kubeconfig_in_kubeconfig_is_merged(
    tmp_path: Path, fake_kube: FakeKube, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``KUBECONFIG=a:b`` is one configuration, as kubectl and the client read it."""
    whole = json.loads(fake_kube.write_kubeconfig(tmp_path / "whole").read_text())
    contexts = {key: whole[key] for key in ("apiVersion", "kind", "contexts", "current-context")}
    (tmp_path / "contexts").write_text(json.dumps(contexts))
    clusters = {key: whole[key] for key in ("apiVersion", "kind", "clusters", "users")}
    (tmp_path / "clusters").write_text(json.dumps(clusters))
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'contexts'}{os.pathsep}{tmp_path / 'clusters'}")
    harness = Harness(tmp_path, None)
    await harness.controller.start()
    try:
        await harness.controller.submit(build_resource(IMPORT))
        build = await harness.until(
            "built",
            lambda b: (
                b["status"]["phase"] == "Failed" or (b["status"].get("cluster") or {}).get("uid")
            ),
        )
    finally:
        await stopped(harness)
    assert build["status"]["phase"] != "Failed", ready(build)
    assert build["status"]["cluster"]["namespace"] == "team"  # from the first file
    assert fake_kube.get("built") is not None


EXEC_PLUGIN = """#!/bin/sh
echo ran >> "$PLUGIN_DIR/runs"
printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",'
printf '"status":{"token":"%s"}}' "$(cat "$PLUGIN_DIR/token")"
"""


async def test_rotated_credentials_are_reloaded_while_following(
    tmp_path: Path, fake_kube: FakeKube, isolated_home: Path
) -> None:
    """A 401 when the watch is renewed: the exec plugin is run again, the build goes on."""
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    plugin = plugin_dir / "credentials"
    plugin.write_text(EXEC_PLUGIN)
    plugin.chmod(0o755)
    (plugin_dir / "token").write_text("first-token")
    fake_kube.tokens = {"first-token"}
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": str(plugin),
            "env": [{"name": "PLUGIN_DIR", "value": str(plugin_dir)}],
            "interactiveMode": "Never",
        }
    }
    harness = Harness(tmp_path, fake_kube.write_kubeconfig(tmp_path / "kc", user=user))
    await harness.controller.start()
    try:
        await running(harness, fake_kube)
        (plugin_dir / "token").write_text("second-token")
        fake_kube.rotate_token("second-token")  # the open watch ends; its renewal gets 401
        fake_kube.set_status("built", IMPORT_SUCCEEDED)
        build = await harness.ended("built")
    finally:
        await stopped(harness)
    assert build["status"]["phase"] == "Ready", ready(build)
    assert len((plugin_dir / "runs").read_text().split()) >= 2
    assert "did not accept the credentials" in harness.controller.read_log("built")


# -- refusals that are not what they look like -----------------------------------------------


async def test_a_webhook_that_is_down_is_not_taken_for_the_network(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.admission = lambda body: webhook_unreachable()
    await harness.controller.submit(build_resource(IMPORT))
    condition = ready(await harness.ended("built"))
    assert condition["reason"] == "WebhookUnavailable", condition
    assert "vcustomruntimeenvironment.kb.io" in condition["message"]
    assert "operator" in condition["message"]
    assert "could not be reached" not in condition["message"]


async def test_an_exhausted_quota_is_not_taken_for_rbac(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.quota = {"count/customnbimages.meteor.zone": 0}
    await harness.controller.submit(build_resource(IMPORT))
    condition = ready(await harness.ended("built"))
    assert condition["reason"] == "QuotaExceeded", condition
    assert "exceeded quota" in condition["message"]
    assert "verb is missing" not in condition["message"]


async def test_a_terminating_namespace_is_not_taken_for_rbac(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.terminating_namespaces = {"team"}
    await harness.controller.submit(build_resource(IMPORT))
    condition = ready(await harness.ended("built"))
    assert condition["reason"] == "NamespaceTerminating", condition
    assert "team" in condition["message"] and "being deleted" in condition["message"]
    assert "verb is missing" not in condition["message"]


async def test_labels_the_api_server_would_refuse_are_refused_before_submitting(
    harness: Harness, fake_kube: FakeKube
) -> None:
    resource = build_resource(IMPORT)
    resource["metadata"]["labels"] = {"team name": "data science", "ok": "fine"}
    await harness.controller.submit(resource)
    condition = ready(await harness.ended("built"))
    assert condition["reason"] == "InvalidMetadata", condition
    assert "metadata.labels" in condition["message"] and "'team name'" in condition["message"]
    assert "'data science'" in condition["message"]
    assert not [method for method, _, _ in fake_kube.requests if method == "POST"]


async def test_a_stale_resource_is_deleted_only_while_it_is_the_one_read(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """Between reading the user's earlier resource and deleting it, bob takes the name."""

    def resource(uid: str, owner: str, label: str) -> dict[str, Any]:
        return {
            "apiVersion": "meteor.zone/v1alpha1",
            "kind": "CustomNBImage",
            "metadata": {
                "name": "built",
                "namespace": "team",
                "uid": uid,
                "annotations": {"runtime-images.jupyter.org/owner": owner},
                "labels": {
                    OWNER_LABEL: label,
                    "app.kubernetes.io/managed-by": "jupyter-runtime-images",
                },
            },
            "spec": {"buildType": "ImageImport", "fromImage": "quay.io/b/b:1"},
        }

    with fake_kube.lock:
        fake_kube.objects[("team", "built")] = resource(
            "earlier", "alice@example.org", "alice-example.org"
        )
    taken: list[bool] = []

    def bob_takes_the_name(namespace: str, name: str) -> None:
        if not taken:
            taken.append(True)
            fake_kube.objects[(namespace, name)] = resource("bobs", "bob", "bob")

    fake_kube.after_get = bob_takes_the_name
    await harness.controller.submit(build_resource(IMPORT))
    build = await harness.until(
        "built",
        lambda b: b["status"]["phase"] == "Failed" or (b["status"].get("cluster") or {}).get("uid"),
    )
    assert ready(build)["reason"] == "AlreadyExists", ready(build)
    assert "created by bob" in ready(build)["message"]
    stored = fake_kube.get("built")
    assert stored is not None and stored["metadata"]["uid"] == "bobs"


# -- watches ---------------------------------------------------------------------------------


async def test_bookmarks_move_the_point_a_watch_resumes_from(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.bookmark_interval = 0.1
    await running(harness, fake_kube)
    with fake_kube.lock:  # another resource changes: this watch sees only bookmarks
        other = {"metadata": {"name": "other", "namespace": "team", "uid": "o"}}
        fake_kube.objects[("team", "other")] = other
        fake_kube._record("ADDED", "team", other)
        moved_to = fake_kube.resource_version
    await asyncio.sleep(0.5)
    watches = len(fake_kube.watches())
    fake_kube.drop_watches()
    for _ in range(3000):
        if len(fake_kube.watches()) > watches:
            break
        await asyncio.sleep(0.01)
    assert int(fake_kube.watches()[-1]["resourceVersion"]) >= moved_to
    fake_kube.set_status("built", IMPORT_SUCCEEDED)
    assert (await harness.ended("built"))["status"]["phase"] == "Ready"


async def test_a_410_on_opening_the_watch_lists_again(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """Expired history as the HTTP status of the watch request itself, not as an event."""
    fake_kube.expired_as = "status"
    await running(harness, fake_kube)
    fake_kube.pause_watches()
    fake_kube.drop_watches()
    fake_kube.set_status("built", {"phase": "Running", "conditions": [CREATED]})
    fake_kube.compact()  # the version the engine saw last is gone
    fake_kube.set_status("built", IMPORT_SUCCEEDED)
    fake_kube.pause_watches(False)
    assert (await harness.ended("built"))["status"]["phase"] == "Ready"
    assert "listing again" in harness.controller.read_log("built")
    assert fake_kube.expired_refusals == ["status"]


async def test_a_too_large_resource_version_lists_again(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """After etcd is restored from a backup, the versions seen are ahead of the server's."""
    await running(harness, fake_kube)
    fake_kube.restore_from_backup(versions_lost=500)
    fake_kube.set_status("built", IMPORT_SUCCEEDED)
    build = await harness.until(
        "built", lambda b: b["status"]["phase"] in ("Ready", "Failed"), timeout=10
    )
    assert build["status"]["phase"] == "Ready", ready(build)
    assert "Too large resource version" in harness.controller.read_log("built")


def test_a_watch_is_stopped_without_urllib3s_shutdown(
    fake_kube: FakeKube, kubeconfig: Path
) -> None:
    """urllib3 < 2.3 has no ``HTTPResponse.shutdown()``: the socket is shut down instead."""
    from kubernetes.watch.watch import iter_resp_lines

    connection = load_connection(str(kubeconfig), "", False, "")
    response = connection.api.list_namespaced_custom_object(
        "meteor.zone", "v1alpha1", "team", "customnbimages", watch=True, _preload_content=False
    )
    ended = threading.Event()

    def read() -> None:
        with contextlib.suppress(Exception):  # a shut-down socket ends the stream or raises
            for _ in iter_resp_lines(response):
                pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    assert not ended.wait(0.3)  # blocked: no event comes
    shutdown_socket(response)
    assert ended.wait(5)
    response.release_conn()
