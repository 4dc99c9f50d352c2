"""A store of runtime images whose images are real images in a real test registry."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime_images.exports import Export, ImageExporter
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from tests.fixtures import images
from tests.fixtures.registry import RegistryServer


@dataclass
class Catalogue:
    store: RuntimeImageStore
    facts_dir: Path
    odh: str
    """The ODH workbench image's repository (host/path) and its digest, pushed as :2024.1."""
    odh_digest: str
    elyra: str
    elyra_digest: str

    def exporter(self, **config: Any) -> ImageExporter:
        return ImageExporter(facts_dir=str(self.facts_dir), **config)

    def export(self, format: str, **kwargs: Any) -> Export:
        async def main() -> Export:
            async with RegistryClient(retries=0) as client:
                return await self.exporter().export(
                    self.store.listing().instances,
                    format,
                    registry=client,
                    inspector=ImageInspector(),
                    **kwargs,
                )

        return asyncio.run(main())


def make_catalogue(registry: RegistryServer, repo: str, tmp_path: Path) -> Catalogue:
    odh_repo, elyra_repo = f"{repo}-odh", f"{repo}-elyra"
    with registry.pusher() as pusher:
        odh_digest = pusher.push_image(odh_repo, "2024.1", images.odh_ok())
        elyra_digest = pusher.push_image(elyra_repo, "1.0", images.elyra_ok())
    store = RuntimeImageStore(
        data_dir=str(tmp_path / "data"), shared_data_dirs=[], factory_data_dirs=[]
    )
    odh, elyra = f"{registry.host}/{odh_repo}", f"{registry.host}/{elyra_repo}"
    documents: list[tuple[str, str, dict[str, Any]]] = [
        (
            "odh_workbench",
            "ODH Workbench",
            {
                "image_name": f"{odh}:2024.1",  # a tag: the export pins it
                "description": "JupyterLab for ODH",
                "tags": ["odh", "notebooks"],
                "pull_policy": "IfNotPresent",
                "pull_secret": "regcred",
            },
        ),
        (
            "elyra-runtime",
            "Elyra runtime",
            {
                "image_name": f"{elyra}:1.0@{elyra_digest}",
                "tags": ["pipelines"],
                "pull_policy": "Always",
                "team": "kept",
            },
        ),
        (
            "rstudio",
            "R Studio",
            {"image_name": f"{elyra}:1.0@{elyra_digest}", "tags": ["RStudio", "notebooks"]},
        ),
        (
            "built-here",
            "Built here",
            {"image_name": f"localhost/built:latest@{elyra_digest}", "tags": ["pipelines"]},
        ),
    ]
    for name, display_name, metadata in documents:
        store.create(
            {
                "name": name,
                "display_name": display_name,
                "schema_name": "runtime-image",
                "metadata": metadata,
            }
        )
    return Catalogue(store, tmp_path / "facts", odh, odh_digest, elyra, elyra_digest)
