"""Every bound on what a vulnerability database may make this product read, with the
hostile input that hits it: the record is skipped with its reason (or the indexing ends
with the limit named), and the rest of the database is still used."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from runtime_images.inspect import LimitExceeded
from runtime_images.vulns import VulnerabilityDatabase

from .osv_records import record, write_archive, write_records


def good(tmp_path: Path) -> None:
    write_records(tmp_path / "db", record("GOOD-1", "PyPI", "pip", fixed="99"))


def index_of(tmp_path: Path, **limits: int) -> tuple[int, int, list[str]]:
    info = VulnerabilityDatabase(path=str(tmp_path / "db"), **limits).index().info
    return info.records, info.skipped, info.problems


def test_a_record_over_the_byte_budget_is_skipped(tmp_path: Path) -> None:
    good(tmp_path)
    big = record("BIG-1", "PyPI", "pip")
    big["details"] = "x" * 5000
    write_records(tmp_path / "db", big)
    records, skipped, problems = index_of(tmp_path, max_record_bytes=4096)
    assert (records, skipped) == (1, 1)
    assert "BIG-1.json is larger than 4096 bytes" in problems[0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "deeper"),
        ('{"id": "X", "modified": NaN, "affected": []}', "NaN"),
        ('{"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": 3}}]}', "name"),
        (
            (
                '{"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, '
                '"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}'
            ),
            "exactly one key",
        ),
        ("\xff\xfe not json", "UTF-8"),
        ('{"id": "' + "x" * 10 + '", "aliases": ' + json.dumps(["a"] * 1000) + "}", "more than"),
    ],
)
def test_malformed_records_are_skipped_with_their_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    good(tmp_path)
    data = b"\xff\xfe not json" if text.startswith("\xff") else text.encode()
    (tmp_path / "db" / "bad.json").write_bytes(data)
    records, skipped, problems = index_of(tmp_path)
    assert (records, skipped) == (1, 1)
    assert reason in problems[0], problems


def test_a_zip_bomb_member_is_skipped_before_it_is_inflated(tmp_path: Path) -> None:
    good(tmp_path)
    archive = tmp_path / "db" / "PyPI" / "all.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("BOMB-1.json", b" " * (64 << 20))  # 64 MiB of spaces: ~64 KiB deflated
        zf.writestr("OK-1.json", json.dumps(record("OK-1", "PyPI", "jinja2")))
    assert archive.stat().st_size < 1 << 20
    records, skipped, problems = index_of(tmp_path, max_record_bytes=1 << 20)
    assert (records, skipped) == (2, 1)
    assert "BOMB-1.json is 67108864 bytes, larger than 1048576" in problems[0]


def _lying_zip(path: Path, member: str, data: bytes, declared: int) -> None:
    """A stored zip member whose headers declare ``declared`` bytes but hold more."""
    crc = zlib.crc32(data[:declared])
    name = member.encode()
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, declared, declared, len(name), 0
    )
    central = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        20,
        20,
        0,
        0,
        0,
        0,
        crc,
        declared,
        declared,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    body = local + name + data
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), len(body), 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body + central + name + end)


def test_a_member_that_lies_about_its_size_is_read_no_further(tmp_path: Path) -> None:
    good(tmp_path)
    payload = json.dumps(record("LIE-1", "PyPI", "jinja2")).encode()
    _lying_zip(tmp_path / "db" / "lie.zip", "LIE-1.json", payload + b" " * 100_000, len(payload))
    records, skipped, _problems = index_of(tmp_path)
    # Only the declared bytes are read: the record (whose CRC they match) and no more.
    assert (records, skipped) == (2, 0)


def test_an_archive_of_too_many_members_is_skipped(tmp_path: Path) -> None:
    good(tmp_path)
    write_archive(tmp_path / "db" / "many.zip", *(record(f"M-{n}", "PyPI", "x") for n in range(20)))
    records, skipped, problems = index_of(tmp_path, max_archive_members=10)
    assert (records, skipped) == (1, 1)
    assert "more than 10" in problems[0]


def test_a_file_that_is_not_a_zip_is_skipped(tmp_path: Path) -> None:
    good(tmp_path)
    (tmp_path / "db" / "all.zip").write_bytes(b"PK\x03\x04 truncated")
    records, skipped, problems = index_of(tmp_path)
    assert (records, skipped) == (1, 1)
    assert "not a zip archive" in problems[0]


def test_the_total_budget_ends_indexing_with_the_setting_named(tmp_path: Path) -> None:
    write_records(tmp_path / "db", *(record(f"T-{n}", "PyPI", "x") for n in range(50)))
    with pytest.raises(LimitExceeded, match=r"VulnerabilityDatabase\.max_total_bytes"):
        index_of(tmp_path, max_total_bytes=2000)


def test_too_many_files_are_refused(tmp_path: Path) -> None:
    write_records(tmp_path / "db", *(record(f"F-{n}", "PyPI", "x") for n in range(20)))
    with pytest.raises(LimitExceeded, match=r"VulnerabilityDatabase\.max_files"):
        index_of(tmp_path, max_files=10)


def test_the_index_is_rebuilt_only_when_the_database_changes(tmp_path: Path) -> None:
    good(tmp_path)
    db = VulnerabilityDatabase(path=str(tmp_path / "db"))
    first = db.index().path
    built = first.stat().st_mtime_ns
    assert VulnerabilityDatabase(path=str(tmp_path / "db")).index().path == first
    assert first.stat().st_mtime_ns == built
    write_records(tmp_path / "db", record("GOOD-2", "PyPI", "jinja2"))
    second = db.index()
    assert second.path != first and not first.exists()
    assert second.info.records == 2
