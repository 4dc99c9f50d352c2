"""Benchmark: pin (tag -> digest) against ``skopeo inspect --format '{{.Digest}}'``.

Four numbers per registry (anonymous and Bearer token auth), measured side by side in one
run: ``pin`` on a warm client in a running server (what the REST route and builds do),
``jupyter-runtime-images pin`` (the command, a fresh process), ``jupyter runtime-images pin``
(the same through the ``jupyter`` launcher, which starts another Python), ``skopeo
inspect`` (a fresh process), and the floor of any Python command using httpx (a fresh
interpreter importing asyncio and httpx, doing nothing). Target: the command within skopeo's time. Prints the numbers;
not a timed test.

    .venv/bin/python benchmarks/bench_pin.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from yardstick import skopeo_workspace

from runtime_images.registry import RegistryClient
from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer, write_auth_file

BIN = os.path.dirname(sys.executable)
COMMANDS = {
    "jupyter-runtime-images pin": [os.path.join(BIN, "jupyter-runtime-images"), "pin"],
    "jupyter runtime-images pin": [os.path.join(BIN, "jupyter"), "runtime-images", "pin"],
}
# What any Python command speaking to a registry with httpx pays before its first request:
# the interpreter, asyncio and httpx (without httpx's own command line, as ours), no work.
FLOOR = [
    sys.executable,
    "-c",
    "import sys; sys.modules['httpx._main'] = None; import asyncio, httpx, httpcore, anyio",
]


def bench(registry: RegistryServer, repeat: int, env: dict[str, str]) -> None:
    arm = oci.make_image([images.base_layer()], oci.ImageConfig(architecture="arm64"))
    amd = images.elyra_ok()
    index = oci.make_index([arm, amd])
    with registry.pusher() as pusher:
        pusher.push_index("bench/multi", "1.0", [arm, amd], index)
    ref = f"{registry.host}/bench/multi:1.0"
    creds = [] if registry.auth is None else ["--creds", f"{registry.username}:{registry.password}"]

    async def warm() -> list[float]:
        times = []
        async with RegistryClient() as client:
            await client.pin(ref)  # connection and token set up once, as in a server
            for _ in range(repeat):
                t0 = time.perf_counter()
                pinned = await client.pin(ref)
                times.append(time.perf_counter() - t0)
                assert pinned.digest == index.digest
        return times

    warm_times = asyncio.run(warm())
    times: dict[str, list[float]] = {name: [] for name in [*COMMANDS, "skopeo inspect"]}
    skopeo = ["skopeo", "inspect", "--tls-verify=false", *creds, "--format", "{{.Digest}}"]
    for _ in range(max(3, repeat // 4)):
        for name, command in [*COMMANDS.items(), ("skopeo inspect", skopeo)]:
            target = f"docker://{ref}" if name == "skopeo inspect" else ref
            t0 = time.perf_counter()
            out = subprocess.run(
                [*command, target], check=True, capture_output=True, text=True, env=env
            )
            times[name].append(time.perf_counter() - t0)
            assert out.stdout.strip().endswith(index.digest), out.stdout
    floor = []
    for _ in range(max(3, repeat // 4)):
        t0 = time.perf_counter()
        subprocess.run(FLOOR, check=True, env=env)
        floor.append(time.perf_counter() - t0)
    label = registry.auth or "anonymous"
    print(
        f"[{label}] python + asyncio + httpx, no work (median): {statistics.median(floor) * 1000:.0f} ms"
    )
    median = statistics.median(warm_times) * 1000
    print(f"[{label}] pin, warm client (median of {repeat}): {median:.1f} ms")
    for name, measured in times.items():
        print(f"[{label}] {name} (median): {statistics.median(measured) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    work, env = skopeo_workspace("bench_pin")
    saved = {k: os.environ.get(k) for k in ("HOME", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    os.environ.update({k: env[k] for k in saved})
    try:
        for auth in (None, "token"):
            with RegistryServer(
                auth=auth, workdir=os.path.join(work, f"registry-{auth}")
            ) as registry:
                if auth:
                    write_auth_file(
                        env["REGISTRY_AUTH_FILE"],
                        registry.host,
                        registry.username,
                        registry.password,
                    )
                bench(registry, args.repeat, env)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
