"""Benchmark: pin (tag -> digest) against ``skopeo inspect --format '{{.Digest}}'``.

Three numbers per registry (anonymous and Bearer token auth): ``pin`` on a warm client in
a running server (what the REST route and builds do), ``pin`` in a fresh Python process
(what a CLI call costs, imports included), and ``skopeo inspect`` (a fresh process). Target:
pin faster than skopeo. Prints the numbers; not a timed test.

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
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from runtime_images.registry import RegistryClient
from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer, write_auth_file

COLD = (
    "import asyncio, sys; from runtime_images.registry import pin; "
    "print(asyncio.run(pin(sys.argv[1])))"
)


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
    cold_times, skopeo_times = [], []
    for _ in range(max(3, repeat // 4)):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", COLD, ref],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        cold_times.append(time.perf_counter() - t0)
        assert out.stdout.strip().endswith(index.digest)
        t0 = time.perf_counter()
        out = subprocess.run(
            [
                "skopeo",
                "inspect",
                "--tls-verify=false",
                *creds,
                "--format",
                "{{.Digest}}",
                f"docker://{ref}",
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        skopeo_times.append(time.perf_counter() - t0)
        assert out.stdout.strip() == index.digest
    label = registry.auth or "anonymous"
    print(
        f"[{label}] pin, warm client (median of {repeat}): {statistics.median(warm_times) * 1000:.1f} ms"
    )
    print(
        f"[{label}] pin, fresh process (median):        {statistics.median(cold_times) * 1000:.0f} ms"
    )
    print(
        f"[{label}] skopeo inspect (median):           {statistics.median(skopeo_times) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        sys.exit("bench_pin needs docker-registry and skopeo (scripts/dev.sh test installs them)")
    work = tempfile.mkdtemp(prefix="bench-pin-")
    env = {
        **os.environ,
        "HOME": work,
        "DOCKER_CONFIG": os.path.join(work, ".docker"),
        "REGISTRY_AUTH_FILE": os.path.join(work, "auth.json"),
    }
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
