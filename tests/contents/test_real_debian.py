"""Ground truth from a real Debian image: the inventory equals what dpkg-query and pip list
say of the same root filesystem (tests/fixtures/debian.py makes and caches both)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runtime_images.inspect.report import canonical_name
from tests.contents.support import read
from tests.fixtures import debian

pytestmark = pytest.mark.timeout(600)


def test_debian_packages_equal_dpkg_query_and_pip_list(
    debian_image: str, isolated_home: Path, tmp_path: Path
) -> None:
    rootfs = debian.rootfs()
    dpkg = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={rootfs / 'var/lib/dpkg'}",
            "-W",
            "-f",
            "${Package} ${Version} ${Architecture}\\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    site = rootfs / "usr/lib/python3/dist-packages"
    pip = json.loads(
        subprocess.run(
            [sys.executable, "-m", "pip", "list", "--path", str(site), "--format", "json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    document = read(debian_image, tmp_path / "cache")
    debs = [p for p in document["packages"] if p["ecosystem"] == "deb"]
    assert sorted(f"{p['name']} {p['version']} {p['architecture']}" for p in debs) == sorted(dpkg)
    assert len(debs) > 100
    python = {
        (canonical_name(p["name"]), p["version"])
        for p in document["packages"]
        if p["ecosystem"] == "pypi" and p["database"] == "/usr/lib/python3/dist-packages"
    }
    assert python == {(canonical_name(p["name"]), p["version"]) for p in pip}
    assert any(p["name"] == "pip" for p in pip)
    curl = next(p for p in debs if p["name"] == "curl")
    assert curl["licenses"] and curl["installed_size"] and curl["layer"] == 0
    assert curl["purl"].startswith("pkg:deb/debian/curl@") and "distro=debian-12" in curl["purl"]
    environments = {e["path"]: e["kind"] for e in document["environments"]}
    assert environments["/"] == "os" and environments["/usr"] == "python"
    size = document["size"]
    assert size["uncompressed"] > size["compressed"] > 50_000_000
