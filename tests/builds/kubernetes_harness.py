"""What the kubernetes engine's tests share: a controller on temp dirs, a stand-in cluster.

No Kubernetes cluster can run where these tests run: ``tests/fixtures/kube`` stands in
for one (see its docstring for what it does as a real API server, operator and Tekton
do). Import the fixtures (``fake_kube``, ``kubeconfig``, ``harness``) into a test module
to use them: ``engine_settings_fixture, fake_kube_fixture, harness_fixture,
kubeconfig_fixture = kubernetes_harness.FIXTURES``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from runtime_images.builds.controller import BuildController
from runtime_images.builds.wiring import make_build_controller
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from tests.fixtures.kube import FakeKube

from .test_controller import ANNOTATIONS

IMPORT, PACKAGES, GIT = "ImageImport", "PackageList", "GitRepository"
# Pinned by digest: an import of it needs no ImageStream and no registry to be pinned.
SOURCE_IMAGE = (
    "quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2@sha256:"
    "2f0b64f8dbe6cb5b3ddbe07a7c5ab1c4d4e47bbd2e7c2c9e6a53cf1e0c1ad6f7"
)

PULL_SECRET = {"name": "quay-pull"}


def build_resource(build_type: str, name: str = "built") -> dict[str, Any]:
    spec: dict[str, Any] = {"buildType": build_type}
    if build_type == "ImageImport":
        spec["fromImage"] = SOURCE_IMAGE
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

    def __init__(
        self,
        tmp_path: Path,
        kubeconfig: Path | None,
        registry_auth_file: str | None = None,
        **engine: Any,
    ) -> None:
        config = Config()
        config.BuildController.engine = "kubernetes"
        if kubeconfig is not None:  # else $KUBECONFIG
            config.KubernetesEngine.kubeconfig = str(kubeconfig)
        config.KubernetesEngine.owner = "alice@example.org"
        config.KubernetesEngine.retry_backoff = 0.05
        config.KubernetesEngine.max_backoff = 0.2
        # The engine's own registry client (it pins imports the cluster did not pin).
        config.RegistryClient.auth_file = registry_auth_file or str(tmp_path / "no-auth.json")
        for key, value in engine.items():
            setattr(config.KubernetesEngine, key, value)
        self.store = RuntimeImageStore(
            data_dir=str(tmp_path / "data"), shared_data_dirs=[], factory_data_dirs=[]
        )
        self.client = RegistryClient(config=config)  # as the app configures its own
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

    async def build_alone(self, resource: dict[str, Any]) -> dict[str, Any]:
        """For a harness made in the test: start it, run ``resource`` to its end, stop it."""
        await self.controller.start()
        try:
            await self.controller.submit(resource)
            return await self.ended(resource["metadata"]["name"])
        finally:
            await self.controller.stop()
            await self.client.aclose()

    async def in_cluster(self, fake: FakeKube, name: str) -> dict[str, Any]:
        """Wait until the resource exists in the cluster and the engine is watching it."""
        obj = await asyncio.to_thread(fake.wait_for, name)
        await self.until(name, lambda b: (b["status"].get("cluster") or {}).get("uid"))
        for _ in range(3000):  # patient on a loaded machine
            if fake.watches():
                break
            await asyncio.sleep(0.01)
        return obj


@pytest.fixture(name="fake_kube")
def fake_kube_fixture() -> Iterator[FakeKube]:
    fake = FakeKube().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(name="kubeconfig")
def kubeconfig_fixture(fake_kube: FakeKube, tmp_path: Path) -> Path:
    return fake_kube.write_kubeconfig(tmp_path / "kubeconfig")


def start(harness: Harness, loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(harness.controller.start())


def finish(harness: Harness, loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(harness.controller.stop())
    loop.run_until_complete(harness.client.aclose())


@pytest.fixture(name="engine_settings")
def engine_settings_fixture() -> dict[str, Any]:
    """``c.KubernetesEngine`` settings of the ``harness`` (a test module may override it)."""
    return {}


@pytest.fixture(name="harness")
def harness_fixture(
    tmp_path: Path,
    kubeconfig: Path,
    isolated_home: Path,
    engine_settings: dict[str, Any],
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[Harness]:
    harness = Harness(tmp_path, kubeconfig, **engine_settings)
    start(harness, jp_asyncio_loop)
    try:
        yield harness
    finally:
        finish(harness, jp_asyncio_loop)


def ready(build: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in build["status"]["conditions"] if c["type"] == "Ready")


def step(build: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in build["status"]["conditions"] if c["type"] == type_)


IMPORT_SUCCEEDED: dict[str, Any] = {
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
}
PACKAGES_SUCCEEDED: dict[str, Any] = {
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
}
# M1: a succeeded GitRepository run, which the operator aggregates to Failed.
GIT_SUCCEEDED: dict[str, Any] = {"phase": "Failed", "conditions": [COMPLETED_OK]}
GIT_FAILED: dict[str, Any] = {
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
}


FIXTURES = (engine_settings_fixture, fake_kube_fixture, harness_fixture, kubeconfig_fixture)
