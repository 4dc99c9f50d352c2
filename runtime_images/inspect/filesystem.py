"""The merged filesystem of an image, built from tar headers as layers stream past.

Layers are applied in order with OCI semantics: ``.wh.<name>`` deletes a lower entry,
``.wh..wh..opq`` hides everything a lower layer put in a directory, hard links share their
target's node, and entries written "through" a symlinked directory (``bin/x`` with
``bin -> usr/bin``) land where a runtime would put them. Only metadata is kept, plus the
first bytes of the few files the checks read (see :func:`wanted_bytes`), so memory grows
with the number of files, never with their size.

Layers are hostile input, so the tree is finite by construction and every cost has a
budget (:class:`Limits`): a hard link to a directory (which tar cannot express, and which
would make the tree a graph with cycles) is refused, paths have a depth limit, symlinks a
hop limit, and the number of entries and of kept bytes are capped. Every walk is iterative.
"""

from __future__ import annotations

import base64
import io
import posixpath
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import IO, Any, Protocol, cast

from .errors import InvalidLayer, LimitExceeded

__all__ = ["FileSystem", "LayerObserver", "Limits", "Node", "wanted_bytes"]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
SERIAL_VERSION = 3  # 3: accelerator version files kept (records of 2 lack them)


@dataclass(frozen=True)
class Limits:
    """Budgets of one merged filesystem (configured as ``ImageInspector.*`` traits).

    ``max_layers``: layers of one image (Docker's overlay storage stops at 128; a manifest
    of a few MB could list tens of thousands, each a request). ``max_files``: entries
    applied over all layers (about 230 bytes of memory each, so the
    default keeps a hostile layer of empty files under ~250 MB; real images have up to a
    few hundred thousand). ``max_depth``: path components. ``max_symlink_hops``: links
    followed resolving one path (Linux's own limit is 40). ``max_kept_files`` and
    ``max_kept_bytes``: files whose leading bytes are kept for the checks, and their bytes
    over all layers.
    """

    max_layers: int = 500
    max_files: int = 1_000_000
    max_depth: int = 256
    max_symlink_hops: int = 40
    max_kept_files: int = 100_000
    max_kept_bytes: int = 64 << 20


DEFAULT_LIMITS = Limits()

_SMALL_FILES = {
    "etc/passwd": 1 << 20,
    "etc/group": 1 << 20,
    "etc/os-release": 64 << 10,
    "usr/lib/os-release": 64 << 10,
}
_METADATA_RE = re.compile(r"(?:^|/)[^/]+\.(?:dist-info/METADATA|egg-info/PKG-INFO)$")
METADATA_BYTES = 16 << 10
SHEBANG_BYTES = 128
_KEPT_HEADERS = re.compile(
    rb"^(?:name|version|license|license-expression|classifier: license ::)", re.IGNORECASE
)
_HEADER_VALUE_BYTES = 256


def kept_metadata(data: bytes) -> bytes:
    """What is kept of a distribution's METADATA: the header lines the reports use (name,
    version, licence), each cut short — not the 16 KiB read, thousands of times over."""
    kept = []
    for line in data.split(b"\n"):
        if not line.strip():
            break  # the body (the long description) follows the first blank line
        if _KEPT_HEADERS.match(line):
            kept.append(line.rstrip(b"\r")[:_HEADER_VALUE_BYTES])
    return b"\n".join(kept) + b"\n" if kept else b""


_ACCELERATOR_VERSION_FILE = re.compile(
    r"^(?:usr/local/cuda[^/]*/version\.(?:json|txt)|opt/rocm[^/]*/\.info/version)$"
)
ACCELERATOR_VERSION_BYTES = 64 << 10


def wanted_bytes(path: str, info: tarfile.TarInfo) -> int:
    """How many leading bytes of a regular file the checks need (0: none)."""
    if path in _SMALL_FILES:
        return _SMALL_FILES[path]
    if _ACCELERATOR_VERSION_FILE.match(path):  # the version files accelerators.py reads
        return ACCELERATOR_VERSION_BYTES
    if _METADATA_RE.search(path):
        return METADATA_BYTES
    parent = posixpath.basename(posixpath.dirname(path))
    if parent in ("bin", "sbin") and info.mode & 0o111 and info.size:
        return SHEBANG_BYTES
    return 0


