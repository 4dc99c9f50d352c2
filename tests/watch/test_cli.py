"""``jupyter runtime-images outdated`` and ``repin`` as real subprocesses on a real registry,
with a kernelspec made from the image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.registry import RegistryServer
from tests.support import run_cli

from .test_rest import push_first, version_two

pytestmark = pytest.mark.timeout(180)


def test_outdated_lists_a_moved_tag_and_repin_moves_image_and_kernelspec(
    registry: RegistryServer, repo_name: str, env: dict[str, str]
) -> None:
    tag, v1 = push_first(registry, repo_name)
    created = run_cli(env, "create", "--name", "cli", "--display_name", "CLI", "--image_name", tag)
    assert created.returncode == 0, created.stderr
    assert run_cli(env, "pin", "--name", "cli").returncode == 0
    spec = run_cli(env, "kernelspec", "--name", "cli", "--provisioner", "docker")
    assert spec.returncode == 0, spec.stderr
    kernel_json = Path(env["JUPYTER_DATA_DIR"]) / "kernels" / "docker_cli" / "kernel.json"

    never = run_cli(env, "outdated")
    assert never.returncode == 0 and "never" in never.stdout
    with registry.pusher() as pusher:
        v2 = pusher.push_image(repo_name, "1.0", version_two())

    checked = run_cli(env, "outdated", "--check", "--json")
    assert checked.returncode == 1, checked.stderr
    (update,) = json.loads(checked.stdout)["updates"]
    assert (update["name"], update["pinned"], update["current"]) == ("cli", v1, v2)
    table = run_cli(env, "outdated")  # the last check, read from disk
    assert table.returncode == 1
    assert "cli" in table.stdout and v2.split(":")[1][:12] in table.stdout

    dry = run_cli(env, "repin", "cli", "--dry-run")
    assert dry.returncode == 0 and "would move" in dry.stdout and "docker_cli" in dry.stdout
    assert (
        json.loads(kernel_json.read_text())["metadata"]["kernel_provisioner"]["config"][
            "image_name"
        ]
        == f"{tag}@{v1}"
    )

    moved = run_cli(env, "repin", "--all")
    assert moved.returncode == 0, moved.stderr
    assert f"cli: moved {tag}@{v1} -> {tag}@{v2}" in moved.stdout
    config = json.loads(kernel_json.read_text())["metadata"]["kernel_provisioner"]["config"]
    assert config["image_name"] == f"{tag}@{v2}"
    assert run_cli(env, "outdated", "--check").returncode == 0
    again = run_cli(env, "repin", "cli")
    assert again.returncode == 0 and "up to date" in again.stdout


def test_repin_refuses_an_unpinned_image_and_an_unknown_name(
    env: dict[str, str], registry: RegistryServer, repo_name: str
) -> None:
    tag = f"{registry.host}/{repo_name}:1.0"
    run_cli(env, "create", "--name", "loose", "--display_name", "Loose", "--image_name", tag)
    refused = run_cli(env, "repin", "loose")
    assert refused.returncode == 1 and "not pinned" in refused.stderr
    missing = run_cli(env, "repin", "nope")
    assert missing.returncode == 1 and "nope" in missing.stderr
    assert run_cli(env, "repin").returncode == 2  # neither a name nor --all
