"""``vulns --update-db``: download OSV's per-ecosystem ``all.zip`` archives.

Each archive is downloaded into ``.index/download/`` beside the database, resumed with a
``Range`` request when an earlier download was cut (``If-Range`` with the object's ETag, so
a changed object starts over rather than mixing two versions), verified (the MD5 that the
bucket states in ``x-goog-hash``, else the ``Content-Length``, and every zip member's
CRC), and only when every requested archive is complete and sound is each one renamed over
``<ecosystem>/all.zip``, one atomic rename each. A failure anywhere leaves the database as
it was and says why; being offline is said as such.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from .. import documents
from ..documents import parse_count
from .database import VulnerabilityDatabase
from .errors import VulnerabilityDatabaseUnavailable

__all__ = ["UpdatedArchive", "ecosystem_dir", "update_database"]

Progress = Callable[[str, int, int | None], None]
"""Called with (ecosystem, bytes downloaded, total bytes or None)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._:+ -]")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class UpdatedArchive:
    ecosystem: str
    path: Path
    size: int
    resumed_from: int

    def to_json(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "path": str(self.path),
            "size": self.size,
            "resumed_from": self.resumed_from,
        }


def ecosystem_dir(ecosystem: str) -> str:
    """The directory name of an ecosystem's archive (``Debian:12``; never a path)."""
    name = _UNSAFE.sub("_", ecosystem.strip())
    return "_" + name if name in ("", ".", "..") or name.startswith(".") else name


def _md5_of(headers: httpx.Headers) -> str | None:
    """The object's MD5 (base64) from ``x-goog-hash: crc32c=…,md5=…``."""
    for value in headers.get_list("x-goog-hash", split_commas=True):
        kind, _, digest = value.strip().partition("=")
        if kind == "md5" and digest:
            return digest
    return None


def _file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


class _Download:
    """One archive's partial file and what is known of the object it is part of."""

    def __init__(self, directory: Path, ecosystem: str) -> None:
        self.ecosystem = ecosystem
        self.partial = directory / f"{ecosystem_dir(ecosystem)}.zip.partial"
        self.meta_path = directory / f"{ecosystem_dir(ecosystem)}.zip.partial.json"

    def meta(self) -> dict[str, Any]:
        try:
            data = documents.loads_json(self.meta_path.read_bytes(), str(self.meta_path))
        except (OSError, ValueError):  # edited, not JSON or too deep: start over
            return {}
        return data if isinstance(data, dict) else {}

    def save_meta(self, data: dict[str, Any]) -> None:
        self.meta_path.write_text(json.dumps(data), "utf-8")

    def discard(self) -> None:
        for path in (self.partial, self.meta_path):
            with suppress(FileNotFoundError):
                path.unlink()


def _fetch(
    client: httpx.Client,
    url: str,
    download: _Download,
    database: VulnerabilityDatabase,
    progress: Progress | None,
) -> int:
    """Download (or finish downloading) ``url`` into the partial file; return the offset
    it resumed from."""
    meta = download.meta()
    have = download.partial.stat().st_size if download.partial.exists() else 0
    headers: dict[str, str] = {}
    if have and meta.get("url") == url and meta.get("etag"):
        headers = {"Range": f"bytes={have}-", "If-Range": str(meta["etag"])}
    else:
        have = 0
    limit = database.max_download_bytes
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 404:
            raise VulnerabilityDatabaseUnavailable(
                f"OSV has no archive for the ecosystem {download.ecosystem!r} ({url} answered "
                "404); names are OSV's, such as PyPI, Debian:12, Alpine:v3.20"
            )
        if response.status_code == 416:  # the partial file is already the whole object
            response.read()
            return have
        if response.status_code not in (200, 206):
            raise VulnerabilityDatabaseUnavailable(
                f"{url} answered {response.status_code} {response.reason_phrase}"
            )
        resumed = response.status_code == 206
        if not resumed:
            have = 0
        length = parse_count(response.headers.get("content-length", ""))
        total = None if length is None else length + have
        if total is not None and total > limit:
            raise VulnerabilityDatabaseUnavailable(
                f"{url} is {total} bytes, more than {limit} "
                "(VulnerabilityDatabase.max_download_bytes)"
            )
        download.save_meta(
            {
                "url": url,
                "etag": response.headers.get("etag"),
                "md5": _md5_of(response.headers),
                "size": total,
            }
        )
        done = have
        with download.partial.open("ab" if resumed else "wb") as handle:
            for chunk in response.iter_bytes():
                done += len(chunk)
                if done > limit:
                    raise VulnerabilityDatabaseUnavailable(
                        f"{url} is more than {limit} bytes "
                        "(VulnerabilityDatabase.max_download_bytes)"
                    )
                handle.write(chunk)
                if progress is not None:
                    progress(download.ecosystem, done, total)
            handle.flush()
            os.fsync(handle.fileno())
    return have if resumed else 0


