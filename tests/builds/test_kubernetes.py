"""The kubernetes engine against a fake API server that stands in for a cluster.

No Kubernetes cluster can be started where these tests run. ``tests/fixtures/fake_kube.py``
is a local HTTP server implementing the API semantics the engine relies on (create, get,
list, delete, watch with ``resourceVersion`` and ``410 Gone``, and the ``Status`` bodies of
403/404/409/422 as the API server shapes them); each test writes a kubeconfig pointing at
it, and plays Meteor's operator by posting status updates the way its controller does
(``cnbi-byon.md`` §2). So these tests show the engine speaks the API correctly and maps
the operator's status faithfully; they do not show that a real operator behaves as
documented. ``test_real_cluster_import`` does that against a real cluster, and runs only
when ``KUBECONFIG`` is set (it is skipped, and reported as skipped, otherwise).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets import TraitError
from traitlets.config import Config

from runtime_images.app import make_build_controller
from runtime_images.builds.controller import BuildController
from runtime_images.builds.kubernetes import (
    OWNER_LABEL,
    ClusterError,
    KubernetesEngine,
    forbidden_message,
    label_value,
    mirror_status,
    rejection_message,
)
from runtime_images.errors import NotFoundError
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from tests.fixtures.fake_kube import FakeKube, status_body, webhook_denial
from tests.fixtures.registry import free_port

from .test_controller import ANNOTATIONS, import_resource

pytestmark = pytest.mark.timeout(60)

PULL_SECRET = {"name": "quay-pull"}


def build_resource(build_type: str, name: str = "built") -> dict[str, Any]:
    spec: dict[str, Any] = {"buildType": build_type}
    if build_type == "ImageImport":
        spec["fromImage"] = "quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2"
    elif build_type == "PackageList":
        spec.update(
            builderImage="quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2",
            packageVersions=["pandas", "boto3>=1.24.0"],
        )
    else:
        spec.update(
            repositoryUrl="https://github.com/AICoE/elyra-aidevsecops-tutorial", gitRef="master"
        )
    return {
        "apiVersion": "meteor.zone/v1alpha1",
        "kind": "CustomNBImage",
        "metadata": {"name": name, "annotations": dict(ANNOTATIONS)},
        "spec": spec,
    }


def condition(type_: str, status: str, reason: str, message: str, at: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": at,
    }


CREATED = condition(
    "PipelineRunCreated",
    "True",
    "PipelineRunCreated",
    "cnbi-x-import PipelineRun created successfully",
    "2026-01-01T00:00:01Z",
)
COMPLETED_OK = condition(
    "PipelineRunCompleted",
    "True",
    "PipelineRunCompleted",
    "The PipelineRun has been completed successfully.",
    "2026-01-01T00:05:00Z",
)
COMPLETED_FAILED = condition(
    "PipelineRunCompleted",
    "True",
    "PipelineRunCompleted",
    "The PipelineRun has been completed with a failure!",
    "2026-01-01T00:05:00Z",
)


class Harness:
    """A controller whose default engine is the kubernetes engine, on temp directories."""

    def __init__(self, tmp_path: Path, kubeconfig: Path, **engine: Any) -> None:
        config = Config()
        config.BuildController.engine = "kubernetes"
        config.KubernetesEngine.kubeconfig = str(kubeconfig)
        config.KubernetesEngine.owner = "alice@example.org"
        config.KubernetesEngine.retry_backoff = 0.05
        config.KubernetesEngine.max_backoff = 0.2
        for key, value in engine.items():
            setattr(config.KubernetesEngine, key, value)
        self.store = RuntimeImageStore(
            data_dir=str(tmp_path / "data"), shared_data_dirs=[], factory_data_dirs=[]
        )
        self.client = RegistryClient(auth_file=str(tmp_path / "no-auth.json"))
        self.events: list[dict[str, Any]] = []
        self.tmp_path = tmp_path
        self.config = config
        self.controller = self.new_controller()

    def new_controller(self) -> BuildController:
        return make_build_controller(
            None,
            self.store,
            self.client,
            ImageInspector(),
            emit=self.events.append,
            builds_dir=str(self.tmp_path / "builds"),
            poll_interval=0.1,
            config=self.config,
        )

    async def until(self, name: str, predicate: Any, timeout: float = 20) -> dict[str, Any]:
        async def poll() -> dict[str, Any]:
            while True:
                build = self.controller.get(name)
                if predicate(build):
                    return build
                await asyncio.sleep(0.02)

        return await asyncio.wait_for(poll(), timeout)

    async def ended(self, name: str) -> dict[str, Any]:
        return await self.until(name, lambda b: b["status"]["phase"] in ("Ready", "Failed"))

    async def in_cluster(self, fake: FakeKube, name: str) -> dict[str, Any]:
        """Wait until the resource exists in the cluster and the engine is watching it."""
        obj = await asyncio.to_thread(fake.wait_for, name)
        await self.until(name, lambda b: (b["status"].get("cluster") or {}).get("uid"))
        for _ in range(3000):  # patient on a loaded machine
            if fake.watches():
                break
            await asyncio.sleep(0.01)
        return obj


@pytest.fixture
def fake_kube() -> Iterator[FakeKube]:
    fake = FakeKube().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def kubeconfig(fake_kube: FakeKube, tmp_path: Path) -> Path:
    return fake_kube.write_kubeconfig(tmp_path / "kubeconfig")


def start(harness: Harness, loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(harness.controller.start())


def finish(harness: Harness, loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(harness.controller.stop())
    loop.run_until_complete(harness.client.aclose())


@pytest.fixture
def harness(
    tmp_path: Path,
    kubeconfig: Path,
    isolated_home: Path,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[Harness]:
    harness = Harness(tmp_path, kubeconfig)
    start(harness, jp_asyncio_loop)
    try:
        yield harness
    finally:
        finish(harness, jp_asyncio_loop)


def ready(build: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in build["status"]["conditions"] if c["type"] == "Ready")


def step(build: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in build["status"]["conditions"] if c["type"] == type_)


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
    assert (engine.group, engine.version, engine.plural, engine.kind) == (
        "meteor.zone",
        "v1alpha1",
        "customnbimages",
        "CustomNBImage",
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
    fake = FakeKube(plural="customruntimeenvironments", kind="CustomRuntimeEnvironment").start()
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

IMPORT, PACKAGES, GIT = "ImageImport", "PackageList", "GitRepository"

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
        {
            "phase": "Succeeded",
            "conditions": [
                COMPLETED_OK,
                condition(
                    "ImageImportReady",
                    "True",
                    "ImageImportReady",
                    "Import succeeded, the image is ready to be used.",
                    "2026-01-01T00:05:00Z",
                ),
            ],
        },
        "Ready",
        "Ready",
        "Import succeeded, the image is ready to be used.",
    ),
    (
        "package list succeeded",
        PACKAGES,
        {
            "phase": "Succeeded",
            "conditions": [
                COMPLETED_OK,
                condition(
                    "PackageListBuildCompleted",
                    "True",
                    "PackageListBuildCompleted",
                    "Build from Package List succeeded, the image is ready to be used.",
                    "2026-01-01T00:05:00Z",
                ),
            ],
        },
        "Ready",
        "Ready",
        "Build from Package List succeeded",
    ),
    (
        "git repository succeeded (M1: the operator aggregates it to Failed)",
        GIT,
        {"phase": "Failed", "conditions": [COMPLETED_OK]},
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
        {
            "phase": "Failed",
            "conditions": [
                COMPLETED_FAILED,
                condition(
                    "ErrorBuildingImage",
                    "True",
                    "ErrorBuildingImage",
                    "Build failed!",
                    "2026-01-01T00:05:01Z",
                ),
            ],
        },
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
    fake_kube.set_status(
        "built",
        {
            "phase": "Succeeded",
            "conditions": [
                COMPLETED_OK,
                condition(
                    "PackageListBuildCompleted",
                    "True",
                    "PackageListBuildCompleted",
                    "Build from Package List succeeded, the image is ready to be used.",
                    "2026-01-01T00:05:00Z",
                ),
            ],
            "pipelines": pipelines,
        },
    )
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


async def test_an_import_without_image_stream_configures_the_source_image(
    harness: Harness, fake_kube: FakeKube
) -> None:
    await harness.controller.submit(build_resource(IMPORT))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", ROWS[4][2])
    build = await harness.ended("built")
    assert build["status"]["phase"] == "Ready"
    assert [c["type"] for c in build["status"]["conditions"]][-3:] == [
        "Importing",
        "Validating",
        "Ready",
    ]
    assert harness.store.get("built").to_api()["metadata"]["image_name"] == (
        "quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2"
    )


async def test_a_failed_build_configures_nothing(harness: Harness, fake_kube: FakeKube) -> None:
    await harness.controller.submit(build_resource(GIT))
    await harness.in_cluster(fake_kube, "built")
    fake_kube.set_status("built", ROWS[9][2])
    build = await harness.ended("built")
    assert ready(build)["reason"] == "BuildFailed"
    with pytest.raises(NotFoundError):
        harness.store.get("built")


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
    fake_kube.set_status("built", ROWS[4][2])
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
    fake_kube.set_status("built", ROWS[4][2])
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
    fake_kube.set_status("built", ROWS[4][2])
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
    fake_kube.set_status("built", ROWS[4][2])
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
    fake_kube.set_status("built", ROWS[9][2])
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
    fake_kube.set_status("built", ROWS[6][2])
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
    fake_kube.set_status("built", ROWS[4][2])

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
    harness = Harness(tmp_path, kubeconfig)
    await harness.controller.start()
    try:
        await harness.controller.submit(build_resource(IMPORT))
        build = await harness.ended("built")
    finally:
        await harness.controller.stop()
        await harness.client.aclose()
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
    harness = Harness(tmp_path, kubeconfig, create_attempts=2)
    await harness.controller.start()
    try:
        await harness.controller.submit(build_resource(IMPORT))
        build = await harness.ended("built")
    finally:
        await harness.controller.stop()
        await harness.client.aclose()
    assert ready(build)["reason"] == "ClusterUnavailable"
    assert "could not be reached" in ready(build)["message"]


async def test_forbidden_create_names_the_missing_verb(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.allowed_verbs = {"get", "list", "watch", "delete"}
    await harness.controller.submit(build_resource(IMPORT))
    build = await harness.ended("built")
    condition = ready(build)
    assert condition["reason"] == "Forbidden"
    message = condition["message"]
    assert "'create' verb is missing" in message
    assert "customnbimages.meteor.zone in the namespace team" in message
    assert "system:serviceaccount:team:jupyter" in message
    assert "kubernetes-rbac.yaml" in message


async def test_forbidden_watch_names_the_missing_verb(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.allowed_verbs = {"create", "get", "list", "delete"}
    await harness.controller.submit(build_resource(IMPORT))
    build = await harness.ended("built")
    assert ready(build)["reason"] == "Forbidden"
    assert "'watch' verb is missing" in ready(build)["message"]


async def test_wrong_credentials(tmp_path: Path, fake_kube: FakeKube, isolated_home: Path) -> None:
    kubeconfig = fake_kube.write_kubeconfig(tmp_path / "kc", token="expired")
    harness = Harness(tmp_path, kubeconfig)
    await harness.controller.start()
    try:
        await harness.controller.submit(build_resource(IMPORT))
        build = await harness.ended("built")
    finally:
        await harness.controller.stop()
        await harness.client.aclose()
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


# -- through the REST API -------------------------------------------------------------------


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], tmp_path: Path, fake_kube: FakeKube
) -> dict[str, Any]:
    return {
        **jp_server_config,
        "RegistryClient": {"auth_file": str(tmp_path / "none.json"), "retries": 0},
        "BuildController": {"builds_dir": str(tmp_path / "builds"), "engine": "kubernetes"},
        "KubernetesEngine": {
            "kubeconfig": str(fake_kube.write_kubeconfig(tmp_path / "kubeconfig")),
            "owner": "alice",
        },
    }


@pytest.fixture
def rest_builds(
    jp_serverapp: Any, fake_kube: FakeKube, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> Iterator[BuildController]:
    """The server's build controller, started, and stopped before the fake cluster is.

    Stopped here rather than in the test's ``finally``: a test that ends abruptly (its
    timeout) does not run its ``finally``, and the builds would go on calling a stopped
    cluster while the rest of the teardown runs.
    """
    controller: BuildController = jp_serverapp.web_app.settings["runtime_images_builds"]
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
    import json

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
    import json

    from tornado.httpclient import HTTPClientError

    response = await jp_fetch(
        "runtime-images", "builds", method="POST", body=json.dumps(build_resource(GIT))
    )
    assert response.code == 201
    assert json.loads(response.body)["status"]["engine"] == "kubernetes"
    obj = await asyncio.to_thread(fake_kube.wait_for, "built")
    assert obj["metadata"]["labels"][OWNER_LABEL] == "alice"
    fake_kube.set_status("built", ROWS[6][2])  # M1: a GitRepository success
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
    import json

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


# -- a real cluster --------------------------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason="KUBECONFIG not set")
@pytest.mark.timeout(1000)
async def test_real_cluster_import(tmp_path: Path, isolated_home: Path) -> None:
    """Against the cluster KUBECONFIG names, which must run Meteor's operator.

    Set RUNTIME_IMAGES_TEST_NAMESPACE (default: the context's) and optionally
    RUNTIME_IMAGES_TEST_IMAGE (default: the seed's s2i-minimal-py38-notebook:v0.2.2).
    The build must end, Ready or Failed, with a reason, within 15 minutes.
    """
    kubeconfig = Path(os.environ["KUBECONFIG"].split(os.pathsep)[0])
    import getpass

    engine: dict[str, Any] = {
        "retry_backoff": 1.0,
        "max_backoff": 10.0,
        "owner": os.environ.get("JUPYTERHUB_USER") or getpass.getuser(),
    }
    if os.environ.get("RUNTIME_IMAGES_TEST_NAMESPACE"):
        engine["namespace"] = os.environ["RUNTIME_IMAGES_TEST_NAMESPACE"]
    harness = Harness(tmp_path, kubeconfig, **engine)
    image = os.environ.get(
        "RUNTIME_IMAGES_TEST_IMAGE", "quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2"
    )
    name = f"rit-{os.getpid()}"
    resource = build_resource(IMPORT, name=name)
    resource["spec"]["fromImage"] = image
    await harness.controller.start()
    try:
        await harness.controller.submit(resource)
        build = await harness.until(
            name, lambda b: b["status"]["phase"] in ("Ready", "Failed"), timeout=900
        )
        assert ready(build)["reason"]
        assert build["status"]["cluster"]["uid"]
    finally:
        await harness.controller.delete(name)
        await harness.controller.stop()
        await harness.client.aclose()
