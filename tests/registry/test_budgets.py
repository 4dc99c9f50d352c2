"""Every read from a registry has a budget: decoded bytes, pages, time, transfer rate.

A hostile registry (tests/fixtures/hostile_registry.py) sends gzip bombs as error bodies,
tags lists, tokens and manifests, paginates forever, and trickles bytes. Each test asserts
the bounded outcome: the error and its reason, the time taken and, where memory is the
risk, the peak RSS growth of a fresh client process doing only that call.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from runtime_images.inspect import inspect_image
from runtime_images.registry import (
    ImageNotFound,
    InvalidManifest,
    RateLimited,
    RegistryClient,
    RegistryUnavailable,
)
from tests.fixtures import images, oci
from tests.fixtures.hostile_registry import HostileRegistry, Reply, endless_tags, run_client

from . import support

pytestmark = pytest.mark.timeout(120)

BOMB = 512 * 1024 * 1024  # decoded bytes; about 0.5 MB on the wire
RSS_BUDGET_MB = 50  # what one call may add to a fresh process's peak RSS


def run(fn: Any, **config: Any) -> Any:
    """:func:`.support.run` with no retries (each answer is the registry's first)."""
    return support.run(fn, retries=0, **config)


def bearer_challenge(registry: HostileRegistry) -> None:
    """Every /v2/ request without a token gets a Bearer challenge to the registry's /token."""

    def challenge(request: Any) -> Reply:
        if request.headers.get("authorization", "").startswith("Bearer "):
            return Reply.error(404, "MANIFEST_UNKNOWN")
        realm = f'Bearer realm="{registry.url}/token",service="hostile"'
        return Reply(401, {"WWW-Authenticate": realm}, b"")

    registry.on("GET", r"^/v2/.+", challenge)
    registry.on("HEAD", r"^/v2/.+", challenge)


# -- decoded bytes -------------------------------------------------------------------------


def test_gzip_bomb_error_bodies(hostile_registry: HostileRegistry, isolated_home: Path) -> None:
    """404s whose bodies inflate to 512 MiB: only their first 64 KiB are ever decoded."""
    hostile_registry.on("GET", r"^/v2/.+", Reply.gzip_bomb(BOMB, status=404))
    outcome = run_client("get_manifest", f"{hostile_registry.host}/bomb/x:1", env=dict(os.environ))
    assert outcome.reason == "ImageNotFound", outcome
    assert outcome.rss_growth_mb < RSS_BUDGET_MB, outcome
    assert outcome.elapsed < 5, outcome


def test_gzip_bomb_tags_list(hostile_registry: HostileRegistry, isolated_home: Path) -> None:
    hostile_registry.on("GET", r"/tags/list", Reply.gzip_bomb(BOMB))
    outcome = run_client("list_tags", f"{hostile_registry.host}/bomb/x", env=dict(os.environ))
    assert outcome.reason == "InvalidManifest", outcome
    assert "is larger than 4194304 bytes (decoded)" in str(outcome.message)
    assert "RegistryClient.max_response_bytes" in str(outcome.message)
    assert outcome.rss_growth_mb < RSS_BUDGET_MB, outcome
    assert outcome.elapsed < 5, outcome


def test_gzip_bomb_token(hostile_registry: HostileRegistry, isolated_home: Path) -> None:
    bearer_challenge(hostile_registry)
    hostile_registry.on("GET", r"^/token", Reply.gzip_bomb(BOMB))
    outcome = run_client("pin", f"{hostile_registry.host}/bomb/x:1", env=dict(os.environ))
    assert outcome.reason == "InvalidManifest", outcome
    assert "the token for " in str(outcome.message) and "max_response_bytes" in str(outcome.message)
    assert outcome.rss_growth_mb < RSS_BUDGET_MB, outcome


def test_gzip_bomb_manifest(hostile_registry: HostileRegistry, isolated_home: Path) -> None:
    hostile_registry.on(
        "GET",
        r"/manifests/",
        Reply.gzip_bomb(BOMB, headers={"Content-Type": oci.OCI_MANIFEST}),
    )
    outcome = run_client("resolve", f"{hostile_registry.host}/bomb/x:1", env=dict(os.environ))
    assert outcome.reason == "InvalidManifest", outcome
    assert "RegistryClient.max_manifest_bytes" in str(outcome.message)
    assert outcome.rss_growth_mb < RSS_BUDGET_MB, outcome


ENCODINGS = {
    "gzip": lambda raw: gzip.compress(raw),
    "gzip-two-members": lambda raw: gzip.compress(raw[:50]) + gzip.compress(raw[50:]),
    "gzip-trailing-zeros": lambda raw: gzip.compress(raw) + b"\0" * 8,
    "deflate": lambda raw: zlib.compress(raw),
    "deflate-raw": lambda raw: zlib.compress(raw, wbits=-15),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_encoded_manifest_is_decoded_and_verified(
    hostile_registry: HostileRegistry, isolated_home: Path, encoding: str
) -> None:
    """A proxy that compresses JSON is not hostile: the digest covers the decoded bytes."""
    layer = images.base_layer()
    assert layer.blob.data is not None
    served = hostile_registry.serve_image(
        "gz/image", "1", [layer.blob.data], {"os": "linux", "architecture": "amd64"}
    )
    raw, media_type = hostile_registry.manifests[("gz/image", "1")]
    headers = {"Content-Type": media_type, "Content-Encoding": encoding.split("-")[0]}
    body = ENCODINGS[encoding](raw)
    hostile_registry.on("GET", r"/manifests/1$", Reply(200, headers, body))
    resolved = run(lambda c: c.resolve(served.reference))
    assert resolved.digest == served.manifest_digest


def test_unsupported_content_encoding(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    headers = {"Content-Type": oci.OCI_MANIFEST, "Content-Encoding": "br"}
    hostile_registry.on("GET", r"/manifests/", Reply(200, headers, b"\x00" * 100))
    with pytest.raises(InvalidManifest, match="unsupported Content-Encoding 'br'"):
        run(lambda c: c.get_manifest(f"{hostile_registry.host}/br/x:1"))


# -- pages ---------------------------------------------------------------------------------


def test_endless_pagination_stops_at_the_page_cap(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    endless_tags(hostile_registry, "pages/x")
    started = time.monotonic()
    tags = run(lambda c: c.list_tags(f"{hostile_registry.host}/pages/x"))
    assert len(hostile_registry.requests) == 100 and len(tags) == 300
    assert tags.truncated is not None and "RegistryClient.max_tag_pages" in tags.truncated
    assert time.monotonic() - started < 10


def test_tag_count_cap(hostile_registry: HostileRegistry, isolated_home: Path) -> None:
    endless_tags(hostile_registry, "many/x", page_size=40)
    tags = run(lambda c: c.list_tags(f"{hostile_registry.host}/many/x"), max_tags=100)
    assert len(tags) == 100 and len(hostile_registry.requests) == 3
    assert tags.truncated is not None and "RegistryClient.max_tags" in tags.truncated


def test_missing_tag_hint_with_endless_pagination(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    """The 'the repository has the tags: …' hint still ends, and says the list is cut."""
    endless_tags(hostile_registry, "pages/y")
    with pytest.raises(ImageNotFound, match=r":9 was not found .* the tags: .*, …$"):
        run(lambda c: c.pin(f"{hostile_registry.host}/pages/y:9"), max_tag_pages=3)
    assert sum("/tags/list" in r.path for r in hostile_registry.requests) == 3


# -- time ----------------------------------------------------------------------------------


def serve_small_image(registry: HostileRegistry, repository: str) -> Any:
    layer = oci.LayerBuilder().random_file("payload.bin", 16 * 1024, seed=5).build()
    assert layer.blob.data is not None
    return registry.serve_image(
        repository,
        "1",
        [layer.blob.data],
        {"os": "linux", "architecture": "amd64", "rootfs": {"diff_ids": [layer.diff_id]}},
    )


def test_trickled_manifest_ends_at_the_operation_deadline(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    """One byte every 0.25 s: no read waits a whole read_timeout, the operation still ends."""
    served = serve_small_image(hostile_registry, "slow/manifest")
    raw, media_type = hostile_registry.manifests[("slow/manifest", "1")]
    hostile_registry.on(
        "GET", r"/manifests/1$", Reply.trickle(raw, 0.25, headers={"Content-Type": media_type})
    )
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as info:
        run(lambda c: c.resolve(served.reference), read_timeout=1, operation_timeout=2)
    elapsed = time.monotonic() - started
    assert 2 <= elapsed < 3.5
    message = info.value.message
    assert message.startswith(f"{hostile_registry.host} did not finish resolving ")
    assert "within 2 s while reading the manifest of" in message
    assert "bytes received" in message and "RegistryClient.operation_timeout" in message
    assert int(message.split(" bytes received")[0].rsplit("(", 1)[1]) > 0


def test_stalled_token_server_ends_at_the_operation_deadline(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    bearer_challenge(hostile_registry)
    hostile_registry.on("GET", r"^/token", Reply(stall=30))
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match=r"did not finish pinning .* within 1\.5 s"):
        run(lambda c: c.pin(f"{hostile_registry.host}/slow/token:1"), operation_timeout=1.5)
    assert time.monotonic() - started < 3


def test_read_timeout_message_names_the_trait(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    hostile_registry.on("HEAD", r"/manifests/", Reply(stall=30))
    with pytest.raises(RegistryUnavailable) as info:
        run(lambda c: c.pin(f"{hostile_registry.host}/silent/x:1"), read_timeout=0.5)
    assert "no answer within the timeout (0.5 s, RegistryClient.read_timeout" in info.value.message


def test_trickled_layer_ends_below_the_minimum_rate(
    hostile_registry: HostileRegistry, isolated_home: Path
) -> None:
    """50 bytes every 0.1 s (500 B/s) against a 4 KiB/s minimum over 1 s windows."""
    served = serve_small_image(hostile_registry, "slow/layer")
    layer = hostile_registry.blobs[served.layer_digests[0]]
    hostile_registry.on("GET", served.layer_digests[0], Reply.trickle(layer, 0.1, piece=50))
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as info:
        run(
            lambda c: inspect_image(c, served.reference),
            read_timeout=5,
            min_blob_rate=4096,
            blob_rate_window=1,
        )
    assert time.monotonic() - started < 3.5, "ends within two windows and a read"
    message = info.value.message
    assert f"{hostile_registry.host} sent only " in message
    assert f"of {len(layer)} bytes received" in message
    assert "RegistryClient.min_blob_rate" in message


def test_slow_but_steady_layer_is_read(
    hostile_registry: HostileRegistry, isolated_home: Path, tmp_path: Path
) -> None:
    """A registry at ~600 KiB/s passes a 100 KiB/s minimum, and so does a slow consumer."""
    layer = (
        oci.LayerBuilder(str(tmp_path))
        .random_file("payload.bin", 1024 * 1024, seed=3)
        .build(compresslevel=1)
    )
    assert layer.blob.path is not None
    data = Path(layer.blob.path).read_bytes()
    served = hostile_registry.serve_image(
        "steady/layer",
        "1",
        [data],
        {"os": "linux", "architecture": "amd64", "rootfs": {"diff_ids": [layer.diff_id]}},
    )
    hostile_registry.on("GET", served.layer_digests[0], Reply.trickle(data, 0.1, piece=64 * 1024))
    budget = {"min_blob_rate": 100 * 1024, "blob_rate_window": 0.5}
    view = run(lambda c: inspect_image(c, served.reference), **budget)
    assert view.report.digest == served.manifest_digest

    async def slow_consumer(client: RegistryClient) -> int:
        resolved = await client.resolve(served.reference)
        received = 0
        async for chunk in client.stream_blob(served.reference, resolved.manifest.layers[0]):
            received += len(chunk)
            await asyncio.sleep(0.3)  # a slow disk: its time is not the registry's
        return received

    hostile_registry.hooks.clear()
    assert run(slow_consumer, min_blob_rate=10 * 1024 * 1024, blob_rate_window=0.5) == len(data)


# -- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "nan", "1e400", "-5", "99999999999"])
def test_absurd_retry_after_is_ignored(
    hostile_registry: HostileRegistry, isolated_home: Path, value: str
) -> None:
    hostile_registry.on("HEAD", r"/manifests/", Reply(429, {"Retry-After": value}))
    with pytest.raises(RateLimited, match="try again later") as info:
        run(lambda c: c.pin(f"{hostile_registry.host}/limited/x:1"))
    assert info.value.retry_after is None
