"""Package databases are hostile input: every budget ends the reading with a clear error
naming its setting, and a corrupt database is listed as unread with the reason."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path

import pytest
from packageurl import PackageURL

from runtime_images.contents import rpmdb
from runtime_images.contents.budget import ContentBudget
from runtime_images.inspect import LimitExceeded
from tests.contents.support import ContentsOf, packages, push, read
from tests.fixtures import oci
from tests.fixtures import packages as fixtures
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.timeout(120)


def status_image(status: str) -> oci.Image:
    b = oci.LayerBuilder()
    b.dir("var").dir("var/lib").dir("var/lib/dpkg").file("var/lib/dpkg/status", status)
    return oci.make_image([b.build()])


def many_debs(count: int) -> str:
    return fixtures.dpkg_status([fixtures.Deb(f"pkg{n}", "1.0") for n in range(count)])


def test_more_packages_than_the_budget(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    ref = push(registry, repo_name, status_image(many_debs(30)))
    with pytest.raises(LimitExceeded, match=r"more than 10 package records.*max_packages"):
        read(ref, tmp_path / "cache", max_packages=10)
    assert len(read(ref, tmp_path / "cache2", max_packages=30)["packages"]) == 30


def test_more_package_metadata_than_the_budget(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    status = many_debs(100)
    ref = push(registry, repo_name, status_image(status))
    with pytest.raises(LimitExceeded, match=r"max_package_metadata_bytes"):
        read(ref, tmp_path / "cache", max_package_metadata_bytes=len(status) // 2)


def test_a_database_file_over_the_budget(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    b = oci.LayerBuilder()
    b.dir("opt").dir("opt/env").dir("opt/env/conda-meta")
    record = fixtures.conda_record("big", "1", "0", {f"f{n}": n for n in range(500)})
    b.file("opt/env/conda-meta/big-1-0.json", record)
    ref = push(registry, repo_name, oci.make_image([b.build()]))
    with pytest.raises(LimitExceeded, match=r"max_package_database_bytes"):
        read(ref, tmp_path / "cache", max_package_database_bytes=1000)


def test_over_long_lines_are_cut_not_kept(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    status = f"Package: long\nStatus: install ok installed\nVersion: {'9' * 1_000_000}\n\n"
    ref = push(registry, repo_name, status_image(status + many_debs(1)))
    document = read(ref, tmp_path / "cache")
    versions = {p["name"]: p["version"] for p in document["packages"]}
    assert set(versions) == {"long", "pkg0"} and len(versions["long"]) == 1024


def test_corrupt_databases_are_listed_unread(contents_of: ContentsOf, tmp_path: Path) -> None:
    garbage_blobs = tmp_path / "garbage.sqlite"
    connection = sqlite3.connect(garbage_blobs)
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)")
    connection.execute("INSERT INTO Packages VALUES (1, ?)", (struct.pack(">II", 9999, 0),))
    connection.commit()
    connection.close()
    b = oci.LayerBuilder()
    b.dir("var").dir("var/lib").dir("var/lib/rpm")
    b.file("var/lib/rpm/rpmdb.sqlite", garbage_blobs.read_bytes())
    b.dir("usr").dir("usr/lib").dir("usr/lib/sysimage").dir("usr/lib/sysimage/rpm")
    b.file("usr/lib/sysimage/rpm/rpmdb.sqlite", b"not sqlite at all")
    b.file("usr/lib/sysimage/rpm/Packages.db", b"RpmP" + b"\xff" * 60)
    b.dir("opt").dir("opt/e").dir("opt/e/conda-meta")
    b.file("opt/e/conda-meta/deep-1-0.json", "[" * 10_000 + "]" * 10_000)
    document = contents_of(oci.make_image([b.build()]))
    reasons = {d["path"]: d["reason"] for d in document["databases"]}
    assert [d for d in document["databases"] if d["read"]] == []
    assert "index or data store is larger" in reasons["/var/lib/rpm/rpmdb.sqlite"]
    assert "not an SQLite database" in reasons["/usr/lib/sysimage/rpm/rpmdb.sqlite"]
    assert "ndb version" in reasons["/usr/lib/sysimage/rpm/Packages.db"]
    assert "deeper" in reasons["/opt/e/conda-meta/deep-1-0.json"]
    assert document["packages"] == []


def header(entries: list[tuple[int, int, int, int]], store: bytes) -> bytes:
    index = b"".join(struct.pack(">IIiI", *entry) for entry in entries)
    return struct.pack(">II", len(entries), len(store)) + index + store


def test_rpm_header_blobs_are_bounds_checked() -> None:
    good = header([(1000, 6, 0, 1), (1001, 6, 2, 1)], b"a\0" + b"1\0")
    record = rpmdb.parse_header(good)
    assert record is not None and (record.name, record.version) == ("a", "1")
    with pytest.raises(rpmdb.CorruptDatabase, match="outside"):
        rpmdb.parse_header(header([(1000, 6, 99, 1)], b"a\0"))
    with pytest.raises(rpmdb.CorruptDatabase, match="not terminated"):
        rpmdb.parse_header(header([(1000, 6, 0, 1)], b"abc"))
    with pytest.raises(rpmdb.CorruptDatabase, match="larger than the blob"):
        rpmdb.parse_header(struct.pack(">II", 1 << 20, 0))
    with pytest.raises(rpmdb.CorruptDatabase, match="shorter"):
        rpmdb.parse_header(b"\0\0")


def test_berkeleydb_overflow_loops_and_garbage_end() -> None:
    page = 4096
    meta = bytearray(page * 3)
    struct.pack_into("<I", meta, 12, 0x061561)  # hash magic
    struct.pack_into("<I", meta, 20, page)
    struct.pack_into("<I", meta, 32, 2)  # last page
    hash_page = 1 * page
    meta[hash_page + 25] = 13  # P_HASH
    struct.pack_into("<H", meta, hash_page + 20, 2)  # two entries: key, data
    struct.pack_into("<HH", meta, hash_page + 26, 4000, 3000)
    meta[hash_page + 3000] = 3  # H_OFFPAGE
    struct.pack_into("<II", meta, hash_page + 3004, 2, 1 << 20)
    overflow = 2 * page
    meta[overflow + 25] = 7  # P_OVERFLOW
    struct.pack_into("<H", meta, overflow + 22, 100)
    struct.pack_into("<I", meta, overflow + 16, 2)  # next page: itself
    with pytest.raises(rpmdb.CorruptDatabase, match="loops"):
        rpmdb.read_bdb(bytes(meta), ContentBudget(), "x")
    with pytest.raises(rpmdb.CorruptDatabase):
        rpmdb.read_bdb(b"\x01" * 8192, ContentBudget(), "x")
    ndb = bytearray(4096)
    ndb[:4] = b"RpmP"
    struct.pack_into("<I", ndb, 12, 1)  # one page of slots
    ndb[32:36] = b"Slot"
    struct.pack_into("<III", ndb, 36, 1, 100_000, 1)  # package 1's blob: past the end
    with pytest.raises(rpmdb.CorruptDatabase, match="points at no blob"):
        rpmdb.read_ndb(bytes(ndb), ContentBudget(), "x")


@pytest.mark.parametrize("size", ["²", "9" * 5000, "-3", "0x10"])
def test_an_installed_size_that_is_not_a_count_is_left_out(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path, size: str
) -> None:
    """``str.isdigit()`` accepts "²", which ``int()`` refuses, as it refuses 5,000 digits:
    such a size is unknown, the package is still listed."""
    odd, plain = fixtures.Deb("odd", "1.0"), fixtures.Deb("plain", "1.0", size_kb=12)
    status = fixtures.dpkg_status([odd, plain])
    ref = push(registry, repo_name, status_image(status.replace(": 10\n", f": {size}\n")))
    sizes = {p["name"]: p["installed_size"] for p in read(ref, tmp_path / "cache")["packages"]}
    assert sizes == {"odd": None, "plain": 12 * 1024}


@pytest.mark.parametrize(
    "channel", ["https://[conda-forge/linux-64", "https://[conda-forge]/linux-64"]
)
def test_a_conda_channel_that_urllib_refuses_is_kept_as_written(
    contents_of: ContentsOf, channel: str
) -> None:
    """``urlsplit`` raises on a bracket that is not an IPv6 address: such a channel is not
    a URL to shorten to its name, it is kept as the record writes it."""
    b = oci.LayerBuilder()
    b.dir("opt").dir("opt/e").dir("opt/e/conda-meta")
    record = json.loads(fixtures.conda_record("odd", "1.0", "0", {"lib/odd.so": 10}))
    b.file("opt/e/conda-meta/odd-1.0-0.json", json.dumps({**record, "channel": channel}))
    document = contents_of(oci.make_image([b.build()]))
    assert [d["read"] for d in document["databases"]] == [True]
    odd = packages(document, "conda")["odd"]
    assert odd["version"] == "1.0"
    assert PackageURL.from_string(odd["purl"]).qualifiers["channel"] == channel


def test_names_that_are_not_utf8_are_read_with_replacement_characters(
    contents_of: ContentsOf,
) -> None:
    """tar names are bytes; tarfile's default turns a byte that is not UTF-8 into a lone
    surrogate, which no UTF-8 writer (the contents cache, an HTTP answer) accepts. Such a
    name is read with U+FFFD in its place, and the image's contents are still listed."""
    b = oci.LayerBuilder()
    b.dir("opt").dir("opt/e").dir("opt/e/conda-meta")
    record = fixtures.conda_record("odd", "1.0", "0", {"lib/odd.so": 10})
    b.file("opt/e/conda-meta/odd\udcff-1.0-0.json", record)  # PAX writes the byte 0xff
    b.dir("usr").dir("usr/share").dir("usr/share/doc").dir("usr/share/doc/x\udcfe")
    b.file("usr/share/doc/x\udcfe/copyright", "License: MIT\n")
    document = contents_of(oci.make_image([b.build()]))
    assert [(d["path"], d["read"]) for d in document["databases"]] == [
        ("/opt/e/conda-meta/odd\ufffd-1.0-0.json", True)
    ]
    assert packages(document, "conda")["odd"]["version"] == "1.0"
