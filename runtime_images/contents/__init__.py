"""What is inside an image: every package (dpkg, rpm, apk, conda, Python per environment),
layer statistics, SBOMs and diffs — read once per manifest digest and cached.

Built over :mod:`runtime_images.inspect` (the merged filesystem, observed while layers
stream in) and below the entry points (handlers, CLI) and builds.
"""

from __future__ import annotations

from .model import ECOSYSTEMS, DatabaseRead, Environment, Package, PackageRecord
from .reader import ContentsReader, DocumentChecks, validation_of

__all__ = [
    "ECOSYSTEMS",
    "ContentsReader",
    "DatabaseRead",
    "DocumentChecks",
    "Environment",
    "Package",
    "PackageRecord",
    "validation_of",
]
