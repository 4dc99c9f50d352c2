"""Credentials follow their file: a rotated password or a logout needs no restart.

One client (as the server keeps one) across changes of the auth file, against real
registries with Basic and Bearer token auth.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from runtime_images.registry import AuthRequired, InvalidCredentials, RegistryClient
from tests.fixtures import images
from tests.fixtures.registry import USERNAME, RegistryServer, write_auth_file

pytestmark = pytest.mark.timeout(60)


def logout(auth_file: Path, host: str) -> None:
    """What ``podman logout HOST`` does: the entry goes, the file stays."""
    document = json.loads(auth_file.read_text())
    del document["auths"][host]
    auth_file.write_text(json.dumps(document))


@pytest.mark.parametrize("server", ["basic_registry", "token_registry"])
def test_rotation_and_logout_are_seen_by_a_running_client(
    server: str, request: pytest.FixtureRequest, repo_name: str, isolated_home: Path
) -> None:
    srv: RegistryServer = request.getfixturevalue(server)
    with srv.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    auth_file = Path(os.environ["REGISTRY_AUTH_FILE"])
    reference = f"{srv.host}/{repo_name}:1"

    async def main() -> None:
        async with RegistryClient() as client:
            write_auth_file(str(auth_file), srv.host, USERNAME, "an-old-password")
            with pytest.raises(InvalidCredentials):
                await client.pin(reference)

            write_auth_file(str(auth_file), srv.host, USERNAME, srv.password)  # rotated
            assert (await client.pin(reference)).digest is not None
            assert (await client.pin(reference)).digest is not None  # cached, still valid

            logout(auth_file, srv.host)
            with pytest.raises(AuthRequired) as info:
                await client.pin(reference)
            assert not isinstance(info.value, InvalidCredentials)

            write_auth_file(str(auth_file), srv.host, USERNAME, srv.password)  # login again
            assert (await client.pin(reference)).digest is not None

            auth_file.unlink()  # the file itself removed
            with pytest.raises(AuthRequired):
                await client.pin(reference)

    asyncio.run(main())


def asks_for_credentials(srv: RegistryServer, repo_name: str) -> None:
    """A pull from ``srv`` (an image pushed first) ends in AuthRequired, not a crash and
    not InvalidCredentials: no credentials were found to send."""
    with srv.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())

    async def main() -> None:
        async with RegistryClient() as client:
            with pytest.raises(AuthRequired) as info:
                await client.pin(f"{srv.host}/{repo_name}:1")
            assert not isinstance(info.value, InvalidCredentials)

    asyncio.run(main())


@pytest.mark.parametrize(
    "content",
    ['{"auths": ["host"]}', '{"auths": "host"}', "[" * 100_000 + "]" * 100_000],
    ids=["auths-a-list", "auths-a-string", "too-deep"],
)
def test_an_auth_file_of_the_wrong_shape_is_ignored(
    basic_registry: RegistryServer, repo_name: str, isolated_home: Path, content: str
) -> None:
    """The auth file is edited by hand and by other tools: ``auths`` that is not an object
    (AttributeError) or a file nested past json's recursion limit (RecursionError) failed
    every pull; now it is an unreadable file, ignored, so the pull asks for credentials."""
    Path(os.environ["REGISTRY_AUTH_FILE"]).write_text(content)
    asks_for_credentials(basic_registry, repo_name)


def test_a_credential_helper_answer_nested_too_deep_is_a_failed_helper(
    basic_registry: RegistryServer,
    repo_name: str,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A helper's answer is parsed like a file: nested past json's recursion limit it
    raised RecursionError out of the pull; now it is a helper that failed (logged), and
    the pull asks for credentials."""
    bin_dir = isolated_home / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-deep"
    helper.write_text("#!/bin/sh\nread -r server\nhead -c 100000 /dev/zero | tr '\\0' '['\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    auth_file = Path(os.environ["REGISTRY_AUTH_FILE"])
    auth_file.write_text(json.dumps({"credHelpers": {basic_registry.host: "deep"}}))
    asks_for_credentials(basic_registry, repo_name)
