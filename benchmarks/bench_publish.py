"""Benchmark: publish a ~230 MB local image (``localhost/bench:1.0``, in an OCI layout, as
a build leaves it) to a local registry with ``ImagePublisher`` — what ``jupyter
runtime-images publish`` runs.

Side by side in one run with ``skopeo copy oci:<layout>:<tag> docker://…`` of the same
layout: each round pushes to a fresh repository (so no blob is skipped or mounted), the
two tools alternating. The product's push runs in a fresh subprocess so its peak RSS is
its own. Targets: push <= 1.2x skopeo's time, peak RSS < 100 MB. Prints the numbers; not
a timed test.

    .venv/bin/python benchmarks/bench_publish.py [--size-mb 220] [--repeat 3]
        [--threshold-mb 64] [--chunk-mb 16] [--concurrency 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench_validate import build_image  # the same image bench_validate checks
from yardstick import child_result, print_targets, rounds_summary, skopeo_seconds, skopeo_workspace

from tests.fixtures.registry import RegistryServer, write_layout

CHILD = """
import asyncio, json, resource, sys, time
from pathlib import Path
from runtime_images.publish import ImagePublisher, parse_destination
from runtime_images.registry import RegistryClient

async def main(layout_dir, destination, threshold, chunk, concurrency):
    async with RegistryClient(
        chunked_upload_threshold=threshold,
        upload_chunk_size=chunk,
        push_concurrency=concurrency,
        local_layout_dir=layout_dir,
    ) as client:
        started = time.perf_counter()
        published = await ImagePublisher().publish(
            client, "localhost/bench:1.0", parse_destination("docker://" + destination)
        )
        return time.perf_counter() - started, published.image

elapsed, pinned = asyncio.run(
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
)
print(json.dumps({
    "seconds": elapsed,
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "pinned": pinned,
}))
"""


def push_with_ours(
    layout: Path, destination: str, args: argparse.Namespace, env: dict[str, str]
) -> dict[str, Any]:
    return child_result(
        CHILD,
        str(layout),
        destination,
        str(args.threshold_mb << 20),
        str(args.chunk_mb << 20),
        str(args.concurrency),
        env=env,
    )


def push_with_skopeo(layout: Path, destination: str, env: dict[str, str]) -> float:
    return skopeo_seconds(
        env, "copy", "--dest-tls-verify=false", f"oci:{layout}:bench:1.0", f"docker://{destination}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=220)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threshold-mb", type=int, default=64)
    parser.add_argument("--chunk-mb", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=3)
    args = parser.parse_args()
    work, env = skopeo_workspace("bench_publish")
    try:
        started = time.perf_counter()
        image = build_image(args.size_mb, work)
        layout = write_layout(Path(work, "layout"), [image], image.manifest, "bench:1.0")
        size = sum(blob.size for blob in image.blobs)
        print(
            f"built image: {len(image.layers)} layers, {size / 1e6:.1f} MB compressed "
            f"in {time.perf_counter() - started:.1f} s"
        )
        ours: list[dict[str, Any]] = []
        theirs: list[float] = []
        for round_ in range(args.repeat):
            for tool in ("ours", "skopeo") if round_ % 2 == 0 else ("skopeo", "ours"):
                # A registry of its own (a new port) each time: skopeo remembers where it
                # pushed blobs (its blob info cache) and would mount them from there.
                registry_dir = os.path.join(work, f"registry-{tool}-{round_}")
                with RegistryServer(workdir=registry_dir) as registry:
                    destination = f"{registry.host}/bench/{tool}:1"
                    if tool == "ours":
                        ours.append(push_with_ours(layout.root, destination, args, env))
                        assert str(ours[-1]["pinned"]).endswith(image.digest), ours[-1]
                    else:
                        theirs.append(push_with_skopeo(layout.root, destination, env))
                shutil.rmtree(registry_dir, ignore_errors=True)
        push_s, skopeo_s, rss = rounds_summary(ours, theirs)
        rounds = ", ".join(f"{float(r['seconds']):.2f}" for r in ours)
        print(
            f"push (median of {args.repeat}):        {push_s:.2f} s, "
            f"{size / 1e6 / push_s:.0f} MB/s (rounds: {rounds})"
        )
        print(
            f"skopeo copy oci: -> docker:// (median): {skopeo_s:.2f} s "
            f"(rounds: {', '.join(f'{t:.2f}' for t in theirs)})"
        )
        print_targets("push", push_s / skopeo_s, 1.2, rss, 100)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
