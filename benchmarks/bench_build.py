"""Build benchmark: adding 3 small packages to a real Debian base, layer append vs buildah.

Run with ``./scripts/dev.sh bench`` (as root it installs debootstrap and buildah) or
``.venv/bin/python benchmarks/bench_build.py``. It

1. makes a real Debian bookworm base image with python3 and pip (debootstrap, cached in
   ``~/.cache/jupyter-runtime-images-bench``) and pushes it to a local docker-registry;
2. times the embedded engine building PackageList ``six idna attrs`` on it (cold: empty
   layout, so the base is downloaded too) and pushing the result to the registry;
3. times ``buildah bud --isolation chroot`` of ``FROM base`` + ``RUN pip install`` of the
   same packages (cold: empty storage) and its push;
4. builds the same inputs again and checks the digest is the same;
5. runs ``python3 -c 'import six, idna, attrs'`` in the built image with
   ``buildah run --isolation chroot`` — the packages really import in a real Python.

Target: the embedded engine at least 5x faster than buildah.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from traitlets.config import Config

from runtime_images.app import make_build_controller
from runtime_images.inspect import ImageInspector
from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from tests.fixtures.registry import RegistryServer

PACKAGES = ["six==1.16.0", "idna==3.7", "attrs==24.2.0"]
HOST_CA_BUNDLE = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
CACHE = Path.home() / ".cache" / "jupyter-runtime-images-bench"


def sh(*command: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, check=False, text=True, capture_output=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


def base_rootfs() -> Path:
    rootfs = CACHE / "rootfs-bookworm-python3-curl"
    if not (rootfs / "usr" / "bin" / "python3").exists():
        shutil.rmtree(rootfs, ignore_errors=True)
        rootfs.parent.mkdir(parents=True, exist_ok=True)
        print("debootstrap bookworm (python3, python3-pip)…", flush=True)
        sh(
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-pip,ca-certificates,curl",
            "bookworm",
            str(rootfs),
        )
    return rootfs


def push_base(registry: RegistryServer, work: Path) -> str:
    layout = work / "base-layout"
    sh("umoci", "init", "--layout", str(layout))
    sh("umoci", "new", "--image", f"{layout}:base")
    sh("umoci", "insert", "--image", f"{layout}:base", str(base_rootfs()), "/")
    sh(
        "umoci",
        "config",
        "--image",
        f"{layout}:base",
        "--os",
        "linux",
        "--architecture",
        "amd64",
        "--config.env",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    )
    reference = f"{registry.host}/bench/debian-python:1"
    sh("skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:base", f"docker://{reference}")
    return reference


def resource(name: str, base: str) -> dict[str, Any]:
    return {
        "apiVersion": "meteor.zone/v1alpha1",
        "kind": "CustomNBImage",
        "metadata": {
            "name": name,
            "annotations": {
                "opendatahub.io/notebook-image-name": name,
                "opendatahub.io/notebook-image-desc": "benchmark",
                "opendatahub.io/notebook-image-creator": "bench",
            },
        },
        "spec": {"buildType": "PackageList", "builderImage": base, "packageVersions": PACKAGES},
    }


async def embedded_build(work: Path, registry: RegistryServer, base: str, name: str) -> str:
    store = RuntimeImageStore(
        data_dir=str(work / "data"), shared_data_dirs=[], factory_data_dirs=[]
    )
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
                        "layout_dir": str(work / f"layout-{name}"),
                        "target_registry": f"{registry.host}/built",
                    }
                }
            ),
        )
        await controller.start()
        try:
            await controller.submit(resource(name, base))
            while (build := controller.get(name))["status"]["phase"] not in ("Ready", "Failed"):
                await asyncio.sleep(0.05)
        finally:
            await controller.stop()
    if build["status"]["phase"] != "Ready":
        raise SystemExit(f"embedded build failed: {build['status']['conditions'][-1]}")
    if os.environ.get("BENCH_VERBOSE"):
        print(controller.read_log(name))
    return str(build["status"]["image"])


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


def main() -> None:
    for tool in ("debootstrap", "buildah", "umoci", "skopeo", "docker-registry"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: run ./scripts/dev.sh bench as root")
    with (
        tempfile.TemporaryDirectory() as tmp,
        RegistryServer(workdir=f"{tmp}/registry") as registry,
    ):
        work = Path(tmp)
        (work / "none.json").write_text('{"auths": {}}')
        os.environ["REGISTRY_AUTH_FILE"] = str(work / "none.json")
        base = push_base(registry, work)

        started = time.perf_counter()
        first = asyncio.run(embedded_build(work, registry, base, "first"))
        embedded = time.perf_counter() - started
        started = time.perf_counter()
        second = asyncio.run(embedded_build(work, registry, base, "second"))
        embedded_again = time.perf_counter() - started

        print(f"embedded engine, cold (base downloaded too): {embedded:6.2f} s", flush=True)
        print(f"embedded engine, same inputs again: {embedded_again:6.2f} s", flush=True)
        storage = work / "buildah"
        context = work / "context"
        context.mkdir()
        (context / "Containerfile").write_text(
            f"FROM {base}\nRUN python3 -m pip install --break-system-packages "
            + " ".join(PACKAGES)
            + "\n"
        )
        started = time.perf_counter()
        buildah(
            storage,
            "bud",
            "--isolation",
            "chroot",
            "--tls-verify=false",
            # RUN pip goes through this machine's TLS-inspecting proxy, like the host's pip
            # (which is configured with this bundle): trust the same CAs, outside the image.
            "--volume",
            f"{HOST_CA_BUNDLE}:/etc/ssl/certs/ca-certificates.crt:ro",
            "-t",
            "bench-built",
            "-f",
            str(context / "Containerfile"),
            str(context),
        )
        buildah(
            storage,
            "push",
            "--tls-verify=false",
            "bench-built",
            f"docker://{registry.host}/built/buildah:latest",
        )
        with_buildah = time.perf_counter() - started

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
        print(f"embedded engine, cold (base downloaded too): {embedded:6.2f} s")
        print(f"embedded engine, second build of the same inputs: {embedded_again:6.2f} s")
        print(f"buildah bud + push, cold:                    {with_buildah:6.2f} s")
        print(f"speed-up: {with_buildah / embedded:.1f}x (target >= 5x)")
        print(
            f"same inputs, same digest: {first.split('@')[1] == second.split('@')[1]} "
            f"({first.split('@')[1]})"
        )
        print(f"python3 in the built image imports them: {imported.stdout.strip()}")


if __name__ == "__main__":
    main()
