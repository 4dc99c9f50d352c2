"""Pushing to registries that answer what no honest registry would (tests/fixtures/hostile_registry.py).

Each test scripts the registry's answers to uploads and manifest PUTs and checks that the
client refuses what it must (another digest, a session moved to another origin, a
non-http upload location) and recovers from what it can (a failed upload is restarted).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from runtime_images.registry import (
    Descriptor,
    DigestMismatch,
    RegistryError,
    RegistryUnavailable,
)
from tests.fixtures import oci
from tests.fixtures.hostile_registry import HostileRegistry, Reply, Request
from tests.fixtures.registry import write_auth_file

from .support import run

pytestmark = pytest.mark.timeout(60)

REPO = "team/app"
UPLOADS = rf"^/v2/{REPO}/blobs/uploads/"


def blob(size: int = 50_000) -> tuple[bytes, Descriptor]:
    data = os.urandom(size)
    return data, Descriptor(oci.OCI_LAYER_GZIP, oci.sha256_digest(data), size)


def accept_uploads(server: HostileRegistry, session: str = "/v2/team/app/blobs/uploads/s1") -> None:
    server.on("POST", UPLOADS, Reply(202, {"Location": session}))


def test_a_blob_stored_under_another_digest_is_digest_mismatch(
    hostile_registry: HostileRegistry, tmp_path: Path, isolated_home: Path
) -> None:
    data, descriptor = blob()
    other = oci.sha256_digest(b"something else")
    accept_uploads(hostile_registry)
    hostile_registry.on("PUT", UPLOADS, Reply(201, {"Docker-Content-Digest": other}))
    source = tmp_path / "blob"
    source.write_bytes(data)
    ref = f"{hostile_registry.host}/{REPO}"
    with pytest.raises(DigestMismatch, match=rf"stored blob {descriptor.digest} .* as {other}"):
        run(lambda c: c.push_blob(ref, descriptor, source))
    put = next(r for r in hostile_registry.requests if r.method == "PUT")
    assert put.body == data and put.query["digest"] == [descriptor.digest]


def test_digest_invalid_from_the_registry_is_digest_mismatch(
    hostile_registry: HostileRegistry, tmp_path: Path, isolated_home: Path
) -> None:
    data, descriptor = blob()
    accept_uploads(hostile_registry)
    hostile_registry.on("PUT", UPLOADS, Reply.error(400, "DIGEST_INVALID", "digest invalid"))
    source = tmp_path / "blob"
    source.write_bytes(data)
    with pytest.raises(DigestMismatch, match=r"computed another digest .*DIGEST_INVALID"):
        run(lambda c: c.push_blob(f"{hostile_registry.host}/{REPO}", descriptor, source))


def test_a_manifest_stored_under_another_digest_is_digest_mismatch(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    image = oci.make_image([oci.LayerBuilder().file("a", "b").build()])
    assert image.manifest.data is not None
    other = oci.sha256_digest(b"{}")
    hostile_registry.on(
        "PUT", rf"^/v2/{REPO}/manifests/1$", Reply(201, {"Docker-Content-Digest": other})
    )
    ref = f"{hostile_registry.host}/{REPO}:1"
    with pytest.raises(DigestMismatch, match=rf"as {other}, not {image.digest}"):
        run(lambda c: c.push_manifest(ref, image.manifest.data or b"", oci.OCI_MANIFEST))
    put = next(r for r in hostile_registry.requests if r.method == "PUT")
    assert put.body == image.manifest.data, "sent byte for byte"
    assert put.headers["content-type"] == oci.OCI_MANIFEST


def test_a_failed_upload_starts_again_in_a_new_session(
    hostile_registry: HostileRegistry, tmp_path: Path, isolated_home: Path
) -> None:
    data, descriptor = blob(300_000)
    sessions = iter(["/v2/team/app/blobs/uploads/first", "/v2/team/app/blobs/uploads/second"])
    hostile_registry.on("POST", UPLOADS, lambda _: Reply(202, {"Location": next(sessions)}))
    hostile_registry.on("DELETE", UPLOADS, Reply(204))
    hostile_registry.on("PUT", r"/uploads/first", Reply.error(500, "UNKNOWN", "disk full"))
    hostile_registry.on(
        "PUT", r"/uploads/second", Reply(201, {"Docker-Content-Digest": descriptor.digest})
    )
    source = tmp_path / "blob"
    source.write_bytes(data)
    sent: list[int] = []
    state = run(
        lambda c: c.push_blob(
            f"{hostile_registry.host}/{REPO}", descriptor, source, progress=sent.append
        ),
        retry_backoff=0.01,
    )
    assert state == "uploaded"
    writes = [
        (r.method, r.path.split("?")[0].rsplit("/", 1)[-1]) for r in hostile_registry.requests
    ]
    assert [w for w in writes if w[0] != "HEAD"] == [
        ("POST", ""),
        ("PUT", "first"),
        ("DELETE", "first"),
        ("POST", ""),
        ("PUT", "second"),
    ]
    assert sum(sent) == len(data), "the failed attempt's bytes are taken back"
    assert min(sent) < 0


def test_a_stream_is_not_restarted(hostile_registry: HostileRegistry, isolated_home: Path) -> None:
    """An async source can be read once: a failed upload of it fails, it is not resent."""
    data, descriptor = blob()
    accept_uploads(hostile_registry)
    hostile_registry.on("DELETE", UPLOADS, Reply(204))
    hostile_registry.on("PUT", UPLOADS, Reply.error(503, "UNAVAILABLE", "busy"))

    async def once() -> Any:
        yield data

    with pytest.raises(RegistryError, match=r"failed with HTTP 503"):
        run(lambda c: c.push_blob(f"{hostile_registry.host}/{REPO}", descriptor, once()))
    assert [r.method for r in hostile_registry.requests].count("PUT") == 1


def test_credentials_never_follow_an_upload_to_another_origin(
    hostile_registry: HostileRegistry, tmp_path: Path, isolated_home: Path
) -> None:
    data, descriptor = blob()
    write_auth_file(str(isolated_home / "auth.json"), hostile_registry.host, "alice", "secret")

    def basic_only(request: Request) -> Reply:
        if "authorization" not in request.headers:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="hostile"'})
        return Reply.error(404, "BLOB_UNKNOWN", "blob unknown")

    with HostileRegistry() as elsewhere:
        hostile_registry.on("HEAD", r"/blobs/", basic_only)
        hostile_registry.on("POST", UPLOADS, Reply(202, {"Location": f"{elsewhere.url}/upload/s1"}))
        elsewhere.on(
            "PUT", r"^/upload/s1", Reply(201, {"Docker-Content-Digest": descriptor.digest})
        )
        source = tmp_path / "blob"
        source.write_bytes(data)
        state = run(lambda c: c.push_blob(f"{hostile_registry.host}/{REPO}", descriptor, source))
        put = next(r for r in elsewhere.requests if r.method == "PUT")
    assert state == "uploaded" and put.body == data
    assert "authorization" not in put.headers
    post = next(r for r in hostile_registry.requests if r.method == "POST")
    expected = "Basic " + base64.b64encode(b"alice:secret").decode()
    assert post.headers.get("authorization") == expected


@pytest.mark.parametrize("location", ["", "file:///etc/passwd", "ftp://example.com/upload"])
def test_an_upload_location_that_is_not_http_is_refused(
    location: str, hostile_registry: HostileRegistry, tmp_path: Path, isolated_home: Path
) -> None:
    data, descriptor = blob()
    headers = {"Location": location} if location else {}
    hostile_registry.on("POST", UPLOADS, Reply(202, headers))
    source = tmp_path / "blob"
    source.write_bytes(data)
    with pytest.raises(RegistryError, match=r"gave no usable upload location"):
        run(lambda c: c.push_blob(f"{hostile_registry.host}/{REPO}", descriptor, source))
    assert not [r for r in hostile_registry.requests if r.method in ("PUT", "PATCH")]


def test_a_chunk_the_registry_did_not_take_whole_stops_the_upload(
    hostile_registry: HostileRegistry, tmp_path: Path, isolated_home: Path
) -> None:
    data, descriptor = blob(200_000)
    accept_uploads(hostile_registry)
    hostile_registry.on("DELETE", UPLOADS, Reply(204))
    hostile_registry.on(
        "PATCH", UPLOADS, Reply(202, {"Location": "/v2/team/app/blobs/uploads/s1", "Range": "0-9"})
    )
    source = tmp_path / "blob"
    source.write_bytes(data)
    with pytest.raises(RegistryError, match=r"acknowledged '0-9' after 65536 bytes"):
        run(
            lambda c: c.push_blob(f"{hostile_registry.host}/{REPO}", descriptor, source),
            chunked_upload_threshold=100_000,
            upload_chunk_size=65536,
            retries=0,
        )
    patch = next(r for r in hostile_registry.requests if r.method == "PATCH")
    assert patch.headers["content-range"] == "0-65535" and patch.body == data[:65536]


def test_a_registry_that_takes_an_upload_at_a_trickle_is_cut_off(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    """Below min_blob_rate (over blob_rate_window of waiting for the network) the upload
    ends with RegistryUnavailable instead of taking hours; the socket buffers it filled
    at first do not hide the trickle for more than a window."""
    data, descriptor = blob(24 << 20)
    accept_uploads(hostile_registry)
    hostile_registry.on("DELETE", UPLOADS, Reply(204))
    hostile_registry.read_slowly("PUT", UPLOADS, piece=16 * 1024, interval=0.1)  # 160 KB/s
    started = time.monotonic()
    with pytest.raises(
        RegistryUnavailable,
        match=r"took only \d+ bytes of blob .* below RegistryClient.min_blob_rate",
    ):
        run(
            lambda c: c.push_blob(
                f"{hostile_registry.host}/{REPO}", descriptor, _pieces(data, 64 * 1024)
            ),
            min_blob_rate=1_000_000,
            blob_rate_window=1.0,
        )
    assert time.monotonic() - started < 20


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("location", ["http://[upload/s1", "http://[::1x]/upload/s1"])
def test_an_upload_location_that_urllib_refuses_is_a_registry_error(
    location: str, hostile_registry: HostileRegistry, tmp_path: Path, isolated_home: Path
) -> None:
    """Brackets that hold no IPv6 address make urllib raise ValueError: the push failed
    with that instead of an error naming the registry and what it sent."""
    data, descriptor = blob()
    hostile_registry.on("POST", UPLOADS, Reply(202, {"Location": location}))
    source = tmp_path / "blob"
    source.write_bytes(data)
    with pytest.raises(RegistryError, match=r"sent an upload location .* that is not a URL"):
        run(lambda c: c.push_blob(f"{hostile_registry.host}/{REPO}", descriptor, source))
    assert not [r for r in hostile_registry.requests if r.method in ("PUT", "PATCH")]
