"""Publishing this machine's images (and registry images) to registries, oci-archive files,
containers-storage and a Docker daemon, with real registries, skopeo and storage.

The local images are written by the tests into an OCI layout, named ``localhost/<name>``
as builds name them; skopeo reads what arrived.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runtime_images.error_codes import error_code
from runtime_images.errors import (
    InsufficientStorageError,
    PreconditionFailedError,
    UpstreamError,
    ValidationFailedError,
)
from runtime_images.publish import (
    ImagePublisher,
    Published,
    PublishRequest,
    parse_destination,
)
from runtime_images.registry import AccessDenied, RegistryClient
from runtime_images.store import RuntimeImageStore
from runtime_images.watch import move_image
from tests.builds.test_layer_builds import base_image, package_list
from tests.fixtures import images, oci
from tests.fixtures.hostile_registry import HostileRegistry
from tests.fixtures.registry import (
    PASSWORD,
    READER,
    READER_PASSWORD,
    USERNAME,
    RegistryServer,
    write_auth_file,
    write_layout,
)
from tests.support import RunningServer, run_cli

pytestmark = pytest.mark.timeout(120)


def local_image(tmp_path: Path, name: str = "app", seed: int = 0) -> oci.Image:
    """An image in the layout at tmp_path/layout, as a build would name it (name:latest)."""
    extra = oci.LayerBuilder().random_file("data/blob.bin", 150_000, seed=seed).build()
    image = oci.make_image([images.base_layer(), extra])
    write_layout(tmp_path / "layout", [image], image.manifest, ref_name=f"{name}:latest")
    return image


def publish(
    tmp_path: Path,
    source: str,
    to: str,
    publisher: ImagePublisher | None = None,
    **client_config: Any,
) -> Published:
    async def main() -> Published:
        async with RegistryClient(
            local_layout_dir=str(tmp_path / "layout"), **client_config
        ) as client:
            return await (publisher or ImagePublisher()).publish(
                client, source, parse_destination(to, tmp_path)
            )

    return asyncio.run(main())


def skopeo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["skopeo", *args], capture_output=True, timeout=120, env=env, check=False)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def field_errors(call: Callable[[], object]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailedError) as info:
        call()
    return [(e.path, e.message) for e in info.value.errors]


# -- destinations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "transport", "target"),
    [
        (
            "docker://registry.example.com:5000/team/app:1",
            "docker",
            "registry.example.com:5000/team/app:1",
        ),
        ("docker://localhost:5000/app", "docker", "localhost:5000/app"),
        ("containers-storage:team/app:1", "containers-storage", "team/app:1"),
        ("docker-daemon:app:1", "docker-daemon", "app:1"),
    ],
)
def test_destinations_are_parsed(text: str, transport: str, target: str) -> None:
    destination = parse_destination(text)
    assert (destination.transport, destination.target) == (transport, target)
    assert str(destination) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "name a destination"),
        (42, "name a destination"),
        ("registry.example.com/app:1", "names no known transport"),
        ("ftp:app", "names no known transport"),
        ("docker:registry.example.com/app", "docker://host[:port]/repository"),
        ("docker://app:1", "name the registry host"),
        ("docker://localhost/app:1", "this machine's own images"),
        ("docker://registry.example.com/App", "must be lowercase"),
        ("docker://registry.example.com/app@sha256:" + "a" * 64, "name a tag, not a digest"),
        ("oci-archive:", "needs a file name"),
        ("oci-archive:missing/dir/image.tar", "does not exist"),
        ("oci-archive:../outside.tar", "must be written below"),
        ("oci-archive:.", "is a directory"),
    ],
)
def test_bad_destinations_name_the_field(tmp_path: Path, text: object, message: str) -> None:
    errors = field_errors(lambda: parse_destination(text, tmp_path))
    assert [path for path, _ in errors] == ["to"]
    assert message.lower() in errors[0][1].lower()


def test_a_request_names_every_bad_field(tmp_path: Path) -> None:
    errors = field_errors(
        lambda: PublishRequest.parse(
            {"to": "oci-archive:x.tar", "repoint": "yes", "x": 1}, tmp_path
        )
    )
    assert sorted(path for path, _ in errors) == ["repoint", "x"]
    errors = field_errors(
        lambda: PublishRequest.parse({"to": "oci-archive:x.tar", "repoint": True}, tmp_path)
    )
    assert errors == [
        ("repoint", "a runtime image can only point at a registry: publish to docker://…")
    ]
    assert field_errors(lambda: PublishRequest.parse([], tmp_path))[0][0] == ""


# -- to registries ---------------------------------------------------------------------------


def test_a_local_image_is_published_with_its_digest(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    image = local_image(tmp_path)
    published = publish(
        tmp_path, "localhost/app:latest", f"docker://{registry.host}/{repo_name}:1.0"
    )
    assert published.image == f"{registry.host}/{repo_name}:1.0@{image.digest}"
    assert published.digest == image.digest
    raw = skopeo(
        "inspect", "--tls-verify=false", "--raw", f"docker://{registry.host}/{repo_name}:1.0"
    )
    assert raw.returncode == 0, raw.stderr
    assert sha256(raw.stdout) == image.digest


@pytest.mark.parametrize("server", ["basic_registry", "token_registry"])
def test_publishing_with_credentials_from_the_auth_file(
    server: str, request: pytest.FixtureRequest, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    srv: RegistryServer = request.getfixturevalue(server)
    image = local_image(tmp_path)
    auth = write_auth_file(str(tmp_path / "auth.json"), srv.host, USERNAME, PASSWORD)
    to = f"docker://{srv.host}/{repo_name}:1"
    published = publish(tmp_path, "localhost/app:latest", to, auth_file=auth)
    assert published.digest == image.digest
    raw = skopeo("inspect", "--tls-verify=false", f"--creds={USERNAME}:{PASSWORD}", "--raw", to)
    assert raw.returncode == 0, raw.stderr
    assert sha256(raw.stdout) == image.digest


def test_publishing_again_within_a_registry_mounts_every_blob(
    logged_registry: RegistryServer, isolated_home: Path, tmp_path: Path
) -> None:
    srv = logged_registry
    image = local_image(tmp_path)
    first = publish(tmp_path, "localhost/app:latest", f"docker://{srv.host}/team/first:1")
    second = publish(tmp_path, first.image, f"docker://{srv.host}/team/second:1")
    assert second.digest == image.digest
    writes = [
        r
        for r in srv.requests()
        if r.target.startswith("/v2/team/second/blobs/uploads/")
        and r.method in ("POST", "PUT", "PATCH")
    ]
    blobs = {blob.digest for blob in image.blobs}
    assert {r.target for r in writes} == {
        f"/v2/team/second/blobs/uploads/?mount={digest}&from=team/first" for digest in blobs
    }
    assert {r.status for r in writes} == {201}, "mounted: no bytes sent again"


def test_publishing_with_read_only_credentials_is_access_denied(
    token_registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    local_image(tmp_path)
    auth = write_auth_file(
        str(tmp_path / "auth.json"), token_registry.host, READER, READER_PASSWORD
    )
    with pytest.raises(AccessDenied, match=f"user '{READER}' may not push"):
        publish(
            tmp_path,
            "localhost/app:latest",
            f"docker://{token_registry.host}/{repo_name}:1",
            auth_file=auth,
        )


# -- to files and engines' storage ------------------------------------------------------------


def test_an_oci_archive_is_what_skopeo_reads(tmp_path: Path) -> None:
    image = local_image(tmp_path)
    published = publish(tmp_path, "localhost/app:latest", "oci-archive:app.tar")
    archive = tmp_path / "app.tar"
    assert published.to == f"oci-archive:{archive}" and published.digest == image.digest
    raw = skopeo("inspect", "--raw", f"oci-archive:{archive}:latest")
    assert raw.returncode == 0, raw.stderr
    assert sha256(raw.stdout) == image.digest


def storage_env(tmp_path: Path) -> dict[str, str]:
    """containers-storage in tmp_path (vfs: no kernel overlay needed), for skopeo."""
    conf = tmp_path / "storage.conf"
    conf.write_text(
        "[storage]\n"
        'driver = "vfs"\n'
        f'graphroot = "{tmp_path / "storage"}"\n'
        f'runroot = "{tmp_path / "storage-run"}"\n'
    )
    return {**os.environ, "CONTAINERS_STORAGE_CONF": str(conf)}


def test_containers_storage_gets_the_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = local_image(tmp_path)
    env = storage_env(tmp_path)
    monkeypatch.setenv("CONTAINERS_STORAGE_CONF", env["CONTAINERS_STORAGE_CONF"])
    publish(tmp_path, "localhost/app:latest", "containers-storage:localhost/team/app:1")
    config = skopeo(
        "inspect", "--raw", "--config", "containers-storage:localhost/team/app:1", env=env
    )
    assert config.returncode == 0, config.stderr
    assert sha256(config.stdout) == image.config.digest  # the image ID: the same image


def test_a_docker_daemon_that_is_not_running_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Docker engine runs here; publishing to it must say what went wrong."""
    local_image(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(UpstreamError) as info:
        publish(tmp_path, "localhost/app:latest", "docker-daemon:team/app:1")
    assert info.value.code == "PublishFailed"
    assert "team/app:1" in info.value.message and "no-docker.sock" in info.value.message


def test_a_missing_engine_names_what_to_install(tmp_path: Path) -> None:
    local_image(tmp_path)
    publisher = ImagePublisher(
        skopeo="no-skopeo", podman="no-podman", buildah="no-buildah", docker="no-docker"
    )
    for to, needed in (
        ("containers-storage:team/app:1", "skopeo, podman or buildah"),
        ("docker-daemon:team/app:1", "skopeo or the docker CLI"),
    ):
        with pytest.raises(UpstreamError) as info:
            publish(tmp_path, "localhost/app:latest", to, publisher)
        assert info.value.code == "PublishToolMissing" and needed in info.value.message


def test_an_archive_claiming_a_petabyte_is_refused_before_any_blob_is_read(
    tmp_path: Path,
) -> None:
    """A hostile registry's manifest says its layer is 1 PiB: the archive would fill the
    disk, so the publish fails before reading any blob and leaves no file."""
    with HostileRegistry() as hostile:
        served = hostile.serve_image(
            "team/huge",
            "1",
            [b"not really a petabyte"],
            edit=lambda manifest: manifest["layers"][0].update(size=1 << 50),
        )
        with pytest.raises(InsufficientStorageError) as info:
            publish(tmp_path, served.reference, "oci-archive:huge.tar")
        blob_reads = [r for r in hostile.requests if "/blobs/" in r.path]
    assert info.value.message.startswith("huge.tar would take 1,125,899,906,8")
    assert blob_reads == []  # not even the config
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    answer = error_code(info.value)
    assert answer is not None
    assert (answer.status, answer.exit_code, answer.code) == (507, 2, "InsufficientStorageError")


def test_the_temporary_archive_of_an_engine_keeps_the_disk_space_asked_for(
    tmp_path: Path,
) -> None:
    """ImagePublisher.keep_free_bytes bounds the archive a container engine loads, too."""
    local_image(tmp_path)
    keep = shutil.disk_usage(tempfile.gettempdir()).free
    with pytest.raises(InsufficientStorageError):
        publish(
            tmp_path,
            "localhost/app:latest",
            "containers-storage:team/app:1",
            ImagePublisher(keep_free_bytes=keep),
        )
    assert not list(Path(tempfile.gettempdir()).glob("runtime-images-publish-*"))


# -- as people run it: the embedded default, then publish ------------------------------------


def test_a_default_build_is_local_until_published(
    env: dict[str, str],
    tmp_path: Path,
    running_server: RunningServer,
    own_registry: RegistryServer,
    logged_registry: RegistryServer,
    repo_name: str,
) -> None:
    """No target registry (the default): the build's image is local; every verb reads it
    with no registry involved, and publishing (REST, then the CLI) makes it usable elsewhere."""
    base_registry, registry = own_registry, logged_registry
    with base_registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", base_image())
    server = running_server
    document = package_list("local-app", f"{base_registry.host}/{repo_name}:1", "six==1.16.0")
    status, _, created = server.request("POST", "/runtime-images/builds", document)
    assert status == 201, created
    deadline = time.monotonic() + 180
    while (build := server.request("GET", "/runtime-images/builds/local-app")[2])["status"].get(
        "phase"
    ) not in ("Ready", "Failed"):
        assert time.monotonic() < deadline, build["status"]
        time.sleep(0.3)
    assert build["status"]["phase"] == "Ready", build["status"]
    local = build["status"]["image"]
    assert local.startswith("localhost/local-app:latest@sha256:")
    _, _, runtime = server.request("GET", "/runtime-images/images/local-app")
    assert runtime["local"] is True

    base_registry.stop()  # nothing below may need the base's registry
    inspected = run_cli(env, "inspect", "--name", "local-app", "--json")
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["digest"] == local.split("@")[1]
    validated = run_cli(env, "validate", "--name", "local-app", "--json")
    checks = json.loads(validated.stdout)["checks"]
    published_check = next(c for c in checks if c["id"] == "published")
    assert published_check["result"] == "warn" and "only this machine" in published_check["message"]
    status, _, answer = server.request(
        "POST", "/runtime-images/validate", {"image": local, "profiles": ["elyra"]}
    )
    assert status == 200 and answer["report"]["digest"] == local.split("@")[1], answer

    kernelspec = run_cli(env, "kernelspec", "--name", "local-app", "--provisioner", "docker")
    assert kernelspec.returncode == 0, kernelspec.stderr
    kernel_json = tmp_path / "data" / "kernels" / "docker_local-app" / "kernel.json"
    assert local in kernel_json.read_text()

    to = f"docker://{registry.host}/team/local-app:1"
    status, _, answer = server.request(
        "POST", "/runtime-images/builds/local-app/publish", {"to": to, "repoint": True}
    )
    assert status == 200, answer
    digest = local.split("@")[1]
    assert answer["image"] == f"{registry.host}/team/local-app:1@{digest}"
    assert answer["runtimeImage"]["metadata"]["image_name"] == answer["image"]
    assert answer["runtimeImage"]["local"] is False
    assert answer["kernelspecs"] == ["docker_local-app"]  # it launches the published image
    assert local not in kernel_json.read_text() and answer["image"] in kernel_json.read_text()
    raw = skopeo(
        "inspect", "--tls-verify=false", "--raw", f"docker://{registry.host}/team/local-app:1"
    )
    assert sha256(raw.stdout) == digest

    archive = tmp_path / "local-app.tar"
    cli = run_cli(env, "publish", local, "--to", f"oci-archive:{archive}")
    assert cli.returncode == 0, cli.stderr
    assert f"({digest})" in cli.stdout
    assert sha256(skopeo("inspect", "--raw", f"oci-archive:{archive}").stdout) == digest
    again = run_cli(
        env, "publish", "local-app", "--to", f"docker://{registry.host}/team/again:2", "--repoint"
    )
    assert again.returncode == 0, again.stderr
    moved = f"{registry.host}/team/again:2@{digest}"
    assert f"Kernelspec 'docker_local-app' now launches {moved}" in again.stdout
    assert moved in kernel_json.read_text()
    refused = run_cli(env, "publish", "local-app", "--to", "docker://localhost/x:1")
    assert refused.returncode == 1 and "to: " in refused.stderr, refused.stderr


def test_repoint_does_not_overwrite_an_edit_made_while_publishing(tmp_path: Path) -> None:
    store = RuntimeImageStore(
        data_dir=str(tmp_path / "user"), shared_data_dirs=[], factory_data_dirs=[]
    )
    entry = store.create(
        {
            "display_name": "App",
            "schema_name": "runtime-image",
            "metadata": {"image_name": "localhost/app:latest"},
        }
    )
    read_before_publishing = entry.etag
    store.patch(entry.name, {"metadata": {"tags": ["edited"]}})
    published = Published(
        "localhost/app:latest", "r.example/app:1@sha256:" + "a" * 64, "sha256:" + "a" * 64, "x"
    )
    with pytest.raises(PreconditionFailedError):
        move_image(
            store,
            entry.name,
            published.image,
            "published",
            read_before_publishing,
        )
    kept = store.get(entry.name).document or {}
    assert kept["metadata"] == {"image_name": "localhost/app:latest", "tags": ["edited"]}
    moved, kernelspecs = move_image(
        store,
        entry.name,
        published.image,
        "published",
        store.get(entry.name).etag,
    )
    assert moved.document["metadata"]["image_name"] == published.image and kernelspecs == []
    assert [(h["reason"], h["reference"]) for h in store.history(entry.name)] == [
        ("created", "localhost/app:latest"),
        ("published", published.image),
    ]
