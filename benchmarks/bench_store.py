"""Store benchmark: REST list/get/create latency and CLI ``list --json`` wall time.

Run with ``./scripts/dev.sh bench`` (or ``.venv/bin/python benchmarks/bench_store.py``).
It fills a temporary data directory with 1,000 and then 10,000 runtime images, starts a
real ``jupyter server`` with the extension, and measures over a kept-alive connection:

- ``GET /runtime-images/images`` (the full list; the store re-stats every file each time),
- ``GET /runtime-images/images/{name}`` for random names,
- ``POST /runtime-images/images`` (atomic write with fsync under the inter-process lock),
- ``jupyter runtime-images list --json`` as a subprocess (start-up included).

Targets (2-core machine): list of 1,000 p50 <= 20 ms, of 10,000 <= 200 ms; CLI over 1,000
<= 0.7 s (Elyra 4.1.1: 0.30-0.37 s and 3.6-5.4 s).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import RunningServer, store_dir


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def fill(directory: Path, start: int, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for number in range(start, start + count):
        document = {
            "display_name": f"Benchmark image {number:05d}",
            "metadata": {
                "image_name": f"quay.io/bench/image-{number}:1.{number % 7}",
                "description": "An image made by the benchmark",
                "tags": ["bench", f"group-{number % 10}"],
                "pull_policy": "IfNotPresent",
            },
            "schema_name": "runtime-image",
        }
        (directory / f"bench_{number:05d}.json").write_text(json.dumps(document, indent=2))


class Client:
    def __init__(self, server: RunningServer) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        self.headers = {"Authorization": f"token {server.token}"}

    def timed(self, method: str, path: str, body: object = None) -> tuple[float, int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        started = time.perf_counter()
        self.connection.request(method, path, body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        return time.perf_counter() - started, response.status, payload


def row(label: str, samples: list[float]) -> str:
    return (
        f"{label:<34} p50 {percentile(samples, 0.5) * 1000:8.2f} ms"
        f"   p95 {percentile(samples, 0.95) * 1000:8.2f} ms   (n={len(samples)})"
    )


def measure(size: int, server: RunningServer, env: dict[str, str], rounds: int) -> list[str]:
    client = Client(server)
    lines = []
    elapsed, status, payload = client.timed("GET", "/runtime-images/images")
    assert status == 200
    count = len(json.loads(payload)["runtime-images"])
    lines.append(f"{size} images ({count} listed incl. factory; {len(payload) // 1024} KiB):")
    lines.append(f"{'  first list (reads new files)':<34} {elapsed * 1000:8.2f} ms")
    samples = [client.timed("GET", "/runtime-images/images")[0] for _ in range(rounds)]
    lines.append(row("  REST list", samples))
    names = [f"bench_{random.randrange(size):05d}" for _ in range(rounds * 4)]
    samples = [client.timed("GET", f"/runtime-images/images/{n}")[0] for n in names]
    lines.append(row("  REST get", samples))
    samples = []
    for number in range(rounds * 2):
        body = {
            "display_name": f"Created {size} {number}",
            "metadata": {"image_name": f"quay.io/bench/created:{number}"},
        }
        elapsed, status, _ = client.timed("POST", "/runtime-images/images", body)
        assert status == 201, status
        samples.append(elapsed)
    lines.append(row("  REST create", samples))
    cli = []
    jupyter = str(Path(sys.executable).parent / "jupyter")
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [jupyter, "runtime-images", "list", "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cli.append(time.perf_counter() - started)
    lines.append(
        f"{'  CLI list --json (wall)':<34} median {statistics.median(cli):6.3f} s"
        f"   min {min(cli):6.3f} s   (n=5)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="Requests per measurement.")
    args, _ = parser.parse_known_args()
    random.seed(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = dict(os.environ)
        env.update(
            HOME=str(root),
            JUPYTER_DATA_DIR=str(root / "data"),
            JUPYTER_CONFIG_DIR=str(root / "config"),
            JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        )
        directory = store_dir(root / "data")
        report = [f"jupyter-runtime-images store benchmark ({os.cpu_count()} CPUs)"]
        fill(directory, 0, 1000)
        server = RunningServer(env, root)
        try:
            report += measure(1000, server, env, args.rounds)
            fill(directory, 1000, 9000)
            report += measure(10000, server, env, args.rounds)
        finally:
            server.stop()
        print("\n".join(report))


if __name__ == "__main__":
    main()
