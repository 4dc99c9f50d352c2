"""The ``vulnerabilities`` profile in CustomNBImage checks: an import is refused when the
image has a fixable finding at or above the configured severity (real registry, real
controller, records written by the test)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from traitlets.config import Config

from runtime_images.builds.wiring import make_build_controller
from runtime_images.contents import ContentsReader
from runtime_images.inspect import ImageInspector
from runtime_images.vulns import VulnerabilityDatabase
from runtime_images.vulns.profile import document_checks
from tests.builds.test_controller import Harness, import_resource, ready_condition
from tests.builds.test_layer_builds import SITE, base_image, package_list
from tests.builds.test_multi_platform import on_platforms
from tests.fixtures import images, oci
from tests.fixtures.oci import ImageConfig, LayerBuilder
from tests.fixtures.registry import RegistryServer

from .osv_records import CRITICAL_V3, record, write_records

pytestmark = pytest.mark.timeout(120)


class VulnsHarness(Harness):
    """The build harness with the vulnerability checks wired as the app wires them."""

    def __init__(self, tmp_path: Path, config: Config | None = None) -> None:
        super().__init__(tmp_path, config)
        inspector = ImageInspector()
        self.database = VulnerabilityDatabase(path=str(tmp_path / "vulns-db"))
        reader = ContentsReader(cache_dir=str(tmp_path / "contents"), inspector=inspector)
        self.controller = make_build_controller(
            None,
            self.store,
            self.client,
            inspector,
            emit=self.events.append,
            builds_dir=str(tmp_path / "vuln-builds"),
            poll_interval=0.1,
            config=config or Config(),
            document_checks=functools.partial(document_checks, reader, self.database, self.client),
        )


@pytest.fixture
def harness(
    tmp_path: Path, isolated_home: Path, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> Iterator[VulnsHarness]:
    yield from VulnsHarness(tmp_path).running(jp_asyncio_loop)


async def test_an_import_with_a_fixable_critical_finding_is_refused(
    harness: VulnsHarness, registry: RegistryServer, repo_name: str
) -> None:
    # The base image's pip 23.0.1 (a dist-info of /usr/lib/python3/dist-packages).
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", oci.make_image([images.base_layer()]))
    write_records(
        Path(harness.database.path),
        record("PYSEC-1", "PyPI", "pip", fixed="23.3", vector=CRITICAL_V3),
    )
    reference = f"{registry.host}/{repo_name}:1"
    build = await harness.run(
        import_resource(reference, name="refused", profiles=["elyra", "vulnerabilities"])
    )
    assert ready_condition(build)["reason"] == "RequirementsNotMet", build["status"]
    checks = {(c["profile"], c["id"]): c for c in build["status"]["checks"]}
    fixable = checks[("vulnerabilities", "fixable")]
    assert (
        fixable["result"] == "fail"
        and "PYSEC-1 in pip 23.0.1 (fixed in 23.3)" in fixable["message"]
    )

    # Only findings below the threshold: the import is Ready, with a warning.
    harness.database.fail_severity = "critical"
    write_records(Path(harness.database.path), record("PYSEC-1", "PyPI", "pip", fixed="23.3"))
    build = await harness.run(
        import_resource(reference, name="accepted", profiles=["vulnerabilities"])
    )
    assert build["status"]["phase"] == "Ready", build["status"]
    checks = {(c["profile"], c["id"]): c for c in build["status"]["checks"]}
    assert checks[("vulnerabilities", "known")]["result"] == "warn"


async def test_every_platform_of_a_multi_platform_build_is_checked_and_named(
    tmp_path: Path, isolated_home: Path, registry: RegistryServer, repo_name: str
) -> None:
    """The arm64 base lacks curl (an Elyra requirement) and has urllib3 1.26.0 (a fixable
    critical finding); the amd64 base has neither problem. The build fails naming arm64
    for both: the image's inspection checks and its vulnerability checks read each
    platform, not only the registry's default one."""
    amd64 = base_image()
    vulnerable = LayerBuilder()
    vulnerable.file(
        f"{SITE}/urllib3-1.26.0.dist-info/METADATA", images.metadata("urllib3", "1.26.0")
    )
    vulnerable.file(f"{SITE}/urllib3-1.26.0.dist-info/RECORD", "")
    arm64 = oci.make_image(
        [images.base_layer(curl=False), images.jovyan_layer(), vulnerable.build()],
        ImageConfig(user="1000", working_dir="/home/jovyan", architecture="arm64"),
    )
    with registry.pusher() as pusher:
        pusher.push_index(repo_name, "1", [amd64, arm64], oci.make_index([amd64, arm64]))
    config = Config(
        {
            "ImageBuilder": {
                "layout_dir": str(tmp_path / "layout"),
                "target_registry": f"{registry.host}/built",
            }
        }
    )
    harness = VulnsHarness(tmp_path, config)
    write_records(
        Path(harness.database.path),
        record("PYSEC-2", "PyPI", "urllib3", fixed="1.26.5", vector=CRITICAL_V3),
    )
    resource = package_list("checked", f"{registry.host}/{repo_name}:1", "six==1.17.0")
    resource["spec"]["profiles"] = ["elyra", "vulnerabilities"]
    async with harness.started():
        build = await harness.run(on_platforms(resource, "linux/amd64,linux/arm64"))

    assert ready_condition(build)["reason"] == "RequirementsNotMet", build["status"]
    not_passed = [c for c in build["status"]["checks"] if c["result"] != "pass"]
    failed = {(c["profile"], c["id"]): c["message"] for c in not_passed if c["result"] == "fail"}
    assert failed[("vulnerabilities", "fixable")].startswith("linux/arm64: ")
    assert "PYSEC-2 in urllib3 1.26.0 (fixed in 1.26.5)" in failed[("vulnerabilities", "fixable")]
    assert any(
        k[0] == "elyra" and m.startswith("linux/arm64: ") and "curl" in m for k, m in failed.items()
    )
    # linux/amd64, the first platform, passes everything it is checked for.
    assert all(c["message"].startswith("linux/arm64: ") for c in not_passed), not_passed
