"""Benchmark: what hostile inputs cost now — time, peak memory, and how each ends.

Each input of issue 11's classes is served by a hostile registry on loopback (or sent to a
real ``jupyter server``) and handled in a fresh process, so peak-memory growth is the
call's own. Prints a Markdown table for the README's "Hostile inputs" section. Not a timed
test: the tests assert the bounds; this measures what they cost.

    .venv/bin/python benchmarks/bench_hostile.py [--big]

``--big`` adds the worst case under the default budgets: a layer of 1,000,001 empty files
(ImageInspector.max_files), about a minute.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fixtures import images, oci
from tests.fixtures.hostile_registry import (
    HostileRegistry,
    Reply,
    endless_tags,
    run_client,
)
from tests.support import RunningServer
from tests.test_documents import BILLION_LAUGHS

Row = tuple[str, str, str, str]


def layer_bytes(build: Callable[[oci.LayerBuilder], Any]) -> bytes:
    builder = oci.LayerBuilder()
    build(builder)
    layer = builder.build()
    assert layer.blob.data is not None
    return layer.blob.data


def base() -> bytes:
    data = images.base_layer().blob.data
    assert data is not None
    return data


def client_row(what: str, budget: str, run: Any) -> Row:
    outcome = f"{run.error_type or 'ok'}" + (f": {run.message[:70]}…" if run.message else "")
    return what, budget, f"{run.elapsed:.2f} s, +{run.rss_growth_mb:.0f} MB", outcome


def registry_rows(env: dict[str, str], big: bool) -> list[Row]:
    rows: list[Row] = []
    with HostileRegistry() as registry:

        def validate_layer(
            repository: str, layer: bytes, what: str, budget: str, timeout: float = 120
        ) -> None:
            """Serve ``layer`` over the base layer; the row of validating that image."""
            served = registry.serve_image(repository, "1", [base(), layer])
            run = run_client("validate", served.reference, env=env, timeout=timeout)
            rows.append(client_row(what, budget, run))

        loop = layer_bytes(lambda b: b.dir("loop").hardlink("loop/self", "loop"))
        validate_layer(
            "hostile/loop",
            loop,
            "a layer whose hard link makes the tree a cycle",
            "refused (tar cannot express it)",
        )
        deep = layer_bytes(lambda b: b.file("/".join(["d"] * 1000) + "/f", "x"))
        validate_layer(
            "hostile/deep", deep, "a path 1,000 directories deep", "`max_path_depth` 256"
        )
        body = "Metadata-Version: 2.1\nName: p{n}\nVersion: 1\n\n" + "description " * 1400

        def metadata(b: oci.LayerBuilder) -> None:
            for number in range(20_000):
                path = f"usr/lib/python3/dist-packages/p{number}-1.dist-info/METADATA"
                b.file(path, body.replace("{n}", str(number)))

        bomb = layer_bytes(metadata)
        validate_layer(
            "hostile/metadata",
            bomb,
            f"20,000 METADATA files of 16 KiB in a {len(bomb) / 1e6:.1f} MB layer",
            "headers kept only; `max_metadata_files` 100,000 / 64 MiB",
        )
        if big:
            many = _many_files(1_000_001)
            validate_layer(
                "hostile/files",
                many,
                f"1,000,001 empty files in a {len(many) / 1e6:.1f} MB layer",
                "`max_files` 1,000,000",
                timeout=600,
            )
        registry.on("GET", r"/v2/hostile/none/manifests/.*", Reply.gzip_bomb(512 << 20, status=404))
        rows.append(
            client_row(
                "a 404 whose gzip body inflates to 512 MiB",
                "first 64 KiB read",
                run_client("pin", f"{registry.host}/hostile/none:1", env=env),
            )
        )
        registry.on("GET", r"/v2/hostile/tags/tags/list.*", Reply.gzip_bomb(512 << 20))
        rows.append(
            client_row(
                "a tags list that inflates to 512 MiB",
                "`max_response_bytes` 4 MiB",
                run_client("list_tags", f"{registry.host}/hostile/tags:1", env=env),
            )
        )
        endless_tags(registry, "hostile/endless")
        rows.append(
            client_row(
                "`Link` pagination without end",
                "`max_tag_pages` 100",
                run_client("list_tags", f"{registry.host}/hostile/endless:1", env=env),
            )
        )
        served = registry.serve_image("hostile/trickle", "1", [base()])
        registry.on(
            "GET",
            rf"/v2/hostile/trickle/blobs/{served.layer_digests[0]}",
            Reply.trickle(base(), 2.0),
        )
        rows.append(
            client_row(
                "a layer trickled at one byte every 2 s",
                "`min_blob_rate` 10 KiB/s over `blob_rate_window` (here 10 s; default 60 s)",
                run_client("validate", served.reference, env=env, blob_rate_window=10.0),
            )
        )

        def traversal(manifest: dict[str, Any]) -> None:
            manifest["layers"][0]["digest"] = "sha256:" + "../" * 8 + "etc/passwd"

        served = registry.serve_image("hostile/traversal", "1", [base()], edit=traversal)
        rows.append(
            client_row(
                "a layer digest `sha256:../../…/etc/passwd`",
                "digests parsed before use",
                run_client("validate", served.reference, env=env),
            )
        )
    return rows


def _many_files(count: int) -> bytes:
    out = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.GNU_FORMAT) as tar,
    ):
        for number in range(count):
            tar.addfile(tarfile.TarInfo(f"f/{number // 1000}/{number}"))
    return out.getvalue()


def server_rows(env: dict[str, str], workdir: Path) -> list[Row]:
    rows: list[Row] = []
    server = RunningServer(env, workdir)
    try:
        for what, path, body, budget in [
            (
                "a 669-byte YAML alias bomb as a build",
                "/runtime-images/builds",
                BILLION_LAUGHS,
                "100,000 values once aliases are expanded; 100 aliases",
            ),
            (
                '`{"x": 1e999}` in a runtime image',
                "/runtime-images/images",
                '{"display_name": "x", "metadata": {"image_name": "a/b:1", "x": 1e999}}',
                "finite numbers only",
            ),
            (
                "nesting of 100,000 levels",
                "/runtime-images/images",
                "[" * 100_000 + "]" * 100_000,
                "depth 64",
            ),
            ("an integer of 4,400 digits", "/runtime-images/images", "1" * 4400, "32 digits"),
        ]:
            started = time.monotonic()
            status, answer = _post(server, path, body.encode())
            elapsed = time.monotonic() - started
            rows.append(
                (what, budget, f"{elapsed * 1000:.0f} ms", f"HTTP {status}: {answer[:70]}…")
            )
    finally:
        server.stop()
    return rows


def _post(server: RunningServer, path: str, body: bytes) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        server.url + path,
        data=body,
        method="POST",
        headers={"Authorization": f"token {server.token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["message"]


def isolated_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("home", "data", "config", "runtime"):
        (workdir / name).mkdir()
    env.update(
        HOME=str(workdir / "home"),
        JUPYTER_DATA_DIR=str(workdir / "data"),
        JUPYTER_CONFIG_DIR=str(workdir / "config"),
        JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
        DOCKER_CONFIG=str(workdir / "docker"),
        REGISTRY_AUTH_FILE=str(workdir / "auth.json"),
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="add the 1,000,001-file layer")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    try:
        env = isolated_env(workdir)
        rows = registry_rows(env, args.big) + server_rows(env, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("| input | budget | cost now (time, peak memory growth) | how it ends |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |")


if __name__ == "__main__":
    main()
