"""Matching the packages of the real debootstrap image (tests/fixtures/debian.py) against
records the tests write: binary and source packages, releases, withdrawn records, fixes
below the installed version, Python distributions in the system, a venv and a conda
environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime_images.contents.budget import ContentBudget
from runtime_images.contents.dpkg import parse_status
from runtime_images.contents.model import Package
from runtime_images.vulns import VulnerabilityDatabase, filter_findings

from ..fixtures import debian
from .osv_records import CRITICAL_V3, MEDIUM_V3, record, write_archive, write_records


@pytest.fixture(scope="module")
def rootfs() -> Path:
    missing = debian.missing_tools()
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: ./scripts/dev.sh test installs them")
    return debian.rootfs()


def package(ecosystem: str, name: str, version: str, environment: str, **extra: object) -> Package:
    fields: dict[str, object] = {
        "architecture": None,
        "source": None,
        "licenses": [],
        "layer": 0,
        "installed_size": None,
        "purl": f"pkg:{ecosystem}/{name}@{version}",
        "database": "test",
    }
    fields.update(extra)
    return Package(ecosystem, name, version, environment=environment, **fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def image_packages(rootfs: Path) -> list[Package]:
    """The image's Debian packages as dpkg recorded them, its system pip (the dist-info
    debootstrap installed), and a venv and a conda environment added on top."""
    with (rootfs / "var/lib/dpkg/status").open("rb") as stream:
        records = parse_status(stream, ContentBudget(), "var/lib/dpkg/status")
    packages = [
        package("deb", r.name, r.version, "/", source=r.source, architecture=r.architecture)
        for r in records
    ]
    dist_packages = rootfs / "usr/lib/python3/dist-packages"
    (pip_info,) = dist_packages.glob("pip-*.dist-info")
    pip_version = pip_info.name.removeprefix("pip-").removesuffix(".dist-info")
    packages.append(package("pypi", "pip", pip_version, "/usr", layer=0))
    packages.append(package("pypi", "Jinja2", "3.1.2", "/opt/venv", layer=2))
    packages.append(package("conda", "numpy", "1.26.0", "/opt/conda", layer=3))
    packages.append(package("pypi", "numpy", "1.26.0", "/opt/conda", layer=3))
    packages.append(package("conda", "openssl", "3.0.0", "/opt/conda", layer=3))
    return packages


def installed(packages: list[Package], name: str) -> Package:
    return next(p for p in packages if p.name == name and p.ecosystem == "deb")


def database(path: Path) -> VulnerabilityDatabase:
    return VulnerabilityDatabase(path=str(path))


def test_debian_records_match_by_release_source_and_fix(
    tmp_path: Path, image_packages: list[Package]
) -> None:
    libc = installed(image_packages, "libc6")
    assert libc.source == "glibc"
    curl = installed(image_packages, "curl")
    bsdutils = installed(image_packages, "bsdutils")
    # bsdutils is 1:2.38.1-… built from util-linux 2.38.1-… (no epoch): only the source's
    # version orders below the fix.
    assert bsdutils.version.startswith("1:") and bsdutils.source
    source_version = bsdutils.source.split("(")[1].rstrip(")")
    write_archive(
        tmp_path / "db" / "Debian:12" / "all.zip",
        record("DSA-9001-1", "Debian:12", "glibc", fixed=libc.version + "+sec1"),
        record("DSA-9002-1", "Debian:12", "glibc", fixed="2.36-9"),  # fixed below installed
        record(
            "DSA-9003-1",
            "Debian:12",
            "curl",
            fixed=curl.version + "+sec1",
            withdrawn="2026-02-01T00:00:00Z",
        ),
        record("DSA-9004-1", "Debian:12", "util-linux", fixed=source_version + "+sec1"),
        record("DEBIAN-CVE-2099-1", "Debian:12", "curl", aliases=["CVE-2099-1"]),  # no fix yet
    )
    write_records(
        tmp_path / "db" / "other",
        record("DSA-9005-1", "Debian:11", "curl", fixed=curl.version + "+sec1"),
    )
    index, result = database(tmp_path / "db").match(image_packages, "debian", "12")

    by_id: dict[str, list[object]] = {}
    for finding in result.findings:
        by_id.setdefault(finding.id, []).append(finding)
    assert set(by_id) == {"DSA-9001-1", "DSA-9004-1", "DEBIAN-CVE-2099-1"}

    glibc = {f.package: f for f in by_id["DSA-9001-1"]}  # type: ignore[attr-defined]
    binaries = {p.name for p in image_packages if p.source == "glibc"}
    assert {"libc6", "libc-bin"} <= binaries and set(glibc) == binaries
    assert glibc["libc6"].fixed_version == libc.version + "+sec1"
    assert glibc["libc6"].installed_version == libc.version
    assert glibc["libc6"].matched_as == f"source package glibc {libc.version}"
    assert glibc["libc6"].osv_ecosystem == "Debian:12"

    # curl's source package builds curl and libcurl4: both are affected.
    unfixed = {f.package: f for f in by_id["DEBIAN-CVE-2099-1"]}  # type: ignore[attr-defined]
    assert set(unfixed) == {
        p.name for p in image_packages if p.name == "curl" or p.source == "curl"
    }
    assert {"curl", "libcurl4"} <= set(unfixed)
    assert unfixed["curl"].fixed_version is None and unfixed["curl"].aliases == ["CVE-2099-1"]
    assert unfixed["curl"].matched_as is None
    assert unfixed["libcurl4"].matched_as == f"source package curl {curl.version}"
    assert unfixed["curl"].severity.level == "unknown"

    util_linux = {f.package for f in by_id["DSA-9004-1"]}  # type: ignore[attr-defined]
    assert "bsdutils" in util_linux
    assert index.info.withdrawn == 1 and index.info.records == 5


def test_python_distributions_in_system_venv_and_conda(
    tmp_path: Path, image_packages: list[Package]
) -> None:
    pip = next(p for p in image_packages if p.name == "pip")
    write_records(
        tmp_path / "db",
        record("PYSEC-1", "PyPI", "pip", fixed="99.0", vector=CRITICAL_V3),
        record("PYSEC-2", "PyPI", "pip", introduced="1.0", fixed=pip.version),  # fixed already
        record("GHSA-jinja", "PyPI", "jinja2", fixed="3.1.3", vector=MEDIUM_V3),
        record("GHSA-numpy", "PyPI", "NumPy", last_affected="1.26.0"),
        record("GHSA-openssl", "PyPI", "openssl", fixed="99"),
    )
    _index, result = database(tmp_path / "db").match(image_packages, "debian", "12")
    found = {f.id: f for f in result.findings}
    assert set(found) == {"PYSEC-1", "GHSA-jinja", "GHSA-numpy"}
    assert found["PYSEC-1"].environment == "/usr"
    assert found["PYSEC-1"].fixed_version == "99.0"
    assert (found["PYSEC-1"].severity.level, found["PYSEC-1"].severity.score) == ("critical", 9.8)
    assert found["GHSA-jinja"].environment == "/opt/venv" and found["GHSA-jinja"].layer == 2
    assert found["GHSA-jinja"].severity.level == "medium"
    numpy = found["GHSA-numpy"]
    assert (numpy.ecosystem, numpy.environment) == ("conda", "/opt/conda")
    assert numpy.matched_as is not None and "PyPI" in numpy.matched_as
    assert numpy.fixed_version is None
    # Most severe first; the filters of the CLI and the API.
    assert result.findings[0].id == "PYSEC-1"
    assert [f.id for f in filter_findings(result.findings, "high")] == ["PYSEC-1"]
    assert {f.id for f in filter_findings(result.findings, fixable=True)} == {
        "PYSEC-1",
        "GHSA-jinja",
    }


def test_an_unknown_release_is_said_not_guessed(
    tmp_path: Path, image_packages: list[Package]
) -> None:
    write_records(tmp_path / "db", record("DSA-1", "Debian:12", "curl"))
    _index, result = database(tmp_path / "db").match(image_packages, "debian", None)
    assert result.findings == []
    assert "no release-specific OSV ecosystem" in result.notes[0]
