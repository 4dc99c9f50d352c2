"""The kubernetes engine's failures: each one a reason and a message a person can act on.

Against the stand-in API server of ``tests/fixtures/kube`` (no cluster runs here), which
shapes its refusals as the API server does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime_images.builds.kubernetes import (
    ClusterError,
    forbidden_message,
    rejection_message,
)
from tests.fixtures.kube import FakeKube, status_body, webhook_denial
from tests.fixtures.registry import free_port

from . import kubernetes_harness as kube
from .kubernetes_harness import IMPORT, PACKAGES, Harness, build_resource, ready

# The stand-in cluster and a controller on it (see kubernetes_harness).
engine_settings_fixture, fake_kube_fixture, harness_fixture, kubeconfig_fixture = kube.FIXTURES

pytestmark = pytest.mark.timeout(60)


# -- failures a person can act on ------------------------------------------------------------


async def test_no_cluster_configured(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    harness = Harness(tmp_path, tmp_path / "missing-kubeconfig")
    await harness.controller.start()
    try:
        await harness.controller.submit(build_resource(IMPORT))
        build = await harness.ended("built")
        await harness.controller.delete("built")  # nothing in a cluster: deleted here
    finally:
        await harness.controller.stop()
        await harness.client.aclose()
    condition = ready(build)
    assert condition["reason"] == "ClusterNotConfigured"
    assert "KUBECONFIG" in condition["message"] and "missing-kubeconfig" in condition["message"]


async def test_without_the_kubernetes_package(
    tmp_path: Path, kubeconfig: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "kubernetes", None)  # import kubernetes → ImportError
    build = await Harness(tmp_path, kubeconfig).build_alone(build_resource(IMPORT))
    assert ready(build)["reason"] == "ClusterNotConfigured"
    assert "jupyter-runtime-images[kubernetes]" in ready(build)["message"]


async def test_unreachable_cluster(tmp_path: Path, isolated_home: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        f"""apiVersion: v1
kind: Config
clusters: [{{name: gone, cluster: {{server: "http://127.0.0.1:{free_port()}"}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: gone, context: {{cluster: gone, user: u}}}}]
current-context: gone
"""
    )
    build = await Harness(tmp_path, kubeconfig, create_attempts=2).build_alone(
        build_resource(IMPORT)
    )
    assert ready(build)["reason"] == "ClusterUnavailable"
    assert "could not be reached" in ready(build)["message"]


KUBECONFIG_HEAD = "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
KUBECONFIG_REST = (
    "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:1'}}]\nusers: [{name: u, user: {}}]\n"
)


@pytest.mark.parametrize(
    "content",
    [
        "clusters: [\n",
        "- a list\n",
        KUBECONFIG_HEAD + "contexts: 5\n" + KUBECONFIG_REST,
        KUBECONFIG_HEAD + "contexts: [5]\n" + KUBECONFIG_REST,
        KUBECONFIG_HEAD + "contexts: [{name: c, context: 5}]\n" + KUBECONFIG_REST,
        KUBECONFIG_HEAD
        + "contexts: [{name: c, context: {cluster: k, user: u, namespace: [1]}}]\n"
        + KUBECONFIG_REST,
        KUBECONFIG_HEAD
        + "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
        + "clusters: [{name: k, cluster: {server: 'http://[k'}}]\nusers: [{name: u, user: {}}]\n",
        "a: " + "[" * 5_000 + "]" * 5_000 + "\n",
    ],
    ids=[
        "not-yaml",
        "a-list",
        "contexts-a-number",
        "a-context-a-number",
        "context-body-a-number",
        "namespace-a-list",
        "server-not-a-url",
        "too-deep",
    ],
)
async def test_a_kubeconfig_the_client_cannot_read_is_cluster_not_configured(
    tmp_path: Path, isolated_home: Path, content: str
) -> None:
    """The kubernetes client raises YAML errors, TypeError, AttributeError, ValueError and
    RecursionError for these files, not its ConfigException: each ended the build as an
    "Unexpected error" (or, a list as the namespace, went on with it). Each is now the
    configuration named as unusable. (No cluster is reached: the file is read first.)"""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(content)
    build = await Harness(tmp_path, kubeconfig).build_alone(build_resource(IMPORT))
    assert ready(build)["reason"] == "ClusterNotConfigured", ready(build)
    assert str(kubeconfig) in ready(build)["message"]


@pytest.mark.parametrize("verb", ["create", "watch"])
async def test_forbidden_names_the_missing_verb(
    harness: Harness, fake_kube: FakeKube, verb: str
) -> None:
    fake_kube.allowed_verbs = {"create", "get", "list", "watch", "delete"} - {verb}
    await harness.controller.submit(build_resource(IMPORT))
    build = await harness.ended("built")
    condition = ready(build)
    assert condition["reason"] == "Forbidden"
    message = condition["message"]
    assert f"'{verb}' verb is missing" in message
    assert "customnbimages.meteor.zone in the namespace team" in message
    assert "system:serviceaccount:team:jupyter" in message
    assert "kubernetes-rbac.yaml" in message


async def test_wrong_credentials(tmp_path: Path, fake_kube: FakeKube, isolated_home: Path) -> None:
    kubeconfig = fake_kube.write_kubeconfig(tmp_path / "kc", token="expired")
    build = await Harness(tmp_path, kubeconfig).build_alone(build_resource(IMPORT))
    assert ready(build)["reason"] == "Forbidden"
    assert "credentials" in ready(build)["message"]


async def test_crd_not_installed(harness: Harness, fake_kube: FakeKube) -> None:
    fake_kube.crd_installed = False
    await harness.controller.submit(build_resource(IMPORT))
    build = await harness.ended("built")
    condition = ready(build)
    assert condition["reason"] == "CRDNotInstalled"
    assert "customnbimages.meteor.zone" in condition["message"]
    assert "customruntimeenvironments" in condition["message"]


async def test_admission_webhook_rejection_shows_its_message(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.admission = lambda body: webhook_denial(
        body["metadata"]["name"],
        "spec.baseImage",
        'Invalid value: "quay.io/x": baseImage and runtimeEnvironment are mutually exclusive',
    )
    await harness.controller.submit(build_resource(PACKAGES))
    build = await harness.ended("built")
    condition = ready(build)
    assert condition["reason"] == "Rejected"
    assert condition["message"].startswith(
        "The cluster's admission webhook vcustomnbimage.kb.io rejected the CustomNBImage: "
    )
    assert "baseImage and runtimeEnvironment are mutually exclusive" in condition["message"]


async def test_admission_webhook_denial_with_403_is_not_taken_for_rbac(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """kubebuilder's ``admission.Denied`` answers 403; the message names the webhook."""
    fake_kube.admission = lambda body: status_body(
        403,
        "Forbidden",
        'admission webhook "vcustomnbimage.kb.io" denied the request: builds are paused '
        "in this namespace",
        {},
    )
    await harness.controller.submit(build_resource(IMPORT))
    build = await harness.ended("built")
    assert ready(build)["reason"] == "Rejected"
    assert ready(build)["message"].endswith("builds are paused in this namespace")


def test_messages_from_status_bodies_without_the_usual_wording() -> None:
    """A 403 from an authorizer that words it differently, a 422 from the CRD's schema."""
    forbidden = ClusterError(
        403,
        "access denied by policy",
        status_body(
            403,
            "Forbidden",
            "access denied by policy",
            {"group": "meteor.zone", "kind": "customnbimages"},
        ),
    )
    message = forbidden_message(forbidden, "create", "customnbimages.meteor.zone", "team")
    assert "create customnbimages.meteor.zone in the namespace team" in message
    assert "'create' verb is missing" in message and "access denied by policy" in message
    invalid = ClusterError.from_status(
        status_body(
            422,
            "Invalid",
            'CustomNBImage.meteor.zone "x" is invalid: spec.buildType: Unsupported value: "Foo"',
            {
                "name": "x",
                "group": "meteor.zone",
                "kind": "CustomNBImage",
                "causes": [
                    {
                        "reason": "FieldValueNotSupported",
                        "message": 'Unsupported value: "Foo"',
                        "field": "spec.buildType",
                    }
                ],
            },
        )
    )
    assert invalid.code == 422
    assert rejection_message(invalid, "CustomNBImage") == (
        'The cluster rejected the CustomNBImage: CustomNBImage.meteor.zone "x" is invalid: '
        'spec.buildType: Unsupported value: "Foo"'
    )
