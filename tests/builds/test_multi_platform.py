"""Multi-platform PackageList builds: one image index, wheels resolved per platform by pip.

The base is a real two-platform index in the test registry (an amd64 and an arm64 image made
by the tests); packages come from PyPI. The real Debian arm64 base, and running the result
under qemu-user, are in ``test_multi_platform_debian.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runtime_images.builds import model
from runtime_images.errors import ValidationFailedError
from runtime_images.inspect import ImageView, inspect_image
from runtime_images.registry import RegistryClient
from tests.fixtures.oci import ImageConfig, make_image, make_index
from tests.fixtures.registry import RegistryServer

from .test_layer_builds import BuildHarness, base_image, git_build, git_repository, package_list

pytestmark = pytest.mark.timeout(300)


def on_platforms(resource: dict[str, Any], platforms: str) -> dict[str, Any]:
    resource["metadata"]["annotations"][model.ANNOTATION_PLATFORMS] = platforms
    return resource


@pytest.fixture
def two_platform_base(registry: RegistryServer, repo_name: str) -> str:
    """``base_image()`` for linux/amd64 and linux/arm64, as one index."""
    amd64 = base_image()
    arm64 = make_image(
        base_image().layers,
        ImageConfig(user="1000", working_dir="/home/jovyan", architecture="arm64"),
    )
    with registry.pusher() as pusher:
        pusher.push_index(repo_name, "1", [amd64, arm64], make_index([amd64, arm64]))
    return f"{registry.host}/{repo_name}:1"


async def test_one_build_makes_an_index_with_each_platforms_packages(
    builder: BuildHarness, two_platform_base: str, registry: RegistryServer
) -> None:
    resource = package_list("two-platforms", two_platform_base, "six==1.17.0", "idna==3.10")
    build = await builder.run(on_platforms(resource, "linux/amd64,linux/arm64"))
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert [p["platform"] for p in status["platforms"]] == ["linux/amd64", "linux/arm64"]
    assert sorted(line.split(" ")[0] for line in status["lock"]) == ["idna==3.10", "six==1.17.0"]
    # Each platform after the first is checked as soon as it is built (its base's parsed
    # view is then let go): one platform's view is held at a time, not all until the end.
    log = builder.controller.read_log("two-platforms")
    assert log.index("Checking the image for linux/arm64.") < log.index("Pushing")

    async with RegistryClient(retries=0) as client:
        index = await client.get_manifest(status["image"])
        assert index.is_index
        assert [str(entry.platform) for entry in index.manifests] == [
            "linux/amd64",
            "linux/arm64",
        ]
        assert [entry.digest for entry in index.manifests] == [
            p["digest"] for p in status["platforms"]
        ]
    for platform in ("linux/amd64", "linux/arm64"):
        view = await inspect_platform(status["image"], platform)
        assert view.report.platform == platform
        versions = {d.name.lower(): d.version for d in view.report.distributions}
        assert versions["six"] == "1.17.0" and versions["idna"] == "3.10"
        assert view.fs.lookup("/usr/local/lib/python3.11/dist-packages/six.py") is not None

    runtime_image = builder.store.get("two-platforms").to_api()
    assert runtime_image["metadata"]["image_name"] == status["image"]


async def test_a_repository_build_adds_its_files_to_every_platform(
    builder: BuildHarness, two_platform_base: str, tmp_path: Path
) -> None:
    url = git_repository(
        tmp_path / "repo",
        {"requirements.txt": "six==1.17.0\n", "notebooks/a.ipynb": '{"cells": []}'},
    )
    resource = git_build("git-two-platforms", url, two_platform_base)
    build = await builder.run(on_platforms(resource, "linux/arm64,linux/amd64"))
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    for platform in ("linux/arm64", "linux/amd64"):
        view = await inspect_platform(status["image"], platform)
        assert view.fs.lookup("/home/jovyan/notebooks/a.ipynb") is not None
        assert {d.name.lower(): d.version for d in view.report.distributions}["six"] == "1.17.0"


async def test_a_platform_without_a_wheel_fails_with_requires_build_naming_it(
    builder: BuildHarness, two_platform_base: str
) -> None:
    """Intel's tbb has manylinux x86_64 wheels only: the amd64 image could be built, the
    arm64 one cannot without compiling, so the build fails naming the platform."""
    resource = package_list("no-arm-wheel", two_platform_base, "tbb==2023.2.0")
    build = await builder.run(on_platforms(resource, "linux/amd64,linux/arm64"))
    latest = build["status"]["conditions"][-1]
    assert (latest["reason"], build["status"]["phase"]) == ("RequiresBuild", "Failed")
    assert latest["message"].startswith("linux/arm64: ")
    assert "No wheel of tbb" in latest["message"] and "aarch64" in latest["message"]


async def test_a_platform_the_base_lacks_is_named_with_those_it_has(
    builder: BuildHarness, base: str
) -> None:
    resource = package_list("no-such-platform", base, "six==1.17.0")
    build = await builder.run(on_platforms(resource, "linux/amd64,linux/s390x"))
    latest = build["status"]["conditions"][-1]
    assert (latest["reason"], build["status"]["phase"]) == ("ImageNotFound", "Failed")
    assert "linux/s390x" in latest["message"] and "linux/amd64" in latest["message"]


def test_engines_that_build_one_platform_refuse_the_annotation_at_submit(
    builder: BuildHarness, two_platform_base: str
) -> None:
    """The buildah engine (installed here) builds this machine's platform only."""
    assert "buildah" in builder.controller.engines
    resource = on_platforms(
        package_list("buildah-two", two_platform_base, "six"), "linux/amd64,linux/arm64"
    )
    with pytest.raises(ValidationFailedError) as raised:
        builder.controller.new_resource(resource, engine="buildah")
    assert raised.value.errors[0].path == f"metadata.annotations.{model.ANNOTATION_PLATFORMS}"
    assert "buildah engine builds one platform" in raised.value.errors[0].message


async def inspect_platform(reference: str, platform: str) -> ImageView:
    async with RegistryClient(retries=0) as client:
        return await inspect_image(client, reference, platform=platform)
