"""The runtime image store: Elyra's files, search path and layering, made crash-safe.

Files are ``<data dir>/metadata/runtime-images/<name>.json`` holding ``display_name``,
``metadata`` and ``schema_name`` exactly as Elyra 4.x writes them, so Elyra pipelines and
this product see the same images. The search path is Elyra's: the user data dir
(writable), the shared system dirs, then the factory dirs (``sys.prefix/share/jupyter`` and
the images packaged with this extension); the first directory holding a name wins.

What Elyra lacks and this adds: atomic writes under an inter-process lock, ETags with
``If-Match``, invalid files that are listed (with a reason) and repairable, and a listing
served from an in-memory index that re-reads only files whose stat data changed.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets import Float, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from . import documents, naming
from .errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    ReadOnlyError,
    ValidationFailedError,
)
from .fields import FieldError
from .fileio import atomic_write_bytes, file_lock
from .reference import local_warning, parse, unpinned_warning
from .validation import (
    API_READ_ONLY_KEYS,
    SCHEMA_NAME,
    STORED_KEYS,
    validate_for_write,
    validate_stored,
)

SCHEMASPACE = "runtime-images"
USER, SHARED, FACTORY = "user", "shared", "factory"
LOCK_FILE_NAME = ".runtime-images.lock"
PACKAGED_FACTORY_DIR = str(Path(__file__).parent / "factory")


@dataclass(frozen=True)
class Layer:
    """One directory of the search path and what it is (user, shared or factory)."""

    origin: str
    directory: Path

    @property
    def writable(self) -> bool:
        return self.origin == USER


@dataclass(frozen=True)
class Entry:
    """One instance file as last read from disk: valid, or invalid with the reasons."""

    name: str
    layer: Layer
    stamp: tuple[int, int, int]
    etag: str
    document: dict[str, Any] | None
    errors: tuple[FieldError, ...] = ()
    raw: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def path(self) -> Path:
        return self.layer.directory / f"{self.name}.json"

    @property
    def display_name(self) -> str:
        value = (self.document or {}).get("display_name")
        return value if isinstance(value, str) else self.name

    @property
    def reason(self) -> str:
        return "; ".join(str(e) for e in self.errors)

    def to_api(self) -> dict[str, Any]:
        """The instance as the REST API returns it: the file's object plus name, origin and
        warnings (e.g. an image reference that can change under its users)."""
        document = self.document or {}
        metadata = document.get("metadata") or {}
        reference = parse(metadata["image_name"]) if self.valid else None
        warnings = [unpinned_warning(reference), local_warning(reference)] if reference else []
        return {
            "name": self.name,
            "display_name": document.get("display_name"),
            "schema_name": document.get("schema_name"),
            "metadata": metadata,
            "origin": self.layer.origin,
            "local": bool(reference and reference.is_local),
            "warnings": [warning for warning in warnings if warning],
        }

    def to_invalid_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.layer.origin,
            "reason": self.reason,
            "errors": [e.to_json() for e in self.errors],
            "document": self.document,
            "raw": self.raw,
        }

    def to_file(self) -> dict[str, Any]:
        """The instance in Elyra's file format, with no machine paths (for exports)."""
        return _stored(self.document or {})


@dataclass
class Listing:
    """A consistent snapshot of the merged store, sorted by display name."""

    instances: list[Entry]
    invalid: list[Entry]
    version: str


@dataclass
class ImportResult:
    name: str
    status: str  # created | updated | unchanged | skipped | failed
    message: str
    errors: list[FieldError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"name": self.name, "status": self.status, "message": self.message}
        if self.errors:
            result["errors"] = [e.to_json() for e in self.errors]
        return result


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _serialize(document: Mapping[str, Any]) -> bytes:
    return (documents.dumps(_stored(document), indent=2) + "\n").encode("utf-8")


