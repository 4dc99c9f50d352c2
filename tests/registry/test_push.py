"""Pushing images with RegistryClient to real registries (anonymous, Basic, Bearer token).

Images are made by the tests (tests/fixtures/oci.py), written into an OCI layout
(``runtime_images.registry.layout.Layout``) and pushed from there; skopeo then reads what
arrived. Uploads and mounts are counted in the registry's own access log.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import math
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from runtime_images.reference import parse
from runtime_images.registry import (
    AccessDenied,
    AuthRequired,
    Descriptor,
    DigestMismatch,
    ImageNotFound,
    PushProgress,
    RegistryClient,
    RegistryUnavailable,
)
from runtime_images.registry.layout import Layout
from tests.fixtures import images, oci
from tests.fixtures.registry import (
    PASSWORD,
    READER,
    READER_PASSWORD,
    USERNAME,
    RegistryServer,
    free_port,
    write_auth_file,
    write_layout,
)

from .support import run

pytestmark = pytest.mark.timeout(90)


def small_image(seed: int = 0, size: int = 200_000) -> oci.Image:
    """A base layer and a layer of random bytes (so every image has blobs of its own)."""
    extra = oci.LayerBuilder().random_file("data/blob.bin", size, seed=seed).build()
    return oci.make_image([images.base_layer(), extra])


def layout_of(tmp_path: Path, image: oci.Image) -> Layout:
    layout: Layout = write_layout(tmp_path / "layout", [image], image.manifest)
    return layout


def small_layout(tmp_path: Path) -> tuple[oci.Image, Layout]:
    """A :func:`small_image` in a layout under ``tmp_path``, the source most pushes test."""
    image = small_image()
    return image, layout_of(tmp_path, image)


def push_then_mount(
    layout: Layout,
    digest: str,
    host: str,
    first: str,
    second: str,
    mount_from: str,
    between: Callable[[], None] = lambda: None,
) -> list[PushProgress]:
    """Push to ``host/first:1``, call ``between``, then push to ``host/second:1`` naming
    ``host/mount_from`` to mount from; the second push's progress."""
    states: list[PushProgress] = []

    async def push_twice(c: RegistryClient) -> None:
        await c.push_image(layout, digest, f"{host}/{first}:1")
        between()
        await c.push_image(
            layout,
            digest,
            f"{host}/{second}:1",
            mount_from=f"{host}/{mount_from}",
            progress=states.append,
        )

    run(push_twice)
    return states


def login(
    home: Path, server: RegistryServer, user: str = USERNAME, password: str = PASSWORD
) -> None:
    write_auth_file(str(home / "auth.json"), server.host, user, password)


def by_digest(reference: str) -> str:
    """skopeo takes a tag or a digest, not both: a pinned reference is named by digest."""
    pinned = parse(reference)
    return f"{pinned.repository}@{pinned.digest}" if pinned.digest else reference


