"""``jupyter runtime-images export-to`` as a user runs it, in a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.fixtures import images
from tests.fixtures.registry import RegistryServer
from tests.support import run_cli, store_dir, write_instance

pytestmark = pytest.mark.timeout(120)


def _instance(image: str, tags: list[str]) -> dict[str, object]:
    return {
        "display_name": "Lab",
        "schema_name": "runtime-image",
        "metadata": {"image_name": image, "tags": tags},
    }


def test_export_to_file_and_directory(
    env: dict[str, str], registry: RegistryServer, repo_name: str, tmp_path: Path
) -> None:
    with registry.pusher() as pusher:
        digest = pusher.push_image(repo_name, "1", images.elyra_ok())
    users = store_dir(Path(env["JUPYTER_DATA_DIR"]))
    write_instance(users, "lab", _instance(f"{registry.host}/{repo_name}:1", ["team"]))
    pinned = f"{registry.host}/{repo_name}:1@{digest}"

    done = run_cli(env, "export-to", "prepuller", "--tag", "team", "--style", "list")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{pinned}\n"

    target = tmp_path / "profiles.yaml"
    done = run_cli(env, "export-to", "kubespawner", "--name", "lab", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert "Wrote 1 runtime images (kubespawner)" in done.stderr
    profile = yaml.safe_load(target.read_text())["singleuser"]["profileList"][0]
    assert profile["kubespawner_override"]["image"] == pinned

    repo = tmp_path / "pipelines" / "runtime-images"
    repo.mkdir(parents=True)
    done = run_cli(env, "export-to", "elyra", "--name", "lab", "-o", str(repo))
    assert done.returncode == 0, done.stderr
    written = json.loads((repo / "lab.json").read_text())
    assert written["metadata"]["image_name"] == f"{registry.host}/{repo_name}:1@{digest}"


def test_export_to_errors_and_exit_codes(env: dict[str, str]) -> None:
    done = run_cli(env, "export-to", "kubeflow", "--name", "missing")
    assert done.returncode == 1
    assert "No valid runtime image named 'missing'" in done.stderr
    done = run_cli(env, "export-to", "helm")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = run_cli(env, "export-to", "kubeflow", "--style", "nope", "--name", "x")
    assert done.returncode == 1 and "no style 'nope'" in done.stderr
