"""Credentials never follow a redirect to another origin (blob storage redirects).

The docker-registry filesystem driver never redirects, so two tiny HTTP servers stand in
for a registry front end and its object storage: only the transport rule is under test.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from runtime_images.registry import AuthRequired, Descriptor, RegistryClient, RegistryError
from tests.fixtures.hostile_registry import HostileRegistry, Reply
from tests.fixtures.loopback import LoopbackServer
from tests.fixtures.registry import write_auth_file

from .support import run

pytestmark = pytest.mark.timeout(30)
BLOB = b"layer bytes " * 1000
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]]
    storage_url: str

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_blob(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BLOB)))
        self.end_headers()
        self.wfile.write(BLOB)


@pytest.fixture
def servers(
    isolated_home: Path,
) -> Iterator[tuple[str, list[tuple[str, str | None]], list[tuple[str, str | None]]]]:
    """A front that asks for Basic auth (the auth file has alice's) and redirects blob
    reads, and the storage it redirects to; each records (path, Authorization) it saw."""
    front_seen: list[tuple[str, str | None]] = []
    storage_seen: list[tuple[str, str | None]] = []

    class Storage(Recorder):
        def do_GET(self) -> None:
            storage_seen.append((self.path, self.headers.get("Authorization")))
            self.send_blob()

    storage = LoopbackServer(Storage)
    storage_url = f"http://localhost:{storage.port}"

    class Front(Recorder):
        def do_GET(self) -> None:
            auth = self.headers.get("Authorization")
            front_seen.append((self.path, auth))
            if auth is None:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="front"')
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path.startswith("/v2/cross/"):
                self.send_response(307)
                self.send_header("Location", f"{storage_url}/bucket/{DIGEST}?sig=abc")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path.startswith("/v2/same/"):
                self.send_response(302)
                self.send_header("Location", f"/internal/{DIGEST}")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_blob()

    with storage, LoopbackServer(Front) as front:
        write_auth_file(str(isolated_home / "auth.json"), front.host, "alice", "secret")
        yield front.host, front_seen, storage_seen


def fetch(host: str, repo: str) -> bytes:
    async def main() -> bytes:
        async with RegistryClient() as client:
            descriptor = Descriptor("application/octet-stream", DIGEST, len(BLOB))
            return b"".join([c async for c in client.stream_blob(f"{host}/{repo}", descriptor)])

    return asyncio.run(main())


def test_authorization_is_dropped_on_a_cross_origin_redirect(
    servers: tuple[str, list[Any], list[Any]],
) -> None:
    host, front_seen, storage_seen = servers
    assert fetch(host, "cross/img") == BLOB
    assert front_seen[-1][1] is not None and front_seen[-1][1].startswith("Basic ")
    assert storage_seen == [(f"/bucket/{DIGEST}?sig=abc", None)]


def test_authorization_is_kept_on_a_same_origin_redirect(
    servers: tuple[str, list[Any], list[Any]],
) -> None:
    host, front_seen, storage_seen = servers
    assert fetch(host, "same/img") == BLOB
    assert front_seen[-1][0] == f"/internal/{DIGEST}" and front_seen[-1][1] is not None
    assert storage_seen == []


@pytest.mark.parametrize("location", ["http://[storage/x", "http://[::1x]/x"])
@pytest.mark.parametrize("where", ["manifest redirect", "blob redirect", "tags Link"])
def test_a_location_that_urllib_refuses_is_a_registry_error(
    hostile_registry: HostileRegistry, isolated_home: Path, where: str, location: str
) -> None:
    """Brackets that hold no IPv6 address (``http://[x``) make urllib raise ValueError; a
    redirect or a next-page ``Link`` like that is the registry's error, with what it sent."""
    served = hostile_registry.serve_image("evil/r", "1", [b"layer"])
    call: Callable[[RegistryClient], Awaitable[object]]
    if where == "manifest redirect":
        hostile_registry.on("GET", r"/manifests/1$", Reply(307, {"Location": location}))
        call = lambda client: client.get_manifest(served.reference)
    elif where == "blob redirect":
        hostile_registry.on("GET", r"/blobs/", Reply(307, {"Location": location}))
        call = lambda client: client.resolve(served.reference)
    else:
        link = {"Link": f'<{location}>; rel="next"'}
        hostile_registry.on("GET", r"/tags/list", Reply.json({"tags": ["1"]}, headers=link))
        call = lambda client: client.list_tags(f"{hostile_registry.host}/evil/r")
    with pytest.raises(RegistryError) as info:
        run(call, retries=0)
    assert hostile_registry.host in info.value.message


@pytest.mark.parametrize("realm", ["http://[token/x", "http://[::1x]/token"])
def test_a_token_realm_that_urllib_refuses_is_auth_required(
    hostile_registry: HostileRegistry, isolated_home: Path, realm: str
) -> None:
    """The same brackets in a Bearer challenge's realm made the pull raise ValueError."""
    challenge = Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="hostile"'})
    hostile_registry.on("GET", r"^/v2/.+", challenge)
    with pytest.raises(AuthRequired, match=r"sent a Bearer challenge without a usable realm"):
        run(lambda client: client.get_manifest(f"{hostile_registry.host}/evil/r:1"), retries=0)
