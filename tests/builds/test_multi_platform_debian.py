"""A multi-platform build on a real Debian index — amd64 from ``debootstrap``, arm64 from
``debootstrap --foreign`` (tests/fixtures/debian.py) — with six from PyPI, and each
platform's result run: its python3 imports six under qemu-user (``qemu-aarch64 -L <rootfs>``,
and ``qemu-x86_64`` for amd64, so each runs on its own image's libraries). Nothing of the
build runs emulated: pip resolved the wheels for each platform on the host."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runtime_images.reference import parse
from tests.fixtures import debian
from tests.fixtures.registry import RegistryServer

from .test_layer_builds import BuildHarness, package_list
from .test_multi_platform import on_platforms

pytestmark = pytest.mark.timeout(900)
EMULATORS = {"linux/amd64": "qemu-x86_64", "linux/arm64": "qemu-aarch64"}


@pytest.fixture(scope="module")
def two_platform_debian(registry: RegistryServer) -> str:
    """The Debian amd64 and arm64 images as one index in the test registry."""
    missing = debian.missing_tools() + [q for q in EMULATORS.values() if not shutil.which(q)]
    if missing:  # a missing tool fails the suite: never skipped
        pytest.fail(f"{', '.join(missing)} not installed: ./scripts/dev.sh test installs them")
    return debian.push(registry.host, "test/debian-two-platforms", two_platforms=True)


def unpack(reference: str, platform: str, directory: Path) -> Path:
    """One platform's image of ``reference`` as a root filesystem (skopeo and umoci)."""
    architecture = platform.split("/")[1]
    directory.mkdir()
    layout = f"{directory / 'layout'}:image"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "--override-arch",
            architecture,
            f"docker://{parse(reference).with_tag(None)}",  # skopeo takes a tag or a digest
            f"oci:{layout}",
        ],
        check=True,
    )
    rootless = [] if os.geteuid() == 0 else ["--rootless"]
    bundle = directory / "bundle"
    subprocess.run(
        ["umoci", "unpack", *rootless, "--image", layout, str(bundle)],
        check=True,
        capture_output=True,
    )
    return bundle / "rootfs"


async def test_each_platform_of_the_index_runs_the_installed_package(
    builder: BuildHarness, two_platform_debian: str, tmp_path: Path
) -> None:
    resource = package_list("debian-two-platforms", two_platform_debian, "six==1.17.0")
    build = await builder.run(on_platforms(resource, "linux/amd64,linux/arm64"))
    status = build["status"]
    assert status["phase"] == "Ready", status["conditions"]
    assert [p["platform"] for p in status["platforms"]] == list(EMULATORS)

    for platform in EMULATORS:
        directory = tmp_path / platform.replace("/", "-")
        machine, version, module = await asyncio.to_thread(
            run_six, status["image"], platform, directory
        )
        assert (machine, version) == ({"linux/amd64": "x86_64"}.get(platform, "aarch64"), "1.17.0")
        assert module == str(
            directory / "bundle/rootfs/usr/local/lib/python3.11/dist-packages/six.py"
        )


def run_six(reference: str, platform: str, directory: Path) -> list[str]:
    """Unpack one platform's image and import six with its python3, emulated."""
    rootfs = unpack(reference, platform, directory)
    ran = subprocess.run(
        [
            EMULATORS[platform],
            "-L",
            str(rootfs),
            str(rootfs / "usr/bin/python3"),
            "-c",
            "import platform, six; print(platform.machine(), six.__version__, six.__file__)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.split()
