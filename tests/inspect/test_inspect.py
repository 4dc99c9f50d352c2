"""Inspection and profiles on real images streamed from a real registry."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runtime_images.inspect import (
    ImageInspector,
    ImageView,
    InvalidLayer,
    UnknownProfile,
    UnsupportedLayer,
    Validation,
    inspect_image,
)
from runtime_images.registry import RegistryClient
from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.timeout(60)


def push(srv: RegistryServer, repo: str, image: oci.Image, tag: str = "1") -> str:
    with srv.pusher() as pusher:
        pusher.push_image(repo, tag, image)
    return f"{srv.host}/{repo}:{tag}"


def inspect(ref: str, **kwargs: Any) -> ImageView:
    async def main() -> ImageView:
        async with RegistryClient() as client:
            return await inspect_image(client, ref, **kwargs)

    return asyncio.run(main())


def validate(ref: str, profiles: list[str] | None = None, **config: Any) -> Validation:
    async def main() -> Validation:
        async with RegistryClient() as client:
            return await ImageInspector(**config).validate(client, ref, profiles)

    return asyncio.run(main())


def results(validation: Validation) -> dict[str, str]:
    return {f"{c.profile}/{c.id}": c.result for c in validation.checks}


def message(validation: Validation, check: str) -> str:
    return next(c.message for c in validation.checks if f"{c.profile}/{c.id}" == check)


def test_report(registry: RegistryServer, repo_name: str, isolated_home: Path) -> None:
    ref = push(registry, repo_name, images.odh_ok())
    seen: list[tuple[int, int]] = []
    view = inspect(ref, progress=lambda done, total: seen.append((done, total)))
    report = view.report
    assert report.os is not None and (report.os.id, report.os.version_id) == ("debian", "12")
    assert report.python is not None
    assert (report.python.path, report.python.real_path, report.python.version) == (
        "/usr/bin/python3",
        "/usr/bin/python3.11",
        "3.11",
    )
    assert report.pip
    names = {(d.name, d.version) for d in report.distributions}
    assert {("pip", "23.0.1"), ("jupyterlab", "4.2.5"), ("jupyterhub", "4.1.6")} <= names
    assert report.distribution("Jupyter-Server") is not None
    assert report.config.user == "1001" and report.config.env["HOME"] == "/opt/app-root/src"
    assert report.config.exposed_ports == ["8888/tcp"]
    assert report.layers == 3 and report.platform == "linux/amd64"
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] == report.compressed_size
    data = report.to_json()
    assert data["software"] == [{"name": "Python", "version": "3.11"}]


def test_elyra_profile(registry: RegistryServer, repo_name: str, isolated_home: Path) -> None:
    good = validate(push(registry, repo_name, images.elyra_ok(), "ok"))
    assert good.ok and set(results(good).values()) == {"pass"}, good.checks
    bad = validate(push(registry, repo_name, images.elyra_no_curl_old_python(), "bad"))
    assert not bad.ok
    r = results(bad)
    assert r["elyra/curl"] == "fail" and r["elyra/python-version"] == "warn"
    assert r["elyra/python3"] == "pass"
    curl = message(bad, "elyra/curl")
    assert curl.startswith("curl is not on PATH (/usr/local/sbin:/usr/local/bin:")
    assert "Elyra downloads its bootstrapper with curl" in curl
    assert "Python 3.9, older than 3.10" in message(bad, "elyra/python-version")
    none = validate(push(registry, repo_name, images.elyra_no_python(), "none"))
    assert results(none)["elyra/python3"] == "fail"
    assert "python3 is not on PATH" in message(none, "elyra/python3")


@pytest.mark.parametrize("primary_gid", [0, 100])
def test_kubeflow_profile(
    registry: RegistryServer, repo_name: str, isolated_home: Path, primary_gid: int
) -> None:
    good = validate(
        push(registry, repo_name, images.kubeflow_ok(primary_gid)), ["kubeflow", "elyra"]
    )
    assert good.ok, good.checks
    assert {c.profile for c in good.checks} == {"kubeflow", "elyra"}
    bad = validate(push(registry, repo_name, images.kubeflow_root_no_port(), "bad"), ["kubeflow"])
    r = results(bad)
    assert r["kubeflow/not-root"] == "fail" and r["kubeflow/port-8888"] == "warn"
    assert r["kubeflow/user-jovyan"] == "pass" and r["kubeflow/group-100"] == "pass"
    assert "runs as root" in message(bad, "kubeflow/not-root")
    assert not bad.ok
    missing = validate(push(registry, repo_name, images.elyra_ok(), "plain"), ["kubeflow"])
    assert results(missing)["kubeflow/user-jovyan"] == "fail"
    assert "no user jovyan" in message(missing, "kubeflow/user-jovyan")


def test_odh_profile(registry: RegistryServer, repo_name: str, isolated_home: Path) -> None:
    good = validate(push(registry, repo_name, images.odh_ok()), ["odh-notebook"])
    assert good.ok and set(results(good).values()) == {"pass"}, good.checks
    bad = validate(push(registry, repo_name, images.elyra_ok(), "bad"), ["odh-notebook"])
    r = results(bad)
    assert r["odh-notebook/jupyterlab"] == "fail"
    assert r["odh-notebook/start-singleuser"] == "fail"
    assert r["odh-notebook/python-version"] == "pass"
    assert r["odh-notebook/home"] == "warn"  # root's home from /etc/passwd


def test_gateway_kernel_profile(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    good = validate(push(registry, repo_name, images.gateway_kernel_ok()), ["gateway-kernel"])
    assert good.ok and set(results(good).values()) == {"pass"}, good.checks
    bad = validate(
        push(registry, repo_name, images.gateway_kernel_bad(), "bad"), ["gateway-kernel"]
    )
    r = results(bad)
    for check in ("bootstrap-kernel", "kernel-launchers", "bash", "ipykernel", "not-root"):
        assert r[f"gateway-kernel/{check}"] == "fail", check
    assert "mode 0644" in message(bad, "gateway-kernel/bootstrap-kernel")


def test_default_profiles_are_configurable(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    ref = push(registry, repo_name, images.kubeflow_ok())
    assert {c.profile for c in validate(ref).checks} == {"elyra"}
    assert {c.profile for c in validate(ref, default_profiles=["kubeflow"]).checks} == {"kubeflow"}
    with pytest.raises(UnknownProfile, match="known profiles: elyra, kubeflow"):
        validate(ref, ["nope"])


def test_layered_image_through_the_registry(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    view = inspect(push(registry, repo_name, images.layered_fs_image()))
    assert sorted(view.fs.listdir("/opt/app")) == ["new.txt"]
    assert view.fs.lookup("/etc/removed.conf") is None
    assert view.report.python is not None and view.report.python.version == "3.12"
    assert view.which("python3") == "/usr/bin/python3"


def test_docker_schema2_and_multiarch(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    amd = oci.make_image([images.base_layer()], docker=True)
    arm = oci.make_image(
        [images.base_layer(python="3.12")], oci.ImageConfig(architecture="arm64"), docker=True
    )
    index = oci.make_index([amd, arm], docker=True)
    with registry.pusher() as pusher:
        pusher.push_index(repo_name, "multi", [amd, arm], index)
    ref = f"{registry.host}/{repo_name}:multi"
    on_amd = inspect(ref)
    on_arm = inspect(ref, platform="linux/arm64")
    assert on_amd.report.digest == on_arm.report.digest == index.digest
    assert on_amd.report.python is not None and on_amd.report.python.version == "3.11"
    assert on_arm.report.python is not None and on_arm.report.python.version == "3.12"
    assert on_arm.report.platform == "linux/arm64"


def test_inspection_does_not_block_the_event_loop(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    big = oci.LayerBuilder().random_file("big.bin", 40 * 1024 * 1024, seed=3).build(compresslevel=1)
    ref = push(registry, repo_name, oci.make_image([images.base_layer(), big]))

    async def main() -> float:
        loop = asyncio.get_running_loop()
        worst = 0.0
        done = False

        async def ticker() -> None:
            nonlocal worst
            last = loop.time()
            while not done:
                await asyncio.sleep(0.01)
                now = loop.time()
                worst = max(worst, now - last)
                last = now

        task = asyncio.create_task(ticker())
        async with RegistryClient() as client:
            await inspect_image(client, ref)
        done = True
        await task
        return worst

    assert asyncio.run(main()) < 0.25


@pytest.mark.parametrize(
    ("data", "media_type", "error", "message"),
    [
        (
            b"\x28\xb5\x2f\xfd" + b"\0" * 64,
            "application/vnd.oci.image.layer.v1.tar+zstd",
            UnsupportedLayer,
            "zstd",
        ),
        (
            b"\x1f\x8b" + b"not really gzip" * 10,
            oci.OCI_LAYER_GZIP,
            InvalidLayer,
            "not a valid tar archive",
        ),
    ],
)
def test_unreadable_layers_are_named(
    registry: RegistryServer,
    repo_name: str,
    isolated_home: Path,
    data: bytes,
    media_type: str,
    error: type[Exception],
    message: str,
) -> None:
    layer = oci.Layer(oci.Blob.of(media_type, data), oci.sha256_digest(data))
    ref = push(registry, repo_name, oci.make_image([images.base_layer(), layer]))
    with pytest.raises(error, match=message):
        inspect(ref)


@pytest.mark.parametrize("user", ["²", "9" * 5000])
def test_numbers_int_refuses_in_passwd_and_user_are_not_ids(
    registry: RegistryServer, repo_name: str, isolated_home: Path, user: str
) -> None:
    """``str.isdigit()`` accepts "²", and ``int()`` refuses it and any 5,000-digit number:
    /etc/passwd and /etc/group lines and a config User like that are not IDs, not a crash."""
    hostile = oci.LayerBuilder()
    hostile.file(
        "etc/passwd",
        images.PASSWD_ROOT
        + f"jovyan:x:1000:100::/home/jovyan:/bin/bash\nodd:x:{user}:100::/:/bin/sh\n"
        + f"odder:x:1001:{user}::/:/bin/sh\n",
    )
    hostile.file("etc/group", images.GROUP_ROOT + f"users:x:100:jovyan\nodd:x:{user}:jovyan\n")
    image = oci.make_image(
        [images.base_layer(), hostile.build()],
        oci.ImageConfig(user=user, exposed_ports=["8888/tcp"]),
    )
    ref = push(registry, repo_name, image)
    report = inspect(ref).report
    assert [u.name for u in report.users] == ["root", "jovyan"]
    assert report.user("jovyan") is not None and report.user("jovyan").groups == [100]
    checked = validate(ref, ["kubeflow"])
    assert results(checked)["kubeflow/not-root"] == "fail"
    assert user[:20] in message(checked, "kubeflow/not-root")


def test_a_python_version_of_thousands_of_digits_is_read_not_a_crash(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    """PYTHON_VERSION is the image's to write; ``int()`` refuses more than 4,300 digits."""
    version = "3.11." + "9" * 5000
    config = oci.ImageConfig(env=["PATH=/usr/local/bin:/usr/bin:/bin", f"PYTHON_VERSION={version}"])
    ref = push(registry, repo_name, oci.make_image([images.base_layer(python="3.11")], config))
    checked = validate(ref, ["elyra"])
    assert results(checked)["elyra/python-version"] == "pass", checked.checks
