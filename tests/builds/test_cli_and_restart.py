"""Builds from the command line, and a server killed with SIGKILL in the middle of one."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures import images
from tests.fixtures.plugin import PushedImage
from tests.fixtures.proxy import HoldingProxy
from tests.fixtures.registry import RegistryServer
from tests.support import RunningServer, run_cli

from .test_controller import import_resource

pytestmark = pytest.mark.timeout(180)


def builds(env: dict[str, str]) -> dict[str, Any]:
    result = run_cli(env, "builds", "--json")
    assert result.returncode == 0, result.stderr
    return {b["metadata"]["name"]: b for b in json.loads(result.stdout)}


def test_build_file_runs_in_process_without_a_server(
    env: dict[str, str], tmp_path: Path, elyra_image: PushedImage
) -> None:
    digest = elyra_image.digest
    source = tmp_path / "import.yaml"
    source.write_text(yaml.safe_dump(import_resource(elyra_image.reference)))

    result = run_cli(env, "build", "-f", str(source), "--wait")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "imported: building in this process" in result.stdout
    assert "Ready" in result.stdout.splitlines()[-1]

    assert builds(env)["imported"]["status"]["image"].endswith(digest)
    listed = run_cli(env, "list", "--json")
    image = next(i for i in json.loads(listed.stdout) if i["name"] == "imported")
    assert image["metadata"]["image_name"].endswith(digest)
    table = run_cli(env, "builds").stdout
    assert "imported" in table and "Ready" in table
    log = run_cli(env, "build-log", "imported")
    assert log.returncode == 0 and "Ready=True" in log.stdout


def test_failed_build_exits_1_and_import_image_shortcut(
    env: dict[str, str], registry: RegistryServer, repo_name: str
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_no_python())
    result = run_cli(
        env,
        "import-image",
        f"{registry.host}/{repo_name}:1",
        "--display-name",
        "No Python",
        "--wait",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "python3" in result.stdout
    build = builds(env)["no-python"]
    assert build["metadata"]["annotations"]["opendatahub.io/notebook-image-name"] == "No Python"
    assert build["status"]["conditions"][-1]["reason"] == "RequirementsNotMet"


def test_invalid_resources_and_unknown_builds_are_user_errors(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(import_resource("Bad Image")))
    result = run_cli(env, "build", "-f", str(bad), "--no-wait")
    assert result.returncode == 1 and "spec.fromImage" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli(env, "build-log", "missing")
    assert result.returncode == 1 and "No build named" in result.stderr
    result = run_cli(env, "build", "-f", "-", "--no-wait", stdin="a: [unclosed")
    assert result.returncode == 1 and "YAML" in result.stderr


def test_no_wait_without_a_server_leaves_it_pending_for_the_next_server(
    env: dict[str, str], tmp_path: Path, elyra_image: PushedImage
) -> None:
    source = tmp_path / "import.json"
    source.write_text(json.dumps(import_resource(elyra_image.reference)))
    result = run_cli(env, "build", "-f", str(source), "--no-wait")
    assert result.returncode == 0
    assert "runs when a Jupyter server starts" in result.stdout
    assert builds(env)["imported"]["status"]["phase"] == "Pending"
    server = RunningServer(env, tmp_path)
    try:
        wait_for_phase(server, "imported", ("Ready",))
    finally:
        server.stop()


def wait_for_phase(
    server: RunningServer, name: str, phases: tuple[str, ...], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, build = server.request("GET", f"/runtime-images/builds/{name}")
        if status == 200 and build["status"]["phase"] in phases:
            return build  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"{name} did not reach {phases}: {build}")


def test_cli_submits_to_a_running_server(
    env: dict[str, str], tmp_path: Path, elyra_image: PushedImage
) -> None:
    server = RunningServer(env, tmp_path)
    try:
        result = run_cli(
            env,
            "import-image",
            elyra_image.reference,
            "--display-name",
            "Via server",
            "--wait",
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"via-server: submitted to {server.url}" in result.stdout
        status, _, image = server.request("GET", "/runtime-images/images/via-server")
        assert status == 200 and "@sha256:" in image["metadata"]["image_name"]
    finally:
        server.stop()


def test_server_killed_mid_import_resumes_and_reaches_ready(
    env: dict[str, str], tmp_path: Path, registry: RegistryServer, repo_name: str
) -> None:
    with registry.pusher() as pusher:
        digest = pusher.push_image(repo_name, "1", images.elyra_ok())
    with HoldingProxy(registry.port) as proxy:
        server = RunningServer(env, tmp_path)
        try:
            status, _, _ = server.request(
                "POST",
                "/runtime-images/builds",
                import_resource(f"{proxy.host}/{repo_name}:1", name="survivor"),
            )
            assert status == 201
            build = wait_for_phase(server, "survivor", ("Building",))
            assert build["status"]["conditions"][-1]["type"] == "Importing"
            os.kill(server.process.pid, signal.SIGKILL)  # no clean shutdown at all
            server.process.wait()
        finally:
            server.stop()
        on_disk = builds(env)["survivor"]
        assert on_disk["status"]["phase"] == "Building"  # left mid-step by the kill

        proxy.release()
        restarted = RunningServer(env, tmp_path)
        try:
            build = wait_for_phase(restarted, "survivor", ("Ready", "Failed"))
            assert build["status"]["phase"] == "Ready", build["status"]
            assert build["status"]["image"] == f"{proxy.host}/{repo_name}:1@{digest}"
        finally:
            restarted.stop()
    log_text = run_cli(env, "build-log", "survivor").stdout
    assert "Resumed after the server restarted." in log_text


def test_the_whole_lifecycle_from_the_cli_without_a_server(
    env: dict[str, str], elyra_image: PushedImage
) -> None:
    image = elyra_image.reference
    # Not on a terminal and no server: saved, and the message says what happens and what
    # to run (not a --no-wait that was never given).
    saved = run_cli(env, "import-image", image, "--display-name", "Life")
    assert saved.returncode == 0, saved.stderr
    assert "not on a terminal" in saved.stdout and "--no-wait" not in saved.stdout
    assert "build-retry life --wait" in saved.stdout
    assert builds(env)["life"]["status"]["phase"] == "Pending"

    ran = run_cli(env, "build-retry", "life", "--wait")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert builds(env)["life"]["status"]["phase"] == "Ready"

    again = run_cli(env, "build-retry", "life", "--no-wait")
    assert again.returncode == 0 and "--no-wait" in again.stdout
    assert builds(env)["life"]["status"]["phase"] == "Pending"
    assert builds(env)["life"]["metadata"]["generation"] == 2

    cancelled = run_cli(env, "build-cancel", "life")
    assert cancelled.returncode == 0, cancelled.stderr
    latest = builds(env)["life"]["status"]["conditions"][-1]
    assert (latest["reason"], builds(env)["life"]["status"]["phase"]) == ("Cancelled", "Failed")
    twice = run_cli(env, "build-cancel", "life")
    assert twice.returncode == 1 and "already ended" in twice.stderr

    deleted = run_cli(env, "build-delete", "life")
    assert deleted.returncode == 0, deleted.stderr
    assert "life" not in builds(env)
    listed = json.loads(run_cli(env, "list", "--json").stdout)
    assert any(i["name"] == "life" for i in listed)  # the runtime image it configured stays
    missing = run_cli(env, "build-delete", "life")
    assert missing.returncode == 1 and "No build named" in missing.stderr


def test_the_whole_lifecycle_from_the_cli_with_a_server(
    env: dict[str, str], tmp_path: Path, registry: RegistryServer, repo_name: str
) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", images.elyra_ok())
    with HoldingProxy(registry.port) as proxy:  # the first run hangs until cancelled
        server = RunningServer(env, tmp_path)
        try:
            image = f"{proxy.host}/{repo_name}:1"
            submitted = run_cli(env, "import-image", image, "--display-name", "Served", "--no-wait")
            assert f"served: submitted to {server.url}" in submitted.stdout
            wait_for_phase(server, "served", ("Building",))
            cancelled = run_cli(env, "build-cancel", "served")
            assert cancelled.returncode == 0, cancelled.stderr
            build = wait_for_phase(server, "served", ("Failed",))
            assert build["status"]["conditions"][-1]["reason"] == "Cancelled"

            proxy.release()
            retried = run_cli(env, "build-retry", "served", "--wait")
            assert retried.returncode == 0, retried.stdout + retried.stderr
            assert f"retrying on {server.url}" in retried.stdout
            assert wait_for_phase(server, "served", ("Ready",))["metadata"]["generation"] == 2

            deleted = run_cli(env, "build-delete", "served")
            assert deleted.returncode == 0, deleted.stderr
            status, _, _ = server.request("GET", "/runtime-images/builds/served")
            assert status == 404
        finally:
            server.stop()


def test_build_file_without_description_or_creator_gets_them_filled(
    env: dict[str, str], tmp_path: Path
) -> None:
    import getpass

    document = import_resource("quay.io/org/image:1", name="bare")
    annotations = document["metadata"]["annotations"]
    del annotations["opendatahub.io/notebook-image-desc"]
    del annotations["opendatahub.io/notebook-image-creator"]
    source = tmp_path / "bare.yaml"
    source.write_text(yaml.safe_dump(document))
    result = run_cli(env, "build", "-f", str(source), "--no-wait")
    assert result.returncode == 0, result.stderr
    assert "Filled in opendatahub.io/notebook-image-desc" in result.stdout
    stored = builds(env)["bare"]["metadata"]["annotations"]
    assert (
        stored["opendatahub.io/notebook-image-desc"]
        == annotations["opendatahub.io/notebook-image-name"]
    )
    assert stored["opendatahub.io/notebook-image-creator"] == getpass.getuser()
    # The display name is not invented: its absence is an error naming it.
    del document["metadata"]["annotations"]["opendatahub.io/notebook-image-name"]
    source.write_text(
        yaml.safe_dump({**document, "metadata": {**document["metadata"], "name": "x"}})
    )
    missing = run_cli(env, "build", "-f", str(source), "--no-wait")
    assert missing.returncode == 1 and "notebook-image-name" in missing.stderr
