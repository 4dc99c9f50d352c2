"""The kubernetes engine against the operator, Tekton and OpenShift's image import.

No cluster runs here: ``tests/fixtures/kube`` stands in for the API server, and its
:class:`~tests.fixtures.kube.FakeOperator` for Meteor's controller (PipelineRuns named
``cre-<name>-<generation>-<type>``, read by name), Tekton (the 63-character rule, a
missing Pipeline failing the run) and the asynchronous ImageStream import — what the
sources say they do, not what a real cluster was seen doing (``KUBECONFIG`` and
``test_kubernetes_real_cluster.py`` for that). Images come from a real registry.

The resource plural is set where a test is not about discovering it, so that each test
shows one thing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import images
from tests.fixtures.kube import CRE, INTERNAL_REGISTRY, FakeKube, FakeOperator
from tests.fixtures.registry import RegistryServer, write_auth_file

from . import kubernetes_harness as kube
from .kubernetes_harness import GIT, IMPORT, PACKAGES, Harness, build_resource, ready

# A controller on the stand-in cluster (see kubernetes_harness); fake_kube is this module's.
harness_fixture, kubeconfig_fixture = kube.harness_fixture, kube.kubeconfig_fixture

pytestmark = pytest.mark.timeout(60)

PLURAL = "customruntimeenvironments"


@pytest.fixture(name="fake_kube")
def operated_cluster() -> Iterator[FakeKube]:
    """Today's operator (its CRD, its Pipelines in the namespace ``team``), running."""
    fake = FakeKube(CRE).start()
    FakeOperator(fake).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(name="engine_settings")
def engine_settings_fixture() -> dict[str, Any]:
    return {"plural": PLURAL}


def operator_of(fake: FakeKube) -> FakeOperator:
    assert fake.operator is not None
    return fake.operator


async def started(
    tmp_path: Path,
    operator: dict[str, Any] | None = None,
    registry_auth_file: str | None = None,
    **engine: Any,
) -> tuple[FakeKube, Harness]:
    """A cluster whose operator runs with ``operator`` settings, and a started harness."""
    fake = FakeKube(CRE).start()
    FakeOperator(fake, **(operator or {})).start()
    kubeconfig = fake.write_kubeconfig(tmp_path / "kc")
    harness = Harness(tmp_path, kubeconfig, registry_auth_file, **engine)
    await harness.controller.start()
    return fake, harness


async def stopped(fake: FakeKube, harness: Harness) -> None:
    await harness.controller.stop()
    await harness.client.aclose()
    fake.stop()


def pushed(registry: RegistryServer, repo_name: str, tag: str = "1") -> tuple[str, str]:
    """A real image in the registry: its tagged reference and digest."""
    with registry.pusher() as pusher:
        digest = pusher.push_image(repo_name, tag, images.elyra_ok())
    return f"{registry.host}/{repo_name}:{tag}", digest


def import_of(reference: str) -> dict[str, Any]:
    resource = build_resource(IMPORT)
    resource["spec"]["fromImage"] = reference
    return resource


async def imported(
    tmp_path: Path,
    source: str,
    import_delay: float | None,
    import_timeout: float = 20,
    registry_auth_file: str | None = None,
) -> tuple[dict[str, Any], Harness]:
    """An import of ``source``, to its end, on a cluster whose runs succeed (0.2 s) and whose
    ImageStream import takes ``import_delay`` seconds (None: never)."""
    operator = {"run_seconds": 0.2, "import_delay": import_delay}
    fake, harness = await started(
        tmp_path, operator, registry_auth_file, plural=PLURAL, import_timeout=import_timeout
    )
    try:
        await harness.controller.submit(import_of(source))
        return await harness.ended("built"), harness
    finally:
        await stopped(fake, harness)


async def ended_or(harness: Harness, predicate: Callable[[dict[str, Any]], object]) -> Any:
    return await harness.until(
        "built", lambda b: b["status"]["phase"] in ("Ready", "Failed") or predicate(b)
    )


