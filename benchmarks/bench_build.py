"""Build benchmark: adding 3 small packages to a real Debian base, layer append vs buildah.

Run with ``./scripts/dev.sh bench`` (as root it installs debootstrap and buildah) or
``.venv/bin/python benchmarks/bench_build.py``. It

1. makes a real Debian bookworm base image with python3, pip and curl (debootstrap and
   umoci, cached in ``~/.cache/jupyter-runtime-images-tests``: tests/fixtures/debian.py,
   shared with the buildah tests) and pushes it to a local docker-registry;
2. times the embedded engine building PackageList ``six idna attrs`` on it and pushing the
   result to the registry, in one server: cold (empty layout, so the base is downloaded
   and read too), then the same inputs again (warm: base layers in the layout, its parsed
   filesystem in memory) — and checks both give the same digest; then once more in a
   restarted server on the same layout;
3. times ``buildah bud --isolation chroot`` of ``FROM base`` + ``RUN pip install`` of the
   same packages and its push: cold (empty storage, so the base is pulled) and warm (base
   in storage);
4. runs ``python3 -c 'import six, idna, attrs'`` in the built image with
   ``buildah run --isolation chroot`` — the packages really import in a real Python.

Each measurement is repeated BENCH_ROUNDS times (default 3) on fresh directories; the
medians are compared. Target: the embedded engine at least 5x faster than buildah.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from traitlets.config import Config

from runtime_images.builds.wiring import make_build_controller
from runtime_images.client import custom_nb_image
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from tests.fixtures import debian
from tests.fixtures.registry import RegistryServer

PACKAGES = ["six==1.17.0", "idna==3.20", "attrs==26.1.0"]  # current releases (idna has a script)
HOST_CA_BUNDLE = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")


def sh(*command: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, check=False, text=True, capture_output=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


def resource(name: str, base: str) -> dict[str, Any]:
    spec = {"buildType": "PackageList", "builderImage": base, "packageVersions": PACKAGES}
    return custom_nb_image(spec, name, name=name, description="benchmark", creator="bench")


async def embedded_builds(
    work: Path, registry: RegistryServer, base: str, names: list[str], layout: str
) -> list[tuple[str, float]]:
    """Build ``names`` one after the other in one controller (one Jupyter server's
    lifetime) on the OCI layout ``layout``: (image, seconds) each."""
    store = RuntimeImageStore(
        data_dir=str(work / "data"), shared_data_dirs=[], factory_data_dirs=[]
    )
    results = []
    async with RegistryClient(auth_file=str(work / "none.json")) as client:
        controller = make_build_controller(
            None,
            store,
            client,
            ImageInspector(),
            builds_dir=str(work / "builds"),
            config=Config(
                {
                    "ImageBuilder": {
                        "layout_dir": str(work / layout),
                        "target_registry": f"{registry.host}/built",
                    }
                }
            ),
        )
        await controller.start()
        try:
            for name in names:
                started = time.perf_counter()
                await controller.submit(resource(name, base))
                while (build := controller.get(name))["status"]["phase"] not in (
                    "Ready",
                    "Failed",
                ):
                    await asyncio.sleep(0.02)
                if build["status"]["phase"] != "Ready":
                    raise SystemExit(f"embedded build failed: {build['status']['conditions'][-1]}")
                results.append((str(build["status"]["image"]), time.perf_counter() - started))
                if os.environ.get("BENCH_VERBOSE"):
                    print(controller.read_log(name))
        finally:
            await controller.stop()
    return results


def buildah(storage: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return sh(
        "buildah",
        "--storage-driver",
        "vfs",
        "--root",
        str(storage / "root"),
        "--runroot",
        str(storage / "run"),
        *args,
    )


def buildah_build(storage: Path, context: Path, registry: RegistryServer, tag: str) -> float:
    """``buildah bud`` of the benchmark's Containerfile, then its push: seconds."""
    started = time.perf_counter()
    buildah(
        storage,
        "bud",
        "--isolation",
        "chroot",
        "--tls-verify=false",
        # RUN pip goes through this machine's TLS-inspecting proxy, like the host's pip
        # (configured with this bundle): trust the same CAs, outside the image.
        "--volume",
        f"{HOST_CA_BUNDLE}:/etc/ssl/certs/ca-certificates.crt:ro",
        "-t",
        tag,
        "-f",
        str(context / "Containerfile"),
        str(context),
    )
    buildah(
        storage, "push", "--tls-verify=false", tag, f"docker://{registry.host}/built/{tag}:latest"
    )
    return time.perf_counter() - started