def _verify(download: _Download, database: VulnerabilityDatabase) -> None:
    """The partial file is the whole object and a sound zip, or it is discarded."""
    meta = download.meta()
    size = download.partial.stat().st_size
    problem = None
    if meta.get("md5"):
        if _file_md5(download.partial) != meta["md5"]:
            problem = "its MD5 is not the one the bucket states (x-goog-hash)"
    elif isinstance(meta.get("size"), int) and size != meta["size"]:
        problem = f"it has {size} bytes, not the {meta['size']} announced"
    if problem is None:
        problem = _zip_problem(download.partial, database)
    if problem is not None:
        download.discard()
        raise VulnerabilityDatabaseUnavailable(
            f"the {download.ecosystem} archive downloaded from {meta.get('url')} is not "
            f"sound: {problem}. Nothing was changed; run --update-db again"
        )


def _zip_problem(path: Path, database: VulnerabilityDatabase) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > database.max_archive_members:
                return f"it has more than {database.max_archive_members} entries"
            declared = sum(m.file_size for m in members)
            if declared > database.max_total_bytes:
                return (
                    f"it would unpack to {declared} bytes (VulnerabilityDatabase.max_total_bytes)"
                )
            bad = archive.testzip()
            return f"the member {bad[:200]} is corrupt" if bad is not None else None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
        return f"it is not a zip archive ({error})"


def update_database(
    database: VulnerabilityDatabase,
    ecosystems: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[UpdatedArchive]:
    """Download, verify and swap in the archives of ``ecosystems`` (default:
    ``update_ecosystems``), then index the new database (blocking)."""
    names = list(dict.fromkeys(ecosystems or database.update_ecosystems))
    root = database.root
    workdir = database.index_dir / "download"
    workdir.mkdir(parents=True, exist_ok=True)
    base = database.bucket_url.rstrip("/")
    downloads: list[tuple[_Download, int]] = []
    with httpx.Client(
        timeout=database.download_timeout, follow_redirects=True, transport=transport
    ) as client:
        for name in names:
            download = _Download(workdir, name)
            url = f"{base}/{quote(name, safe='')}/all.zip"
            try:
                resumed = _fetch(client, url, download, database, progress)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                raise VulnerabilityDatabaseUnavailable(
                    f"cannot download {url}: the machine seems to be offline or the bucket "
                    f"unreachable ({type(error).__name__}: {error}). The database at {root} "
                    "is unchanged; on a machine without a network, copy OSV's all.zip "
                    "archives there by hand"
                ) from None
            except httpx.TransportError as error:
                raise VulnerabilityDatabaseUnavailable(
                    f"the download of {url} was interrupted ({type(error).__name__}: {error}). "
                    f"The database at {root} is unchanged; run --update-db again to resume it"
                ) from None
            _verify(download, database)
            downloads.append((download, resumed))
    updated = []
    for download, resumed in downloads:
        target = root / ecosystem_dir(download.ecosystem) / "all.zip"
        target.parent.mkdir(parents=True, exist_ok=True)
        size = download.partial.stat().st_size
        os.chmod(download.partial, 0o644)
        os.replace(download.partial, target)
        with suppress(FileNotFoundError):
            download.meta_path.unlink()
        updated.append(UpdatedArchive(download.ecosystem, target, size, resumed))
    database.index()
    return updated
