"""``--update-db`` against a stand-in of OSV's bucket on a loopback port (the tests never
use the network): download, resume, verification, the atomic swap, and being offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime_images.vulns import VulnerabilityDatabase, VulnerabilityDatabaseUnavailable
from runtime_images.vulns.update import update_database

from ..fixtures.osv_bucket import OsvBucket
from ..fixtures.registry import free_port
from .osv_records import record, write_archive


@pytest.fixture
def bucket(tmp_path: Path) -> Iterator[OsvBucket]:
    root = tmp_path / "bucket"
    root.mkdir()
    with OsvBucket(root) as server:
        yield server


def publish(bucket: OsvBucket, ecosystem: str, count: int, prefix: str = "DSA") -> int:
    """An all.zip of ``count`` records (padded so that it has some size); its size."""
    path = bucket.root / ecosystem / "all.zip"
    records = [
        record(f"{prefix}-{n}", ecosystem, f"package-{n}", fixed="1.0") for n in range(count)
    ]
    for doc in records:
        doc["details"] = f"{n:08d}" * 200 if (n := len(doc["id"])) else ""
    write_archive(path, *records)
    return path.stat().st_size


def database(tmp_path: Path, bucket_url: str) -> VulnerabilityDatabase:
    return VulnerabilityDatabase(path=str(tmp_path / "db"), bucket_url=bucket_url)


def test_download_swaps_in_verified_archives_and_indexes_them(
    tmp_path: Path, bucket: OsvBucket
) -> None:
    publish(bucket, "Debian:12", 30)
    publish(bucket, "PyPI", 5, prefix="PYSEC")
    db = database(tmp_path, bucket.url)
    updated = update_database(db, ["Debian:12", "PyPI"])
    assert [u.ecosystem for u in updated] == ["Debian:12", "PyPI"]
    assert (tmp_path / "db" / "Debian:12" / "all.zip").is_file()
    first = db.index()
    assert first.info.records == 35

    # A newer archive replaces the old one, and the index follows the database.
    publish(bucket, "Debian:12", 40)
    update_database(db, ["Debian:12"])
    second = db.index()
    assert second.info.records == 45
    assert second.info.version != first.info.version
    assert [p.name for p in (tmp_path / "db" / ".index").glob("index-*.sqlite")] == [
        second.path.name
    ]
    assert not list((tmp_path / "db" / ".index" / "download").iterdir())


def test_a_cut_download_resumes_where_it_stopped(tmp_path: Path, bucket: OsvBucket) -> None:
    size = publish(bucket, "Debian:12", 300)
    cut = size // 2
    bucket.control(cut_after=cut)
    db = database(tmp_path, bucket.url)
    with pytest.raises(VulnerabilityDatabaseUnavailable, match="interrupted"):
        update_database(db, ["Debian:12"])
    assert not (tmp_path / "db" / "Debian:12").exists()  # nothing swapped in
    (updated,) = update_database(db, ["Debian:12"])
    assert updated.resumed_from == cut
    assert updated.size == size
    assert db.index().info.records == 300


def test_a_partial_download_note_nested_too_deep_starts_the_download_over(
    tmp_path: Path, bucket: OsvBucket
) -> None:
    """The note kept beside a cut download is a file in the data directory: nested past
    json's recursion limit, it raised RecursionError out of every later update."""
    size = publish(bucket, "Debian:12", 300)
    bucket.control(cut_after=size // 2)
    db = database(tmp_path, bucket.url)
    with pytest.raises(VulnerabilityDatabaseUnavailable, match="interrupted"):
        update_database(db, ["Debian:12"])
    (note,) = (tmp_path / "db").glob("**/*.zip.partial.json")
    note.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    (updated,) = update_database(db, ["Debian:12"])
    assert (updated.resumed_from, updated.size) == (0, size)
    assert db.index().info.records == 300


def test_an_archive_that_fails_verification_changes_nothing(
    tmp_path: Path, bucket: OsvBucket
) -> None:
    publish(bucket, "Debian:12", 3)
    db = database(tmp_path, bucket.url)
    update_database(db, ["Debian:12"])
    before = (tmp_path / "db" / "Debian:12" / "all.zip").read_bytes()
    publish(bucket, "Debian:12", 9)
    bucket.control(bad_md5=True)
    with pytest.raises(VulnerabilityDatabaseUnavailable, match="MD5"):
        update_database(db, ["Debian:12"])
    assert (tmp_path / "db" / "Debian:12" / "all.zip").read_bytes() == before
    assert db.index().info.records == 3


def test_an_unknown_ecosystem_is_named(tmp_path: Path, bucket: OsvBucket) -> None:
    publish(bucket, "PyPI", 1, prefix="PYSEC")
    db = database(tmp_path, bucket.url)
    with pytest.raises(VulnerabilityDatabaseUnavailable, match="'Debian:99'"):
        update_database(db, ["PyPI", "Debian:99"])
    assert not (tmp_path / "db" / "PyPI").exists()  # all or nothing


def test_offline_is_said_and_the_database_is_unchanged(tmp_path: Path) -> None:
    write_archive(tmp_path / "db" / "PyPI" / "all.zip", record("PYSEC-1", "PyPI", "pip"))
    db = database(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(VulnerabilityDatabaseUnavailable) as raised:
        update_database(db, ["PyPI"])
    message = str(raised.value)
    assert "offline" in message and "unchanged" in message
    assert raised.value.code == "VulnerabilityDatabaseUnavailable"
    assert db.index().info.records == 1
