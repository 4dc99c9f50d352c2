"""The package inventory of real images served by a real registry (tests/fixtures/packages.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime_images.inspect.report import canonical_name
from tests.contents.support import ContentsOf, packages
from tests.fixtures import images, oci
from tests.fixtures import packages as fixtures

pytestmark = pytest.mark.timeout(120)


def test_dpkg_packages_with_layer_size_licence_and_purl(contents_of: ContentsOf) -> None:
    before, _after = fixtures.debian_with_removal()
    document = contents_of(before)
    debs = packages(document, "deb")
    # "config-files" packages have no files on disk: dpkg-query -W would not list them.
    assert set(debs) == {"base-files", "libc6", "libgone"}
    libc = debs["libc6"]
    assert libc["version"] == "2.36-9+deb12u4" and libc["architecture"] == "amd64"
    assert libc["source"] == "glibc" and libc["installed_size"] == 12000 * 1024
    assert libc["licenses"] == ["LGPL-2.1+"]
    assert libc["layer"] == 1 and libc["environment"] == "/"
    assert libc["database"] == "/var/lib/dpkg/status"
    assert libc["purl"] == (
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
    )
    assert document["databases"] == [
        {
            "path": "/var/lib/dpkg/status",
            "format": "dpkg",
            "read": True,
            "reason": None,
            "packages": 3,
            "layer": 1,
            "environment": "/",
        }
    ]
    assert {"path": "/", "kind": "os", "python": None} in document["environments"]


def test_a_package_removed_by_a_later_layer_is_gone(contents_of: ContentsOf) -> None:
    _before, after = fixtures.debian_with_removal()
    document = contents_of(after)
    debs = packages(document, "deb")
    assert set(debs) == {"base-files", "libc6", "newpkg"}
    # Unchanged records keep the layer that wrote them; the new one is the last layer's.
    assert debs["libc6"]["layer"] == 1 and debs["newpkg"]["layer"] == 2
    assert debs["newpkg"]["purl"].startswith("pkg:deb/debian/newpkg@2.0-1?arch=all")
    # The whited-out dist-info of pip: no Python distribution is left.
    assert packages(document, "pypi") == {}
    assert document["databases"][0]["layer"] == 2


def test_distroless_status_d_honours_whiteouts(contents_of: ContentsOf) -> None:
    document = contents_of(fixtures.distroless())
    debs = packages(document, "deb")
    assert {name: p["version"] for name, p in debs.items()} == {
        "base-files": "12.4",
        "libssl3": "3.0.11-1",
    }
    assert {d["path"] for d in document["databases"]} == {
        "/var/lib/dpkg/status.d/base",
        "/var/lib/dpkg/status.d/libssl3",
    }
    assert all(d["format"] == "dpkg-status.d" for d in document["databases"])


def test_apk_installed(contents_of: ContentsOf) -> None:
    document = contents_of(fixtures.alpine())
    apks = packages(document, "apk")
    assert set(apks) == {"musl", "busybox", "ssl_client"}
    assert apks["musl"]["licenses"] == ["MIT"] and apks["musl"]["installed_size"] == 622592
    assert apks["ssl_client"]["source"] == "busybox"
    assert apks["busybox"]["purl"] == (
        "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1"
    )


def test_conda_environments_and_python_per_environment(contents_of: ContentsOf) -> None:
    document = contents_of(fixtures.python_environments())
    environments = {e["path"]: e for e in document["environments"]}
    assert environments["/opt/conda"] == {"path": "/opt/conda", "kind": "conda", "python": "3.11"}
    assert environments["/opt/venv"] == {"path": "/opt/venv", "kind": "venv", "python": "3.11"}
    assert environments["/usr"] == {"path": "/usr", "kind": "python", "python": "3.11"}
    conda = packages(document, "conda")
    assert set(conda) == {"python", "numpy"}
    numpy = conda["numpy"]
    assert numpy["environment"] == "/opt/conda" and numpy["installed_size"] == 1200
    assert numpy["licenses"] == ["BSD-3-Clause"] and numpy["architecture"] == "linux-64"
    assert numpy["purl"] == (
        "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64"
    )
    by_env = {
        (p["environment"], p["name"]): p for p in document["packages"] if p["ecosystem"] == "pypi"
    }
    assert set(by_env) == {
        ("/usr", "pip"),
        ("/opt/conda", "numpy"),
        ("/opt/venv", "requests"),
        ("/opt/venv", "Jupyter_Server"),
    }
    conda_numpy = by_env[("/opt/conda", "numpy")]
    assert conda_numpy["installed_size"] == 1200  # the sizes its RECORD lists
    assert conda_numpy["licenses"] == ["BSD-3-Clause"]
    assert by_env[("/opt/venv", "Jupyter_Server")]["purl"] == "pkg:pypi/jupyter-server@2.14.2"
    assert by_env[("/opt/venv", "requests")]["database"] == (
        "/opt/venv/lib/python3.11/site-packages"
    )


def test_rpm_sqlite_database_made_by_rpm(contents_of: ContentsOf, tmp_path: Path) -> None:
    import subprocess

    database = fixtures.rpm_database(
        tmp_path / "rpm", [("alpha", "1.0", "1.fc40"), ("beta", "2.5.1", "3.fc40")]
    )
    truth = subprocess.run(
        [
            "rpm",
            f"--dbpath={database.parent}",
            "-qa",
            "--qf",
            "%{NAME} %{VERSION}-%{RELEASE} %{ARCH} %{LICENSE}\\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    document = contents_of(fixtures.rpm_image(database))
    rpms = packages(document, "rpm")
    seen = {
        f"{p['name']} {p['version']} {p['architecture']} {p['licenses'][0]}" for p in rpms.values()
    }
    assert seen == {line for line in truth if line}
    assert rpms["beta"]["purl"] == "pkg:rpm/fedora/beta@2.5.1-3.fc40?arch=noarch&distro=fedora-40"
    assert document["databases"][0]["format"] == "rpm-sqlite"
    assert document["databases"][0]["read"] is True


def test_unreadable_databases_are_listed_with_the_reason(contents_of: ContentsOf) -> None:
    b = oci.LayerBuilder()
    b.dir("var").dir("var/lib").dir("var/lib/rpm").file("var/lib/rpm/Packages", b"\0" * 4096)
    b.dir("opt").dir("opt/env").dir("opt/env/conda-meta")
    b.file("opt/env/conda-meta/broken-1-0.json", "{not json")
    document = contents_of(oci.make_image([b.build()]))
    databases = {d["path"]: d for d in document["databases"]}
    assert databases["/var/lib/rpm/Packages"]["read"] is False
    assert databases["/var/lib/rpm/Packages"]["format"] == "rpm-bdb"
    assert "BerkeleyDB" in databases["/var/lib/rpm/Packages"]["reason"]
    assert databases["/opt/env/conda-meta/broken-1-0.json"]["read"] is False
    assert "JSON" in databases["/opt/env/conda-meta/broken-1-0.json"]["reason"]
    assert document["packages"] == []


def test_report_keys_are_kept(contents_of: ContentsOf) -> None:
    document = contents_of(images.odh_ok())
    for key in ("reference", "digest", "os", "config", "pythons", "distributions", "users"):
        assert key in document
    assert document["image"]["platform"] == "linux/amd64" and document["image"]["local"] is False
    assert document["accelerators"] == []
    names = {canonical_name(p["name"]) for p in document["packages"]}
    assert {"pip", "jupyterlab", "jupyterhub", "jupyter-server"} <= names
    assert {c["profile"] for c in document["checks"]} == {
        "elyra",
        "kubeflow",
        "odh-notebook",
        "gateway-kernel",
    }
