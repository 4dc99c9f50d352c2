"""Benchmark: the contents of a big image — inspect + both SBOMs, cached re-inspection, and a
diff of two cached images.

The image is the real Debian bookworm base of tests/fixtures/debian.py (python3, pip, curl:
~130 dpkg packages, Python distributions) plus layers of incompressible data up to
``--size-mb`` (benchmarks/bench_validate.py's), pushed to a local docker-registry. In a
fresh subprocess (so its peak RSS is its own), with an empty cache:

1. inspect (layers streamed, packages and layer statistics observed, document cached) and
   both SBOMs — compared with ``skopeo copy`` of the same image to a directory (which
   only downloads and verifies): target <= 1.3x, peak RSS < 150 MB;
2. the same inspection again (resolve + cache): target < 50 ms;
3. a diff of two cached images (both read from the cache, then compared): < 100 ms.

    .venv/bin/python benchmarks/bench_contents.py [--size-mb 230] [--repeat 3]

(``--size-mb 630`` for the large image.) Needs docker-registry, skopeo, and the Debian base
(debootstrap + umoci, made once and cached).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from bench_validate import build_image
from yardstick import print_targets, rounds_against_skopeo, rounds_summary, skopeo_workspace

from tests.fixtures import debian, oci
from tests.fixtures import packages as fixtures
from tests.fixtures.registry import RegistryServer
from tests.support import peak_rss

CHILD = """
import asyncio, json, resource, sys, time
from runtime_images.contents import ContentsReader
from runtime_images.contents.compare import diff_documents
from runtime_images.contents.sbom import make_sbom
from runtime_images.registry import RegistryClient

async def main():
    reader = ContentsReader(cache_dir=sys.argv[3])
    async with RegistryClient() as client:
        started = time.perf_counter()
        document = await reader.read(client, sys.argv[1])
        sboms = [json.dumps(make_sbom(document, f)) for f in ("cyclonedx-json", "spdx-json")]
        cold = time.perf_counter() - started
        await reader.read(client, sys.argv[2])  # the other image of the diff, cached
        cached = []
        for _ in range(5):
            started = time.perf_counter()
            await reader.read(client, sys.argv[1])
            cached.append(time.perf_counter() - started)
        diffs = []
        for _ in range(5):
            started = time.perf_counter()
            a = await reader.read(client, sys.argv[1])
            b = await reader.read(client, sys.argv[2])
            diff_documents(a, b, ["elyra"])
            diffs.append(time.perf_counter() - started)
        return cold, sorted(cached)[2], sorted(diffs)[2], document, sboms

cold, cached, diff, document, sboms = asyncio.run(main())
print(json.dumps({
    "seconds": cold,
    "cached": cached,
    "diff": diff,
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "packages": len(document["packages"]),
    "sbom_bytes": [len(s) for s in sboms],
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=230)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if debian.missing_tools():
        sys.exit("bench_contents needs debootstrap and umoci")
    work, env = skopeo_workspace("bench_contents")
    try:
        with RegistryServer(workdir=os.path.join(work, "registry")) as registry:
            base = debian.push(registry.host, "bench/debian")
            started = time.perf_counter()
            debian_mb = 130  # about what the Debian base layer weighs compressed
            data = build_image(max(args.size_mb - debian_mb, 48), work)
            # The Debian layers first, then the data layers (without bench_validate's base).
            base_layers = _layers_of(registry, "bench/debian")
            image = oci.make_image([*base_layers, *data.layers[1:]])
            size = sum(layer.blob.size for layer in image.layers)
            print(
                f"built image: {len(image.layers)} layers, {size / 1e6:.1f} MB compressed "
                f"in {time.perf_counter() - started:.1f} s (base {base})"
            )
            with registry.pusher() as pusher:
                pusher.push_image("bench/big", "1", image)
                pusher.push_image("bench/small", "1", fixtures.python_environments())
            ref, other = f"{registry.host}/bench/big:1", f"{registry.host}/bench/small:1"

            def inspect(round_: int) -> dict[str, Any]:
                cache = os.path.join(work, f"cache-{round_}")
                # Measured from a fresh interpreter: a process forked from this one (which
                # holds the image) would inherit its peak RSS (tests/support.py).
                out, rss = peak_rss(
                    [sys.executable, "-c", CHILD, ref, other, cache], env, Path(work)
                )
                assert out.returncode == 0, out.stderr
                return {**json.loads(out.stdout), "max_rss_mb": rss}

            ours, theirs = rounds_against_skopeo(args.repeat, inspect, ref, work, env)
        cold, skopeo, rss = rounds_summary(ours, theirs)
        print(
            f"inspect + 2 SBOMs (median of {args.repeat}): {cold:.2f} s, "
            f"{int(ours[0]['packages'])} packages, SBOMs {ours[0]['sbom_bytes']} bytes"
        )
        print(f"skopeo copy to dir (median):        {skopeo:.2f} s")
        print_targets("inspect + 2 SBOMs", cold / skopeo, 1.3, rss, 150)
        print(
            f"cached re-inspection (median):      "
            f"{statistics.median(r['cached'] for r in ours) * 1000:.1f} ms (target < 50 ms)"
        )
        print(
            f"diff of two cached images (median): "
            f"{statistics.median(r['diff'] for r in ours) * 1000:.1f} ms (target < 100 ms)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _layers_of(registry: RegistryServer, repository: str) -> list[oci.Layer]:
    """The layers of an image in the registry, as fixture layers (blobs read back)."""
    import httpx

    base = f"http://{registry.host}/v2/{repository}"
    accept = "application/vnd.oci.image.manifest.v1+json"
    with httpx.Client(timeout=120) as client:
        manifest = client.get(f"{base}/manifests/{debian.SUITE}", headers={"Accept": accept})
        manifest.raise_for_status()
        config = client.get(f"{base}/blobs/{manifest.json()['config']['digest']}").json()
        layers = []
        for descriptor, diff_id in zip(
            manifest.json()["layers"], config["rootfs"]["diff_ids"], strict=True
        ):
            blob = client.get(f"{base}/blobs/{descriptor['digest']}").content
            layers.append(oci.Layer(oci.Blob.of(descriptor["mediaType"], blob), diff_id))
    return layers


if __name__ == "__main__":
    main()
