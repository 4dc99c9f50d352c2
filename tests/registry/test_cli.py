"""``jupyter runtime-images pin | inspect | validate`` as real subprocesses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.fixtures import images
from tests.fixtures.registry import RegistryServer
from tests.support import run_cli, store_dir, write_instance

pytestmark = pytest.mark.timeout(120)


def push(srv: RegistryServer, repo: str, image: object, tag: str) -> str:
    with srv.pusher() as pusher:
        pusher.push_image(repo, tag, image)
    return f"{srv.host}/{repo}:{tag}"


def test_pin_image_and_stored_runtime_image(
    registry: RegistryServer, repo_name: str, isolated_env: dict[str, str]
) -> None:
    image = images.elyra_ok()
    ref = push(registry, repo_name, image, "1.0")
    result = run_cli(isolated_env, "pin", ref)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{ref}@{image.digest}"
    directory = store_dir(Path(isolated_env["JUPYTER_DATA_DIR"]))
    write_instance(
        directory,
        "mine",
        {"display_name": "Mine", "schema_name": "runtime-image", "metadata": {"image_name": ref}},
    )
    result = run_cli(isolated_env, "pin", "--name", "mine")
    assert result.returncode == 0, result.stderr
    stored = json.loads((directory / "mine.json").read_text())
    assert stored["metadata"]["image_name"] == f"{ref}@{image.digest}"
    missing = run_cli(isolated_env, "pin", f"{registry.host}/{repo_name}:2.0")
    # Exit 2, as validate: the registry could not give it (issue 13: one exit-code table).
    assert missing.returncode == 2 and "2.0 was not found" in missing.stderr


def test_inspect_json_and_text(
    registry: RegistryServer, repo_name: str, isolated_env: dict[str, str]
) -> None:
    ref = push(registry, repo_name, images.odh_ok(), "1")
    result = run_cli(isolated_env, "inspect", ref, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["python"]["version"] == "3.11"
    assert {"name": "jupyterlab", "version": "4.2.5"}.items() <= next(
        d for d in report["distributions"] if d["name"] == "jupyterlab"
    ).items()
    text = run_cli(isolated_env, "inspect", ref)
    assert (
        text.returncode == 0
        and "Debian GNU/Linux 12" in text.stdout
        and "jupyterhub 4.1.6" in text.stdout
    )


def test_validate_exit_codes(
    registry: RegistryServer, repo_name: str, isolated_env: dict[str, str]
) -> None:
    good = push(registry, repo_name, images.elyra_ok(), "good")
    bad = push(registry, repo_name, images.elyra_no_curl_old_python(), "bad")
    ok = run_cli(isolated_env, "validate", good)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "No check failed." in ok.stdout
    failed = run_cli(isolated_env, "validate", bad, "--json")
    assert failed.returncode == 1
    checks = {c["id"]: c["result"] for c in json.loads(failed.stdout)["checks"]}
    assert checks["curl"] == "fail"
    kubeflow = run_cli(
        isolated_env, "validate", good, "--profile", "kubeflow", "--profile", "elyra"
    )
    assert kubeflow.returncode == 1 and "no user jovyan" in kubeflow.stdout
    error = run_cli(isolated_env, "validate", f"{registry.host}/{repo_name}:none")
    assert error.returncode == 2 and "was not found" in error.stderr
    unknown = run_cli(isolated_env, "validate", good, "--profile", "nope")
    assert unknown.returncode == 2 and "unknown profile" in unknown.stderr


def test_validate_shows_a_progress_bar_on_a_terminal(
    registry: RegistryServer, repo_name: str, isolated_env: dict[str, str]
) -> None:
    """Under a real pseudo-terminal the bytes of layers read are drawn; piped, they are not."""
    import os
    import pty

    from tests.support import JUPYTER

    ref = push(registry, repo_name, images.elyra_ok(), "1")
    # The terminal run first: a second run answers from the contents cache, reading no layer.
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [JUPYTER, "runtime-images", "validate", ref],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=isolated_env,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    text = output.decode(errors="replace")
    assert process.wait(timeout=60) == 0, text
    assert "[" in text and "#" in text and "MB" in text  # the bar was drawn
    assert "No check failed." in text
    piped = run_cli(isolated_env, "validate", ref)
    assert piped.returncode == 0 and "MB" not in piped.stderr


def test_inspect_a_runtime_image_by_name(
    registry: RegistryServer, repo_name: str, isolated_env: dict[str, str]
) -> None:
    """As pin and validate do: ``inspect --name`` reads the runtime image's image_name."""
    ref = push(registry, repo_name, images.odh_ok(), "1")
    write_instance(
        store_dir(Path(isolated_env["JUPYTER_DATA_DIR"])),
        "odh",
        {"display_name": "ODH", "schema_name": "runtime-image", "metadata": {"image_name": ref}},
    )
    result = run_cli(isolated_env, "inspect", "--name", "odh", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reference"] == ref
    both = run_cli(isolated_env, "inspect", ref, "--name", "odh")
    assert both.returncode == 2 and "not allowed with" in both.stderr
