"""Exports of runtime images to other platforms: Open Data Hub ImageStreams (workbench and
pipeline runtime), JupyterHub KubeSpawner profiles, Kubeflow's spawner image options,
pre-puller lists and Elyra files — generated from one record, pinned by digest, with the
contents read from the image (so they are right by construction)."""

from __future__ import annotations

from .cache import FactsCache
from .exporter import MAX_SELECTORS, Export, ImageExporter, UnknownExportFormat, export_format
from .facts import AcceleratorHint, ImageFacts, Package, Packages, facts_of
from .formats import FORMATS, ExportFormat, ExportImage, ExportOptions, Style

__all__ = [
    "FORMATS",
    "MAX_SELECTORS",
    "AcceleratorHint",
    "Export",
    "ExportFormat",
    "ExportImage",
    "ExportOptions",
    "FactsCache",
    "ImageExporter",
    "ImageFacts",
    "Package",
    "Packages",
    "Style",
    "UnknownExportFormat",
    "export_format",
    "facts_of",
]
