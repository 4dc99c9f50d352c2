"""Push a fixture image to a real registry and read its contents, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtime_images.contents import ContentsReader
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from tests.fixtures import oci
from tests.fixtures.registry import RegistryServer

ContentsOf = Callable[..., dict[str, Any]]
"""The ``contents_of`` fixture (conftest.py): ``contents_of(image, tag="1")`` is the contents
document of ``image`` pushed under ``tag`` to the test's repository."""


def push(srv: RegistryServer, repo: str, image: oci.Image, tag: str = "1") -> str:
    with srv.pusher() as pusher:
        pusher.push_image(repo, tag, image)
    return f"{srv.host}/{repo}:{tag}"


def reader(cache: Path, **inspector: Any) -> ContentsReader:
    return ContentsReader(cache_dir=str(cache), inspector=ImageInspector(**inspector))


def read(ref: str, cache: Path, **inspector: Any) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        async with RegistryClient() as client:
            return await reader(cache, **inspector).read(client, ref)

    return asyncio.run(main())


def packages(document: dict[str, Any], ecosystem: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in document["packages"] if p["ecosystem"] == ecosystem}