def one_round(work: Path, registry: RegistryServer, base: str) -> dict[str, Any]:
    """Every measurement once, on fresh directories: {name: seconds, and the images}."""
    # One server: a cold build (empty layout), then the same inputs again (warm: the base's
    # layers are in the layout and its parsed filesystem in memory).
    (first, cold), (second, warm) = asyncio.run(
        embedded_builds(work, registry, base, ["first", "second"], "layout")
    )
    # A restarted server on the same layout: layers and the parsed base's record kept.
    ((_, restarted),) = asyncio.run(embedded_builds(work, registry, base, ["third"], "layout"))
    context = work / "context"
    context.mkdir()
    (context / "Containerfile").write_text(
        f"FROM {base}\nRUN python3 -m pip install --break-system-packages "
        + " ".join(PACKAGES)
        + "\n"
    )
    storage = work / "buildah"
    return {
        "embedded cold": cold,
        "embedded warm": warm,
        "embedded restarted": restarted,
        # Empty storage: the base is pulled too; then the base is in storage, RUN runs again.
        "buildah cold": buildah_build(storage, context, registry, "bench-cold"),
        "buildah warm": buildah_build(storage, context, registry, "bench-warm"),
        "images": (first, second),
        "storage": storage,
    }


def main() -> None:
    for tool in ("debootstrap", "buildah", "umoci", "skopeo", "docker-registry"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: run ./scripts/dev.sh bench as root")
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    with (
        tempfile.TemporaryDirectory() as tmp,
        RegistryServer(workdir=f"{tmp}/registry") as registry,
    ):
        (Path(tmp) / "none.json").write_text('{"auths": {}}')
        os.environ["REGISTRY_AUTH_FILE"] = str(Path(tmp) / "none.json")
        base = debian.push(registry.host, "bench/debian-python", "1")
        results = []
        for number in range(rounds):
            work = Path(tmp) / f"round-{number}"
            work.mkdir()
            (work / "none.json").write_text('{"auths": {}}')
            results.append(one_round(work, registry, base))

        first, second = results[-1]["images"]
        storage = results[-1]["storage"]
        container = buildah(storage, "from", "--tls-verify=false", first).stdout.strip()
        imported = buildah(
            storage,
            "run",
            "--isolation",
            "chroot",
            container,
            "--",
            "python3",
            "-c",
            "import six, idna, attrs; print(six.__version__, idna.__version__, attrs.__version__)",
        )
        print(f"median of {rounds} rounds (min-max):")
        median: dict[str, float] = {}
        for name in (
            "embedded cold",
            "embedded warm",
            "embedded restarted",
            "buildah cold",
            "buildah warm",
        ):
            times = sorted(result[name] for result in results)
            median[name] = statistics.median(times)
            print(f"  {name:<20} {median[name]:6.2f} s  ({times[0]:.2f}-{times[-1]:.2f})")
        cold = median["buildah cold"] / median["embedded cold"]
        warm = median["buildah warm"] / median["embedded warm"]
        restarted = median["buildah warm"] / median["embedded restarted"]
        print(
            f"speed-up cold: {cold:.1f}x, warm: {warm:.1f}x, "
            f"restarted server vs buildah warm: {restarted:.1f}x (target >= 5x)"
        )
        print(
            f"same inputs, same digest: {first.split('@')[1] == second.split('@')[1]} "
            f"({first.split('@')[1]})"
        )
        print(f"python3 in the built image imports them: {imported.stdout.strip()}")


if __name__ == "__main__":
    main()