@dataclass(slots=True, eq=False)
class Node:
    """One filesystem entry: metadata, a symlink target, or a directory's children."""

    kind: str  # "dir", "file", "symlink" or "other"
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    size: int = 0
    target: str = ""
    content: bytes | None = None
    children: dict[str, Node] | None = None
    layer: int = -1

    @property
    def is_dir(self) -> bool:
        return self.kind == "dir"

    @property
    def is_executable(self) -> bool:
        return self.kind == "file" and bool(self.mode & 0o111)


class LayerObserver(Protocol):
    """Sees what each layer does to the tree as it is applied (package databases, sizes).

    Called in the thread that applies the layer; paths are canonical and relative to ``/``.
    """

    def wants(self, path: str, info: tarfile.TarInfo) -> Callable[[IO[bytes]], None] | None:
        """A reader of this regular file's bytes, or None. Only asked for files whose
        leading bytes the tree does not keep itself (:func:`wanted_bytes` is 0)."""

    def written(self, path: str, info: tarfile.TarInfo, node: Node, replaced: Node | None) -> None:
        """A non-directory entry was written over ``replaced`` (None: the path was new)."""

    def removed(self, path: str, node: Node) -> None:
        """A whiteout or an opaque directory removed ``node`` (and what is below it)."""

    def layer_done(self, layer: int, tar_bytes: int) -> None:
        """The layer ``layer`` was applied; its uncompressed tar stream had ``tar_bytes``."""


class _CountingReader(io.RawIOBase):
    """Counts the uncompressed bytes tarfile reads (a layer's size on disk, as tar)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data


def _split(path: str) -> list[str]:
    """Normalise an archive or absolute path into components, clamped at the root."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return parts


