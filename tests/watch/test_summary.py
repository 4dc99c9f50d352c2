"""The pluggable change summary: computed once per move (kept on disk), async or not, and a
failing summarizer leaves the update without a summary rather than losing it.

The summarizer here compares the two images' layer digests through the registry (the
image-contents diff of issue 16 plugs in the same way, through summary_from_diff)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from runtime_images.watch import TagWatcher, summary_from_diff
from tests.fixtures import images
from tests.fixtures.registry import RegistryServer

from .test_rest import push_first, version_two


def test_summary_from_diff_counts_and_tolerates_missing_parts() -> None:
    diff = {
        "packages": {"added": [{}, {}], "removed": [{}], "changed": []},
        "vulnerabilities": {"fixed": [{}], "introduced": "nonsense"},
    }
    assert summary_from_diff(diff) == {
        "packages": {"added": 2, "removed": 1, "changed": 0},
        "vulnerabilities": {"fixed": 1, "introduced": 0},
    }
    assert summary_from_diff({})["vulnerabilities"] is None


def test_a_summary_is_made_once_per_move_and_a_failing_one_is_none(
    registry: RegistryServer, repo_name: str, tmp_path: Path, isolated_home: Path
) -> None:
    tag, v1 = push_first(registry, repo_name)
    store = RuntimeImageStore(data_dir=str(tmp_path / "data"), shared_data_dirs=[])
    store.factory_data_dirs = []
    for name in ("one", "two"):  # the same move twice: summarized once
        store.create(
            {"name": name, "display_name": name, "metadata": {"image_name": f"{tag}@{v1}"}}
        )
    calls: list[tuple[str, str]] = []

    async def layers_summary(client: RegistryClient, pinned: str, current: str) -> Any:
        calls.append((pinned, current))
        a, b = await client.resolve(pinned), await client.resolve(current)
        layers_a = [layer.digest for layer in a.manifest.layers]
        layers_b = [layer.digest for layer in b.manifest.layers]
        return summary_from_diff(
            {
                "packages": {
                    "added": [d for d in layers_b if d not in layers_a],
                    "removed": [d for d in layers_a if d not in layers_b],
                }
            }
        )

    async def run(summarize: Any) -> dict[str, Any]:
        async with RegistryClient(auth_file=str(tmp_path / "none.json")) as client:
            watcher = TagWatcher(
                store,
                client,
                summarize=lambda a, b: summarize(client, a, b),
                state_dir=str(tmp_path / "watch"),
            )
            return await watcher.check()

    with registry.pusher() as pusher:
        v2 = pusher.push_image(repo_name, "1.0", version_two())
    report = asyncio.run(run(layers_summary))
    assert [u["summary"] for u in report["updates"]] == [
        {"packages": {"added": 1, "removed": 0, "changed": 0}, "vulnerabilities": None}
    ] * 2
    assert calls == [(f"{tag}@{v1}", f"{tag}@{v2}")]
    report = asyncio.run(run(layers_summary))  # kept on disk: not made again
    assert report["updates"][0]["summary"]["packages"]["added"] == 1
    assert len(calls) == 1

    def broken(client: RegistryClient, pinned: str, current: str) -> Any:
        raise RuntimeError("the diff failed")

    with registry.pusher() as pusher:
        v3 = pusher.push_image(repo_name, "1.0", images.elyra_no_python())
    report = asyncio.run(run(broken))
    assert [(u["current"], u["summary"]) for u in report["updates"]] == [(v3, None)] * 2
