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
from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer

from .osv_records import CRITICAL_V3, record, write_records

pytestmark = pytest.mark.timeout(120)


class VulnsHarness(Harness):
    """The build harness with the vulnerability checks wired as the app wires them."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
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
            config=Config(),
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
