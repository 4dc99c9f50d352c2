"""Faults: each gives its own clear error, and nothing hangs (pytest-timeout guards)."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from runtime_images.inspect import ImageInspector, inspect_image
from runtime_images.registry import (
    AuthRequired,
    DigestMismatch,
    ImageNotFound,
    InvalidCredentials,
    RegistryClient,
    RegistryUnavailable,
)
from tests.fixtures import images, oci
from tests.fixtures.registry import (
    USERNAME,
    RegistryServer,
    blob_file,
    free_port,
    push_with_corrupt_layer,
    write_auth_file,
)

from .support import run

pytestmark = pytest.mark.timeout(60)


def validate(ref: str, **config: Any) -> None:
    run(lambda client: ImageInspector().validate(client, ref), **config)


def test_401_without_credentials(basic_registry: RegistryServer, isolated_home: Path) -> None:
    with pytest.raises(AuthRequired, match="requires authentication") as info:
        validate(f"{basic_registry.host}/any/image:1")
    assert not isinstance(info.value, InvalidCredentials)
    assert info.value.reason == "AuthRequired"


def test_bad_credentials(token_registry: RegistryServer, isolated_home: Path) -> None:
    write_auth_file(
        str(isolated_home / ".docker/config.json"), token_registry.host, USERNAME, "nope"
    )
    with pytest.raises(InvalidCredentials, match="rejected"):
        validate(f"{token_registry.host}/any/image:1")


def test_404_tag_names_the_existing_tags(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1.0", images.elyra_ok())
    with pytest.raises(ImageNotFound, match=r":2\.0 was not found .* the tags: 1\.0") as info:
        validate(f"{registry.host}/{repo_name}:2.0")
    assert info.value.status == 404 and info.value.reason == "ImageNotFound"


def test_registry_stopped_mid_stream(own_registry: RegistryServer, isolated_home: Path) -> None:
    layer = (
        oci.LayerBuilder()
        .random_file("payload.bin", 48 * 1024 * 1024, seed=7)
        .build(compresslevel=1)
    )
    image = oci.make_image([images.base_layer(), layer])
    with own_registry.pusher() as pusher:
        pusher.push_image("big/image", "1", image)
    killed: list[float] = []

    def progress(done: int, total: int) -> None:
        if done > image.layers[0].blob.size + 1_000_000 and not killed:
            assert own_registry.process is not None
            own_registry.process.kill()
            killed.append(time.monotonic())

    async def main() -> None:
        async with RegistryClient(retries=1, retry_backoff=0.05, read_timeout=5) as client:
            await inspect_image(client, f"{own_registry.host}/big/image:1", progress=progress)

    with pytest.raises(RegistryUnavailable, match=r"broke after \d+ of \d+ bytes"):
        asyncio.run(main())
    assert killed and time.monotonic() - killed[0] < 10


def test_registry_down(isolated_home: Path) -> None:
    started = time.monotonic()
    with pytest.raises(
        RegistryUnavailable, match=r"cannot reach the registry 127\.0\.0\.1:\d+ .* 3 attempts"
    ):
        validate(f"127.0.0.1:{free_port()}/x/y:1", retries=2, retry_backoff=0.05)
    assert time.monotonic() - started < 5


def test_registry_that_never_answers_times_out(isolated_home: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(RegistryUnavailable, match="no answer within the timeout"):
            validate(f"{host}/x/y:1", retries=1, retry_backoff=0.05, read_timeout=0.5)


def test_corrupted_layer_blob(own_registry: RegistryServer, isolated_home: Path) -> None:
    reference = push_with_corrupt_layer(own_registry, "corrupt/layer", images.elyra_ok())
    with pytest.raises(DigestMismatch, match=r"blob sha256:\w+ of .* is corrupted") as info:
        validate(reference)
    assert info.value.reason == "DigestMismatch"


def test_corrupted_manifest(own_registry: RegistryServer, isolated_home: Path) -> None:
    image = images.elyra_ok()
    with own_registry.pusher() as pusher:
        pusher.push_image("corrupt/manifest", "1", image)
    path = blob_file(own_registry, image.manifest.digest)
    path.write_bytes(path.read_bytes().replace(b'"schemaVersion":2', b'"schemaVersion": 2'))

    async def main(ref: str) -> Any:
        async with RegistryClient() as client:
            return await client.get_manifest(ref)

    with pytest.raises(DigestMismatch, match=r"manifest .* is corrupted"):
        asyncio.run(main(f"{own_registry.host}/corrupt/manifest:1"))
    with pytest.raises(DigestMismatch):
        asyncio.run(main(f"{own_registry.host}/corrupt/manifest@{image.manifest.digest}"))


def test_unknown_host_fails_at_once(isolated_home: Path) -> None:
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="its name does not resolve"):
        validate("no-such-registry.invalid/x/y:1", retries=3, retry_backoff=1)
    assert time.monotonic() - started < 3, "DNS failures are not retried"
