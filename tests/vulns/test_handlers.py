"""``GET vulns`` and ``GET vulns/summary`` through a real Jupyter server and a real
registry, on an image with a venv and a conda environment (the test writes the records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer
from tests.support import Fetch, create_image, rest

from .osv_records import CRITICAL_V3, MEDIUM_V3, record, write_records

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def database_dir(tmp_path: Path) -> Path:
    return tmp_path / "vulnerability-db"


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], database_dir: Path, tmp_path: Path
) -> dict[str, Any]:
    return {
        **jp_server_config,
        "RegistryClient": {"retries": 0},
        "ContentsReader": {"cache_dir": str(tmp_path / "contents-cache")},
        "VulnerabilityDatabase": {"path": str(database_dir)},
    }


def environments_layer() -> oci.Layer:
    """A venv with Jinja2 and a conda environment whose numpy is a Python distribution."""
    b = oci.LayerBuilder()
    b.dir("opt").dir("opt/venv").file("opt/venv/pyvenv.cfg", "home = /usr/bin\n")
    for prefix, name, version in (
        ("opt/venv", "Jinja2", "3.1.2"),
        ("opt/conda", "numpy", "1.26.0"),
    ):
        site = f"{prefix}/lib/python3.11/site-packages"
        b.dir(prefix).dir(f"{prefix}/lib").dir(f"{prefix}/lib/python3.11").dir(site)
        info = f"{site}/{name}-{version}.dist-info"
        b.dir(info).file(f"{info}/METADATA", images.metadata(name, version))
    b.dir("opt/conda/conda-meta")
    for name, version in (("numpy", "1.26.0"), ("openssl", "3.0.0")):
        meta = {"name": name, "version": version, "build": "h1_0", "subdir": "linux-64"}
        b.file(f"opt/conda/conda-meta/{name}-{version}-h1_0.json", json.dumps(meta))
    return b.build()


@pytest.fixture
def environments_image(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> tuple[oci.Image, str]:
    """The image with :func:`environments_layer`, pushed as ``<repo_name>:1``: it and its
    reference."""
    image = oci.make_image([images.base_layer(), environments_layer()])
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", image)
    return image, f"{registry.host}/{repo_name}:1"


async def test_findings_of_an_image_and_the_summary(
    jp_fetch: Fetch, environments_image: tuple[oci.Image, str], database_dir: Path
) -> None:
    image, reference = environments_image
    created = await create_image(jp_fetch, "Envs", reference)

    status, _, missing = await rest(jp_fetch, "GET", "vulns", params={"name": created["name"]})
    assert status == 409 and missing["code"] == "VulnerabilityDatabaseMissing", missing
    assert "--update-db" in missing["message"]

    write_records(
        database_dir,
        record("GHSA-jinja", "PyPI", "jinja2", fixed="3.1.3", vector=MEDIUM_V3),
        record("GHSA-numpy", "PyPI", "numpy", fixed="1.26.4", vector=CRITICAL_V3),
        record("GHSA-openssl", "PyPI", "openssl", fixed="99"),
        record("GHSA-old", "PyPI", "jinja2", fixed="2.0"),
    )
    status, _, summary = await rest(jp_fetch, "GET", "vulns", "summary")
    assert (status, summary) == (200, {"images": {}})  # nothing matched yet, nothing read

    status, _, report = await rest(jp_fetch, "GET", "vulns", params={"name": created["name"]})
    assert status == 200, report
    assert report["database"]["records"] == 4
    found = {f["id"]: f for f in report["findings"]}
    assert set(found) == {"GHSA-jinja", "GHSA-numpy"}
    assert found["GHSA-numpy"]["ecosystem"] == "conda"
    assert found["GHSA-numpy"]["environment"] == "/opt/conda"
    assert "PyPI" in found["GHSA-numpy"]["matched_as"]
    assert found["GHSA-numpy"]["layer"] == 1
    assert found["GHSA-jinja"]["environment"] == "/opt/venv"
    assert found["GHSA-jinja"]["fixed_version"] == "3.1.3"
    assert report["counts"] == {"critical": 1, "high": 0, "medium": 1, "low": 0, "unknown": 0}

    status, _, high = await rest(
        jp_fetch, "GET", "vulns", params={"image": reference, "severity": "high"}
    )
    assert status == 200 and [f["id"] for f in high["findings"]] == ["GHSA-numpy"]
    assert high["total"] == 2

    status, _, summary = await rest(jp_fetch, "GET", "vulns", "summary")
    assert status == 200
    assert summary["images"][created["name"]]["counts"] == report["counts"]
    assert summary["images"][created["name"]]["digest"].startswith(image.digest)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "image"),
        ({"image": "a", "name": "b"}, "image"),
        ({"image": "not a reference!"}, "image"),
        ({"image": "a", "severity": "severe"}, "severity"),
        ({"image": "a", "fixable": "yes"}, "fixable"),
        ({"image": "x" * 2000}, "image"),
    ],
)
async def test_bad_queries_name_their_field(
    jp_fetch: Fetch, params: dict[str, str], field: str
) -> None:
    status, _, answer = await rest(jp_fetch, "GET", "vulns", params=params)
    assert status == 400, answer
    assert answer["errors"][0]["path"] == field


async def test_the_vulnerabilities_profile_in_validate(
    jp_fetch: Fetch, environments_image: tuple[oci.Image, str], database_dir: Path
) -> None:
    _, reference = environments_image
    body = {"image": reference, "profiles": ["elyra", "vulnerabilities"]}

    status, _, result = await rest(jp_fetch, "POST", "validate", body=body)
    assert status == 200, result
    checks = {(c["profile"], c["id"]): c for c in result["checks"]}
    assert checks[("vulnerabilities", "database")]["result"] == "warn"  # no database yet
    assert checks[("elyra", "python3")]["result"] == "pass"

    # A fixable medium finding and an unfixed critical one: warn, not fail (high).
    write_records(
        database_dir,
        record("GHSA-jinja", "PyPI", "jinja2", fixed="3.1.3", vector=MEDIUM_V3),
        record("GHSA-numpy", "PyPI", "numpy", vector=CRITICAL_V3),
    )
    status, _, result = await rest(jp_fetch, "POST", "validate", body=body)
    checks = {(c["profile"], c["id"]): c for c in result["checks"]}
    assert result["ok"] is True
    assert checks[("vulnerabilities", "fixable")]["result"] == "pass"
    assert checks[("vulnerabilities", "known")]["result"] == "warn"
    assert "GHSA-numpy" in checks[("vulnerabilities", "known")]["message"]

    # The database changes (numpy gets a fix): the next check fails, the image unchanged.
    write_records(
        database_dir, record("GHSA-numpy", "PyPI", "numpy", fixed="2.0", vector=CRITICAL_V3)
    )
    status, _, result = await rest(jp_fetch, "POST", "validate", body=body)
    checks = {(c["profile"], c["id"]): c for c in result["checks"]}
    assert result["ok"] is False
    fixable = checks[("vulnerabilities", "fixable")]
    assert (
        fixable["result"] == "fail"
        and "GHSA-numpy in numpy 1.26.0 (fixed in 2.0)" in fixable["message"]
    )

    status, _, unknown = await rest(
        jp_fetch, "POST", "validate", body={"image": reference, "profiles": ["vulns"]}
    )
    assert status == 400 and "vulnerabilities" in unknown["message"]


@pytest.mark.parametrize(
    "hostile",
    [b"[" * 100_000 + b"]" * 100_000, b"[]", b'{"counts": [], "findings": {}}'],
    ids=["too-deep", "a-list", "wrong-types"],
)
async def test_a_hostile_results_file_is_a_miss(
    jp_fetch: Fetch,
    environments_image: tuple[oci.Image, str],
    database_dir: Path,
    hostile: bytes,
) -> None:
    """The kept reports are files in the data directory, input like any other: one nested
    past json's recursion limit, or not a report, was a 500 for the image and the summary;
    now it is a miss, matched again and rewritten."""
    _image, reference = environments_image
    created = await create_image(jp_fetch, "Envs", reference)
    write_records(database_dir, record("GHSA-jinja", "PyPI", "jinja2", fixed="3.1.3"))
    status, _, report = await rest(jp_fetch, "GET", "vulns", params={"name": created["name"]})
    assert status == 200, report
    kept = sorted(database_dir.glob("**/results-*/*.json"))
    assert kept, "the report and the reference's pointer are kept"
    for path in kept:
        path.write_bytes(hostile)
    status, _, summary = await rest(jp_fetch, "GET", "vulns", "summary")
    assert (status, summary) == (200, {"images": {}}), summary
    status, _, again = await rest(jp_fetch, "GET", "vulns", params={"name": created["name"]})
    assert status == 200, again
    assert again["findings"] == report["findings"] and again["counts"] == report["counts"]
    status, _, summary = await rest(jp_fetch, "GET", "vulns", "summary")
    assert summary["images"][created["name"]]["counts"] == report["counts"]
