"""``insecure_registries``: a plain-http registry on a non-loopback address of this machine.

Loopback registries always get plain http (tests/registry/test_client.py); a registry at
another address gets https unless it is listed in ``RegistryClient.insecure_registries``.
The registry here is a real ``docker-registry`` listening on the machine's non-loopback
IPv4 address (not on 127.0.0.1), without TLS.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime_images.registry import RegistryClient, RegistryUnavailable
from tests.fixtures import images
from tests.fixtures.registry import RegistryServer, non_loopback_ip, registry_available

pytestmark = pytest.mark.timeout(60)


def machine_ipv4() -> str:
    """This machine's non-loopback IPv4 address; fails the test if it has none."""
    address = non_loopback_ip()
    if address is None:
        try:
            out = subprocess.run(
                ["ip", "-4", "-o", "addr"], check=False, capture_output=True, text=True, timeout=10
            ).stdout
        except OSError:
            out = ""
        found = [
            a
            for a in re.findall(r"\binet (\d+\.\d+\.\d+\.\d+)/", out)
            if not ipaddress.ip_address(a).is_loopback
        ]
        address = found[0] if found else None
    if address is None:  # a property of the machine, but this test must not pass silently
        pytest.fail(
            "this machine has no non-loopback IPv4 address: a plain-http registry outside "
            "loopback cannot be tested here"
        )
    assert not ipaddress.ip_address(address).is_loopback
    return address


class PlainHttpRegistry(RegistryServer):
    """``RegistryServer`` listening on ``address:port`` without TLS (not on 127.0.0.1).

    ``host`` is what the fixture writes to ``http.addr`` and uses for ``url``, so the real
    registry binds the given address and the pusher talks to it there.
    """

    def __init__(self, address: str, workdir: str) -> None:
        super().__init__(workdir=workdir)
        self.address = address

    @property
    def host(self) -> str:
        return f"{self.address}:{self.port}"


@pytest.fixture(scope="module")
def lan_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainHttpRegistry]:
    """An anonymous plain-http registry on this machine's non-loopback IPv4 address."""
    if not registry_available():  # a missing tool fails the suite: it is never skipped
        pytest.fail("docker-registry is not installed: ./scripts/dev.sh test installs it")
    server = PlainHttpRegistry(machine_ipv4(), str(tmp_path_factory.mktemp("insecure")))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        assert server.process is not None and server.process.poll() is not None


@pytest.fixture(scope="module")
def pushed(lan_registry: PlainHttpRegistry) -> tuple[str, str]:
    """``(reference, digest)`` of an image pushed to ``lan_registry`` over plain http."""
    image = images.elyra_ok()
    with lan_registry.pusher() as pusher:
        pusher.push_image("insecure/img", "1", image)
    return f"{lan_registry.host}/insecure/img:1", image.digest


def client(home: Path, **config: Any) -> RegistryClient:
    """A client reading credentials only from a (missing) file under the temporary home."""
    return RegistryClient(auth_file=str(home / "auth.json"), **config)


def test_the_registry_is_not_on_loopback(lan_registry: PlainHttpRegistry) -> None:
    """The client cannot be taking its loopback path: nothing listens on 127.0.0.1:port."""
    assert lan_registry.url == f"http://{lan_registry.host}"
    assert not ipaddress.ip_address(lan_registry.address).is_loopback
    with socket.socket() as sock:
        sock.settimeout(5)
        assert sock.connect_ex(("127.0.0.1", lan_registry.port)) != 0


async def test_a_listed_registry_is_reached_over_plain_http(
    lan_registry: PlainHttpRegistry, pushed: tuple[str, str], isolated_home: Path
) -> None:
    """Listed as ``ip:port``: ping, pin and resolve all work over http."""
    ref, digest = pushed
    async with client(isolated_home, insecure_registries=[lan_registry.host]) as registry:
        assert await registry.ping(lan_registry.host) is None  # anonymous: no challenge
        assert str(await registry.pin(ref)) == f"{ref}@{digest}"
        resolved = await registry.resolve(ref)
        assert resolved.digest == digest
        assert str(resolved.pinned) == f"{ref}@{digest}"


async def test_an_unlisted_registry_gets_https_and_no_fallback(
    lan_registry: PlainHttpRegistry, pushed: tuple[str, str], isolated_home: Path
) -> None:
    """Not listed: https is tried, fails, and the client does not fall back to http."""
    ref, _ = pushed
    host = re.escape(lan_registry.host)
    # Retries allowed: a plain-http answer is not retried, and the error says what to set.
    expected = f"cannot reach the registry {host} .*plain http.*insecure_registries"
    async with client(isolated_home, retries=3) as registry:
        with pytest.raises(RegistryUnavailable, match=expected):
            await registry.pin(ref)
        with pytest.raises(RegistryUnavailable, match=expected):
            await registry.resolve(ref)
        with pytest.raises(RegistryUnavailable, match=expected):
            await registry.ping(lan_registry.host)


async def test_only_the_listed_host_and_port_get_plain_http(
    lan_registry: PlainHttpRegistry, pushed: tuple[str, str], isolated_home: Path
) -> None:
    """Another port of the same address being listed does not make this one insecure."""
    ref, _ = pushed
    other = f"{lan_registry.address}:{lan_registry.port + 1}"
    async with client(isolated_home, insecure_registries=[other], retries=0) as registry:
        with pytest.raises(RegistryUnavailable, match=re.escape(lan_registry.host)):
            await registry.pin(ref)
