"""Know when an image moved: watch tags, report what changed, re-pin or rebuild.

:class:`TagWatcher` resolves the tag of every runtime image and every build's base with
manifest HEAD requests, keeps each digest with when it was first seen
(:mod:`.state`), announces each move once (``update-available``) and starts the rebuilds
that opted in; :func:`repin` moves a runtime image and its kernelspecs to the new digest
(:func:`move_image`, which publishing with ``repoint`` uses too).
The summary of a move is a pluggable function (``summarize(pinned_ref, current_ref)``).
"""

from __future__ import annotations

from .repin import RepinResult, move_image, repin
from .subjects import BUILD_BASE, REBUILD_ANNOTATION, RUNTIME_IMAGE, Subject
from .summary import summary_from_diff
from .watcher import CheckStats, Summarize, TagWatcher

__all__ = [
    "BUILD_BASE",
    "REBUILD_ANNOTATION",
    "RUNTIME_IMAGE",
    "CheckStats",
    "RepinResult",
    "Subject",
    "Summarize",
    "TagWatcher",
    "move_image",
    "repin",
    "summary_from_diff",
]
