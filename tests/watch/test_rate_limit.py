"""A registry that answers 429 with Retry-After is waited on, not hammered.

The registry is a small real HTTP server this test starts (the Debian registry cannot be
made to rate-limit): it answers every manifest HEAD with 429 and ``Retry-After: 1`` for
the first second after its first request, then with a digest, and records when each
request came.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from runtime_images.registry import RegistryClient
from runtime_images.store import RuntimeImageStore
from runtime_images.watch import TagWatcher
from tests.fixtures.loopback import LoopbackServer

DIGEST = "sha256:" + "ab" * 32
pytestmark = pytest.mark.timeout(60)


class RateLimitingRegistry(LoopbackServer):
    def __init__(self, limited_for: float) -> None:
        self.limited_for = limited_for
        self.requests: list[tuple[float, int]] = []  # (monotonic time, status answered)
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                with owner._lock:
                    now = time.monotonic()
                    first = owner.requests[0][0] if owner.requests else now
                    status = 429 if now - first < owner.limited_for else 200
                    owner.requests.append((now, status))
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "1")
                else:
                    self.send_header("Docker-Content-Digest", DIGEST)
                    self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                    self.send_header("Content-Length", "500")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(Handler)


@pytest.fixture
def limited() -> Iterator[RateLimitingRegistry]:
    with RateLimitingRegistry(limited_for=0.5) as server:
        yield server


def watcher_on(tmp_path: Path, host: str, count: int, **traits: Any) -> TagWatcher:
    store = RuntimeImageStore(data_dir=str(tmp_path / "data"), shared_data_dirs=[])
    store.factory_data_dirs = []
    for number in range(count):
        store.create(
            {
                "name": f"image-{number}",
                "display_name": f"Image {number}",
                "metadata": {
                    "image_name": f"{host}/team/image-{number}:1.0@{'sha256:' + '0' * 64}"
                },
            }
        )
    client = RegistryClient(auth_file=str(tmp_path / "none.json"), retry_backoff=0.01)
    return TagWatcher(store, client, **traits)


def test_429_with_retry_after_pauses_the_registry_then_succeeds(
    limited: RateLimitingRegistry, tmp_path: Path, isolated_home: Path
) -> None:
    watcher = watcher_on(tmp_path, limited.host, 12, max_concurrency=4)

    async def check() -> dict[str, Any]:
        try:
            return await watcher.check()
        finally:
            await watcher.client.aclose()

    report = asyncio.run(check())

    assert report["errors"] == []
    assert len(report["updates"]) == 12 and {u["current"] for u in report["updates"]} == {DIGEST}
    first = limited.requests[0][0]
    refused = [at for at, status in limited.requests if status == 429]
    # Only the requests already in flight with the first one were refused…
    assert 1 <= len(refused) <= 4
    # …then nobody asked again until Retry-After had passed…
    later = [at - first for at, _ in limited.requests if at - first > 0.2]
    assert later and min(later) >= 0.95
    # …and each tag was then asked once: waited on, not hammered.
    assert len(limited.requests) == len(refused) + 12


def test_a_retry_after_longer_than_the_bound_is_an_error_of_that_tag_not_a_wait(
    tmp_path: Path, isolated_home: Path
) -> None:
    with RateLimitingRegistry(limited_for=60) as server:
        watcher = watcher_on(tmp_path, server.host, 2)
        watcher.client.max_retry_after = 0.5

        async def check() -> dict[str, Any]:
            try:
                return await watcher.check()
            finally:
                await watcher.client.aclose()

        started = time.monotonic()
        report = asyncio.run(check())
    assert time.monotonic() - started < 5
    assert report["updates"] == []
    assert [e["name"] for e in report["errors"]] == ["image-0", "image-1"]
    assert all("rate-limiting" in e["error"] for e in report["errors"])
    assert len(server.requests) == 2
