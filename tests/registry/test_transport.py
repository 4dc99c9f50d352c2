"""Retries and rate limits, through a fault-injecting proxy in front of a real registry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime_images.registry import (
    ImageNotFound,
    RateLimited,
    RegistryUnavailable,
)
from tests.fixtures import images
from tests.fixtures.loopback import LoopbackServer
from tests.fixtures.registry import RegistryServer

from . import support

pytestmark = pytest.mark.timeout(60)


class FaultProxy(LoopbackServer):
    """Forwards to ``upstream``; the next ``faults`` requests get ``status`` instead."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.requests: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                proxy.requests.append(f"{self.command} {self.path}")
                if proxy.faults:
                    status, headers = proxy.faults.pop(0)
                    self.send_response(status)
                    for key, value in {**headers, "Content-Length": "0"}.items():
                        self.send_header(key, value)
                    self.end_headers()
                    return
                skip = {"host", "connection", "accept-encoding"}
                forwarded = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                response = httpx.request(
                    self.command, proxy.upstream + self.path, headers=forwarded, timeout=30
                )
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("transfer-encoding", "connection", "content-encoding"):
                        self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.content)

            do_GET = do_HEAD = handle_any

        super().__init__(Handler)


@pytest.fixture
def proxy(registry: RegistryServer, repo_name: str) -> Iterator[FaultProxy]:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    with FaultProxy(registry.url) as fault_proxy:
        yield fault_proxy


def pin(ref: str, **config: Any) -> str:
    """:func:`.support.pin`, retrying after 10 ms (a retry's wait is not what is tested)."""
    return support.pin(ref, retry_backoff=0.01, **config)


def test_5xx_is_retried_then_succeeds(
    proxy: FaultProxy, repo_name: str, isolated_home: Path
) -> None:
    proxy.faults = [(503, {}), (502, {})]
    assert pin(f"{proxy.host}/{repo_name}:1").startswith(f"{proxy.host}/{repo_name}:1@sha256:")
    assert len(proxy.requests) == 3


def test_persistent_5xx_is_registry_unavailable(
    proxy: FaultProxy, repo_name: str, isolated_home: Path
) -> None:
    proxy.faults = [(500, {})] * 10
    with pytest.raises(RegistryUnavailable, match=r"failed with HTTP 500 .* after 3 attempts"):
        pin(f"{proxy.host}/{repo_name}:1", retries=2)
    assert len(proxy.requests) == 3


def test_429_longer_than_max_retry_after_is_rate_limited_and_not_retried(
    proxy: FaultProxy, repo_name: str, isolated_home: Path
) -> None:
    proxy.faults = [(429, {"Retry-After": "7"})]
    with pytest.raises(RateLimited, match=r"rate-limiting pulls; try again in 7 s") as info:
        pin(f"{proxy.host}/{repo_name}:1", max_retry_after=5)
    assert info.value.retry_after == 7 and len(proxy.requests) == 1


def test_429_with_a_short_retry_after_is_waited_then_retried(
    proxy: FaultProxy, repo_name: str, isolated_home: Path
) -> None:
    proxy.faults = [(429, {"Retry-After": "1"})]
    started = time.monotonic()
    assert pin(f"{proxy.host}/{repo_name}:1").startswith(f"{proxy.host}/{repo_name}:1@sha256:")
    assert time.monotonic() - started >= 1.0
    assert len(proxy.requests) == 2


def test_4xx_is_not_retried(proxy: FaultProxy, repo_name: str, isolated_home: Path) -> None:
    with pytest.raises(ImageNotFound):
        pin(f"{proxy.host}/{repo_name}:missing")
    assert [r.split()[0] for r in proxy.requests] == ["HEAD", "GET"]  # HEAD, then the tags list
