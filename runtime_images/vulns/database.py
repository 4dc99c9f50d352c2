"""The configured vulnerability database: where it is, its index, and the cache of matches.

``c.VulnerabilityDatabase.path`` (default ``<jupyter_data_dir()>/runtime-images/
vulnerabilities``) holds OSV records and archives (:mod:`.sources`); ``.index/`` inside it
holds the index of the current version (:mod:`.index`) and the findings of images already
matched against it, by manifest digest, so the panel's badges come from disk without
reading an image. Every method here blocks (files, SQLite): call them off the event loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from traitlets import Integer, List, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from .. import documents
from ..fileio import atomic_write_bytes, file_lock
from .errors import VulnerabilityDatabaseMissing
from .index import Index, build_index, remove_other_indexes
from .matcher import Finding, MatchResult, count_levels, match_packages
from .severity import LEVELS
from .sources import INDEX_DIR, DatabaseFiles, SourceLimits, find_files

__all__ = ["VulnerabilityDatabase"]

DEFAULT_UPDATE_ECOSYSTEMS = [
    "PyPI",
    "Debian:11",
    "Debian:12",
    "Debian:13",
    "Ubuntu:22.04:LTS",
    "Ubuntu:24.04:LTS",
    "Alpine:v3.20",
    "Alpine:v3.21",
    "Rocky Linux:9",
    "AlmaLinux:9",
]


class VulnerabilityDatabase(LoggingConfigurable):
    """An offline copy of OSV's vulnerability records, indexed for matching images."""

    path = Unicode(
        config=True,
        help="""Directory of the vulnerability database: OSV records (*.json) and/or OSV's
        per-ecosystem all.zip archives, at any depth ('jupyter runtime-images vulns
        --update-db' writes <ecosystem>/all.zip). Defaults to
        <jupyter_data_dir()>/runtime-images/vulnerabilities.""",
    )

    bucket_url = Unicode(
        "https://osv-vulnerabilities.storage.googleapis.com",
        config=True,
        help="""Base URL of OSV's public bucket (or a mirror of it) that --update-db
        downloads <ecosystem>/all.zip from.""",
    )

    update_ecosystems = List(
        Unicode(),
        default_value=DEFAULT_UPDATE_ECOSYSTEMS,
        config=True,
        help="""The OSV ecosystems --update-db downloads when the command names none
        (release-specific names such as Debian:12 keep the download small).""",
    )

    download_timeout = Integer(
        60, config=True, help="Seconds --update-db waits for the bucket to answer."
    )
    max_download_bytes = Integer(
        2 << 30, config=True, help="Largest archive --update-db downloads (bytes)."
    )

    max_record_bytes = Integer(
        SourceLimits.max_record_bytes, config=True, help="Largest OSV record read (bytes)."
    )
    max_archive_members = Integer(
        SourceLimits.max_archive_members,
        config=True,
        help="Most entries one all.zip archive may have.",
    )
    max_total_bytes = Integer(
        SourceLimits.max_total_bytes,
        config=True,
        help="Most bytes of records read over the whole database when it is indexed.",
    )
    max_files = Integer(
        SourceLimits.max_files,
        config=True,
        help="Most record files and archives the database directory may hold.",
    )

    fail_severity = Unicode(
        "high",
        config=True,
        help="""The 'vulnerabilities' requirement profile fails an image with a fixable
        finding at or above this severity (critical, high, medium or low) and warns about
        any other finding.""",
    )

    @default("path")
    def _default_path(self) -> str:
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "runtime-images", "vulnerabilities")

    @validate("fail_severity")
    def _check_fail_severity(self, proposal: Any) -> str:
        from traitlets import TraitError

        value = str(proposal["value"]).lower()
        if value not in LEVELS[:4]:
            raise TraitError(f"fail_severity must be one of {', '.join(LEVELS[:4])}")
        return value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._index: Index | None = None

    @property
    def root(self) -> Path:
        return Path(self.path).expanduser()

    @property
    def index_dir(self) -> Path:
        return self.root / INDEX_DIR

    @property
    def limits(self) -> SourceLimits:
        return SourceLimits(
            max_record_bytes=self.max_record_bytes,
            max_archive_members=self.max_archive_members,
            max_total_bytes=self.max_total_bytes,
            max_files=self.max_files,
        )

    def files(self) -> DatabaseFiles:
        return find_files(self.root, self.limits)

    def configured(self) -> bool:
        """Whether the directory holds any record file or archive."""
        return bool(self.files().files)

    def index(self) -> Index:
        """The index of the database as it is now: built when the files changed since the
        last build (once, whichever process gets there first), else the one on disk."""
        files = self.files()
        if not files.files:
            raise VulnerabilityDatabaseMissing(str(self.root))
        target = self.index_dir / f"index-{files.version}.sqlite"
        with self._lock:
            if self._index is not None and self._index.path == target and target.exists():
                return self._index
            if not target.exists():
                with file_lock(self.index_dir / ".lock", timeout=3600):
                    if not target.exists():
                        self.log.info("Indexing the vulnerability database %s", self.root)
                        build_index(files, target, self.limits)
                        remove_other_indexes(self.index_dir, target)
            if self._index is not None:
                self._index.close()
            self._index = Index(target)
            return self._index

    def describe(self, index: Index | None = None) -> dict[str, Any]:
        """``{path, version, records, …}`` of the current database (for a report)."""
        index = index or self.index()
        return {"path": str(self.root), **index.info.to_json()}

    def match(
        self, packages: Sequence[Any], os_id: str | None, os_version: str | None
    ) -> tuple[Index, MatchResult]:
        index = self.index()
        return index, match_packages(index, packages, os_id, os_version)

    # -- the cache of matches ------------------------------------------------------------

    def _results_dir(self, version: str) -> Path:
        return self.index_dir / f"results-{version}"

    @staticmethod
    def _name(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest() + ".json"

    def remember(self, version: str, reference: str, digest: str, report: dict[str, Any]) -> None:
        """Keep a report (by digest) and which digest ``reference`` was (for summaries)."""
        directory = self._results_dir(version)
        directory.mkdir(parents=True, exist_ok=True)
        data = json.dumps(report, separators=(",", ":")).encode()
        atomic_write_bytes(directory / self._name(f"digest:{digest}"), data, 0o644)
        pointer = json.dumps({"reference": reference, "digest": digest}).encode()
        atomic_write_bytes(directory / self._name(f"reference:{reference}"), pointer, 0o644)
        for other in self.index_dir.glob("results-*"):
            if other != directory and other.is_dir():
                _remove_tree(other)

    def cached(self, version: str, digest: str) -> dict[str, Any] | None:
        data = _kept(self._results_dir(version) / self._name(f"digest:{digest}"))
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("counts"), dict)
            or not isinstance(data.get("findings"), list)
        ):
            return None  # not a report (edited, truncated): matched again and rewritten
        return data

    def cached_reference(self, reference: str) -> dict[str, Any] | None:
        """The cached report of ``reference`` against the current database, or None —
        never reading an image, and without building an index."""
        files = self.files()
        if not files.files:
            return None
        directory = self._results_dir(files.version)
        pointer = _kept(directory / self._name(f"reference:{reference}"))
        if not isinstance(pointer, dict) or not isinstance(pointer.get("digest"), str):
            return None
        return self.cached(files.version, pointer["digest"])


def _kept(path: Path) -> Any:
    """A kept result file's JSON, or None when it is missing or not plain JSON within the
    documents limits (a file in the data directory: edited, truncated, too deep)."""
    try:
        return documents.loads_json(path.read_bytes(), str(path))
    except (OSError, ValueError):  # InvalidDocument (not JSON, too deep) is a ValueError
        return None


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    return count_levels(findings)
