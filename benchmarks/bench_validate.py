"""Benchmark: validate a >= 200 MB (compressed) image from a local registry.

Compared with ``skopeo copy`` of the same image to a local directory (which only downloads
and verifies, no parsing): the target is validate <= 1.3x skopeo's time, and a peak RSS of
the validating process under 150 MB. Validation runs in a fresh subprocess so its peak RSS
is its own. Prints the numbers; not a timed test.

    .venv/bin/python benchmarks/bench_validate.py [--size-mb 220] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from yardstick import (
    child_result,
    print_targets,
    rounds_against_skopeo,
    rounds_summary,
    skopeo_workspace,
)

from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer

CHILD = """
import asyncio, json, resource, sys, time
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient

async def main():
    async with RegistryClient() as client:
        started = time.perf_counter()
        result = await ImageInspector().validate(client, sys.argv[1], ["elyra"])
        return time.perf_counter() - started, result

elapsed, result = asyncio.run(main())
print(json.dumps({
    "seconds": elapsed,
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "ok": result.ok,
    "files": result.report.files,
}))
"""


def build_image(size_mb: int, spool: str) -> oci.Image:
    layers = [images.base_layer()]
    per_layer = 48
    remaining = size_mb
    index = 0
    while remaining > 0:
        mb = min(per_layer, remaining)
        builder = oci.LayerBuilder(spool_dir=spool)
        builder.dir("data").dir(f"data/{index}")
        for part in range(4):  # a few big files plus many small ones per layer
            builder.random_file(
                f"data/{index}/blob{part}.bin", mb * 1024 * 1024 // 4, seed=index * 10 + part
            )
        for small in range(500):
            builder.file(f"data/{index}/small{small}.txt", f"file {small}\n")
        layers.append(builder.build(compresslevel=1))
        remaining -= mb
        index += 1
    return oci.make_image(layers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=220)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work, env = skopeo_workspace("bench_validate")
    try:
        started = time.perf_counter()
        image = build_image(args.size_mb, work)
        size = sum(layer.blob.size for layer in image.layers)
        print(
            f"built image: {len(image.layers)} layers, {size / 1e6:.1f} MB compressed "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with RegistryServer(workdir=os.path.join(work, "registry")) as registry:
            with registry.pusher() as pusher:
                pusher.push_image("bench/big", "1", image)
            ref = f"{registry.host}/bench/big:1"

            def validate(_round: int) -> dict[str, Any]:
                return child_result(CHILD, ref, env=env)

            ours, theirs = rounds_against_skopeo(args.repeat, validate, ref, work, env)
        validate_s, skopeo_s, rss = rounds_summary(ours, theirs)
        print(
            f"validate (median of {args.repeat}): {validate_s:.2f} s, {size / 1e6 / validate_s:.0f} MB/s, "
            f"{int(ours[0]['files'])} files, ok={ours[0]['ok']}"
        )
        print(f"skopeo copy to dir (median):   {skopeo_s:.2f} s")
        print_targets("validate", validate_s / skopeo_s, 1.3, rss, 150)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
