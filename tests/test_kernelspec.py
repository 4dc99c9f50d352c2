"""Kernelspecs for runtime images, compared with what Gateway Provisioners 0.5.0 writes.

The reference is the real ``jupyter k8s-spec install`` / ``jupyter docker-spec install``
(gateway-provisioners==0.5.0 from the test extra), run as a subprocess on temporary Jupyter
directories for the same image and options.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from tornado.httpclient import HTTPClientError

from runtime_images.errors import NotFoundError, ValidationFailedError
from runtime_images.kernelspec import (
    GatewayProvisionersMissing,
    KernelspecExistsError,
    install_kernelspec,
    parse_options,
)
from runtime_images.store import RuntimeImageStore

from .support import Fetch, run_cli, store_dir

BIN = Path(sys.executable).parent
JUPYTER = shutil.which("jupyter", path=str(BIN)) or "jupyter"
PINNED = (
    "quay.io/acme/data-sci-py:2.0@sha256:"
    "4c1e997385b8fb4ad4d1d3c7e5af7ff3f882e4a8e5b6f7bd61d8c3b2f1e0a9d8"
)
USER_LISTS = ("authorized_users", "unauthorized_users")


@pytest.fixture
def store(tmp_path: Path, jp_environ: None) -> RuntimeImageStore:
    """A store with one image; every Jupyter directory (the user's kernels dir among them)
    is a temporary one (pytest-jupyter's ``jp_environ``)."""
    store = RuntimeImageStore(
        data_dir=str(tmp_path / "data"), shared_data_dirs=[], factory_data_dirs=[]
    )
    store.create(
        {
            "name": "data_sci",
            "display_name": "Data Science 2.0",
            "schema_name": "runtime-image",
            "metadata": {"image_name": "acme/data-sci-py:2.0"},
        }
    )
    return store


def gateway_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment for Gateway Provisioners' CLI: no GP_* defaults, own dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GP_", "JUPYTER_"))}
    env.update(
        JUPYTER_DATA_DIR=str(tmp_path / "gp-data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "gp-config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "gp-runtime"),
        HOME=str(tmp_path),
    )
    return env


def gateway_install(tmp_path: Path, provisioner: str, image: str, options: dict[str, Any]) -> Path:
    """Run the real ``jupyter k8s-spec|docker-spec install``; return the kernelspec dir."""
    prefix = tmp_path / "gp-prefix"
    app = {"kubernetes": "k8s-spec", "docker": "docker-spec"}[provisioner]
    args = [
        JUPYTER,
        app,
        "install",
        f"--image-name={image}",
        f"--kernel-name={options['kernel_name']}",
        f"--display-name={options['display_name']}",
        f"--prefix={prefix}",
    ]
    if "language" in options:
        args.append(f"--language={options['language']}")
    if "launch_timeout" in options:
        args.append(f"--launch-timeout={options['launch_timeout']}")
    if "port_range" in options:
        args.append(f"--port-range={options['port_range']}")
    args += [f"--authorized-users={user}" for user in options.get("authorized_users", [])]
    args += [f"--unauthorized-users={user}" for user in options.get("unauthorized_users", [])]
    result = subprocess.run(
        args, env=gateway_env(tmp_path), capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return prefix / "share" / "jupyter" / "kernels" / options["kernel_name"]


def comparable(kernel_json: dict[str, Any], install_dir: Path) -> dict[str, Any]:
    """kernel.json with the install dir replaced and user sets (unordered upstream) sorted."""
    document = json.loads(json.dumps(kernel_json).replace(str(install_dir), "<INSTALL_DIR>"))
    config = document["metadata"]["kernel_provisioner"]["config"]
    for key in USER_LISTS:
        if key in config:
            config[key] = sorted(config[key])
    return dict(document)


def files_of(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("k8s-defaults", "kubernetes", {}),
    ("docker-defaults", "docker", {}),
    (
        "k8s-timeout-ports-users",
        "kubernetes",
        {
            "launch_timeout": 60,
            "port_range": "40000..41000",
            "authorized_users": ["alice", "bob"],
            "unauthorized_users": ["admin", "root"],
        },
    ),
    (
        "docker-timeout-ports-users",
        "docker",
        {
            "launch_timeout": 60,
            "port_range": "40000..41000",
            "authorized_users": ["carol"],
            "unauthorized_users": ["root"],
        },
    ),
    ("k8s-language-r", "kubernetes", {"language": "r"}),
    ("docker-language-r", "docker", {"language": "R"}),
    ("k8s-language-scala", "kubernetes", {"language": "scala"}),
]


@pytest.mark.parametrize(
    ("provisioner", "options"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_kernel_json_equals_gateway_provisioners(
    store: RuntimeImageStore, tmp_path: Path, provisioner: str, options: dict[str, Any]
) -> None:
    # When
    ours = install_kernelspec(
        store,
        "data_sci",
        parse_options({"provisioner": provisioner, "prefix": str(tmp_path / "ours"), **options}),
    )
    reference_dir = gateway_install(
        tmp_path,
        provisioner,
        "acme/data-sci-py:2.0",
        {
            "kernel_name": ours.kernel_name,
            "display_name": ours.kernel_json["display_name"],
            **options,
        },
    )
    # Then
    theirs = json.loads((reference_dir / "kernel.json").read_text())
    written = json.loads(ours.path.read_text())
    assert written == ours.kernel_json
    mine, upstream = comparable(written, ours.resource_dir), comparable(theirs, reference_dir)
    assert list(mine) == list(upstream)  # same keys, in the same order
    for key in upstream:
        assert mine[key] == upstream[key], key
    assert files_of(ours.resource_dir) == files_of(reference_dir)
    assert ours.path.read_text().endswith("}\n")


def test_defaults_come_from_the_runtime_image(store: RuntimeImageStore, tmp_path: Path) -> None:
    # When
    k8s = install_kernelspec(store, "data_sci", parse_options({"provisioner": "kubernetes"}))
    docker = install_kernelspec(store, "data_sci", parse_options({"provisioner": "docker"}))
    # Then: installed in the user's data dir (JUPYTER_DATA_DIR), where Jupyter finds them
    assert (k8s.kernel_name, k8s.kernel_json["display_name"]) == (
        "k8s_data_sci",
        "Data Science 2.0 on Kubernetes",
    )
    assert (docker.kernel_name, docker.kernel_json["display_name"]) == (
        "docker_data_sci",
        "Data Science 2.0 on Docker",
    )
    specs = KernelSpecManager().find_kernel_specs()
    assert Path(specs["k8s_data_sci"]) == k8s.resource_dir
    assert Path(specs["docker_data_sci"]) == docker.resource_dir
    config = k8s.kernel_json["metadata"]["kernel_provisioner"]["config"]
    assert config == {"image_name": "acme/data-sci-py:2.0", "launch_timeout": 30}
    assert k8s.kernel_json["argv"][1] == str(k8s.resource_dir / "scripts" / "launch_kubernetes.py")
    assert (docker.resource_dir / "scripts" / "launch_docker.py").is_file()


def test_a_pinned_image_is_used_pinned(store: RuntimeImageStore, tmp_path: Path) -> None:
    store.patch("data_sci", {"metadata": {"image_name": PINNED}})
    installed = install_kernelspec(store, "data_sci", parse_options({"provisioner": "docker"}))
    config = installed.kernel_json["metadata"]["kernel_provisioner"]["config"]
    assert config["image_name"] == PINNED


def test_an_existing_kernelspec_is_replaced_only_when_asked(
    store: RuntimeImageStore, tmp_path: Path
) -> None:
    options = {"provisioner": "kubernetes", "kernel_name": "mine"}
    first = install_kernelspec(store, "data_sci", parse_options(options))
    (first.resource_dir / "stale.txt").write_text("from the first install")

    with pytest.raises(KernelspecExistsError, match="--replace"):
        install_kernelspec(store, "data_sci", parse_options({**options, "display_name": "New"}))
    assert json.loads(first.path.read_text())["display_name"] == "Data Science 2.0 on Kubernetes"

    second = install_kernelspec(
        store, "data_sci", parse_options({**options, "display_name": "New", "replace": True})
    )
    assert second.resource_dir == first.resource_dir
    assert json.loads(second.path.read_text())["display_name"] == "New"
    assert not (second.resource_dir / "stale.txt").exists()
    # Nothing is left behind next to the kernelspec.
    assert not [p.name for p in second.resource_dir.parent.iterdir() if p.name.startswith(".")]
    assert not list(second.resource_dir.parent.parent.glob(".kernelspec-staging-*"))


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"provisioner": "yarn"}, "provisioner"),
        ({}, "provisioner"),
        ({"provisioner": "docker", "kernel_name": "../../etc"}, "kernel_name"),
        ({"provisioner": "docker", "kernel_name": ".hidden"}, "kernel_name"),
        ({"provisioner": "docker", "kernel_name": "a/b"}, "kernel_name"),
        ({"provisioner": "docker", "language": "julia"}, "language"),
        ({"provisioner": "docker", "prefix": "relative/dir"}, "prefix"),
        ({"provisioner": "docker", "user": True, "sys_prefix": True}, "sys_prefix"),
        ({"provisioner": "docker", "launch_timeout": 0}, "launch_timeout"),
        ({"provisioner": "docker", "launch_timeout": "60"}, "launch_timeout"),
        ({"provisioner": "docker", "port_range": "1..2"}, "port_range"),
        ({"provisioner": "docker", "port_range": "40000-41000"}, "port_range"),
        ({"provisioner": "docker", "authorized_users": "alice"}, "authorized_users"),
        ({"provisioner": "docker", "unauthorized_users": ["a b"]}, "unauthorized_users"),
        ({"provisioner": "docker", "replace": "yes"}, "replace"),
        ({"provisioner": "docker", "image_name": "x"}, "image_name"),
    ],
)
def test_invalid_options_name_the_field(body: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        parse_options(body)
    assert path in [error.path for error in caught.value.errors]


def test_kernel_names_are_normalised_as_gateway_provisioners_does() -> None:
    options = parse_options({"provisioner": "docker", "kernel_name": "My Kernel"})
    assert options.kernel_name == "my_kernel"


def test_unknown_runtime_image(store: RuntimeImageStore) -> None:
    with pytest.raises(NotFoundError):
        install_kernelspec(store, "nope", parse_options({"provisioner": "docker"}))


def test_without_gateway_provisioners_the_error_says_what_to_install(
    store: RuntimeImageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An import of gateway_provisioners fails as in an environment without it.
    monkeypatch.setitem(sys.modules, "gateway_provisioners", None)
    with pytest.raises(GatewayProvisionersMissing, match="pip install gateway-provisioners"):
        install_kernelspec(store, "data_sci", parse_options({"provisioner": "kubernetes"}))


# -- REST ----------------------------------------------------------------------------------


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    if "allowed_locations" in request.node.name:
        return {**jp_server_config, "KernelspecInstaller": {"allow_rest_install_locations": True}}
    return jp_server_config


async def call(fetch: Fetch, name: str, body: Any) -> tuple[int, Any]:
    try:
        response = await fetch(
            "runtime-images",
            "images",
            name,
            "kernelspec",
            method="POST",
            body=body if isinstance(body, str) else json.dumps(body),
        )
    except HTTPClientError as error:
        response = error.response
        assert response is not None
    return response.code, json.loads(response.body) if response.body else None


@pytest.fixture
def rest_image(user_dir: Path) -> str:
    user_dir.mkdir(parents=True, exist_ok=True)
    (user_dir / "data_sci.json").write_text(
        json.dumps(
            {
                "display_name": "Data Science 2.0",
                "schema_name": "runtime-image",
                "metadata": {"image_name": PINNED},
            }
        )
    )
    return "data_sci"


async def test_rest_installs_a_kernelspec(
    jp_fetch: Fetch, rest_image: str, jp_data_dir: Path
) -> None:
    # When
    status, body = await call(jp_fetch, rest_image, {"provisioner": "kubernetes"})
    # Then
    assert status == 201, body
    resource_dir = jp_data_dir / "kernels" / "k8s_data_sci"
    assert body["kernel_name"] == "k8s_data_sci"
    assert body["resource_dir"] == str(resource_dir)
    assert body["path"] == str(resource_dir / "kernel.json")
    assert body["kernel_json"] == json.loads((resource_dir / "kernel.json").read_text())
    provisioner = body["kernel_json"]["metadata"]["kernel_provisioner"]
    assert provisioner == {
        "provisioner_name": "kubernetes-provisioner",
        "config": {"image_name": PINNED, "launch_timeout": 30},
    }
    assert (resource_dir / "scripts" / "kernel-pod.yaml.j2").is_file()

    # A second install conflicts, unless replace is true.
    status, body = await call(jp_fetch, rest_image, {"provisioner": "kubernetes"})
    assert status == 409
    assert "replace" in body["message"]
    status, body = await call(
        jp_fetch,
        rest_image,
        {"provisioner": "kubernetes", "replace": True, "launch_timeout": 90},
    )
    assert status == 201
    assert body["kernel_json"]["metadata"]["kernel_provisioner"]["config"]["launch_timeout"] == 90


async def test_rest_errors(jp_fetch: Fetch, rest_image: str) -> None:
    status, body = await call(
        jp_fetch, rest_image, {"provisioner": "k8s", "kernel_name": "../x", "port_range": "1"}
    )
    assert status == 400
    assert {e["path"] for e in body["errors"]} == {"provisioner", "kernel_name", "port_range"}
    assert (await call(jp_fetch, rest_image, "{not json"))[0] == 400
    assert (await call(jp_fetch, rest_image, ""))[0] == 400
    status, body = await call(jp_fetch, "missing", {"provisioner": "docker"})
    assert status == 404


async def test_rest_refuses_prefix_and_sys_prefix_by_default(
    jp_fetch: Fetch, rest_image: str, tmp_path: Path
) -> None:
    for body in ({"prefix": str(tmp_path / "elsewhere")}, {"sys_prefix": True}):
        status, reply = await call(jp_fetch, rest_image, {"provisioner": "docker", **body})
        assert status == 400
        assert [e["path"] for e in reply["errors"]] == list(body)
        assert "allow_rest_install_locations" in reply["message"]
    assert not (tmp_path / "elsewhere").exists()


async def test_rest_prefix_when_allowed_locations(
    jp_fetch: Fetch, rest_image: str, tmp_path: Path
) -> None:
    status, reply = await call(
        jp_fetch, rest_image, {"provisioner": "docker", "prefix": str(tmp_path / "elsewhere")}
    )
    assert status == 201, reply
    assert reply["resource_dir"] == str(
        tmp_path / "elsewhere/share/jupyter/kernels/docker_data_sci"
    )


async def test_rest_without_gateway_provisioners_is_a_4xx_naming_the_package(
    jp_fetch: Fetch, rest_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gateway_provisioners", None)
    status, body = await call(jp_fetch, rest_image, {"provisioner": "docker"})
    assert status == 424
    assert "pip install gateway-provisioners" in body["message"]
    assert body["code"] == "GatewayProvisionersMissing"


# -- CLI -----------------------------------------------------------------------------------


def test_cli_kernelspec(isolated_env: dict[str, str], tmp_path: Path) -> None:
    created = run_cli(
        isolated_env,
        "create",
        "--name",
        "data_sci",
        "--display_name",
        "Data Science 2.0",
        "--image_name",
        "acme/data-sci-py:2.0",
    )
    assert created.returncode == 0, created.stderr
    assert store_dir(Path(isolated_env["JUPYTER_DATA_DIR"])).joinpath("data_sci.json").is_file()

    # When
    args = (
        "kernelspec",
        "--name",
        "data_sci",
        "--provisioner",
        "docker",
        "--user",
        "--language",
        "R",
        "--launch-timeout",
        "60",
        "--port-range",
        "40000..41000",
        "--authorized-users",
        "alice",
        "--authorized-users",
        "bob",
    )
    result = run_cli(isolated_env, *args)
    # Then
    assert result.returncode == 0, result.stderr
    resource_dir = Path(isolated_env["JUPYTER_DATA_DIR"]) / "kernels" / "docker_data_sci"
    assert str(resource_dir) in result.stdout
    kernel_json = json.loads((resource_dir / "kernel.json").read_text())
    assert kernel_json["language"] == "R"
    assert kernel_json["display_name"] == "Data Science 2.0 on Docker"
    assert kernel_json["metadata"]["kernel_provisioner"]["config"] == {
        "image_name": "acme/data-sci-py:2.0",
        "authorized_users": ["alice", "bob"],
        "port_range": "40000..41000",
        "launch_timeout": 60,
    }

    again = run_cli(isolated_env, *args)
    assert again.returncode == 1
    assert "--replace" in again.stderr
    assert "Traceback" not in again.stderr
    assert run_cli(isolated_env, *args, "--replace").returncode == 0

    prefix = tmp_path / "elsewhere"
    in_prefix = run_cli(
        isolated_env, "kernelspec", "--name", "data_sci", "--provisioner", "kubernetes",
        "--prefix", str(prefix), "--kernel-name", "Data Sci",
    )  # fmt: skip
    assert in_prefix.returncode == 0, in_prefix.stderr
    assert (prefix / "share/jupyter/kernels/data_sci/scripts/launch_kubernetes.py").is_file()

    bad = run_cli(
        isolated_env, "kernelspec", "--name", "data_sci", "--provisioner", "docker",
        "--kernel-name", "../escape",
    )  # fmt: skip
    assert bad.returncode == 1
    assert "kernel_name" in bad.stderr
    assert not (Path(isolated_env["JUPYTER_DATA_DIR"]) / "escape").exists()

    assert run_cli(isolated_env, "kernelspec", "--name", "data_sci").returncode == 2
    missing = run_cli(isolated_env, "kernelspec", "--name", "nope", "--provisioner", "docker")
    assert missing.returncode == 1
    assert "nope" in missing.stderr


def test_cli_without_gateway_provisioners(isolated_env: dict[str, str]) -> None:
    run_cli(
        isolated_env, "create", "--name", "img", "--display_name", "Img", "--image_name", "a/b:1"
    )
    code = (
        "import sys; sys.modules['gateway_provisioners'] = None\n"
        "from runtime_images.cli import main\n"
        "sys.exit(main(['kernelspec', '--name', 'img', '--provisioner', 'kubernetes']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=isolated_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2  # a missing dependency: could not be done (issue 13's table)
    assert "pip install gateway-provisioners" in result.stderr
    assert "Traceback" not in result.stderr
