"""https by default: a TLS registry on a non-loopback address, with a private CA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime_images.registry import RegistryUnavailable
from tests.fixtures import images
from tests.fixtures.registry import RegistryServer, non_loopback_ip, registry_available

from .support import pin

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    if not registry_available():  # a missing tool fails the suite: it is never skipped
        pytest.fail("docker-registry is not installed: ./scripts/dev.sh test installs it")
    address = non_loopback_ip()
    if address is None:  # a property of the machine, not a missing tool
        pytest.skip("this machine has no non-loopback IPv4 address to serve TLS on")
    server = RegistryServer(workdir=str(tmp_path_factory.mktemp("tls")), tls_ip=address)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_https_with_a_private_ca(tls_registry: RegistryServer, isolated_home: Path) -> None:
    image = images.elyra_ok()
    with tls_registry.pusher() as pusher:
        pusher.push_image("tls/img", "1", image)
    ref = f"{tls_registry.host}/tls/img:1"
    assert pin(ref, ca_file=tls_registry.ca_file) == f"{ref}@{image.digest}"
    with pytest.raises(RegistryUnavailable, match=r"TLS certificate is not trusted.*ca_file"):
        pin(ref, retries=3, retry_backoff=5)  # not retried: would take 35 s and time out