class FileSystem:
    """A merged view of an image's layers; paths are absolute or relative to ``/``."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.root = Node("dir", 0o755, children={})
        self.layers = 0
        self.entries = 0
        self.kept_files = 0
        self.kept_bytes = 0
        self.observer: LayerObserver | None = None

    # -- lookups ----------------------------------------------------------------------------

    def _resolve(
        self, parts: list[str], follow_last: bool, create: bool = False, layer: int = -1
    ) -> tuple[list[str], Node | None]:
        """Walk ``parts`` from the root following symlinks; returns (canonical path, node).

        A lookup that needs more than ``max_symlink_hops`` links finds nothing (ELOOP);
        creating a path deeper than ``max_depth`` raises :class:`LimitExceeded`.
        """
        pending = list(reversed(parts))
        resolved: list[str] = []
        stack: list[Node] = [self.root]
        hops = 0
        while pending:
            name = pending.pop()
            if name == "..":
                if len(stack) > 1:
                    stack.pop()
                    resolved.pop()
                continue
            if name == ".":
                continue
            current = stack[-1]
            assert current.children is not None
            child = current.children.get(name)
            if child is None:
                if not create:
                    return [*resolved, name, *list(reversed(pending))], None
                child = Node("dir", 0o755, children={}, layer=layer)
                current.children[name] = child
            if child.kind == "symlink" and (pending or follow_last):
                hops += 1
                if hops > self.limits.max_symlink_hops:
                    return [*resolved, name], None
                target = child.target
                if target.startswith("/"):
                    stack, resolved = [self.root], []
                pending.extend(reversed([p for p in target.split("/") if p]))
                continue
            if (pending or create) and not child.is_dir:
                if not create:
                    return [*resolved, name, *list(reversed(pending))], None
                # A file where a layer needs a directory: the layer wins.
                child = Node("dir", 0o755, children={}, layer=layer)
                current.children[name] = child
            if create:
                child.layer = layer
                if len(resolved) >= self.limits.max_depth:
                    raise self._too_deep(resolved)
            stack.append(child)
            resolved.append(name)
        return resolved, stack[-1]

    def _too_deep(self, parts: list[str]) -> LimitExceeded:
        shown = "/".join(parts[:8])
        return LimitExceeded(
            f"a path ({shown}/…) is deeper than {self.limits.max_depth} directories "
            "(ImageInspector.max_path_depth)"
        )

    def lookup(self, path: str, follow: bool = True) -> Node | None:
        return self._resolve(_split(path), follow)[1]

    def realpath(self, path: str) -> str | None:
        """The canonical absolute path of an existing entry, symlinks resolved."""
        parts, node = self._resolve(_split(path), True)
        return "/" + "/".join(parts) if node is not None else None

    def listdir(self, path: str) -> dict[str, Node]:
        node = self.lookup(path)
        return dict(node.children) if node is not None and node.children is not None else {}

    def read(self, path: str) -> bytes | None:
        """The kept leading bytes of a file (only files :func:`wanted_bytes` selects)."""
        node = self.lookup(path)
        return node.content if node is not None and node.kind == "file" else None

    def walk(self, top: str = "/") -> Iterator[tuple[str, Node]]:
        """Every entry under ``top`` (symlinks not followed), depth first."""
        start = self.lookup(top)
        if start is None or start.children is None:
            return
        base = "/" + "/".join(_split(top))
        todo: list[tuple[str, Node]] = [(base.rstrip("/"), start)]
        while todo:
            prefix, node = todo.pop()
            for name, child in (node.children or {}).items():
                path = f"{prefix}/{name}"
                yield path, child
                if child.children is not None:
                    todo.append((path, child))

    def copy(self) -> FileSystem:
        """An independent copy, to apply more layers to (file contents are shared bytes;
        hard links stay one node)."""
        copies: dict[int, Node] = {}

        def clone(node: Node) -> Node:
            found = copies.get(id(node))
            if found is None:
                found = copies[id(node)] = replace(node, children=None)
            return found

        other = FileSystem(self.limits)
        other.root = clone(self.root)
        todo = [(self.root, other.root)]
        while todo:
            original, copied = todo.pop()
            if original.children is None:
                continue
            copied.children = {}
            for name, child in original.children.items():
                copied.children[name] = clone(child)
                if child.children is not None:
                    todo.append((child, copied.children[name]))
        other.layers, other.entries = self.layers, self.entries
        other.kept_files, other.kept_bytes = self.kept_files, self.kept_bytes
        return other

    # -- serialisation ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON form that :meth:`from_json` reads back: nodes in depth-first order, each
        ``[kind, mode, uid, gid, size, target, content, layer, parent, name]``; a hard link
        is ``[number of its first appearance, parent, name]``."""
        numbers: dict[int, int] = {id(self.root): 0}
        nodes: list[list[Any]] = [self._fields(self.root, -1, "")]
        todo = [self.root]
        while todo:
            directory = todo.pop()
            parent = numbers[id(directory)]
            for name, child in (directory.children or {}).items():
                number = numbers.get(id(child))
                if number is not None:  # a hard link to a file met before
                    nodes.append([number, parent, name])
                    continue
                numbers[id(child)] = len(nodes)
                nodes.append(self._fields(child, parent, name))
                if child.children is not None:
                    todo.append(child)
        return {
            "version": SERIAL_VERSION,
            "layers": self.layers,
            "entries": self.entries,
            "kept": [self.kept_files, self.kept_bytes],
            "nodes": nodes,
        }

    @staticmethod
    def _fields(node: Node, parent: int, name: str) -> list[Any]:
        content = None if node.content is None else base64.b64encode(node.content).decode()
        return [
            node.kind,
            node.mode,
            node.uid,
            node.gid,
            node.size,
            node.target,
            content,
            node.layer,
            parent,
            name,
        ]

    @classmethod
    def from_json(cls, data: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> FileSystem:
        """Read :meth:`to_json`'s form back (ValueError if it is not that form, or if it
        would not be a tree: a node is only ever a child of a directory met before it, and
        only files are shared)."""
        if not isinstance(data, dict) or data.get("version") != SERIAL_VERSION:
            raise ValueError("not a serialised filesystem of this version")
        fs = cls(limits)
        try:
            items = data["nodes"]
            if len(items) > limits.max_files + 1:
                raise ValueError("more entries than ImageInspector.max_files")
            nodes: list[Node] = []
            for number, item in enumerate(items):
                if len(item) == 3:  # a hard link
                    target, parent, name = item
                    node = nodes[target]
                    if node.is_dir:
                        raise ValueError("a directory appears twice")
                    nodes.append(node)
                else:
                    kind, mode, uid, gid, size, link, content, layer, parent, name = item
                    node = Node(kind, int(mode), int(uid), int(gid), int(size), str(link))
                    node.layer = int(layer)
                    if content is not None:
                        node.content = base64.b64decode(content)
                    if kind == "dir":
                        node.children = {}
                    nodes.append(node)
                if number == 0:
                    continue
                if not 0 <= parent < number:
                    raise ValueError("a node's parent comes after it")
                children = nodes[parent].children
                if children is None:
                    raise ValueError("a node's parent is not a directory")
                children[str(name)] = node
            fs.root = nodes[0]
            if not fs.root.is_dir:
                raise ValueError("the root is not a directory")
            fs.layers, fs.entries = int(data["layers"]), int(data["entries"])
            fs.kept_files, fs.kept_bytes = (int(n) for n in data["kept"])
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise ValueError(f"not a serialised filesystem: {error}") from None
        return fs

    # -- layer application --------------------------------------------------------------------

    def check_layers(self, count: int) -> None:
        """Refuse an image of more layers than the budget, before reading any."""
        if count > self.limits.max_layers:
            raise LimitExceeded(
                f"the image has {count} layers, more than {self.limits.max_layers} "
                "(ImageInspector.max_layers)"
            )

    def apply_layer(
        self,
        tar_stream: IO[bytes] | io.RawIOBase,
        bufsize: int = 64 << 10,
        on_file: Callable[[str, tarfile.TarInfo], None] | None = None,
    ) -> None:
        """Apply one uncompressed layer tar, read strictly sequentially (stream mode).

        tarfile's stream mode copies its whole buffer to skip each file's data, so a small
        buffer is about 3x faster on layers of many small files than a 1 MiB one.
        ``on_file(path, info)`` sees each regular file as it streams past (path relative to
        ``/``), for work that can start before the whole layer is read. Names are bytes in
        tar: one that is not UTF-8 is read with U+FFFD in place of the bad bytes, not with
        tarfile's default lone surrogates, which no JSON writer or HTTP answer can encode.
        """
        layer = self.layers
        stream = cast(IO[bytes], tar_stream)  # tarfile only calls read()
        counted = _CountingReader(stream) if self.observer is not None else None
        with tarfile.open(
            fileobj=cast(IO[bytes], counted) if counted else stream,
            mode="r|",
            bufsize=bufsize,
            encoding="utf-8",
            errors="replace",
        ) as archive:
            for info in archive:
                self._apply_entry(info, archive, layer, on_file)
                # tarfile keeps every TarInfo it read (for getmembers()): about 400 bytes
                # each, more than the tree itself. Iterating does not need them.
                archive.members.clear()  # type: ignore[attr-defined]  # (not in typeshed)
            if counted is not None:
                # The end-of-archive blocks and padding that tarfile does not read.
                while counted.read(bufsize):
                    pass
        self.layers += 1
        if self.observer is not None and counted is not None:
            self.observer.layer_done(layer, counted.count)

    def _apply_entry(
        self,
        info: tarfile.TarInfo,
        archive: tarfile.TarFile,
        layer: int,
        on_file: Callable[[str, tarfile.TarInfo], None] | None,
    ) -> None:
        parts = _split(info.name)
        if not parts:
            if info.isdir():
                self.root.mode = info.mode
            return
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise LimitExceeded(
                f"the image has more than {self.limits.max_files} files and directories "
                "(ImageInspector.max_files)"
            )
        if len(parts) > self.limits.max_depth:
            raise self._too_deep(parts)
        name = parts[-1]
        if name.startswith(WHITEOUT_PREFIX) and name != OPAQUE_MARKER:
            # Deleting from a directory that does not exist must not create it.
            parent_parts, parent = self._resolve(parts[:-1], True)
            if parent is not None and parent.children is not None:
                target = name[len(WHITEOUT_PREFIX) :]
                gone = parent.children.pop(target, None)
                if gone is not None and self.observer is not None:
                    self.observer.removed("/".join([*parent_parts, target]), gone)
            return
        parent_parts, parent = self._resolve(parts[:-1], True, create=True, layer=layer)
        if parent is None or parent.children is None:
            return
        if name == OPAQUE_MARKER:
            _hide_lower(parent, layer, "/".join(parent_parts), self.observer)
            return
        existing = parent.children.get(name)
        if info.isdir():
            if existing is not None and existing.is_dir:
                existing.mode, existing.uid, existing.gid = info.mode, info.uid, info.gid
                existing.layer = layer
            else:
                parent.children[name] = Node(
                    "dir", info.mode, info.uid, info.gid, children={}, layer=layer
                )
                if existing is not None and self.observer is not None:
                    self.observer.removed("/".join([*parent_parts, name]), existing)
            return
        if info.islnk():
            _linked_parts, linked = self._resolve(_split(info.linkname), False)
            if linked is not None and linked.is_dir:
                # tar cannot express this; in the tree it would be a cycle (x -> .).
                raise InvalidLayer(
                    f"{info.name!r} is a hard link to the directory {info.linkname!r}; tar "
                    "archives cannot contain hard links to directories"
                )
            if linked is None:
                linked = Node("file", info.mode, info.uid, info.gid, layer=layer)
            linked.layer = layer
            self._put(parent, parent_parts, name, info, linked, existing)
            return
        if info.issym():
            node = Node("symlink", 0o777, info.uid, info.gid, target=info.linkname, layer=layer)
            self._put(parent, parent_parts, name, info, node, existing)
            return
        if info.isreg():
            path = "/".join([*parent_parts, name])
            if on_file is not None:
                on_file(path, info)
            content = self._kept_content(path, info, archive)
            if content is None and self.observer is not None:
                reader = self.observer.wants(path, info)
                if reader is not None:
                    extracted = archive.extractfile(info)
                    if extracted is not None:
                        reader(extracted)
            node = Node("file", info.mode, info.uid, info.gid, info.size, content=content)
            node.layer = layer
            self._put(parent, parent_parts, name, info, node, existing)
            return
        node = Node("other", info.mode, info.uid, info.gid, layer=layer)
        self._put(parent, parent_parts, name, info, node, existing)

    def _put(
        self,
        parent: Node,
        parent_parts: list[str],
        name: str,
        info: tarfile.TarInfo,
        node: Node,
        existing: Node | None,
    ) -> None:
        """Put a non-directory entry in place, telling the observer what it replaced."""
        assert parent.children is not None
        parent.children[name] = node
        if self.observer is not None:
            self.observer.written("/".join([*parent_parts, name]), info, node, existing)

    def _kept_content(
        self, path: str, info: tarfile.TarInfo, archive: tarfile.TarFile
    ) -> bytes | None:
        """The leading bytes of a file the checks read, within the kept-bytes budget."""
        want = wanted_bytes(path, info)
        if not want:
            return None
        extracted = archive.extractfile(info)
        content = extracted.read(want) if extracted is not None else b""
        if _METADATA_RE.search(path):
            content = kept_metadata(content)
        self.kept_files += 1
        self.kept_bytes += len(content)
        if (
            self.kept_files > self.limits.max_kept_files
            or self.kept_bytes > self.limits.max_kept_bytes
        ):
            raise LimitExceeded(
                f"the image has more metadata to read than the budget of "
                f"{self.limits.max_kept_files} files / {self.limits.max_kept_bytes} bytes "
                "(ImageInspector.max_metadata_files, ImageInspector.max_metadata_bytes)"
            )
        return content


def _hide_lower(
    directory: Node, layer: int, path: str, observer: LayerObserver | None = None
) -> None:
    """Opaque directory: drop what lower layers put below it, keep this layer's entries."""
    todo = [(path, directory)]
    while todo:
        prefix, current = todo.pop()
        assert current.children is not None
        for name, child in list(current.children.items()):
            if child.layer != layer:
                del current.children[name]
                if observer is not None:
                    observer.removed(f"{prefix}/{name}".lstrip("/"), child)
            elif child.children is not None:
                todo.append((f"{prefix}/{name}", child))
