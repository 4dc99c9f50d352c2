"""The inspection document: what ``inspect --json`` prints and ``GET inspect`` returns.

It is the report of :mod:`runtime_images.inspect` (OS, Python, users, config) plus
``image``, ``packages``, ``environments``, ``databases``, ``size``, ``accelerators``, the
result of every requirement profile (``checks``) and per-layer statistics
(``layer_details``), so that one cached reading answers every consumer: inspect, validate,
SBOM, layers and diff.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from typing import IO, Any

from ..inspect import PROFILES, ImageView, run_profiles
from ..inspect.filesystem import Node
from ..registry import ResolvedImage
from .budget import ContentBudget
from .databases import PackageDatabases
from .inventory import take_inventory
from .layerstats import LayerStats

__all__ = ["ContentsObserver", "assemble", "history_commands"]


class ContentsObserver:
    """Both observers of a reading: the package databases and the layer statistics."""

    def __init__(self, budget: ContentBudget) -> None:
        self.databases = PackageDatabases(budget)
        self.stats = LayerStats()

    def wants(self, path: str, info: tarfile.TarInfo) -> Callable[[IO[bytes]], None] | None:
        return self.databases.wants(path, info)

    def written(self, path: str, info: tarfile.TarInfo, node: Node, replaced: Node | None) -> None:
        self.databases.written(path, info, node, replaced)
        self.stats.written(path, info, node, replaced)

    def removed(self, path: str, node: Node) -> None:
        self.databases.removed(path, node)
        self.stats.removed(path, node)

    def layer_done(self, layer: int, tar_bytes: int) -> None:
        self.databases.layer_done(layer, tar_bytes)
        self.stats.layer_done(layer, tar_bytes)


def history_commands(config: dict[str, Any], layers: int) -> list[str | None]:
    """The command that made each layer, from the config's history (entries marked
    ``empty_layer`` made none); None where the history does not say."""
    history = config.get("history")
    commands: list[str | None] = []
    if isinstance(history, list):
        for entry in history:
            if not isinstance(entry, dict) or entry.get("empty_layer") is True:
                continue
            created_by = entry.get("created_by")
            commands.append(str(created_by)[:4096] if created_by is not None else None)
    commands = commands[:layers]
    return commands + [None] * (layers - len(commands))


def assemble(
    view: ImageView, resolved: ResolvedImage, observer: ContentsObserver
) -> dict[str, Any]:
    """The document of an image whose layers ``observer`` watched (blocking: a thread)."""
    report = view.report
    inventory = take_inventory(view.fs, observer.databases, report.os)
    stats = observer.stats.finish()
    descriptors = resolved.manifest.layers
    commands = history_commands(resolved.config, len(descriptors))
    layer_details = []
    for index, descriptor in enumerate(descriptors):
        stat = stats[index].to_json() if index < len(stats) else {}
        layer_details.append(
            {
                **stat,
                "index": index,
                "digest": descriptor.digest,
                "compressed_size": descriptor.size,
                "created_by": commands[index],
            }
        )
    checks = [c.to_json() for c in run_profiles(view, list(PROFILES)) if c.profile in PROFILES]
    document = report.to_json()
    document.update(
        {
            "image": {
                "reference": report.reference,
                "digest": resolved.manifest.digest,
                "index_digest": resolved.digest,
                "platform": report.platform,
                "local": resolved.reference.is_local,
            },
            "packages": [p.to_json() for p in inventory.packages],
            "environments": [e.to_json() for e in inventory.environments],
            "databases": [d.to_json() for d in inventory.databases],
            "size": {
                "compressed": report.compressed_size,
                "uncompressed": sum(s.uncompressed_size for s in stats),
            },
            "checks": checks,
            "layer_details": layer_details,
        }
    )
    return document
