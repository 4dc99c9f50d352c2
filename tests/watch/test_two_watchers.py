"""Two watchers on one data directory (two servers, or a server and the CLI) checking at
the same time announce a move once between them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from runtime_images.watch import TagWatcher
from tests.fixtures.registry import RegistryServer

from .test_rest import push_first, version_two


def test_a_move_is_announced_once_by_two_watchers_checking_at_once(
    registry: RegistryServer, repo_name: str, tmp_path: Path, isolated_home: Path
) -> None:
    tag, v1 = push_first(registry, repo_name)
    data = str(tmp_path / "data")
    RuntimeImageStore(data_dir=data).create(
        {"name": "shared", "display_name": "Shared", "metadata": {"image_name": f"{tag}@{v1}"}}
    )
    with registry.pusher() as pusher:
        v2 = pusher.push_image(repo_name, "1.0", version_two())
    events: list[tuple[int, dict[str, Any]]] = []

    async def both() -> list[dict[str, Any]]:
        async with (
            RegistryClient(auth_file=str(tmp_path / "none.json")) as one,
            RegistryClient(auth_file=str(tmp_path / "none.json")) as two,
        ):
            watchers = [
                TagWatcher(
                    RuntimeImageStore(data_dir=data, shared_data_dirs=[], factory_data_dirs=[]),
                    client,
                    emit=lambda event, number=number: events.append((number, event)),
                )
                for number, client in enumerate((one, two))
            ]
            return list(await asyncio.gather(*(w.check() for w in watchers)))

    reports = asyncio.run(both())
    assert [[u["current"] for u in r["updates"]] for r in reports] == [[v2], [v2]]
    assert sorted(u["new"] for r in reports for u in r["updates"]) == [False, True]
    assert len(events) == 1 and events[0][1]["current"] == v2
