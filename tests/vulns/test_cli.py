"""``jupyter runtime-images vulns`` as a real subprocess, on the real debootstrap image
(tests/fixtures/debian.py) pushed to a real registry, with records the test writes for
its packages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import run_cli, store_dir, write_instance

from .osv_records import CRITICAL_V3, MEDIUM_V3, record, write_archive

pytestmark = pytest.mark.timeout(300)


def database_dir(env: dict[str, str]) -> Path:
    return Path(env["JUPYTER_DATA_DIR"]) / "runtime-images" / "vulnerabilities"


def test_findings_filters_json_and_exit_codes(
    debian_image: str, isolated_env: dict[str, str]
) -> None:
    missing = run_cli(isolated_env, "vulns", debian_image)
    assert missing.returncode == 2, missing.stderr
    assert "No vulnerability database" in missing.stderr and "--update-db" in missing.stderr

    write_archive(
        database_dir(isolated_env) / "Debian:12" / "all.zip",
        record("DSA-9001-1", "Debian:12", "glibc", fixed="2.36-9+deb12u999", vector=CRITICAL_V3),
        record("DEBIAN-CVE-2099-2", "Debian:12", "curl", vector=MEDIUM_V3),  # no fix
        record("DSA-9002-1", "Debian:11", "curl", fixed="99"),  # another release
    )
    write_archive(
        database_dir(isolated_env) / "PyPI" / "all.zip",
        record("PYSEC-9001", "PyPI", "pip", fixed="99.0", vector=MEDIUM_V3),
    )
    result = run_cli(isolated_env, "vulns", debian_image, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["image"]["reference"] == debian_image
    assert report["database"]["records"] == 4
    by_key = {(f["id"], f["package"]): f for f in report["findings"]}
    libc = by_key[("DSA-9001-1", "libc6")]
    assert libc["fixed_version"] == "2.36-9+deb12u999"
    assert libc["matched_as"].startswith("source package glibc ")
    assert libc["severity"] == {"level": "critical", "score": 9.8}
    assert libc["layer"] == 0 and libc["environment"] == "/"
    assert libc["url"] == "https://osv.dev/vulnerability/DSA-9001-1"
    pip = by_key[("PYSEC-9001", "pip")]
    assert pip["environment"] == "/usr" and pip["ecosystem"] == "pypi"
    assert not any(f["id"] == "DSA-9002-1" for f in report["findings"])
    assert report["counts"]["critical"] == sum(
        1 for f in report["findings"] if f["severity"]["level"] == "critical"
    )

    fixable = json.loads(run_cli(isolated_env, "vulns", debian_image, "--json", "--fixable").stdout)
    assert {f["id"] for f in fixable["findings"]} == {"DSA-9001-1", "PYSEC-9001"}
    assert fixable["counts"] == report["counts"]  # counts count every finding

    failing = run_cli(isolated_env, "vulns", debian_image, "--fail-on", "critical")
    assert failing.returncode == 1, failing.stderr
    assert "DSA-9001-1" in failing.stdout and "CRITICAL" in failing.stdout
    passing = run_cli(
        isolated_env,
        "vulns",
        debian_image,
        "--severity",
        "medium",
        "--fixable",
        "--fail-on",
        "critical",
        "--name",
        "x",
    )
    assert passing.returncode == 2  # an image and --name: a command-line error

    directory = store_dir(Path(isolated_env["JUPYTER_DATA_DIR"]))
    write_instance(
        directory,
        "bookworm",
        {
            "display_name": "B",
            "schema_name": "runtime-image",
            "metadata": {"image_name": debian_image},
        },
    )
    by_name = run_cli(isolated_env, "vulns", "--name", "bookworm", "--severity", "high", "--json")
    assert by_name.returncode == 0, by_name.stderr
    assert {f["id"] for f in json.loads(by_name.stdout)["findings"]} == {"DSA-9001-1"}


def test_update_db_offline_says_so(isolated_env: dict[str, str]) -> None:
    from tests.fixtures.registry import free_port

    config = Path(isolated_env["JUPYTER_CONFIG_DIR"]) / "jupyter_runtime_images_config.json"
    config.write_text(
        json.dumps({"VulnerabilityDatabase": {"bucket_url": f"http://127.0.0.1:{free_port()}"}})
    )
    result = run_cli(isolated_env, "vulns", "--update-db", "--ecosystem", "PyPI")
    assert result.returncode == 2
    assert "offline" in result.stderr and "unchanged" in result.stderr
