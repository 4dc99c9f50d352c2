"""The embedded controller importing real images from real local registries."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import pytest
from traitlets.config import Config

from runtime_images.builds.controller import BuildController
from runtime_images.builds.wiring import make_build_controller
from runtime_images.errors import ConflictError, NotFoundError
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from tests.fixtures import images
from tests.fixtures.registry import RegistryServer, blob_file, free_port

pytestmark = pytest.mark.timeout(120)

ANNOTATIONS = {
    "opendatahub.io/notebook-image-name": "Imported image",
    "opendatahub.io/notebook-image-desc": "Imported by a test",
    "opendatahub.io/notebook-image-creator": "tester",
}


def import_resource(image: str, name: str = "imported", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "meteor.zone/v1alpha1",
        "kind": "CustomNBImage",
        "metadata": {"name": name, "annotations": dict(ANNOTATIONS)},
        "spec": {"buildType": "ImageImport", "fromImage": image, **spec},
    }


class Harness:
    """A controller on temporary directories, with the events it emitted."""

    def __init__(
        self, tmp_path: Path, config: Config | None = None, **registry_config: Any
    ) -> None:
        self.store = RuntimeImageStore(
            data_dir=str(tmp_path / "data"), shared_data_dirs=[], factory_data_dirs=[]
        )
        self.client = RegistryClient(  # as the app configures it: local_layout_dir follows
            config=config or Config(),  # ImageBuilder.layout_dir
            auth_file=str(tmp_path / "no-auth.json"),
            **{"retries": 1, "retry_backoff": 0.05, **registry_config},
        )
        self.events: list[dict[str, Any]] = []
        self.controller: BuildController = make_build_controller(
            None,
            self.store,
            self.client,
            ImageInspector(),
            emit=self.events.append,
            builds_dir=str(tmp_path / "builds"),
            poll_interval=0.1,
            config=config or Config(),
        )

    async def wait(self, name: str, timeout: float = 60) -> dict[str, Any]:
        async def ended() -> dict[str, Any]:
            while True:
                build = self.controller.get(name)
                if build["status"]["phase"] in ("Ready", "Failed"):
                    return build
                await asyncio.sleep(0.05)

        return await asyncio.wait_for(ended(), timeout)

    async def run(self, resource: dict[str, Any]) -> dict[str, Any]:
        await self.controller.submit(resource)
        return await self.wait(resource["metadata"]["name"])

    def running(self, loop: asyncio.AbstractEventLoop) -> Iterator[Self]:
        """For a fixture: started on ``loop``, yielded, then stopped and closed."""
        loop.run_until_complete(self.controller.start())
        try:
            yield self
        finally:
            loop.run_until_complete(self.controller.stop())
            loop.run_until_complete(self.client.aclose())


@pytest.fixture
def harness(
    tmp_path: Path, isolated_home: Path, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> Iterator[Harness]:
    yield from Harness(tmp_path).running(jp_asyncio_loop)


def ready_condition(build: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in build["status"]["conditions"] if c["type"] == "Ready")


async def test_starting_again_while_started_changes_nothing(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    """The server extension starts the controller; a second start (a test, a reload) must
    not add a second scanner that would run or cancel builds twice."""
    poller = harness.controller._poller
    await harness.controller.start()
    assert harness.controller._poller is poller
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    build = await harness.run(import_resource(f"{registry.host}/{repo_name}:1", name="once"))
    assert build["status"]["phase"] == "Ready", build["status"]["conditions"]
    ready = [e for e in harness.events if e.get("name") == "once" and e.get("phase") == "Ready"]
    assert len(ready) == 1


async def test_import_of_a_passing_image_becomes_ready_and_pinned(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    image = images.elyra_ok()
    with registry.pusher() as pusher:
        digest = pusher.push_image(repo_name, "1.0", image)
    source = f"{registry.host}/{repo_name}:1.0"

    build = await harness.run(import_resource(source))

    status = build["status"]
    assert status["phase"] == "Ready", status
    assert status["image"] == f"{source}@{digest}"
    assert status["runtimeImage"] == "imported"
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [
        ("Importing", "True"),
        ("Validating", "True"),
        ("Ready", "True"),
    ]
    assert all(
        c["observedGeneration"] == 1 and c["lastTransitionTime"] for c in status["conditions"]
    )
    assert {c["result"] for c in status["checks"]} <= {"pass", "warn"}
    assert {"profile": "elyra", "id": "curl"} in [
        {"profile": c["profile"], "id": c["id"]} for c in status["checks"]
    ]
    assert status["software"] == [{"name": "Python", "version": "3.11"}]
    assert status["progress"]["bytesDone"] == status["progress"]["bytesTotal"] > 0

    runtime_image = harness.store.get("imported").to_api()
    assert runtime_image["display_name"] == "Imported image"
    assert runtime_image["metadata"]["image_name"] == f"{source}@{digest}"
    assert runtime_image["metadata"]["description"] == "Imported by a test"
    assert runtime_image["metadata"]["creator"] == "tester"

    phases = [e["phase"] for e in harness.events if e["name"] == "imported"]
    assert phases[0] == "Pending" and phases[-1] == "Ready" and "Building" in phases
    assert harness.events[-1]["message"].startswith("Imported and validated")
    log = harness.controller.read_log("imported")
    assert "Importing=True" in log and "Ready=True" in log


async def test_reimport_updates_the_runtime_image(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    harness.store.create(
        {
            "name": "imported",
            "display_name": "Old",
            "metadata": {"image_name": "quay.io/old/image:1"},
        }
    )
    build = await harness.run(import_resource(f"{registry.host}/{repo_name}:1"))
    assert build["status"]["phase"] == "Ready"
    assert "updated" in ready_condition(build)["message"]
    assert harness.store.get("imported").display_name == "Imported image"


async def test_image_failing_requirements_is_not_configured(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_no_python())
    build = await harness.run(import_resource(f"{registry.host}/{repo_name}:1"))
    status = build["status"]
    assert status["phase"] == "Failed"
    condition = ready_condition(build)
    assert condition["reason"] == "RequirementsNotMet"
    assert "python3" in condition["message"]
    assert any(c["result"] == "fail" for c in status["checks"])
    validating = next(c for c in status["conditions"] if c["type"] == "Validating")
    assert (validating["status"], validating["reason"]) == ("False", "RequirementsNotMet")
    assert status["conditions"][-1]["type"] == "Ready"  # the latest condition is shown
    with pytest.raises(NotFoundError):
        harness.store.get("imported")  # a failed import never creates a runtime image


async def test_profiles_named_in_the_spec_are_checked(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.kubeflow_root_no_port())
    build = await harness.run(
        import_resource(f"{registry.host}/{repo_name}:1", profiles=["kubeflow"])
    )
    assert ready_condition(build)["reason"] == "RequirementsNotMet"
    assert {c["profile"] for c in build["status"]["checks"]} == {"kubeflow"}


async def test_missing_tag_is_image_not_found(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    build = await harness.run(import_resource(f"{registry.host}/{repo_name}:nope"))
    assert ready_condition(build)["reason"] == "ImageNotFound"
    importing = next(c for c in build["status"]["conditions"] if c["type"] == "Importing")
    assert (importing["status"], importing["reason"]) == ("False", "ImageNotFound")


async def test_registry_asking_for_credentials_is_auth_required(
    harness: Harness, basic_registry: RegistryServer, repo_name: str
) -> None:
    with basic_registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    build = await harness.run(import_resource(f"{basic_registry.host}/{repo_name}:1"))
    condition = ready_condition(build)
    assert condition["reason"] == "AuthRequired"
    assert "auth file" in condition["message"]


async def test_unreachable_registry_is_registry_unavailable(harness: Harness) -> None:
    build = await harness.run(import_resource(f"127.0.0.1:{free_port()}/x/y:1"))
    condition = ready_condition(build)
    assert condition["reason"] == "RegistryUnavailable"
    assert "could not be reached" in condition["message"]


async def test_corrupted_layer_is_digest_mismatch(
    harness: Harness, own_registry: RegistryServer
) -> None:
    image = images.elyra_ok()
    with own_registry.pusher() as pusher:
        pusher.push_image("corrupt/layer", "1", image)
    path = blob_file(own_registry, image.layers[0].blob.digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    build = await harness.run(import_resource(f"{own_registry.host}/corrupt/layer:1"))
    assert ready_condition(build)["reason"] == "DigestMismatch"


@pytest.fixture
def silent_registry() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: an import waits there."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


async def test_cancel_a_running_import(harness: Harness, silent_registry: str) -> None:
    await harness.controller.submit(import_resource(f"{silent_registry}/x/y:1"))
    for _ in range(100):
        if harness.controller.get("imported")["status"]["phase"] == "Building":
            break
        await asyncio.sleep(0.05)
    cancelled = await harness.controller.cancel("imported")
    assert cancelled["status"]["phase"] == "Failed"
    assert ready_condition(cancelled)["reason"] == "Cancelled"
    with pytest.raises(ConflictError):
        await harness.controller.cancel("imported")
    assert harness.events[-1]["reason"] == "Cancelled"


async def test_delete_cancels_and_removes(harness: Harness, silent_registry: str) -> None:
    await harness.controller.submit(import_resource(f"{silent_registry}/x/y:1"))
    await asyncio.sleep(0.2)
    await harness.controller.delete("imported")
    with pytest.raises(NotFoundError):
        harness.controller.get("imported")
    assert harness.events[-1] == {"name": "imported", "phase": "Deleted"}


async def test_concurrency_limit_keeps_extra_builds_pending(
    harness: Harness, silent_registry: str
) -> None:
    for number in range(3):
        await harness.controller.submit(
            import_resource(f"{silent_registry}/x/y:{number}", name=f"b{number}")
        )
    await asyncio.sleep(0.5)
    phases = sorted(harness.controller.get(f"b{n}")["status"]["phase"] for n in range(3))
    assert phases == ["Building", "Building", "Pending"]  # default concurrency: 2


async def test_retry_runs_an_ended_build_again(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    source = f"{registry.host}/{repo_name}:1"
    build = await harness.run(import_resource(source))
    assert ready_condition(build)["reason"] == "ImageNotFound"
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    retried = await harness.controller.retry("imported")
    assert retried["metadata"]["generation"] == 2
    build = await harness.wait("imported")
    assert build["status"]["phase"] == "Ready"
    assert all(c["observedGeneration"] == 2 for c in build["status"]["conditions"])


async def test_resources_written_by_another_process_are_picked_up(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    """What the CLI does when a server runs: it writes the resource, the server builds it."""
    from runtime_images.builds import model
    from runtime_images.builds.store import BuildStore

    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    resource = model.normalize(import_resource(f"{registry.host}/{repo_name}:1", name="external"))
    resource["status"] = {"phase": "Pending", "engine": "embedded"}
    BuildStore(harness.controller.resources.directory).create(resource)
    build = await harness.wait("external")
    assert build["status"]["phase"] == "Ready"


async def test_a_retried_build_keeps_what_a_person_added_to_its_runtime_image(
    harness: Harness, registry: RegistryServer, repo_name: str
) -> None:
    """One rule for tags (``imported`` for an ImageImport, ``built`` for a build, whatever
    the engine), and an update merges: a person's tags and pull policy survive a retry."""
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    build = await harness.run(import_resource(f"{registry.host}/{repo_name}:1", name="kept"))
    assert build["status"]["phase"] == "Ready", build["status"]["conditions"]
    assert harness.store.get("kept").to_api()["metadata"]["tags"] == ["imported"]
    harness.store.patch("kept", {"metadata": {"tags": ["gpu"], "pull_policy": "Always"}})

    await harness.controller.retry("kept")
    build = await harness.wait("kept")
    assert build["status"]["phase"] == "Ready", build["status"]["conditions"]
    metadata = harness.store.get("kept").to_api()["metadata"]
    assert metadata["tags"] == ["gpu", "imported"]
    assert metadata["pull_policy"] == "Always"