def skopeo(server: RegistryServer, *args: str) -> bytes:
    creds = [] if server.auth is None else ["--creds", f"{server.username}:{server.password}"]
    command, rest = args[0], args[1:]
    return subprocess.run(
        ["skopeo", command, "--tls-verify=false", *creds, *rest],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


def skopeo_raw_digest(server: RegistryServer, reference: str) -> str:
    raw = skopeo(server, "inspect", "--raw", f"docker://{by_digest(reference)}")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def skopeo_copy_digest(server: RegistryServer, reference: str, target: Path) -> str:
    """Copy to a ``dir:`` (every blob downloaded and verified); its manifest's digest."""
    creds = [] if server.auth is None else ["--src-creds", f"{server.username}:{server.password}"]
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--all",
            "--src-tls-verify=false",
            *creds,
            f"docker://{by_digest(reference)}",
            f"dir:{target}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return "sha256:" + hashlib.sha256((target / "manifest.json").read_bytes()).hexdigest()


def blob_writes(server: RegistryServer, repository: str) -> list[str]:
    """The upload requests the registry answered for ``repository`` (POST, PATCH, PUT)."""
    prefix = f"/v2/{repository}/blobs/uploads/"
    return [
        f"{r.method} {r.status}"
        for r in server.requests()
        if r.target.startswith(prefix) and r.method in ("POST", "PATCH", "PUT")
    ]


# -- pushing, and what skopeo sees -------------------------------------------------------


@pytest.mark.parametrize("server", ["registry", "basic_registry", "token_registry"])
def test_a_pushed_image_has_its_layout_digest_for_skopeo(
    server: str,
    request: pytest.FixtureRequest,
    repo_name: str,
    isolated_home: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    srv: RegistryServer = request.getfixturevalue(server)
    if srv.auth is not None:
        login(isolated_home, srv)
    image, layout = small_layout(tmp_path)
    caplog.set_level(logging.DEBUG)
    pinned = run(
        lambda c: c.push_image(layout, layout.find("1.0").digest, f"{srv.host}/{repo_name}:1.0")
    )
    assert str(pinned) == f"{srv.host}/{repo_name}:1.0@{image.digest}"
    assert skopeo_raw_digest(srv, f"{srv.host}/{repo_name}:1.0") == image.digest
    assert skopeo_copy_digest(srv, str(pinned), tmp_path / "copy") == image.digest
    encoded = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert PASSWORD not in caplog.text and encoded not in caplog.text


def test_a_destination_without_tag_is_pushed_as_latest(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    image, layout = small_layout(tmp_path)
    pinned = run(lambda c: c.push_image(layout, image.digest, f"{registry.host}/{repo_name}"))
    assert str(pinned) == f"{registry.host}/{repo_name}:latest@{image.digest}"
    assert skopeo_raw_digest(registry, f"{registry.host}/{repo_name}:latest") == image.digest


def test_a_destination_naming_another_digest_is_refused(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    image, layout = small_layout(tmp_path)
    other = "sha256:" + "1" * 64
    with pytest.raises(DigestMismatch, match=rf"names {other}, but the image to push is"):
        run(lambda c: c.push_image(layout, image.digest, f"{registry.host}/{repo_name}@{other}"))


def test_an_index_pushes_every_manifest(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    amd, arm, index = images.amd64_and_arm64()
    layout: Layout = write_layout(tmp_path / "layout", [amd, arm], index)
    ref = f"{registry.host}/{repo_name}:multi"
    pinned = run(lambda c: c.push_image(layout, layout.find("1.0").digest, ref))
    assert pinned.digest == index.digest
    assert skopeo_raw_digest(registry, ref) == index.digest
    for image in (amd, arm):
        assert skopeo_raw_digest(registry, f"{registry.host}/{repo_name}@{image.digest}") == (
            image.digest
        )
    assert skopeo_copy_digest(registry, ref, tmp_path / "copy") == index.digest
    resolved = run(lambda c: c.resolve(ref, "linux/arm64"))
    assert resolved.manifest.digest == arm.digest


def test_an_index_entry_the_layout_lacks_must_be_in_the_registry(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    amd, arm = small_image(1), small_image(2)
    index = oci.make_index([amd, arm])
    layout: Layout = write_layout(tmp_path / "layout", [amd], index)  # arm is not in it
    ref = f"{registry.host}/{repo_name}:multi"
    with pytest.raises(ImageNotFound, match=rf"lists {arm.digest}, which is neither"):
        run(lambda c: c.push_image(layout, index.digest, ref))
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, None, arm)  # now the registry has it
    assert run(lambda c: c.push_image(layout, index.digest, ref)).digest == index.digest
    assert skopeo_raw_digest(registry, ref) == index.digest


def test_a_blob_the_layout_lacks_must_be_in_the_registry(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    """A build keeps only its own layers, its base's may live in the registry alone."""
    image, layout = small_layout(tmp_path)
    base = image.layers[0].blob
    layout.blob_path(base.digest).unlink()
    ref = f"{registry.host}/{repo_name}:1"
    with pytest.raises(ImageNotFound, match=rf"blob {base.digest} is neither in the layout"):
        run(lambda c: c.push_image(layout, image.digest, ref))
    with registry.pusher() as pusher:
        pusher.push_blob(repo_name, base)
    states: dict[str, str] = {}
    run(
        lambda c: c.push_image(
            layout, image.digest, ref, progress=lambda p: states.update({p.digest: p.state})
        )
    )
    assert states[base.digest] == "exists"
    assert skopeo_copy_digest(registry, ref, tmp_path / "copy") == image.digest


def test_an_image_the_layout_lacks_is_image_not_found(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    _, layout = small_layout(tmp_path)
    missing = "sha256:" + "2" * 64
    with pytest.raises(ImageNotFound, match=rf"the manifest {missing} is not in the layout"):
        run(lambda c: c.push_image(layout, missing, f"{registry.host}/{repo_name}:1"))


# -- what is sent: skipped, mounted, uploaded, chunked -----------------------------------


def test_a_second_push_to_another_repository_mounts_the_blobs(
    logged_registry: RegistryServer, isolated_home: Path, tmp_path: Path
) -> None:
    srv = logged_registry
    image, layout = small_layout(tmp_path)
    first, second = "team/first", "team/second"
    states = push_then_mount(layout, image.digest, srv.host, first, second, f"{first}:1")
    blobs = {blob.digest for blob in image.blobs}
    assert sorted(blob_writes(srv, first)) == sorted(["POST 202", "PUT 201"] * len(blobs))
    mounts = [
        r for r in srv.requests() if r.method == "POST" and r.target.startswith(f"/v2/{second}/")
    ]
    assert {r.target for r in mounts} == {
        f"/v2/{second}/blobs/uploads/?mount={digest}&from={first}" for digest in blobs
    }
    assert {r.status for r in mounts} == {201}, "mounted, not a fallback upload session"
    assert not [w for w in blob_writes(srv, second) if not w.startswith("POST")], "no upload"
    assert {s.state for s in states} == {"mounted"} and states[-1].uploaded == 0
    assert skopeo_copy_digest(srv, f"{srv.host}/{second}:1", tmp_path / "copy") == image.digest


def test_a_push_of_what_the_repository_has_sends_no_blob(
    logged_registry: RegistryServer, isolated_home: Path, tmp_path: Path
) -> None:
    srv = logged_registry
    image, layout = small_layout(tmp_path)
    states: list[PushProgress] = []

    async def push_twice(c: RegistryClient) -> None:
        await c.push_image(layout, image.digest, f"{srv.host}/team/app:1")
        await c.push_image(layout, image.digest, f"{srv.host}/team/app:2", progress=states.append)

    run(push_twice)
    assert len(blob_writes(srv, "team/app")) == 2 * len(image.blobs), "the first push only"
    assert {s.state for s in states} == {"exists"}
    assert states[-1].done == states[-1].total and states[-1].uploaded == 0
    assert skopeo_raw_digest(srv, f"{srv.host}/team/app:2") == image.digest


def test_a_mount_the_registry_declines_becomes_an_upload(
    logged_registry: RegistryServer, isolated_home: Path, tmp_path: Path
) -> None:
    srv = logged_registry
    image, layout = small_layout(tmp_path)
    # team/empty does not have the blobs: the registry answers 202 with a session, used.
    pinned = run(
        lambda c: c.push_image(
            layout, image.digest, f"{srv.host}/team/app:1", mount_from=f"{srv.host}/team/empty"
        )
    )
    writes = blob_writes(srv, "team/app")
    assert writes.count("POST 202") == len(image.blobs) and writes.count("PUT 201") == len(
        image.blobs
    )
    assert skopeo_raw_digest(srv, str(pinned)) == image.digest


def test_a_blob_over_the_threshold_is_uploaded_in_chunks(
    logged_registry: RegistryServer, isolated_home: Path, tmp_path: Path
) -> None:
    srv = logged_registry
    image = small_image(size=300_000)
    big = max(image.blobs, key=lambda blob: blob.size)
    layout = layout_of(tmp_path, image)
    chunk = 64 * 1024
    pinned = run(
        lambda c: c.push_image(layout, image.digest, f"{srv.host}/team/chunked:1"),
        chunked_upload_threshold=100_000,
        upload_chunk_size=chunk,
    )
    patches = [w for w in blob_writes(srv, "team/chunked") if w.startswith("PATCH")]
    assert patches == ["PATCH 202"] * math.ceil(big.size / chunk)
    puts = [r for r in srv.requests() if r.method == "PUT" and "digest=" in r.target]
    assert len(puts) == len(image.blobs) and {r.status for r in puts} == {201}
    assert skopeo_copy_digest(srv, str(pinned), tmp_path / "copy") == image.digest


def test_progress_counts_every_byte_once(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    image = small_image(size=400_000)
    layout = layout_of(tmp_path, image)
    seen: list[PushProgress] = []
    run(
        lambda c: c.push_image(
            layout, image.digest, f"{registry.host}/{repo_name}:1", progress=seen.append
        ),
        chunked_upload_threshold=100_000,
        upload_chunk_size=64 * 1024,
    )
    total = sum(blob.size for blob in image.blobs)
    assert {s.total for s in seen} == {total}
    assert [s.done for s in seen] == sorted(s.done for s in seen), "never goes back"
    assert seen[-1].done == seen[-1].uploaded == total
    finished = {s.digest: s for s in seen if s.state == "uploaded"}
    assert {d: (s.blob_done, s.blob_size) for d, s in finished.items()} == {
        blob.digest: (blob.size, blob.size) for blob in image.blobs
    }
    assert len([s for s in seen if s.state == "uploading"]) > len(image.blobs), "per piece"


# -- blobs from a stream, and corrupted sources ------------------------------------------


async def _pieces(data: bytes, size: int = 7000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[start : start + size]


def test_push_blob_streams_from_an_async_source(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    data = os.urandom(150_000)
    descriptor = Descriptor(oci.OCI_LAYER_GZIP, oci.sha256_digest(data), len(data))
    ref = f"{registry.host}/{repo_name}"
    sent: list[int] = []

    async def push(c: RegistryClient) -> tuple[str, str, bytes]:
        first = await c.push_blob(ref, descriptor, _pieces(data), progress=sent.append)
        again = await c.push_blob(ref, descriptor, _pieces(data))
        return first, again, await c.get_blob(ref, descriptor, max_size=len(data))

    first, again, stored = run(push, chunked_upload_threshold=50_000, upload_chunk_size=40_000)
    assert (first, again, stored) == ("uploaded", "exists", data)
    assert sum(sent) == len(data)


@pytest.mark.parametrize("lie", ["longer", "shorter", "other bytes"])
def test_a_stream_that_is_not_its_descriptor_stores_nothing(
    lie: str, logged_registry: RegistryServer, isolated_home: Path
) -> None:
    data = os.urandom(100_000)
    descriptor = Descriptor(oci.OCI_LAYER_GZIP, oci.sha256_digest(data), len(data))
    sent = {
        "longer": data + b"!",
        "shorter": data[:-1],
        "other bytes": data[:-1] + bytes([data[-1] ^ 1]),
    }[lie]
    ref = f"{logged_registry.host}/team/lies"

    async def push(c: RegistryClient) -> bool:
        with pytest.raises(DigestMismatch, match=r"the source is (truncated|corrupted)"):
            await c.push_blob(ref, descriptor, _pieces(sent))
        return await c.blob_exists(ref, descriptor.digest)

    assert run(push) is False
    puts = [r for r in logged_registry.requests() if r.method == "PUT"]
    assert all(r.status != 201 for r in puts), "no upload was completed"
    cancelled = [r for r in logged_registry.requests() if r.method == "DELETE"]
    assert len(cancelled) == 1, "the upload session is cancelled"


def test_a_corrupted_layout_blob_is_never_completed(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    image, layout = small_layout(tmp_path)
    big = max(image.blobs, key=lambda blob: blob.size)
    path = layout.blob_path(big.digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    ref = f"{registry.host}/{repo_name}:1"

    async def push(c: RegistryClient) -> bool:
        with pytest.raises(DigestMismatch, match=rf"blob {big.digest} hashes to sha256:"):
            await c.push_image(layout, image.digest, ref)
        return await c.blob_exists(ref, big.digest)

    assert run(push) is False
    with pytest.raises(ImageNotFound):
        run(lambda c: c.pin(ref))


def test_a_push_holds_no_blob_in_memory(
    registry: RegistryServer, repo_name: str, tmp_path: Path
) -> None:
    """A 96 MiB blob from a file, monolithic and chunked: the pushing process (a fresh one,
    so its peak is its own) grows by far less than the blob."""
    blob = tmp_path / "blob"
    with open(blob, "wb") as written:
        written.writelines(os.urandom(1024 * 1024) for _ in range(96))
    digest = "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest()
    child = """
import asyncio, json, sys
from runtime_images.registry import Descriptor, RegistryClient

def hwm():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])

async def main(ref, path, digest, size, threshold):
    async with RegistryClient(chunked_upload_threshold=threshold) as client:
        await client.ping(ref.split("/")[0])
        before = hwm()
        state = await client.push_blob(
            ref, Descriptor("application/octet-stream", digest, size), path
        )
        return state, (hwm() - before) / 1024

print(json.dumps(asyncio.run(main(*sys.argv[1:4], int(sys.argv[4]), int(sys.argv[5])))))
"""
    root = Path(__file__).resolve().parents[2]
    for way, threshold in (("whole", 1 << 30), ("chunks", 8 << 20)):
        ref = f"{registry.host}/{repo_name}-{way}"
        out = subprocess.run(
            [sys.executable, "-c", child, ref, str(blob), digest, str(96 << 20), str(threshold)],
            check=True,
            capture_output=True,
            text=True,
            cwd=root,
            timeout=60,
        )
        state, growth_mb = json.loads(out.stdout)
        assert state == "uploaded"
        assert growth_mb < 24, f"{way}: peak RSS grew {growth_mb:.0f} MB for 96 MB"


# -- refusals and failures ---------------------------------------------------------------


def test_a_push_refused_to_a_pull_only_user_is_access_denied(
    token_registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    image, layout = small_layout(tmp_path)
    login(isolated_home, token_registry, READER, READER_PASSWORD)
    ref = f"{token_registry.host}/{repo_name}:1"
    with pytest.raises(AccessDenied, match=rf"user '{READER}' may not push to") as info:
        run(lambda c: c.push_image(layout, image.digest, ref))
    assert info.value.reason == "AccessDenied"
    login(isolated_home, token_registry)
    with pytest.raises(ImageNotFound):
        run(lambda c: c.pin(ref))


@pytest.mark.parametrize("server", ["basic_registry", "token_registry"])
def test_a_push_without_credentials_is_auth_required(
    server: str,
    request: pytest.FixtureRequest,
    repo_name: str,
    isolated_home: Path,
    tmp_path: Path,
) -> None:
    srv: RegistryServer = request.getfixturevalue(server)
    image, layout = small_layout(tmp_path)
    with pytest.raises(AuthRequired, match=rf"{srv.host} requires authentication") as info:
        run(lambda c: c.push_image(layout, image.digest, f"{srv.host}/{repo_name}:1"))
    assert info.value.reason == "AuthRequired"


def test_a_mount_with_token_auth_asks_for_both_repositories(
    token_registry: RegistryServer, isolated_home: Path, tmp_path: Path, repo_name: str
) -> None:
    login(isolated_home, token_registry)
    image, layout = small_layout(tmp_path)
    host = token_registry.host
    first, second = f"{repo_name}-a", f"{repo_name}-b"
    assert token_registry.token_server is not None
    scopes = token_registry.token_server.requests
    states = push_then_mount(layout, image.digest, host, first, second, first, scopes.clear)
    assert {s.state for s in states} == {"mounted"}
    assert [f"repository:{second}:pull,push", f"repository:{first}:pull"] in [
        r["query"]["scope"] for r in scopes
    ]


def test_a_mount_from_a_repository_the_user_may_not_read_becomes_an_upload(
    token_registry: RegistryServer, isolated_home: Path, tmp_path: Path, repo_name: str
) -> None:
    """The token server grants pull on the source per user; without it the mount is refused
    with 401 and the blob is uploaded instead of failing the push."""
    assert token_registry.token_server is not None
    server = token_registry.token_server
    login(isolated_home, token_registry)
    image, layout = small_layout(tmp_path)
    host = token_registry.host
    source = f"{repo_name}-private"
    original = server.issue

    def no_pull_on_source(query: dict[str, list[str]], authorization: str | None) -> Any:
        status, body = original(query, authorization)
        if any(scope.startswith(f"repository:{source}:") for scope in query.get("scope", [])):
            status, body = original({**query, "scope": query["scope"][:1]}, authorization)
        return status, body

    run(lambda c: c.push_image(layout, image.digest, f"{host}/{source}:1"))
    server.issue = no_pull_on_source  # type: ignore[method-assign]
    server.requests.clear()
    states: list[PushProgress] = []
    try:
        pinned = run(
            lambda c: c.push_image(
                layout,
                image.digest,
                f"{host}/{repo_name}:1",
                mount_from=f"{host}/{source}",
                progress=states.append,
            )
        )
    finally:
        server.issue = original  # type: ignore[method-assign]
    asked = [r["query"]["scope"] for r in server.requests]
    assert [f"repository:{repo_name}:pull,push", f"repository:{source}:pull"] in asked, (
        "a mount was tried"
    )
    assert {s.state for s in states if s.state != "uploading"} == {"uploaded"}
    assert skopeo_raw_digest(token_registry, str(pinned)) == image.digest


def test_a_push_to_an_unreachable_registry_is_registry_unavailable(
    isolated_home: Path, tmp_path: Path
) -> None:
    image, layout = small_layout(tmp_path)
    host = f"127.0.0.1:{free_port()}"
    with pytest.raises(RegistryUnavailable, match=rf"cannot reach the registry {host}") as info:
        run(
            lambda c: c.push_image(layout, image.digest, f"{host}/team/app:1"),
            retries=1,
            retry_backoff=0.01,
        )
    assert info.value.reason == "RegistryUnavailable"


# -- where references live -----------------------------------------------------------------


def test_location_says_where_a_reference_is_read_and_pushed() -> None:
    client = RegistryClient(
        insecure_registries=["registry.internal:5000"],
        mirrors={"docker.io": "mirror.local:5000/dockerhub"},
    )
    local = client.location("127.0.0.1:5000/team/app:1")
    assert (local.host, local.repository, local.base_url, local.plain_http) == (
        "127.0.0.1:5000",
        "team/app",
        "http://127.0.0.1:5000",
        True,
    )
    listed = client.location("registry.internal:5000/a/b")
    assert listed.plain_http and listed.base_url == "http://registry.internal:5000"
    remote = client.location("quay.io/org/app:1")
    assert not remote.plain_http and remote.base_url == "https://quay.io"
    pulled = client.location("python:3.12")
    assert (pulled.host, pulled.repository) == ("mirror.local:5000", "dockerhub/library/python")
    pushed = client.location("python:3.12", push=True)
    assert (pushed.host, pushed.repository) == ("registry-1.docker.io", "library/python")
