"""What each layer does to the tree: files added, changed and removed, its largest files and
directories, and the bytes it holds that a later layer made dead (wasted).

Wasted bytes are counted once per dead copy and charged to the layer that holds the copy:
a file written in layers 1, 2 and 3 wastes layer 1's and layer 2's copies, never the live
one (dive counts the live copy too: wagoodman/dive#684). A hard link that is replaced while
another name still points at its data is not counted (the data is still reachable).
"""

from __future__ import annotations

import heapq
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from ..inspect.filesystem import Node

__all__ = ["LayerStat", "LayerStats"]

TOP = 10
_DIR_DEPTH = 3


@dataclass
class LayerStat:
    """One layer's statistics (JSON: :meth:`to_json`, the ``layers`` route's items)."""

    index: int
    added: int = 0
    changed: int = 0
    removed: int = 0
    wasted_bytes: int = 0
    uncompressed_size: int = 0
    largest_files: list[tuple[int, str]] = field(default_factory=list)  # a min-heap
    dir_sizes: dict[str, int] = field(default_factory=dict)

    def add_file(self, path: str, size: int) -> None:
        largest = self.largest_files
        if len(largest) < TOP:
            heapq.heappush(largest, (size, "/" + path))
        elif size > largest[0][0]:
            heapq.heapreplace(largest, (size, "/" + path))
        sizes = self.dir_sizes
        end = path.find("/")
        depth = 0
        while end > 0 and depth < _DIR_DEPTH:
            key = path[:end]
            sizes[key] = sizes.get(key, 0) + size
            end = path.find("/", end + 1)
            depth += 1

    def to_json(self) -> dict[str, Any]:
        dirs = heapq.nlargest(TOP, self.dir_sizes.items(), key=lambda item: (item[1], item[0]))
        return {
            "index": self.index,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "wasted_bytes": self.wasted_bytes,
            "uncompressed_size": self.uncompressed_size,
            "largest_files": [
                {"path": path, "size": size}
                for size, path in sorted(self.largest_files, reverse=True)
            ],
            "largest_dirs": [{"path": "/" + path, "size": size} for path, size in dirs],
        }


class LayerStats:
    """The layer statistics' :class:`~runtime_images.inspect.filesystem.LayerObserver`."""

    def __init__(self) -> None:
        self.layers: list[LayerStat] = [LayerStat(0)]
        self._links: dict[int, int] = {}  # id(node) -> names beyond the first (hard links)

    @property
    def current(self) -> LayerStat:
        return self.layers[-1]

    def wants(self, path: str, info: tarfile.TarInfo) -> Callable[[IO[bytes]], None] | None:
        return None

    def written(self, path: str, info: tarfile.TarInfo, node: Node, replaced: Node | None) -> None:
        layer = self.current
        if replaced is None:
            layer.added += 1
        else:
            layer.changed += 1
            if replaced is not node:
                self._dead(replaced)
        if info.islnk():
            self._links[id(node)] = self._links.get(id(node), 0) + 1
        elif node.kind == "file":
            layer.add_file(path, node.size)

    def removed(self, path: str, node: Node) -> None:
        self.current.removed += 1
        if node.children is None:
            self._dead(node)
            return
        seen: set[int] = set()
        todo = [node]
        while todo:
            directory = todo.pop()
            for child in (directory.children or {}).values():
                if child.children is not None:
                    todo.append(child)
                elif id(child) not in seen:
                    seen.add(id(child))
                    self._dead(child)

    def _dead(self, node: Node) -> None:
        if node.kind != "file":
            return
        links = self._links.get(id(node), 0)
        if links:
            self._links[id(node)] = links - 1  # another name still holds the data
            return
        if 0 <= node.layer < len(self.layers):
            self.layers[node.layer].wasted_bytes += node.size

    def layer_done(self, layer: int, tar_bytes: int) -> None:
        self.current.uncompressed_size = tar_bytes
        self.layers.append(LayerStat(layer + 1))

    def finish(self) -> list[LayerStat]:
        """The statistics of the layers applied (the empty one being filled is dropped)."""
        return self.layers[:-1]
