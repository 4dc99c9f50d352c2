"""Budgets of the package inventory: package databases are hostile input like any layer.

What is read is bounded per file (:attr:`ContentLimits.max_database_bytes`: an rpmdb is
read into memory to be opened), over the whole image (:attr:`max_total_bytes`: bytes of
package metadata parsed, over every layer that rewrote a database) and in records kept
(:attr:`max_packages`). Going over a budget ends the inspection with
:class:`~runtime_images.inspect.LimitExceeded` naming the ``ImageInspector`` trait that
raises it, as every other inspection budget does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..inspect import LimitExceeded

__all__ = ["DEFAULT_CONTENT_LIMITS", "ContentBudget", "ContentLimits"]


@dataclass(frozen=True)
class ContentLimits:
    """``max_database_bytes``: one package database file (an rpmdb, a dpkg status, a
    conda-meta record); ``max_total_bytes``: package metadata read over all layers;
    ``max_packages``: package records kept over all layers (a package rewritten by five
    layers counts five times)."""

    max_database_bytes: int = 256 << 20
    max_total_bytes: int = 1 << 30
    max_packages: int = 500_000


DEFAULT_CONTENT_LIMITS = ContentLimits()


class ContentBudget:
    """What one image's inventory has spent of :class:`ContentLimits`."""

    def __init__(self, limits: ContentLimits = DEFAULT_CONTENT_LIMITS) -> None:
        self.limits = limits
        self.bytes = 0
        self.packages = 0

    def check_file(self, size: int, what: str) -> None:
        if size > self.limits.max_database_bytes:
            raise LimitExceeded(
                f"{what} is {size} bytes, more than {self.limits.max_database_bytes} "
                "(ImageInspector.max_package_database_bytes)"
            )

    def spend_bytes(self, count: int, what: str) -> None:
        self.bytes += count
        if self.bytes > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"the image has more than {self.limits.max_total_bytes} bytes of package "
                f"metadata (reading {what}; ImageInspector.max_package_metadata_bytes)"
            )

    def spend_package(self, what: str) -> None:
        self.packages += 1
        if self.packages > self.limits.max_packages:
            raise LimitExceeded(
                f"the image has more than {self.limits.max_packages} package records "
                f"(reading {what}; ImageInspector.max_packages)"
            )
