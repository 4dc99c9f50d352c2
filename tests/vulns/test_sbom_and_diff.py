"""The findings in the SBOM (CycloneDX ``vulnerabilities``) and in the diff of two images,
from inspection documents of the real debootstrap image's packages (tests/fixtures/debian.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from runtime_images.contents.model import Package
from runtime_images.contents.sbom import cyclonedx
from runtime_images.vulns import VulnerabilityDatabase
from runtime_images.vulns.sbom import diff_vulnerabilities, sbom_with_vulnerabilities

from .osv_records import CRITICAL_V3, record, write_archive
from .test_match import image_packages, rootfs  # noqa: F401  (fixtures)


def document(packages: list[Package], digest: str) -> dict[str, Any]:
    return {
        "image": {
            "reference": f"example.org/debian@{digest}",
            "digest": digest,
            "platform": "linux/amd64",
        },
        "os": {"id": "debian", "version_id": "12", "pretty_name": "Debian 12"},
        "packages": [p.to_json() for p in packages],
    }


@pytest.fixture
def database(tmp_path: Path, image_packages: list[Package]) -> VulnerabilityDatabase:  # noqa: F811
    libc = next(p for p in image_packages if p.name == "libc6")
    write_archive(
        tmp_path / "db" / "Debian:12" / "all.zip",
        record(
            "DSA-1",
            "Debian:12",
            "glibc",
            fixed=libc.version + "+sec1",
            vector=CRITICAL_V3,
            aliases=["CVE-2099-7"],
        ),
        record("DSA-2", "Debian:12", "curl", fixed="7.88.1-10+deb12u99"),
    )
    return VulnerabilityDatabase(path=str(tmp_path / "db"))


def test_cyclonedx_vulnerabilities_affect_the_sbom_components(
    database: VulnerabilityDatabase,
    image_packages: list[Package],  # noqa: F811
) -> None:
    doc = document(image_packages, "sha256:" + "a" * 64)
    bom = sbom_with_vulnerabilities(database, doc, cyclonedx(doc))
    refs = {c["bom-ref"]: c for c in bom["components"]}
    glibc = next(v for v in bom["vulnerabilities"] if v["id"] == "DSA-1")
    affected = {refs[a["ref"]]["name"] for a in glibc["affects"]}
    assert affected == {p.name for p in image_packages if p.source == "glibc"}
    assert glibc["ratings"][0] | {"source": None} == {
        "source": None,
        "severity": "critical",
        "score": 9.8,
        "method": "CVSSv31",
        "vector": CRITICAL_V3,
    }
    assert glibc["references"][0]["id"] == "CVE-2099-7"
    assert "Upgrade libc6 to" in glibc["recommendation"]
    # Without a database the SBOM is what it was.
    empty = VulnerabilityDatabase(path=str(Path(database.path).parent / "none"))
    plain = cyclonedx(doc)
    assert sbom_with_vulnerabilities(empty, doc, plain) is plain


def test_the_diff_says_what_was_fixed_and_introduced(
    database: VulnerabilityDatabase,
    image_packages: list[Package],  # noqa: F811
) -> None:
    a = document(image_packages, "sha256:" + "a" * 64)
    b = copy.deepcopy(a)
    b["image"]["digest"] = "sha256:" + "b" * 64
    for package in b["packages"]:
        if package["source"] == "glibc" or package["name"] == "libc6":
            package["version"] += "+sec1"  # glibc updated: DSA-1 fixed
    b["packages"].append(
        Package(
            "deb",
            "newtool",
            "1.0",
            "amd64",
            "curl",
            [],
            1,
            None,
            "pkg:deb/debian/newtool@1.0",
            "/",
            "-",
        ).to_json()
    )
    changes = diff_vulnerabilities(database, a, b)
    assert changes is not None
    assert {(f["id"], f["package"]) for f in changes["fixed"]} == {
        ("DSA-1", p.name) for p in image_packages if p.source == "glibc"
    }
    assert {(f["id"], f["package"]) for f in changes["introduced"]} == {("DSA-2", "newtool")}
    empty = VulnerabilityDatabase(path=str(Path(database.path).parent / "none"))
    assert diff_vulnerabilities(empty, a, b) is None
