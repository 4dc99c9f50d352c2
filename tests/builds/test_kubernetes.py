"""The kubernetes engine against a stand-in API server: configuration, submission, mapping.

No Kubernetes cluster can be started where these tests run. ``tests/fixtures/kube`` is a
local HTTP server implementing the API semantics the engine relies on (see its
docstring); each test writes a kubeconfig pointing at it, and these tests play Meteor's
operator by posting status updates the way its controller does (``cnbi-byon.md`` §2), one
test per row of the mapping. ``test_kubernetes_operator.py`` runs the operator, Tekton and
OpenShift's image import as stand-ins instead. So these tests show the engine speaks the
API correctly and maps the operator's status faithfully; they do not show that a real
operator behaves as documented: ``test_kubernetes_real_cluster.py`` does, only when
``KUBECONFIG`` names a cluster (skipped, and reported as skipped, otherwise).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from traitlets import TraitError
from traitlets.config import Config

from runtime_images.builds.kubernetes import (
    OWNER_LABEL,
    KubernetesEngine,
    label_value,
    mirror_status,
)
from runtime_images.builds.wiring import make_build_controller
from runtime_images.errors import NotFoundError
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from tests.fixtures.kube import CRE, FakeKube

from . import kubernetes_harness as kube
from .kubernetes_harness import (
    COMPLETED_FAILED,
    COMPLETED_OK,
    CREATED,
    GIT,
    GIT_FAILED,
    GIT_SUCCEEDED,
    IMPORT,
    IMPORT_SUCCEEDED,
    PACKAGES,
    PACKAGES_SUCCEEDED,
    PULL_SECRET,
    SOURCE_IMAGE,
    Harness,
    build_resource,
    condition,
    ready,
    step,
)
from .test_controller import ANNOTATIONS, import_resource

# The stand-in cluster and a controller on it (see kubernetes_harness).
engine_settings_fixture, fake_kube_fixture, harness_fixture, kubeconfig_fixture = kube.FIXTURES

pytestmark = pytest.mark.timeout(60)


# -- configuration ---------------------------------------------------------------------------


def test_the_embedded_engine_stays_the_default(tmp_path: Path) -> None:
    store = RuntimeImageStore(data_dir=str(tmp_path), shared_data_dirs=[], factory_data_dirs=[])
    controller = make_build_controller(
        None, store, RegistryClient(), ImageInspector(), builds_dir=str(tmp_path / "b")
    )
    assert controller.engine == "embedded"
    assert set(controller.engines) - {"buildah"} == {"embedded"}  # buildah: when installed
    resource = controller.new_resource(import_resource("quay.io/a/b:1"))
    assert resource["status"]["engine"] == "embedded"


def test_kubernetes_is_registered_when_configured(tmp_path: Path) -> None:
    store = RuntimeImageStore(data_dir=str(tmp_path), shared_data_dirs=[], factory_data_dirs=[])
    config = Config()
    config.KubernetesEngine.namespace = "team"
    controller = make_build_controller(
        None, store, RegistryClient(), ImageInspector(), builds_dir=str(tmp_path), config=config
    )
    assert set(controller.engines) - {"buildah"} == {"embedded", "kubernetes"}
    assert controller.engine == "embedded"  # configured, but not the default
    engine = controller.engines["kubernetes"]
    assert isinstance(engine, KubernetesEngine) and engine.namespace == "team"
    # No plural configured: the one the cluster serves is discovered when it is needed.
    assert (engine.group, engine.version, engine.plural, engine.kind) == (
        "meteor.zone",
        "v1alpha1",
        "",
        "",
    )
    renamed = KubernetesEngine(store, plural="customruntimeenvironments")
    assert renamed.kind == "CustomRuntimeEnvironment"
    with pytest.raises(TraitError):
        KubernetesEngine(store, api_version="customnbimages")


def test_owner_label_values_are_valid() -> None:
    assert label_value("alice@example.org") == "alice-example.org"
    assert label_value("-" * 70) == "unknown"
    assert len(label_value("x" * 100)) == 63


# -- submitting ------------------------------------------------------------------------------


async def test_submit_creates_the_resource_with_the_operators_field_names(
    harness: Harness, fake_kube: FakeKube
) -> None:
    resource = build_resource("PackageList")
    resource["spec"]["imagePullSecret"] = PULL_SECRET
    resource["spec"]["profiles"] = ["elyra"]
    submitted = await harness.controller.submit(resource)
    assert submitted["status"]["engine"] == "kubernetes"
    assert (
        submitted["status"]["conditions"][-1]["message"] == "Submitting to the Kubernetes cluster."
    )

    obj = await harness.in_cluster(fake_kube, "built")
    assert obj["apiVersion"] == "meteor.zone/v1alpha1" and obj["kind"] == "CustomNBImage"
    assert obj["spec"] == {
        "buildType": "PackageList",
        "baseImage": "quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2",
        "packageVersions": ["pandas", "boto3>=1.24.0"],
        "imagePullSecret": {"name": "quay-pull"},
    }
    annotations = obj["metadata"]["annotations"]
    for key, value in ANNOTATIONS.items():
        assert annotations[key] == value
    assert annotations["runtime-images.jupyter.org/owner"] == "alice@example.org"
    assert obj["metadata"]["labels"][OWNER_LABEL] == "alice-example.org"
    assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "jupyter-runtime-images"

    build = await harness.until("built", lambda b: b["status"]["phase"] == "Pending")
    assert build["status"]["engine"] == "kubernetes"
    assert build["status"]["cluster"]["namespace"] == "team"
    assert build["status"]["cluster"]["uid"] == obj["metadata"]["uid"]
    assert "waiting for the operator" in build["status"]["conditions"][-1]["message"]
    assert harness.events[-1]["engine"] == "kubernetes"


async def test_git_repository_spec_uses_repository_and_git_ref(
    harness: Harness, fake_kube: FakeKube
) -> None:
    await harness.controller.submit(build_resource("GitRepository"))
    obj = await asyncio.to_thread(fake_kube.wait_for, "built")
    assert obj["spec"] == {
        "buildType": "GitRepository",
        "repository": "https://github.com/AICoE/elyra-aidevsecops-tutorial",
        "gitRef": "master",
    }


async def test_runtime_environment_is_passed_as_is(harness: Harness, fake_kube: FakeKube) -> None:
    resource = build_resource("PackageList")
    del resource["spec"]["builderImage"]
    resource["spec"]["runtimeEnvironment"] = {
        "osName": "ubi",
        "osVersion": "8",
        "pythonVersion": "3.8",
    }
    await harness.controller.submit(resource)
    obj = await asyncio.to_thread(fake_kube.wait_for, "built")
    assert obj["spec"]["runtimeEnvironment"] == {
        "osName": "ubi",
        "osVersion": "8",
        "pythonVersion": "3.8",
    }
    assert "baseImage" not in obj["spec"]


async def test_the_renamed_resource_can_be_selected(tmp_path: Path, isolated_home: Path) -> None:
    fake = FakeKube(CRE).start()
    try:
        harness = Harness(
            tmp_path, fake.write_kubeconfig(tmp_path / "kc"), plural="customruntimeenvironments"
        )
        await harness.controller.start()
        try:
            await harness.controller.submit(build_resource("ImageImport"))
            obj = await asyncio.to_thread(fake.wait_for, "built")
            assert obj["kind"] == "CustomRuntimeEnvironment"
        finally:
            await harness.controller.stop()
            await harness.client.aclose()
    finally:
        fake.stop()


async def test_cluster_builds_take_no_local_build_slot(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """The cluster does the work: more builds than BuildController.concurrency all run."""
    assert harness.controller.concurrency == 2
    for number in range(3):
        await harness.controller.submit(build_resource(IMPORT, name=f"b{number}"))
    for number in range(3):
        await asyncio.to_thread(fake_kube.wait_for, f"b{number}")


# -- the status mapping (cnbi-byon.md §2, row by row) ----------------------------------------

# (row, build type, operator status, our phase, reason of the step/Ready, message fragment)
ROWS: list[tuple[str, str, dict[str, Any], str, str, str]] = [
    ("no conditions yet: Pending", IMPORT, {"phase": "Pending"}, "Pending", "Pending", "operator"),
    (
        "create fails (M7: PipelineRunCreated set as well)",
        PACKAGES,
        {
            "phase": "Failed",
            "conditions": [
                condition(
                    "ErrorPipelineRunCreate",
                    "True",
                    "PipelineRunCreateFailed",
                    'pipelines.tekton.dev "cnbi-package-list" not found',
                    "2026-01-01T00:00:01Z",
                ),
                {**CREATED, "lastTransitionTime": "2026-01-01T00:00:02Z"},
            ],
        },
        "Failed",
        "PipelineCreateFailed",
        'pipelines.tekton.dev "cnbi-package-list" not found',
    ),
    (
        "after create: Running",
        IMPORT,
        {"phase": "Running", "conditions": [CREATED]},
        "Building",
        "InProgress",
        "PipelineRun created successfully",
    ),
    (
        "Get error, not NotFound: still Running",
        GIT,
        {
            "phase": "Running",
            "conditions": [
                CREATED,
                condition(
                    "GenericPipelineError",
                    "True",
                    "PipelineRunGenericError",
                    "etcdserver: request timed out",
                    "2026-01-01T00:01:00Z",
                ),
            ],
        },
        "Building",
        "PipelineRunGenericError",
        "etcdserver: request timed out",
    ),
    (
        "import succeeded",
        IMPORT,
        IMPORT_SUCCEEDED,
        "Ready",
        "Ready",
        "Import succeeded, the image is ready to be used.",
    ),
    (
        "package list succeeded",
        PACKAGES,
        PACKAGES_SUCCEEDED,
        "Ready",
        "Ready",
        "Build from Package List succeeded",
    ),
    (
        "git repository succeeded (M1: the operator aggregates it to Failed)",
        GIT,
        GIT_SUCCEEDED,
        "Ready",
        "Ready",
        "completed successfully",
    ),
    (
        "package list succeeded before the operator's PR #158 (M1)",
        PACKAGES,
        {"phase": "Failed", "conditions": [COMPLETED_OK]},
        "Ready",
        "Ready",
        "completed successfully",
    ),
    (
        "import failed",
        IMPORT,
        {
            "phase": "Failed",
            "conditions": [
                COMPLETED_FAILED,
                condition(
                    "ImageImportReady",
                    "False",
                    "ImageImportNotReady",
                    "Import failed, this could be due to the repository to import from does "
                    "not exist or is not accessible",
                    "2026-01-01T00:05:01Z",
                ),
            ],
        },
        "Failed",
        "BuildFailed",
        "does not tell a missing image from missing credentials",
    ),
    (
        "git repository failed",
        GIT,
        GIT_FAILED,
        "Failed",
        "BuildFailed",
        "Build failed!",
    ),
    (
        "package list failed",
        PACKAGES,
        {
            "phase": "Failed",
            "conditions": [
                COMPLETED_FAILED,
                condition(
                    "PackageListBuildCompleted",
                    "False",
                    "PackageListBuildCompleted",
                    "Build from Package List failed!",
                    "2026-01-01T00:05:01Z",
                ),
            ],
        },
        "Failed",
        "BuildFailed",
        "Build from Package List failed!",
    ),
    (
        "failed with no type-specific condition",
        GIT,
        {"phase": "Failed", "conditions": [COMPLETED_FAILED]},
        "Failed",
        "BuildFailed",
        "completed with a failure",
    ),
    (
        "phase Unknown",
        IMPORT,
        {"phase": "Unknown"},
        "Building",
        "Unknown",
        "phase Unknown",
    ),
    (
        "declarative conditions (PR #168): latest build failed",
        PACKAGES,
        {
            "conditions": [
                condition(
                    "LatestBuildSucceeded",
                    "False",
                    "PipelineRunFailed",
                    "pip could not resolve boto3>=1.24.0",
                    "2026-01-01T00:05:01Z",
                ),
            ]
        },
        "Failed",
        "BuildFailed",
        "pip could not resolve",
    ),
]


@pytest.mark.parametrize(
    ("row", "build_type", "operator", "phase", "reason", "message"),
    ROWS,
    ids=[row[0] for row in ROWS],
)
async def test_status_mapping(
    harness: Harness,
    fake_kube: FakeKube,
    row: str,
    build_type: str,
    operator: dict[str, Any],
    phase: str,
    reason: str,
    message: str,
) -> None:
    await harness.controller.submit(build_resource(build_type))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", operator)

    def mirrored(build: dict[str, Any]) -> bool:
        cluster = build["status"].get("cluster") or {}
        return bool(
            cluster.get("phase") == operator.get("phase", "")
            and build["status"]["phase"] == phase
            and build["status"]["conditions"][-1]["reason"] == reason
        )

    build = await harness.until("built", mirrored)
    latest = build["status"]["conditions"][-1]
    assert message in latest["message"], latest
    expected_step = "Importing" if build_type == IMPORT else "Building"
    if phase == "Building":
        assert latest["type"] == expected_step and latest["status"] == "Unknown"
    if phase == "Failed":
        assert latest["type"] == "Ready" and latest["status"] == "False"
        assert step(build, expected_step)["status"] == "False"
    if phase == "Ready":
        assert latest["type"] == "Ready" and latest["status"] == "True"
        assert step(build, expected_step)["status"] == "True"
    # the pure mapping agrees with what was mirrored
    mirror = mirror_status({"status": operator}, build_type)
    assert (mirror.phase, mirror.reason) == (phase, reason)


async def test_the_latest_message_is_shown_not_the_first(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """M11: the operator's UI showed conditions[0]; the latest (by time) is what counts."""
    await harness.controller.submit(build_resource(GIT))
    await harness.in_cluster(fake_kube, "built")
    later = condition(
        "GenericPipelineError",
        "True",
        "PipelineRunGenericError",
        "the latest thing that happened",
        "2026-01-01T00:09:00Z",
    )
    fake_kube.set_status("built", {"phase": "Running", "conditions": [later, CREATED]})
    build = await harness.until(
        "built", lambda b: "latest thing" in b["status"]["conditions"][-1]["message"]
    )
    assert build["status"]["phase"] == "Building"


