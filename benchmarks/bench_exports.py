"""Benchmark: export 1,000 runtime images to every format from the facts cache.

The images are pinned references on a registry that does not exist
(``registry.invalid``): an export that contacted a registry would fail, so what is timed is
the store listing, the cache reads (one facts file per image, with 200 Python
distributions each, about a data-science image's count) and the rendering. Each format
is exported by a fresh ``ImageExporter`` (its cache files read from disk) and then again
by the same one (files remembered). Target: < 1 s per format. Prints a table; not a test.

    .venv/bin/python benchmarks/bench_exports.py [--images 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from runtime_images.exports import (
    FORMATS,
    AcceleratorHint,
    ImageExporter,
    ImageFacts,
    Package,
    Packages,
)
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore


def fill(store: RuntimeImageStore, exporter: ImageExporter, count: int) -> None:
    dependencies = [Package(f"package-{i}", f"1.{i}.0") for i in range(200)]
    for n in range(count):
        digest = "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()
        store.create(
            {
                "name": f"image-{n:05d}",
                "display_name": f"Image {n:05d}",
                "schema_name": "runtime-image",
                "metadata": {
                    "image_name": f"registry.invalid:5000/team/image-{n}:1.0@{digest}",
                    "description": f"Runtime image number {n}",
                    "tags": ["notebooks" if n % 2 else "pipelines", "team"],
                    "pull_policy": "IfNotPresent",
                },
            }
        )
        accelerators = [AcceleratorHint("CUDA", "12.4", "/usr/local/cuda/version.json")]
        exporter.remember(
            ImageFacts(
                digest,
                "linux/amd64",
                [Package("Debian GNU/Linux", "12"), Package("Python", "3.11")],
                Packages.of(dependencies),
                accelerators if n % 3 == 0 else [],
            )
        )


async def export(store: RuntimeImageStore, exporter: ImageExporter, fmt: str, style: str) -> int:
    async with RegistryClient(retries=0) as client:
        result = await exporter.export(
            store.listing().instances,
            fmt,
            registry=client,
            inspector=ImageInspector(),
            style=style,
        )
    return len(result.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = RuntimeImageStore(
            data_dir=os.path.join(tmp, "data"), shared_data_dirs=[], factory_data_dirs=[]
        )
        facts_dir = os.path.join(tmp, "facts")
        fill(store, ImageExporter(facts_dir=facts_dir), args.images)
        store.listing()  # the first listing reads and validates every file (bench_store.py)
        rows = []
        for fmt in FORMATS.values():
            for style in fmt.styles:
                cold, warm, cpu = [], [], []
                for _ in range(args.repeat):
                    exporter = ImageExporter(facts_dir=facts_dir)
                    started, started_cpu = time.perf_counter(), time.process_time()
                    size = asyncio.run(export(store, exporter, fmt.format, style.name))
                    cold.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - started_cpu)
                    started = time.perf_counter()
                    asyncio.run(export(store, exporter, fmt.format, style.name))
                    warm.append(time.perf_counter() - started)
                rows.append(
                    (
                        f"{fmt.format} ({style.name})",
                        statistics.median(cold),
                        statistics.median(cpu),
                        statistics.median(warm),
                        size,
                    )
                )
        env = dict(os.environ, JUPYTER_DATA_DIR=os.path.join(tmp, "data"))
        config = os.path.join(tmp, "config")
        os.makedirs(config)
        with open(os.path.join(config, "jupyter_runtime_images_config.json"), "w") as handle:
            handle.write(
                '{"RuntimeImageStore": {"shared_data_dirs": [], "factory_data_dirs": []},'
                f' "ImageExporter": {{"facts_dir": "{facts_dir}"}}}}'
            )
        env.update(JUPYTER_CONFIG_DIR=config, JUPYTER_CONFIG_PATH=config)
        cli, cli_cpu = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            before = os.times()
            subprocess.run(
                [
                    os.path.join(os.path.dirname(sys.executable), "jupyter-runtime-images"),
                    "export-to",
                    "odh-imagestream",
                    "-o",
                    os.path.join(tmp, "out.yaml"),
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            cli.append(time.perf_counter() - started)
            after = os.times()
            cli_cpu.append(
                after.children_user
                + after.children_system
                - before.children_user
                - before.children_system
            )
    load = os.getloadavg()[0]
    print(f"{args.images} runtime images, median of {args.repeat} (load average {load:.1f}):")
    print(
        f"{'format (style)':40} {'files read: wall':>17} {'CPU':>8} {'remembered':>11} "
        f"{'bytes':>11}"
    )
    for name, cold_s, cpu_s, warm_s, size in rows:
        print(
            f"{name:40} {cold_s * 1000:>14.0f} ms {cpu_s * 1000:>5.0f} ms "
            f"{warm_s * 1000:>8.0f} ms {size:>11,}"
        )
    print(
        "`export-to odh-imagestream -o FILE` (a fresh process): "
        f"{statistics.median(cli):.2f} s wall, {statistics.median(cli_cpu):.2f} s CPU"
    )


if __name__ == "__main__":
    main()