def _etag_matches(if_match: str, etag: str) -> bool:
    candidates = [c.strip() for c in if_match.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class RuntimeImageStore(LoggingConfigurable):
    """Runtime image configurations on disk, in Elyra's format and search path."""

    data_dir = Unicode(
        help="""The writable Jupyter data directory holding user runtime images in
        metadata/runtime-images/. Defaults to jupyter_data_dir() (JUPYTER_DATA_DIR)."""
    ).tag(config=True)

    shared_data_dirs = List(
        Unicode(),
        help="""Read-only shared Jupyter data directories searched after the user one
        (defaults to jupyter_core's SYSTEM_JUPYTER_PATH, as Elyra does).""",
    ).tag(config=True)

    factory_data_dirs = List(
        Unicode(),
        help="""Read-only directories of factory images, searched last. Defaults to
        jupyter_core's ENV_JUPYTER_PATH (sys.prefix/share/jupyter, where Elyra installs its
        factory images) followed by the images packaged with this extension.""",
    ).tag(config=True)

    lock_timeout = Float(
        30.0, help="Seconds a writer waits for the store's inter-process lock."
    ).tag(config=True)

    max_file_bytes = Integer(
        1024 * 1024, help="Instance files larger than this are listed as invalid, unread."
    ).tag(config=True)

    @default("data_dir")
    def _default_data_dir(self) -> str:
        from jupyter_core.paths import jupyter_data_dir

        return jupyter_data_dir()

    @default("shared_data_dirs")
    def _default_shared_data_dirs(self) -> list[str]:
        from jupyter_core import paths

        return list(paths.SYSTEM_JUPYTER_PATH)

    @default("factory_data_dirs")
    def _default_factory_data_dirs(self) -> list[str]:
        from jupyter_core import paths

        return [*paths.ENV_JUPYTER_PATH, PACKAGED_FACTORY_DIR]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._index: dict[tuple[int, str], Entry] = {}
        self._index_lock = threading.Lock()
        self._listing: Listing | None = None
        self._version_prefix = uuid.uuid4().hex[:8]
        self._generation = 0

    # -- search path -------------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        seen: set[str] = set()
        layers: list[Layer] = []
        candidates = [(USER, self.data_dir)]
        candidates += [(SHARED, d) for d in self.shared_data_dirs]
        candidates += [(FACTORY, d) for d in self.factory_data_dirs]
        for origin, base in candidates:
            directory = os.path.realpath(os.path.join(base, "metadata", SCHEMASPACE))
            if directory in seen:
                continue
            seen.add(directory)
            layers.append(Layer(origin, Path(directory)))
        return layers

    @property
    def user_layer(self) -> Layer:
        return self.layers[0]

    # -- reading -----------------------------------------------------------------------

    def _read_entry(self, layer: Layer, name: str, stamp: tuple[int, int, int]) -> Entry:
        path = layer.directory / f"{name}.json"
        if stamp[1] > self.max_file_bytes:
            error = FieldError("", f"the file is larger than {self.max_file_bytes} bytes")
            return Entry(name, layer, stamp, '"oversized"', None, (error,))
        try:
            data = path.read_bytes()
        except OSError as error:
            problem = FieldError("", f"the file cannot be read: {error.strerror}")
            return Entry(name, layer, stamp, '"unreadable"', None, (problem,))
        etag = _etag(data)
        try:
            document = documents.loads_json(data, "the file")
        except ValidationFailedError as error:
            text = data.decode("utf-8", errors="replace")
            return Entry(name, layer, stamp, etag, None, tuple(error.errors), raw=text[:65536])
        errors = validate_stored(document)
        if not isinstance(document, dict):
            return Entry(name, layer, stamp, etag, None, tuple(errors), raw=data.decode()[:65536])
        return Entry(name, layer, stamp, etag, document, tuple(errors))

    def _cached_entry(self, index: int, layer: Layer, name: str, st: os.stat_result) -> Entry:
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._index.get((index, name))
        if cached is not None and cached.stamp == stamp:
            return cached
        entry = self._read_entry(layer, name, stamp)
        self._index[(index, name)] = entry
        self._listing = None
        return entry

    def listing(self) -> Listing:
        """The merged store. Unchanged files (same mtime, size and inode) are not re-read."""
        with self._index_lock:
            index = self._index
            present: set[tuple[int, str]] = set()
            visible: dict[str, Entry] = {}
            for position, layer in enumerate(self.layers):
                try:
                    scan = os.scandir(layer.directory)
                except (FileNotFoundError, NotADirectoryError, PermissionError):
                    continue
                with scan:
                    for dir_entry in scan:
                        file_name = dir_entry.name
                        if not file_name.endswith(".json") or file_name[0] == ".":
                            continue
                        try:
                            st = dir_entry.stat()
                        except FileNotFoundError:
                            continue
                        key = (position, file_name[:-5])
                        present.add(key)
                        entry = index.get(key)
                        # The hot path: most files are unchanged and need no function call.
                        if entry is None or entry.stamp != (st.st_mtime_ns, st.st_size, st.st_ino):
                            entry = self._cached_entry(position, layer, key[1], st)
                        if key[1] not in visible:
                            visible[key[1]] = entry
            for key in index.keys() - present:
                del index[key]
                self._listing = None
            if self._listing is None:
                self._generation += 1
                entries = sorted(
                    visible.values(), key=lambda e: (e.display_name.casefold(), e.name)
                )
                self._listing = Listing(
                    instances=[e for e in entries if e.valid],
                    invalid=[e for e in entries if not e.valid],
                    version=f"{self._version_prefix}-{self._generation}",
                )
            return self._listing

    def _find(self, name: str) -> Entry | None:
        """The visible entry for ``name``, stat-checking only that name's files."""
        if not naming.is_safe_file_name(name):
            return None
        with self._index_lock:
            for index, layer in enumerate(self.layers):
                try:
                    st = os.stat(layer.directory / f"{name}.json")
                except (FileNotFoundError, NotADirectoryError, PermissionError):
                    continue
                return self._cached_entry(index, layer, name, st)
        return None

    def get_entry(self, name: str) -> Entry:
        """The visible entry for ``name``, valid or not."""
        entry = self._find(name)
        if entry is None:
            raise NotFoundError(f"No runtime image named {name!r}.")
        return entry

    def get(self, name: str) -> Entry:
        """The valid instance ``name``; an invalid file raises with its reasons."""
        entry = self.get_entry(name)
        if not entry.valid:
            raise ValidationFailedError(
                entry.errors,
                f"The runtime image file {name!r} is invalid ({entry.reason}); "
                "replace it with a valid one or delete it.",
            )
        return entry

    # -- writing -----------------------------------------------------------------------

    def _lock(self) -> Any:
        return file_lock(self.user_layer.directory / LOCK_FILE_NAME, timeout=self.lock_timeout)

    def _write(self, name: str, document: Mapping[str, Any]) -> Entry:
        layer = self.user_layer
        layer.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = layer.directory / f"{name}.json"
        data = _serialize(document)
        # Checked before writing: a file over the limit would be listed as invalid.
        documents.check_size(
            data,
            self.max_file_bytes,
            f"The runtime image {name!r}",
            "RuntimeImageStore.max_file_bytes",
        )
        atomic_write_bytes(path, data)
        st = os.stat(path)
        entry = Entry(
            name, layer, (st.st_mtime_ns, st.st_size, st.st_ino), _etag(data), _stored(document)
        )
        with self._index_lock:
            self._index[(0, name)] = entry
            self._listing = None
        return entry

    @staticmethod
    def _prepare(body: object) -> dict[str, Any]:
        """Validate a request body; return the document to store."""
        if not isinstance(body, Mapping):
            raise ValidationFailedError([FieldError("", "the body must be a JSON object")])
        document = dict(body)
        document.setdefault("schema_name", SCHEMA_NAME)
        errors = validate_for_write(document)
        if errors:
            raise ValidationFailedError(errors)
        for key in API_READ_ONLY_KEYS:
            document.pop(key, None)
        return document

    @staticmethod
    def check_if_match(entry: Entry, if_match: str | None) -> None:
        """:class:`PreconditionFailedError` unless ``if_match`` (when given) names ``entry``."""
        if if_match is not None and not _etag_matches(if_match, entry.etag):
            raise PreconditionFailedError(
                f"The runtime image {entry.name!r} changed since you read it; "
                "reload it and apply your change again."
            )

    def remove_stale_temp_files(self) -> int:
        """Delete temporary files left by writers that were killed mid-write.

        Writers create them only while holding the lock, so any found under it are stale.
        """
        directory = self.user_layer.directory
        if not directory.is_dir():
            return 0
        removed = 0
        with self._lock():
            for path in directory.glob(".*.json.*.tmp"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def create(self, body: object) -> Entry:
        """Create an instance; ``name`` is derived from ``display_name`` when absent."""
        name = body.get("name") if isinstance(body, Mapping) else None
        document = self._prepare(body)
        if name is None:
            name = naming.derive_name(document["display_name"])
        elif not naming.is_valid_name(name):
            raise ValidationFailedError([FieldError("name", "is not a valid name")])
        with self._lock():
            if self._find(name) is not None:
                raise AlreadyExistsError(
                    f"A runtime image named {name!r} already exists; "
                    "choose another name or display name."
                )
            return self._write(name, document)

    def replace(self, name: str, body: object, if_match: str | None = None) -> Entry:
        """Replace ``name`` entirely (repairing it if invalid); factory images get a user copy."""
        self._check_same_name(name, body)
        document = self._prepare(body)
        with self._lock():
            entry = self.get_entry(name)
            self.check_if_match(entry, if_match)
            return self._write(name, document)

    def patch(self, name: str, patch: object, if_match: str | None = None) -> Entry:
        """Apply an RFC 7396 merge patch to the instance ``name``."""
        if not isinstance(patch, Mapping):
            raise ValidationFailedError([FieldError("", "a merge patch must be a JSON object")])
        self._check_same_name(name, patch)
        with self._lock():
            entry = self.get_entry(name)
            if entry.document is None:
                raise ConflictError(
                    f"The file of {name!r} is not a JSON object and cannot be patched; "
                    "replace it with PUT or delete it."
                )
            document = self._prepare(merge_patch(entry.document, dict(patch)))
            self.check_if_match(entry, if_match)
            return self._write(name, document)

    def delete(self, name: str, if_match: str | None = None) -> Entry | None:
        """Delete the user's instance; return the factory/shared one it uncovers, if any."""
        with self._lock():
            entry = self.get_entry(name)
            if not entry.layer.writable:
                raise ReadOnlyError(
                    f"{name!r} is a {entry.layer.origin} runtime image and cannot be deleted; "
                    "edit it to override it with your own copy."
                )
            self.check_if_match(entry, if_match)
            entry.path.unlink()
            return self._find(name)

    def duplicate(self, name: str) -> Entry:
        """Copy ``name`` as "<display name> (copy)", numbered until the name is free."""
        source = self.get(name)
        assert source.document is not None
        base_display = f"{source.display_name} (copy)"
        base_name = naming.derive_name(base_display)
        with self._lock():
            for number in range(1, 10_000):
                candidate = base_name if number == 1 else naming.numbered(base_name, number)
                if self._find(candidate) is None:
                    display = (
                        base_display if number == 1 else f"{source.display_name} (copy {number})"
                    )
                    document = dict(source.document, display_name=display)
                    return self._write(candidate, self._prepare(document))
        raise AlreadyExistsError(f"Too many copies of {name!r} already exist.")

    def import_instances(
        self, items: Iterable[object], overwrite: bool = False
    ) -> list[ImportResult]:
        """Import instances (e.g. an export); report per item, never stop at a bad one.

        An item identical to the visible instance is ``unchanged`` and not written, so
        re-importing an export never copies factory images into the user directory.
        """
        results: list[ImportResult] = []
        for position, item in enumerate(items):
            results.append(self._import_one(position, item, overwrite))
        return results

    def _import_one(self, position: int, item: object, overwrite: bool) -> ImportResult:
        name = _item_name(item)
        try:
            document = self._prepare(item)
            if name is None or not naming.is_valid_name(name):
                raise ValidationFailedError([FieldError("name", "is not a valid name")])
            with self._lock():
                existing = self._find(name)
                if existing is None:
                    self._write(name, document)
                    return ImportResult(name, "created", "created")
                if existing.valid and existing.to_file() == _stored(document):
                    return ImportResult(name, "unchanged", "identical to the existing image")
                if not overwrite:
                    return ImportResult(
                        name, "skipped", "a runtime image with this name exists (use overwrite)"
                    )
                self._write(name, document)
                return ImportResult(name, "updated", "replaced the existing image")
        except ValidationFailedError as error:
            return ImportResult(name or f"item {position + 1}", "failed", str(error), error.errors)

    @staticmethod
    def _check_same_name(name: str, body: object) -> None:
        if isinstance(body, Mapping) and "name" in body and body["name"] != name:
            raise ValidationFailedError(
                [FieldError("name", "renaming is not supported; create a copy instead")]
            )


def _item_name(item: object) -> str | None:
    """The name an imported item asks for: its ``name``, else one derived from its display name."""
    if not isinstance(item, Mapping):
        return None
    if isinstance(item.get("name"), str):
        return str(item["name"])
    if isinstance(item.get("display_name"), str):
        return naming.derive_name(item["display_name"])
    return None


def _stored(document: Mapping[str, Any]) -> dict[str, Any]:
    return {key: document[key] for key in STORED_KEYS if key in document}