# -- 1. a retry follows its own PipelineRun --------------------------------------------------


async def test_a_retry_follows_its_own_pipelinerun_not_the_earlier_one(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """The operator names runs ``cre-<name>-<generation>-<type>`` and reads them by name.

    A recreated resource has generation 1 again, so its run has the earlier run's name;
    while the earlier run still exists (a Background delete leaves dependents to the
    garbage collector, ~1 s here), the operator reports *its* outcome for the new one.
    """
    operator = operator_of(fake_kube)
    await harness.controller.submit(build_resource(GIT))
    first = await harness.in_cluster(fake_kube, "built")
    first_run = await asyncio.to_thread(operator.pipeline_run, first["metadata"]["uid"])
    assert first_run["metadata"]["name"] == "cre-built-1-gitrepo"
    await asyncio.to_thread(operator.finish, "cre-built-1-gitrepo", False)
    assert ready(await harness.ended("built"))["reason"] == "BuildFailed"

    await harness.controller.retry("built")
    retried = await harness.until(
        "built",
        lambda b: (
            (b["status"].get("cluster") or {}).get("uid") not in (None, first["metadata"]["uid"])
        ),
    )
    second_uid = retried["status"]["cluster"]["uid"]
    second_run = await asyncio.to_thread(operator.pipeline_run, second_uid)
    assert second_run["metadata"]["name"] == "cre-built-1-gitrepo"  # the same name again
    build = harness.controller.get("built")
    assert build["status"]["phase"] in ("Pending", "Building"), ready(build)

    await asyncio.to_thread(operator.finish, "cre-built-1-gitrepo", True)
    build = await harness.ended("built")
    assert build["status"]["phase"] == "Ready", ready(build)
    assert build["status"]["image"].startswith(
        f"{INTERNAL_REGISTRY}/team/cre-built-1-gitrepo@sha256:"
    )


async def test_an_earlier_resources_run_is_not_taken_for_this_ones(
    harness: Harness, fake_kube: FakeKube
) -> None:
    """Someone deleted the earlier resource in the background (kubectl's default): its run
    is still there, under the new resource's run name, when the build is retried."""
    operator = operator_of(fake_kube)
    fake_kube.gc_delay = 2.0
    await harness.controller.submit(build_resource(GIT))
    first = await harness.in_cluster(fake_kube, "built")
    await asyncio.to_thread(operator.pipeline_run, first["metadata"]["uid"])
    await asyncio.to_thread(operator.finish, "cre-built-1-gitrepo", False)
    await harness.ended("built")
    with fake_kube.lock:
        fake_kube.delete_with_policy("team", "built", "Background")

    await harness.controller.retry("built")
    retried = await harness.until(
        "built",
        lambda b: (
            (b["status"].get("cluster") or {}).get("uid") not in (None, first["metadata"]["uid"])
        ),
    )
    second_run = await asyncio.to_thread(operator.pipeline_run, retried["status"]["cluster"]["uid"])
    build = harness.controller.get("built")
    assert build["status"]["phase"] in ("Pending", "Building"), ready(build)
    assert "the PipelineRun of an earlier CustomRuntimeEnvironment" in (
        harness.controller.read_log("built")
    )
    await asyncio.to_thread(operator.finish, second_run["metadata"]["name"], True)
    assert (await harness.ended("built"))["status"]["phase"] == "Ready"


# -- 2. names the PipelineRun cannot have ----------------------------------------------------


@pytest.mark.parametrize(
    ("build_type", "limit"), [(IMPORT, 50), (PACKAGES, 44), (GIT, 49)], ids=["import", "pkg", "git"]
)
async def test_a_name_too_long_for_the_pipelinerun_is_refused_before_submitting(
    harness: Harness, fake_kube: FakeKube, build_type: str, limit: int
) -> None:
    """Tekton refuses PipelineRun names over 63 characters (tektoncd/pipeline#7938)."""
    name = "n" * (limit + 1)
    await harness.controller.submit(build_resource(build_type, name=name))
    build = await harness.ended(name)
    condition = ready(build)
    assert condition["reason"] == "NameTooLong", condition
    assert f"at most {limit} characters" in condition["message"]
    assert "63" in condition["message"]
    assert not fake_kube.objects
    assert not [method for method, _, _ in fake_kube.requests if method == "POST"]


async def test_a_name_at_the_limit_makes_a_63_character_pipelinerun(
    harness: Harness, fake_kube: FakeKube
) -> None:
    name = "n" * 50
    await harness.controller.submit(build_resource(IMPORT, name=name))
    created = await asyncio.to_thread(fake_kube.wait_for, name)
    run = await asyncio.to_thread(operator_of(fake_kube).pipeline_run, created["metadata"]["uid"])
    assert len(run["metadata"]["name"]) == 63


# -- 3. what failed, from the PipelineRun itself ---------------------------------------------


async def test_pipelines_in_another_namespace_are_named_not_taken_for_a_pull_secret(
    tmp_path: Path, isolated_home: Path
) -> None:
    """Meteor installs its Pipelines in aicoe-meteor; Tekton looks in the run's namespace."""
    fake, harness = await started(tmp_path, {"pipelines_namespace": "aicoe-meteor"}, plural=PLURAL)
    try:
        await harness.controller.submit(build_resource(IMPORT))
        build = await harness.ended("built")
    finally:
        await stopped(fake, harness)
    condition = ready(build)
    assert condition["reason"] == "PipelineNotFound", condition
    message = condition["message"]
    for words in ("cre-import", "team", "aicoe-meteor", "c.KubernetesEngine.namespace"):
        assert words in message
    assert "pull secret" not in message
    assert "CouldntGetPipeline" in message  # what Tekton said


async def import_whose_task_fails(
    harness: Harness, fake: FakeKube
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An import whose PipelineRun fails in a task: the Ready condition, and the run."""
    operator = operator_of(fake)
    await harness.controller.submit(build_resource(IMPORT))
    created = await harness.in_cluster(fake, "built")
    run = await asyncio.to_thread(operator.pipeline_run, created["metadata"]["uid"])
    await asyncio.to_thread(operator.finish, run["metadata"]["name"], False)
    return ready(await harness.ended("built")), run


async def test_a_failed_import_task_says_what_tekton_said(
    harness: Harness, fake_kube: FakeKube
) -> None:
    condition, run = await import_whose_task_fails(harness, fake_kube)
    assert condition["reason"] == "BuildFailed"
    assert "Tasks Completed: 3 (Failed: 1, Cancelled 0)" in condition["message"]
    assert "pull secret" in condition["message"]  # a task failed: the image or its access
    assert f"tkn pipelinerun logs {run['metadata']['name']} -n team" in condition["message"]


async def test_without_rights_on_pipelineruns_the_operators_report_is_used(
    harness: Harness, fake_kube: FakeKube
) -> None:
    fake_kube.forbidden = {"pipelineruns.tekton.dev"}
    condition, _ = await import_whose_task_fails(harness, fake_kube)
    assert condition["reason"] == "BuildFailed"
    assert "does not tell a missing image from missing credentials" in condition["message"]
    log = harness.controller.read_log("built")
    assert "get on pipelineruns.tekton.dev" in log


# -- 4. the resource the cluster serves ------------------------------------------------------


async def test_the_resource_the_cluster_serves_is_discovered(
    tmp_path: Path, isolated_home: Path
) -> None:
    """Today's operator serves only customruntimeenvironments; nothing is configured."""
    fake, harness = await started(tmp_path, {"run_seconds": 0.2})
    try:
        await harness.controller.submit(build_resource(IMPORT))
        build = await ended_or(harness, lambda b: (b["status"].get("cluster") or {}).get("uid"))
        assert build["status"]["phase"] != "Failed", ready(build)
        created = fake.get("built")
        assert created is not None and created["kind"] == "CustomRuntimeEnvironment"
        assert build["status"]["cluster"]["kind"] == "CustomRuntimeEnvironment"
        build = await harness.ended("built")
    finally:
        await stopped(fake, harness)
    assert build["status"]["phase"] == "Ready", ready(build)


# -- 5. imports are pinned -------------------------------------------------------------------


async def test_an_import_is_pinned_once_openshift_has_imported_it(
    tmp_path: Path, isolated_home: Path, registry: RegistryServer, repo_name: str
) -> None:
    """The tag is patched in the pipeline's ``finally`` task and imported after it ends."""
    source, digest = pushed(registry, repo_name)
    build, harness = await imported(tmp_path, source, import_delay=1.5)
    assert build["status"]["phase"] == "Ready", ready(build)
    assert build["status"]["image"] == f"{source}@{digest}"
    assert harness.store.get("built").to_api()["metadata"]["image_name"] == f"{source}@{digest}"
    assert "ImageStream" in ready(build)["message"]


async def test_an_import_the_cluster_never_records_is_pinned_from_the_registry(
    tmp_path: Path, isolated_home: Path, registry: RegistryServer, repo_name: str
) -> None:
    source, digest = pushed(registry, repo_name)
    build, _ = await imported(tmp_path, source, import_delay=None, import_timeout=1)
    assert build["status"]["phase"] == "Ready", ready(build)
    assert build["status"]["image"] == f"{source}@{digest}"
    assert "pinned from the registry" in ready(build)["message"]


async def test_an_import_openshift_refused_is_pinned_from_the_registry_when_it_can(
    tmp_path: Path, isolated_home: Path, basic_registry: RegistryServer, repo_name: str
) -> None:
    """The ImageStream could not import (no credentials there); this server has them."""
    source, digest = pushed(basic_registry, repo_name)
    auth = write_auth_file(
        str(tmp_path / "auth.json"),
        basic_registry.host,
        basic_registry.username,
        basic_registry.password,
    )
    build, _ = await imported(tmp_path, source, import_delay=0.1, registry_auth_file=auth)
    assert build["status"]["phase"] == "Ready", ready(build)
    assert build["status"]["image"] == f"{source}@{digest}"
    message = ready(build)["message"]
    assert "could not import" in message and "you may not have access" in message


async def test_an_import_nobody_can_pin_fails_clearly(
    tmp_path: Path, isolated_home: Path, basic_registry: RegistryServer, repo_name: str
) -> None:
    source, _ = pushed(basic_registry, repo_name)
    build, _ = await imported(tmp_path, source, import_delay=0.1)
    condition = ready(build)
    assert condition["reason"] == "AuthRequired", condition
    assert "you may not have access" in condition["message"]  # the cluster's reason
    assert "not configured unpinned" in condition["message"]
    assert "image" not in build["status"]


# -- a build, end to end ---------------------------------------------------------------------


async def test_a_package_list_build_through_the_operator(
    harness: Harness, fake_kube: FakeKube
) -> None:
    operator = operator_of(fake_kube)
    await harness.controller.submit(build_resource(PACKAGES))
    created = await harness.in_cluster(fake_kube, "built")
    run = await asyncio.to_thread(operator.pipeline_run, created["metadata"]["uid"])
    assert run["metadata"]["name"] == "cre-built-1-package-list"
    assert {"name": "packages", "value": ["pandas", "boto3>=1.24.0"]} in run["spec"]["params"]
    await harness.until("built", lambda b: b["status"]["phase"] == "Building")
    await asyncio.to_thread(operator.finish, run["metadata"]["name"], True)
    build = await harness.ended("built")
    assert build["status"]["phase"] == "Ready", ready(build)
    image = build["status"]["image"]
    assert image.startswith(f"{INTERNAL_REGISTRY}/team/cre-built-1-package-list@sha256:")
    assert harness.store.get("built").to_api()["metadata"]["image_name"] == image
    assert "only from inside the cluster" in ready(build)["message"]