async def test_a_build_goes_through_every_phase_and_configures_the_image(
    harness: Harness, fake_kube: FakeKube
) -> None:
    resource = build_resource(PACKAGES)
    resource["spec"]["imagePullSecret"] = PULL_SECRET
    await harness.controller.submit(resource)
    await harness.in_cluster(fake_kube, "built")
    pipeline_run = "cnbi-built-package-list"
    digest = "sha256:" + "ab" * 32
    internal = "image-registry.openshift-image-registry.svc:5000/team"
    fake_kube.imagestreams[("team", pipeline_run)] = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": pipeline_run, "namespace": "team"},
        "spec": {
            "tags": [
                {
                    "name": "latest",
                    "annotations": {
                        "opendatahub.io/notebook-software": '[{"name":"Python","version":"3.8.13"}]',
                        "opendatahub.io/notebook-python-dependencies": (
                            '[{"name":"pandas","version":"2.0.1","visible":true}]'
                        ),
                    },
                }
            ]
        },
        "status": {
            "tags": [
                {
                    "tag": "latest",
                    "items": [{"dockerImageReference": f"{internal}/{pipeline_run}@{digest}"}],
                }
            ]
        },
    }
    pipelines = [{"name": "package-list", "pipelineRunName": pipeline_run}]
    fake_kube.set_status(
        "built", {"phase": "Running", "conditions": [CREATED], "pipelines": pipelines}
    )
    await harness.until("built", lambda b: b["status"]["phase"] == "Building")
    fake_kube.set_status("built", {**PACKAGES_SUCCEEDED, "pipelines": pipelines})
    build = await harness.ended("built")
    status = build["status"]
    assert status["phase"] == "Ready", status
    assert status["image"] == f"{internal}/{pipeline_run}@{digest}"
    assert status["runtimeImage"] == "built"
    assert status["software"] == [{"name": "Python", "version": "3.8.13"}]
    assert status["pythonDependencies"] == [{"name": "pandas", "version": "2.0.1"}]
    assert "Runtime image 'built' created" in ready(build)["message"]
    image = harness.store.get("built").to_api()
    assert image["display_name"] == ANNOTATIONS["opendatahub.io/notebook-image-name"]
    assert image["metadata"]["image_name"] == f"{internal}/{pipeline_run}@{digest}"
    assert image["metadata"]["pull_secret"] == "quay-pull"
    for _ in range(100):  # the event follows the write the test saw
        if harness.events[-1]["phase"] == "Ready":
            break
        await asyncio.sleep(0.01)
    phases = [e["phase"] for e in harness.events if e["name"] == "built"]
    assert phases[0] == "Pending" and "Building" in phases and phases[-1] == "Ready"
    assert {e["engine"] for e in harness.events} == {"kubernetes"}


async def test_an_import_pinned_by_digest_needs_no_image_stream(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """A source already pinned is the result as it is (tags: test_kubernetes_operator.py)."""
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", IMPORT_SUCCEEDED)
    build = await harness.ended("built")
    assert build["status"]["phase"] == "Ready"
    assert [c["type"] for c in build["status"]["conditions"]][-3:] == [
        "Importing",
        "Validating",
        "Ready",
    ]
    assert harness.store.get("built").to_api()["metadata"]["image_name"] == SOURCE_IMAGE


async def test_a_failed_build_configures_nothing(harness: Harness, fake_kube: FakeKube) -> None:
    await harness.controller.submit(build_resource(GIT))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", GIT_FAILED)
    build = await harness.ended("built")
    assert ready(build)["reason"] == "BuildFailed"
    with pytest.raises(NotFoundError):
        harness.store.get("built")
