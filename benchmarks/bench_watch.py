"""Benchmark: checking every runtime image's tag with the watch against ``skopeo inspect``.

500 runtime images (50 repositories x 10 tags, pinned) on a local registry with an access
log. The watch (``TagWatcher.check``: one manifest HEAD per tag, ``max_concurrency`` in
flight) is timed from a fresh client (connections included) and again warm; the registry's
log counts the requests it answered, and the watcher its peak concurrency. ``skopeo
inspect --format {{.Digest}}`` runs once per image, sequentially, on a sample
(``--sample``, default 50; ``--sample 500`` runs them all) and is extrapolated to every
image; the same sample is also run 8 at a time. Prints the numbers; not a timed test.

    .venv/bin/python benchmarks/bench_watch.py [--images 500] [--sample 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from yardstick import skopeo_seconds, skopeo_workspace

from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from runtime_images.watch import TagWatcher
from tests.fixtures import images
from tests.fixtures.registry import RegistryServer

TAGS_PER_REPOSITORY = 10


def populate(registry: RegistryServer, store: RuntimeImageStore, count: int) -> list[str]:
    """Push one image under ``count`` tags and make a pinned runtime image of each."""
    image = images.elyra_ok()
    references = []
    with registry.pusher() as pusher:
        for number in range(count):
            repository = f"bench/team-{number // TAGS_PER_REPOSITORY}"
            tag = f"v{number % TAGS_PER_REPOSITORY}"
            if number % TAGS_PER_REPOSITORY == 0:
                for blob in image.blobs:
                    pusher.push_blob(repository, blob)
            pusher.push_manifest(repository, tag, image.manifest)
            references.append(f"{registry.host}/{repository}:{tag}")
    for number, reference in enumerate(references):
        store.create(
            {
                "name": f"image-{number}",
                "display_name": f"Image {number}",
                "metadata": {"image_name": f"{reference}@{image.digest}"},
            }
        )
    return references


def watch(store: RuntimeImageStore, work: str, concurrency: int) -> list[dict[str, float]]:
    """Two checks on one client: cold (connections set up), then warm."""

    async def run() -> list[dict[str, float]]:
        rounds = []
        async with RegistryClient(auth_file=os.path.join(work, "none.json")) as client:
            watcher = TagWatcher(
                store,
                client,
                max_concurrency=concurrency,
                max_per_registry=concurrency,
                state_dir=os.path.join(work, "watch"),
            )
            for _ in range(2):
                started = time.perf_counter()
                report = await watcher.check()
                seconds = time.perf_counter() - started
                assert report["errors"] == [] and report["updates"] == [], report["errors"][:3]
                rounds.append(
                    {
                        "seconds": seconds,
                        "tags": watcher.last_stats.tags,
                        "peak": watcher.last_stats.peak_concurrency,
                    }
                )
        return rounds

    return asyncio.run(run())


def skopeo(reference: str, env: dict[str, str]) -> float:
    return skopeo_seconds(
        env, "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{reference}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    work, env = skopeo_workspace("bench_watch")
    os.environ.update({k: env[k] for k in ("HOME", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE")})
    try:
        with RegistryServer(workdir=os.path.join(work, "registry"), access_log=True) as registry:
            store = RuntimeImageStore(
                data_dir=os.path.join(work, "data"), shared_data_dirs=[], factory_data_dirs=[]
            )
            references = populate(registry, store, args.images)
            # Rounds alternate the two, so both meet the same load on a shared machine.
            sample = references[: args.sample]
            checks: list[dict[str, float]] = []
            sequential: list[float] = []
            parallel: list[float] = []
            answered = 0
            for _ in range(args.rounds):
                before = len(registry.requests())
                checks += watch(store, work, args.concurrency)
                answered = len(registry.requests()) - before
                sequential += [skopeo(reference, env) for reference in sample]
                started = time.perf_counter()
                with ThreadPoolExecutor(args.concurrency) as pool:
                    list(pool.map(lambda reference: skopeo(reference, env), sample))
                parallel.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    count = len(references)
    cold = statistics.median(c["seconds"] for c in checks[0::2])
    warm = statistics.median(c["seconds"] for c in checks[1::2])
    per_image = statistics.median(sequential)
    skopeo_all = per_image * count
    skopeo_parallel_all = statistics.median(parallel) / len(sample) * count
    print(
        f"{count} runtime images, {checks[0]['tags']} tags, max_concurrency {args.concurrency}, "
        f"{args.rounds} rounds (medians), load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"watch check, fresh client: {cold:.2f} s; warm: {warm:.2f} s; the registry answered "
        f"{answered} requests per round of two checks; peak concurrency "
        f"{max(c['peak'] for c in checks):.0f}"
    )
    print(
        f"skopeo inspect, one per image: median {per_image * 1000:.0f} ms -> "
        f"{skopeo_all:.1f} s for {count} "
        f"({'measured' if len(sample) == count else f'extrapolated from {len(sample)}'}); "
        f"{args.concurrency} at a time: {skopeo_parallel_all:.1f} s"
    )
    print(
        f"speed-up, cold check vs skopeo one at a time: {skopeo_all / cold:.1f}x; "
        f"vs skopeo {args.concurrency} at a time: {skopeo_parallel_all / cold:.1f}x"
    )


if __name__ == "__main__":
    main()
