"""RegistryClient against real registries (anonymous, Basic, Bearer token) and real images."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import subprocess
from pathlib import Path

import pytest

from runtime_images.reference import parse
from runtime_images.registry import (
    AccessDenied,
    AuthRequired,
    ImageNotFound,
    InvalidCredentials,
    PlatformNotFound,
    RegistryClient,
    pin,
)
from runtime_images.registry.manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX
from tests.fixtures import images, oci
from tests.fixtures.registry import PASSWORD, USERNAME, RegistryServer, write_auth_file

from .support import run

pytestmark = pytest.mark.timeout(60)


def push_multiarch(
    srv: RegistryServer, repo: str, tag: str = "1.0", docker: bool = False
) -> tuple[oci.Image, oci.Image, oci.Blob]:
    arm = oci.make_image(
        [images.base_layer()], oci.ImageConfig(architecture="arm64", variant="v8"), docker=docker
    )
    amd = oci.make_image([images.base_layer(curl=False)], docker=docker)
    # An attestation-like entry (platform unknown/unknown) must be skipped, not chosen.
    attestation = oci.make_image([oci.LayerBuilder().file("statement.json", "{}").build()])
    extra = (
        []
        if docker
        else [
            attestation.manifest.descriptor(platform={"os": "unknown", "architecture": "unknown"})
        ]
    )
    index = oci.make_index([arm, amd], docker=docker, extra=extra)
    with srv.pusher() as pusher:
        pusher.push_index(repo, tag, [attestation, arm, amd], index)
    return arm, amd, index


def skopeo_digest(srv: RegistryServer, image: str) -> str:
    creds = [] if srv.auth is None else ["--creds", f"{srv.username}:{srv.password}"]
    return subprocess.run(
        [
            "skopeo",
            "inspect",
            "--tls-verify=false",
            *creds,
            "--format",
            "{{.Digest}}",
            f"docker://{image}",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()


def test_ping(
    registry: RegistryServer, basic_registry: RegistryServer, token_registry: RegistryServer
) -> None:
    assert run(lambda c: c.ping(registry.host)) is None
    assert run(lambda c: c.ping(basic_registry.host)) == "basic"
    assert run(lambda c: c.ping(token_registry.host)) == "bearer"


def test_platform_selection_in_an_index(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    arm, amd, index = push_multiarch(registry, repo_name)
    ref = f"{registry.host}/{repo_name}:1.0"
    resolved = run(lambda c: c.resolve(ref))
    assert resolved.digest == index.digest
    assert resolved.media_type == OCI_INDEX
    assert resolved.manifest.digest == amd.digest
    assert str(resolved.platform) == "linux/amd64"
    assert resolved.config["rootfs"]["diff_ids"] == [amd.layers[0].diff_id]
    on_arm = run(lambda c: c.resolve(ref), platform="linux/arm64")
    assert on_arm.manifest.digest == arm.digest and on_arm.digest == index.digest
    assert run(lambda c: c.resolve(ref, "linux/arm64/v8")).manifest.digest == arm.digest
    with pytest.raises(
        PlatformNotFound, match=r"no linux/s390x variant \(it has: linux/arm64/v8, linux/amd64\)"
    ):
        run(lambda c: c.resolve(ref, "linux/s390x"))


def test_docker_schema2_and_manifest_list(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    _arm, amd, index = push_multiarch(registry, repo_name, docker=True)
    ref = f"{registry.host}/{repo_name}:1.0"
    top = run(lambda c: c.get_manifest(ref))
    assert (top.media_type, top.digest) == (DOCKER_MANIFEST_LIST, index.digest)
    resolved = run(lambda c: c.resolve(ref))
    assert resolved.manifest.media_type == DOCKER_MANIFEST
    assert resolved.manifest.digest == amd.digest


def test_blob_stream_is_verified_and_reports_progress(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    image = oci.make_image([oci.LayerBuilder().random_file("big", 3_000_000).build()])
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "big", image)
    ref = parse(f"{registry.host}/{repo_name}:big")
    seen: list[int] = []

    async def fetch(c: RegistryClient) -> bytes:
        resolved = await c.resolve(ref)
        layer = resolved.manifest.layers[0]
        return b"".join([chunk async for chunk in c.stream_blob(ref, layer, progress=seen.append)])

    data = run(fetch)
    assert "sha256:" + hashlib.sha256(data).hexdigest() == image.layers[0].blob.digest
    assert sum(seen) == image.layers[0].blob.size and len(seen) > 1


def test_list_tags(registry: RegistryServer, repo_name: str, isolated_home: Path) -> None:
    image = images.elyra_ok()
    with registry.pusher() as pusher:
        for tag in ("b", "a", "1.0"):
            pusher.push_image(repo_name, tag, image)
    assert sorted(run(lambda c: c.list_tags(f"{registry.host}/{repo_name}"))) == ["1.0", "a", "b"]


def test_pin_matches_skopeo_and_keeps_the_tag(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    _arm, _amd, index = push_multiarch(registry, repo_name)
    name = f"{registry.host}/{repo_name}"
    pinned = asyncio.run(pin(f"{name}:1.0"))
    assert str(pinned) == f"{name}:1.0@{index.digest}"
    assert pinned.digest == skopeo_digest(registry, f"{name}:1.0")
    raw = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{name}:1.0"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    assert pinned.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    # Re-pinning a pinned reference follows the tag again.
    stale = f"{name}:1.0@sha256:{'a' * 64}"
    assert run(lambda c: c.pin(stale)) == pinned
    # No tag means latest, and the result says so.
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "latest", images.elyra_ok())
    latest = run(lambda c: c.pin(name))
    assert latest.tag == "latest" and latest.digest == skopeo_digest(registry, f"{name}:latest")
    # A digest-only reference is checked and returned as it is.
    by_digest = parse(f"{name}@{index.digest}")
    assert run(lambda c: c.pin(by_digest)) == by_digest


def test_pin_docker_schema2(registry: RegistryServer, repo_name: str, isolated_home: Path) -> None:
    image = oci.make_image([images.base_layer()], docker=True)
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "v2", image)
    ref = f"{registry.host}/{repo_name}:v2"
    assert run(lambda c: c.pin(ref)).digest == image.digest == skopeo_digest(registry, ref)


def test_mirror_rewriting_fetches_from_the_mirror_and_keeps_the_name(
    registry: RegistryServer, isolated_home: Path
) -> None:
    image = images.elyra_ok()
    with registry.pusher() as pusher:
        pusher.push_image("dockerhub/library/python", "3.12", image)
    mirrors = {"docker.io": f"{registry.host}/dockerhub"}
    pinned = run(lambda c: c.pin("python:3.12"), mirrors=mirrors)
    assert str(pinned) == f"docker.io/library/python:3.12@{image.digest}"


def test_not_found_tag_and_repository(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    with pytest.raises(ImageNotFound, match=r":nope was not found"):
        run(lambda c: c.resolve(f"{registry.host}/{repo_name}:nope"))
    with pytest.raises(ImageNotFound, match=r"was not found"):
        run(lambda c: c.pin(f"{registry.host}/{repo_name}:nope"))
    with pytest.raises(ImageNotFound, match=r"repository .*/no/such does not exist"):
        run(lambda c: c.get_manifest(f"{registry.host}/no/such:1"))


@pytest.mark.parametrize("server", ["basic_registry", "token_registry"])
def test_credentials_from_docker_config(
    server: str,
    request: pytest.FixtureRequest,
    repo_name: str,
    isolated_home: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    srv: RegistryServer = request.getfixturevalue(server)
    _arm, _amd, index = push_multiarch(srv, repo_name)
    ref = f"{srv.host}/{repo_name}:1.0"
    with pytest.raises(
        AuthRequired, match=rf"{srv.host} requires authentication.*docker login"
    ) as info:
        run(lambda c: c.pin(ref))
    assert not isinstance(info.value, InvalidCredentials)
    write_auth_file(str(isolated_home / ".docker" / "config.json"), srv.host, USERNAME, PASSWORD)
    caplog.set_level(logging.DEBUG)
    assert run(lambda c: c.pin(ref)).digest == index.digest
    assert run(lambda c: c.resolve(ref)).digest == index.digest
    encoded = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert PASSWORD not in caplog.text and encoded not in caplog.text


@pytest.mark.parametrize("server", ["basic_registry", "token_registry"])
def test_bad_credentials(
    server: str, request: pytest.FixtureRequest, repo_name: str, isolated_home: Path
) -> None:
    srv: RegistryServer = request.getfixturevalue(server)
    auth_file = write_auth_file(
        str(isolated_home / "auth.json"), srv.host, USERNAME, "wrong"
    )  # REGISTRY_AUTH_FILE
    with pytest.raises(
        InvalidCredentials,
        match=r"credentials .*'alice'.*auth.json.*rejected|rejected.*'alice'.*auth.json",
    ) as info:
        run(lambda c: c.pin(f"{srv.host}/{repo_name}:1"))
    assert "wrong" not in str(info.value)
    # An explicit auth_file wins over the environment.
    explicit = write_auth_file(
        str(isolated_home / "explicit" / "config.json"), srv.host, USERNAME, PASSWORD
    )
    with pytest.raises(ImageNotFound):
        run(lambda c: c.pin(f"{srv.host}/{repo_name}:1"), auth_file=explicit)
    assert Path(auth_file).exists()


def test_token_without_pull_grant_is_access_denied(
    token_registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    push_multiarch(token_registry, repo_name)
    token_server = token_registry.token_server
    assert token_server is not None
    token_server.users["bob"] = "bobs-secret"
    try:
        write_auth_file(str(isolated_home / "auth.json"), token_registry.host, "bob", "bobs-secret")
        with pytest.raises(AccessDenied, match=r"'bob' may not pull"):
            run(lambda c: c.pin(f"{token_registry.host}/{repo_name}:1.0"))
    finally:
        del token_server.users["bob"]


def test_token_request_carries_service_and_scope(
    token_registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    push_multiarch(token_registry, repo_name)
    write_auth_file(str(isolated_home / "auth.json"), token_registry.host, USERNAME, PASSWORD)
    assert token_registry.token_server is not None
    token_registry.token_server.requests.clear()
    run(lambda c: c.resolve(f"{token_registry.host}/{repo_name}:1.0"))
    requests = token_registry.token_server.requests
    assert len(requests) == 1, "the token is cached across manifest and blob requests"
    assert requests[0]["user"] == USERNAME
    assert requests[0]["query"]["service"] == ["test-registry"]
    assert requests[0]["query"]["scope"] == [f"repository:{repo_name}:pull"]


def test_podman_auth_file_with_username_password_keys(
    basic_registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    push_multiarch(basic_registry, repo_name)
    (isolated_home / "auth.json").write_text(
        json.dumps(
            {
                "auths": {
                    f"http://{basic_registry.host}/v2/": {
                        "username": USERNAME,
                        "password": PASSWORD,
                    }
                }
            }
        )
    )
    assert run(lambda c: c.pin(f"{basic_registry.host}/{repo_name}:1.0")).digest


def test_pin_is_one_head_request(
    registry: RegistryServer, repo_name: str, isolated_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _arm, _amd, index = push_multiarch(registry, repo_name)
    caplog.set_level(logging.DEBUG)

    async def pin_logged(c: RegistryClient) -> str:
        c.log = logging.getLogger("test-registry-client")  # type: ignore[assignment]
        return str((await c.pin(f"{registry.host}/{repo_name}:1.0")).digest)

    assert run(pin_logged) == index.digest
    requests = [r.getMessage() for r in caplog.records if r.name == "test-registry-client"]
    assert requests == [f"registry: HEAD /v2/{repo_name}/manifests/1.0 -> 200"]


def test_auth_file_can_change_at_run_time(
    token_registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    _arm, _amd, index = push_multiarch(token_registry, repo_name)
    ref = f"{token_registry.host}/{repo_name}:1.0"
    auth_file = write_auth_file(
        str(isolated_home / "later.json"), token_registry.host, USERNAME, PASSWORD
    )

    async def main(client: RegistryClient) -> str:
        with pytest.raises(
            AuthRequired, match="answer the same way when the repository does not exist"
        ):
            await client.pin(ref)
        client.auth_file = auth_file
        return str((await client.pin(ref)).digest)

    assert run(main) == index.digest


@pytest.mark.parametrize("kind", ["credHelpers", "credsStore"])
def test_credential_helpers(
    kind: str,
    token_registry: RegistryServer,
    repo_name: str,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _arm, _amd, index = push_multiarch(token_registry, repo_name)
    bin_dir = isolated_home / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-fake"
    helper.write_text(
        "#!/bin/sh\n"
        '[ "$1" = get ] || exit 2\n'
        "read -r server\n"
        f'[ "$server" = "{token_registry.host}" ] || {{ echo "credentials not found"; exit 1; }}\n'
        f'echo \'{{"ServerURL": "\'$server\'", "Username": "{USERNAME}", "Secret": "{PASSWORD}"}}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    config = (
        {"credHelpers": {token_registry.host: "fake"}, "auths": {}}
        if kind == "credHelpers"
        else {"credsStore": "fake", "auths": {token_registry.host: {}}}
    )
    (isolated_home / ".docker").mkdir()
    (isolated_home / ".docker" / "config.json").write_text(json.dumps(config))
    assert run(lambda c: c.pin(f"{token_registry.host}/{repo_name}:1.0")).digest == index.digest
