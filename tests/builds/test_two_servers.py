"""Two real Jupyter servers on one data directory: each build is run by exactly one of them.

Both servers scan the same builds directory (as a JupyterLab and a ``jupyter server`` of
one user do, or two users' servers on a shared home). The one that claims a build runs it;
the other leaves it alone unless the claimer goes away mid-build (SIGKILL), in which case
it takes the build over and the build still ends once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.proxy import HoldingProxy
from tests.fixtures.registry import RegistryServer
from tests.support import RunningServer, run_cli

from .test_layer_builds import base_image, git_build, git_repository, resource

pytestmark = pytest.mark.timeout(300)


def start_two(env: dict[str, str], tmp_path: Path, target_b: str) -> list[RunningServer]:
    """Server A keeps built images in the local layout; server B pushes them to ``target_b``."""
    a = RunningServer(env, tmp_path / "a")
    try:
        b = RunningServer(env, tmp_path / "b", f"--ImageBuilder.target_registry={target_b}")
    except Exception:
        a.stop()
        raise
    return [a, b]


@pytest.fixture
def servers(
    env: dict[str, str],
    tmp_path: Path,
    registry: RegistryServer,
) -> Iterator[list[RunningServer]]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    started = start_two(env, tmp_path, f"{registry.host}/built-b")
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def log_of(env: dict[str, str], name: str) -> str:
    result = run_cli(env, "build-log", name)
    assert result.returncode == 0, result.stderr
    return result.stdout


def runner_pid(log: str) -> int:
    pids = re.findall(r"Run by process (\d+) on ", log)
    assert pids, log
    return int(pids[-1])


def wait_for(predicate: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def base(registry: RegistryServer, repo_name: str) -> str:
    """The base image of the builds, pushed to the registry."""
    with registry.pusher() as pusher:
        pusher.push_image(repo_name, "1", base_image())
    return f"{registry.host}/{repo_name}:1"


def test_each_build_is_run_once_by_the_server_that_claimed_it(
    env: dict[str, str],
    tmp_path: Path,
    servers: list[RunningServer],
    registry: RegistryServer,
    base: str,
) -> None:
    url = git_repository(tmp_path / "repo", {"requirements.txt": "six==1.16.0\n"})
    document = git_build("shared", url, base)
    source = tmp_path / "build.yaml"
    source.write_text(yaml.safe_dump(document))

    cli = run_cli(env, "build", "-f", str(source), "--wait", timeout=240)
    assert cli.returncode == 0, cli.stdout + cli.stderr

    build = json.loads(run_cli(env, "builds", "--json").stdout)[0]
    assert build["status"]["phase"] == "Ready", build["status"]
    log = log_of(env, "shared")
    assert log.count("Run by process") == 1, log
    assert log.count("Cloned commit") == 1, log
    assert log.count("Ready=True") == 1, log
    # The result is the claimer's: A keeps images locally, B pushes them to its registry.
    a, b = servers
    claimer = {a.process.pid: "a", b.process.pid: "b"}[runner_pid(log)]
    expected = f"{registry.host}/built-b/shared:latest@" if claimer == "b" else "localhost/"
    image = build["status"]["image"]
    assert image.startswith(expected), (claimer, image)
    # What the CLI printed agrees with the final status and the runtime image.
    assert image.split("@")[1] in cli.stdout.splitlines()[-1] or image in cli.stdout, cli.stdout
    runtime = next(
        i for i in json.loads(run_cli(env, "list", "--json").stdout) if i["name"] == "shared"
    )
    assert runtime["metadata"]["image_name"] == image


def test_a_killed_claimer_is_taken_over_and_the_build_ends_once(
    env: dict[str, str], servers: list[RunningServer], registry: RegistryServer, base: str
) -> None:
    with HoldingProxy(registry.port) as proxy:  # holds the base: the build stops mid-way
        held_base = base.replace(registry.host, proxy.host)
        document = resource(
            "killed",
            buildType="PackageList",
            builderImage=held_base,
            packageVersions=["six==1.16.0"],
        )
        a, b = servers
        status, _, _ = a.request("POST", "/runtime-images/builds", document)
        assert status == 201
        log = wait_for(
            lambda: "Reading the base image" in log_of(env, "killed") and log_of(env, "killed")
        )
        claimer_pid = runner_pid(log)
        claimer, survivor = (a, b) if claimer_pid == a.process.pid else (b, a)
        os.kill(claimer_pid, signal.SIGKILL)  # no clean shutdown at all
        claimer.process.wait()
        proxy.release()

        def ended() -> dict[str, Any] | None:
            _, _, build = survivor.request("GET", "/runtime-images/builds/killed")
            return build if build["status"]["phase"] in ("Ready", "Failed") else None

        build = wait_for(ended, timeout=180)
    assert build["status"]["phase"] == "Ready", build["status"]
    log = log_of(env, "killed")
    assert f"Taken over from process {claimer_pid}" in log, log
    assert runner_pid(log) == survivor.process.pid
    assert log.count("Ready=True") == 1, log
    # The survivor's configuration decided where the image went.
    survivor_pushes = survivor is b
    assert build["status"]["image"].startswith(
        f"{registry.host}/built-b/" if survivor_pushes else "localhost/"
    )
