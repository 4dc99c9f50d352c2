"""RPM packages: the rpmdb in its three on-disk formats, read without ``rpm``.

- ``rpmdb.sqlite`` (RHEL/UBI 9, Fedora 33+): opened in memory with ``sqlite3`` (the file is
  deserialised, never written to disk), defensively: no trusted schema, cell size checks,
  a step budget, read-only queries of the ``Packages`` table only.
- ``Packages`` (BerkeleyDB hash, RHEL/UBI 8, CentOS 7): read page by page, best effort —
  hash pages and their overflow chains are followed to the header blobs; nothing else of
  BerkeleyDB (logs, other access methods) is understood.
- ``Packages.db`` (rpm's own "ndb", SUSE): its slot table and blobs, best effort.

Each format stores the same thing: one RPM *header blob* per package (an index of tags
and a data store). No well-kept pure-Python library reads these (``rpmfile`` reads
``.rpm`` files, the ``rpm`` bindings need the C library of the host's rpm), and the
formats are small and stable, so they are read here with every offset and count checked
against the blob's bounds.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator

from .budget import ContentBudget
from .model import PackageRecord

__all__ = [
    "FORMATS",
    "CorruptDatabase",
    "parse_header",
    "read_bdb",
    "read_database",
    "read_ndb",
    "read_sqlite",
]

FORMATS = {"rpmdb.sqlite": "rpm-sqlite", "Packages": "rpm-bdb", "Packages.db": "rpm-ndb"}
"""File name in an ``rpm`` directory -> the format name the inventory reports."""

_NAME, _VERSION, _RELEASE, _EPOCH = 1000, 1001, 1002, 1003
_SIZE, _LICENSE, _ARCH, _SOURCERPM, _LONGSIZE = 1009, 1014, 1022, 1044, 5009
_WANTED = {_NAME, _VERSION, _RELEASE, _EPOCH, _SIZE, _LICENSE, _ARCH, _SOURCERPM, _LONGSIZE}
_STRING, _INT32, _INT64, _STRING_ARRAY, _I18NSTRING = 6, 4, 5, 8, 9
_MAX_INDEX = 1 << 16
_MAX_STRING = 4096
_SQLITE_STEPS = 50_000_000


class CorruptDatabase(ValueError):
    """A package database that cannot be read (the message says what is wrong)."""


def parse_header(blob: bytes) -> PackageRecord | None:
    """The package a header blob describes (None for rpm's pseudo-packages: gpg-pubkey)."""
    if len(blob) < 8:
        raise CorruptDatabase("a header blob is shorter than its preamble")
    count, data_length = struct.unpack_from(">II", blob, 0)
    data_start = 8 + 16 * count
    if count > _MAX_INDEX or data_start + data_length > len(blob):
        raise CorruptDatabase("a header blob's index or data store is larger than the blob")
    store = memoryview(blob)[data_start : data_start + data_length]
    values: dict[int, object] = {}
    for index in range(count):
        tag, kind, offset, items = struct.unpack_from(">IIiI", blob, 8 + 16 * index)
        if tag not in _WANTED or tag in values:
            continue
        if not 0 <= offset < data_length:
            raise CorruptDatabase(f"tag {tag} points outside the header's data store")
        if kind in (_STRING, _STRING_ARRAY, _I18NSTRING):
            values[tag] = _string(store, offset)
        elif kind == _INT32 and offset + 4 <= data_length and items >= 1:
            values[tag] = struct.unpack_from(">i", store, offset)[0]
        elif kind == _INT64 and offset + 8 <= data_length and items >= 1:
            values[tag] = struct.unpack_from(">q", store, offset)[0]
    name, version = values.get(_NAME), values.get(_VERSION)
    if not isinstance(name, str) or not isinstance(version, str) or not name:
        raise CorruptDatabase("a header has no name or version")
    if name == "gpg-pubkey":
        return None
    release = values.get(_RELEASE)
    full_version = f"{version}-{release}" if isinstance(release, str) and release else version
    epoch = values.get(_EPOCH)
    extra: tuple[tuple[str, str], ...] = ()
    if isinstance(epoch, int) and epoch > 0:
        extra = (("epoch", str(epoch)),)
        full_version = f"{epoch}:{full_version}"
    size = values.get(_LONGSIZE, values.get(_SIZE))
    arch, licence, source = values.get(_ARCH), values.get(_LICENSE), values.get(_SOURCERPM)
    return PackageRecord(
        name=name,
        version=full_version,
        architecture=arch if isinstance(arch, str) and arch else None,
        source=source if isinstance(source, str) and source else None,
        licenses=(licence,) if isinstance(licence, str) and licence else (),
        installed_size=size if isinstance(size, int) and size >= 0 else None,
        extra=extra,
    )


def _string(store: memoryview, offset: int) -> str:
    end = bytes(store[offset : offset + _MAX_STRING]).find(b"\0")
    if end < 0:
        raise CorruptDatabase("a string of a header is not terminated")
    return bytes(store[offset : offset + end]).decode("utf-8", "replace")


def _records(blobs: Iterator[bytes], budget: ContentBudget, what: str) -> list[PackageRecord]:
    records = []
    for blob in blobs:
        record = parse_header(blob)
        if record is not None:
            budget.spend_package(what)
            records.append(record)
    return records


def read_database(kind: str, data: bytes, budget: ContentBudget, what: str) -> list[PackageRecord]:
    """The packages of an rpmdb file of format ``kind`` (see :data:`FORMATS`)."""
    readers = {"rpm-sqlite": read_sqlite, "rpm-bdb": read_bdb, "rpm-ndb": read_ndb}
    return readers[kind](data, budget, what)


# -- sqlite -------------------------------------------------------------------------------


def read_sqlite(data: bytes, budget: ContentBudget, what: str) -> list[PackageRecord]:
    """Packages of an ``rpmdb.sqlite`` (a hostile file: see the module docstring)."""
    if not data.startswith(b"SQLite format 3\0"):
        raise CorruptDatabase("not an SQLite database")
    if data[18:20] == b"\x02\x02":
        # WAL mode (rpm's default): an in-memory database cannot be opened in it; the file
        # format is the same, so it is read as a rollback-journal database. Pages still in
        # the -wal file beside it are not read (rpm checkpoints when it closes).
        data = data[:18] + b"\x01\x01" + data[20:]
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        connection.deserialize(data)
        steps = 0

        def budget_steps() -> int:
            nonlocal steps
            steps += 1000
            return 1 if steps > _SQLITE_STEPS else 0  # non-zero aborts the query

        connection.set_progress_handler(budget_steps, 1000)
        for pragma in ("trusted_schema=OFF", "cell_size_check=ON", "query_only=ON"):
            connection.execute(f"PRAGMA {pragma}")
        rows = connection.execute("SELECT blob FROM Packages")
        return _records((bytes(row[0]) for row in rows if row[0]), budget, what)
    except sqlite3.Error as error:
        raise CorruptDatabase(f"SQLite: {error}") from None
    finally:
        connection.close()


# -- BerkeleyDB hash ----------------------------------------------------------------------

_BDB_HASH_MAGIC = 0x061561
_P_HASH_UNSORTED, _P_HASH, _P_OVERFLOW = 2, 13, 7
_H_KEYDATA, _H_OFFPAGE = 1, 3
_PAGE_HEADER = 26


def read_bdb(data: bytes, budget: ContentBudget, what: str) -> list[PackageRecord]:
    """Packages of a BerkeleyDB hash ``Packages`` file: every hash page's data items,
    with overflow chains followed (best effort: only what rpm stores is understood)."""
    if len(data) < 512:
        raise CorruptDatabase("too short for a BerkeleyDB file")
    for order in ("<", ">"):
        if struct.unpack_from(f"{order}I", data, 12)[0] == _BDB_HASH_MAGIC:
            break
    else:
        raise CorruptDatabase("not a BerkeleyDB hash database")
    page_size, last_page = struct.unpack_from(f"{order}I", data, 20)[0], 0
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise CorruptDatabase(f"page size {page_size} is not a BerkeleyDB page size")
    last_page = min(struct.unpack_from(f"{order}I", data, 32)[0], len(data) // page_size - 1)

    def page(number: int) -> memoryview:
        if not 0 < number <= last_page:
            raise CorruptDatabase(f"page {number} is outside the file")
        return memoryview(data)[number * page_size : (number + 1) * page_size]

    def overflow(first: int, length: int) -> bytes:
        out = bytearray()
        number, seen = first, 0
        while number and len(out) < length:
            seen += 1
            if seen > last_page:
                raise CorruptDatabase("an overflow chain loops")
            current = page(number)
            if current[25] != _P_OVERFLOW:
                raise CorruptDatabase(f"page {number} is not an overflow page")
            used = struct.unpack_from(f"{order}H", current, 22)[0]
            out += current[_PAGE_HEADER : _PAGE_HEADER + min(used, page_size - _PAGE_HEADER)]
            number = struct.unpack_from(f"{order}I", current, 16)[0]
        return bytes(out[:length])

    def blobs() -> Iterator[bytes]:
        for number in range(1, last_page + 1):
            current = page(number)
            if current[25] not in (_P_HASH, _P_HASH_UNSORTED):
                continue
            entries = struct.unpack_from(f"{order}H", current, 20)[0]
            if _PAGE_HEADER + 2 * entries > page_size:
                raise CorruptDatabase(f"page {number} lists more entries than fit")
            offsets = struct.unpack_from(f"{order}{entries}H", current, _PAGE_HEADER)
            for index in range(1, entries, 2):  # keys at even indexes, data at odd ones
                offset = offsets[index]
                if not _PAGE_HEADER <= offset < page_size:
                    raise CorruptDatabase(f"an item of page {number} is outside it")
                kind = current[offset]
                if kind == _H_OFFPAGE and offset + 12 <= page_size:
                    first, length = struct.unpack_from(f"{order}II", current, offset + 4)
                    yield overflow(first, length)
                elif kind == _H_KEYDATA:
                    end = offsets[index - 1] if index else page_size
                    if offset < end <= page_size:
                        yield bytes(current[offset + 1 : end])

    return _records((blob for blob in blobs() if len(blob) > 8), budget, what)


# -- ndb -----------------------------------------------------------------------------------

_NDB_MAGIC, _SLOT_MAGIC, _BLOB_MAGIC = b"RpmP", b"Slot", b"BlbS"
_NDB_PAGE, _NDB_HEADER, _SLOT, _BLOCK = 4096, 32, 16, 16


def read_ndb(data: bytes, budget: ContentBudget, what: str) -> list[PackageRecord]:
    """Packages of rpm's ``Packages.db`` (ndb): the slot table, then each slot's blob."""
    if len(data) < _NDB_HEADER or data[:4] != _NDB_MAGIC:
        raise CorruptDatabase("not an rpm ndb Packages.db")
    version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if version != 0:
        raise CorruptDatabase(f"ndb version {version} is not one this reader knows (0)")
    if not 0 < slot_pages * _NDB_PAGE <= len(data):
        raise CorruptDatabase("the ndb slot table is larger than the file")
    slots_end = slot_pages * _NDB_PAGE

    def blobs() -> Iterator[bytes]:
        for offset in range(_NDB_HEADER, slots_end - _SLOT + 1, _SLOT):
            if data[offset : offset + 4] != _SLOT_MAGIC:
                continue
            index, block, blocks = struct.unpack_from("<III", data, offset + 4)
            if not index or not blocks:
                continue
            start = block * _BLOCK
            if start + 16 > len(data) or data[start : start + 4] != _BLOB_MAGIC:
                raise CorruptDatabase(f"slot of package {index} points at no blob")
            blob_index, _generation, length = struct.unpack_from("<III", data, start + 4)
            if blob_index != index or start + 16 + length > len(data):
                raise CorruptDatabase(f"the blob of package {index} is inconsistent")
            yield data[start + 16 : start + 16 + length]

    return _records(blobs(), budget, what)
