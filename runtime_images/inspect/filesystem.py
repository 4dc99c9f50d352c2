"""The merged filesystem of an image, built from tar headers as layers stream past.

Layers are applied in order with OCI semantics: ``.wh.<name>`` deletes a lower entry,
``.wh..wh..opq`` hides everything a lower layer put in a directory, hard links share their
target's node, and entries written "through" a symlinked directory (``bin/x`` with
``bin -> usr/bin``) land where a runtime would put them. Only metadata is kept, plus the
first bytes of the few files the checks read (see :func:`wanted_bytes`), so memory grows
with the number of files, never with their size.
"""

from __future__ import annotations

import base64
import io
import posixpath
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

__all__ = ["FileSystem", "Node", "wanted_bytes"]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
MAX_SYMLINK_HOPS = 40
SERIAL_VERSION = 1

_SMALL_FILES = {
    "etc/passwd": 1 << 20,
    "etc/group": 1 << 20,
    "etc/os-release": 64 << 10,
    "usr/lib/os-release": 64 << 10,
}
_METADATA_RE = re.compile(r"(?:^|/)[^/]+\.(?:dist-info/METADATA|egg-info/PKG-INFO)$")
METADATA_BYTES = 16 << 10
SHEBANG_BYTES = 128


def wanted_bytes(path: str, info: tarfile.TarInfo) -> int:
    """How many leading bytes of a regular file the checks need (0: none)."""
    if path in _SMALL_FILES:
        return _SMALL_FILES[path]
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

    def __init__(self) -> None:
        self.root = Node("dir", 0o755, children={})
        self.layers = 0
        self.entries = 0

    # -- lookups ----------------------------------------------------------------------------

    def _resolve(
        self, parts: list[str], follow_last: bool, create: bool = False, layer: int = -1
    ) -> tuple[list[str], Node | None]:
        """Walk ``parts`` from the root following symlinks; returns (canonical path, node)."""
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
                if hops > MAX_SYMLINK_HOPS:
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
            stack.append(child)
            resolved.append(name)
        return resolved, stack[-1]

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
                found = copies[id(node)] = Node(
                    node.kind,
                    node.mode,
                    node.uid,
                    node.gid,
                    node.size,
                    node.target,
                    node.content,
                    None,
                    node.layer,
                )
                if node.children is not None:
                    found.children = {name: clone(child) for name, child in node.children.items()}
            return found

        other = FileSystem()
        other.root = clone(self.root)
        other.layers, other.entries = self.layers, self.entries
        return other

    # -- serialisation ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON form that :meth:`from_json` reads back, hard links included: a node met
        again is written as the number of its first appearance."""
        numbers: dict[int, int] = {}

        def encode(node: Node) -> Any:
            number = numbers.get(id(node))
            if number is not None:
                return number
            numbers[id(node)] = len(numbers)
            content = None if node.content is None else base64.b64encode(node.content).decode()
            children = (
                None
                if node.children is None
                else {name: encode(child) for name, child in node.children.items()}
            )
            fields = [node.kind, node.mode, node.uid, node.gid, node.size, node.target]
            return [*fields, content, node.layer, children]

        return {
            "version": SERIAL_VERSION,
            "layers": self.layers,
            "entries": self.entries,
            "root": encode(self.root),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileSystem:
        """Read :meth:`to_json`'s form back (ValueError if it is not that form)."""
        if not isinstance(data, dict) or data.get("version") != SERIAL_VERSION:
            raise ValueError("not a serialised filesystem of this version")
        nodes: list[Node] = []

        def decode(item: Any) -> Node:
            if isinstance(item, int):
                return nodes[item]
            kind, mode, uid, gid, size, target, content, layer, children = item
            node = Node(kind, mode, uid, gid, size, target, None, None, layer)
            if content is not None:
                node.content = base64.b64decode(content)
            nodes.append(node)
            if children is not None:
                node.children = {name: decode(child) for name, child in children.items()}
            return node

        fs = cls()
        try:
            fs.root = decode(data["root"])
            fs.layers, fs.entries = int(data["layers"]), int(data["entries"])
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise ValueError(f"not a serialised filesystem: {error}") from None
        return fs

    # -- layer application --------------------------------------------------------------------

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
        ``/``), for work that can start before the whole layer is read.
        """
        layer = self.layers
        stream = cast(IO[bytes], tar_stream)  # tarfile only calls read()
        with tarfile.open(fileobj=stream, mode="r|", bufsize=bufsize) as archive:
            for info in archive:
                self._apply_entry(info, archive, layer, on_file)
        self.layers += 1

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
        name = parts[-1]
        if name.startswith(WHITEOUT_PREFIX) and name != OPAQUE_MARKER:
            # Deleting from a directory that does not exist must not create it.
            _, parent = self._resolve(parts[:-1], True)
            if parent is not None and parent.children is not None:
                parent.children.pop(name[len(WHITEOUT_PREFIX) :], None)
            return
        parent_parts, parent = self._resolve(parts[:-1], True, create=True, layer=layer)
        if parent is None or parent.children is None:
            return
        if name == OPAQUE_MARKER:
            _hide_lower(parent, layer)
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
            return
        if info.islnk():
            _target_parts, target = self._resolve(_split(info.linkname), False)
            if target is None:
                target = Node("file", info.mode, info.uid, info.gid, layer=layer)
            target.layer = layer
            parent.children[name] = target
            return
        if info.issym():
            parent.children[name] = Node(
                "symlink", 0o777, info.uid, info.gid, target=info.linkname, layer=layer
            )
            return
        if info.isreg():
            path = "/".join([*parent_parts, name])
            if on_file is not None:
                on_file(path, info)
            want = wanted_bytes(path, info)
            content = None
            if want:
                extracted = archive.extractfile(info)
                content = extracted.read(want) if extracted is not None else b""
            parent.children[name] = Node(
                "file", info.mode, info.uid, info.gid, info.size, content=content, layer=layer
            )
            return
        parent.children[name] = Node("other", info.mode, info.uid, info.gid, layer=layer)


def _hide_lower(directory: Node, layer: int) -> None:
    """Opaque directory: drop what lower layers put below it, keep this layer's entries."""
    assert directory.children is not None
    for name, child in list(directory.children.items()):
        if child.layer != layer:
            del directory.children[name]
        elif child.children is not None:
            _hide_lower(child, layer)
