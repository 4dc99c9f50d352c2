"""A build's inputs never run code on the host, never read host files, and are bounded.

Every input here was made to write a marker file when its code runs (a setup.py, an in-tree
build backend) or points at a host file; each build must end ``Failed`` with a reason a
person can act on, with no marker written and nothing of the host file in the status or log.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.registry import RegistryServer

from .test_layer_builds import BuildHarness, git_build, git_repository, inspect, package_list

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """Where hostile code writes when it runs; it must never exist."""
    return tmp_path / "code-ran-on-the-host"


def hostile_project(directory: Path, marker: Path, name: str = "evil") -> Path:
    """A source tree whose setup.py writes ``marker`` when anyone builds it."""
    directory.mkdir(parents=True)
    (directory / "setup.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        f"from setuptools import setup\nsetup(name={name!r}, version='1.0')\n"
    )
    return directory


def failed(build: dict[str, Any]) -> tuple[str, str]:
    assert build["status"]["phase"] == "Failed", build["status"]
    latest = build["status"]["conditions"][-1]
    return latest["reason"], latest["message"]


def refused_before_running(build: dict[str, Any], marker: Path) -> str:
    """The message of a build that failed as RequiresBuild with nothing of the hostile
    input run on the host (its marker file was never written)."""
    reason, message = failed(build)
    assert reason == "RequiresBuild"
    assert not marker.exists()
    return message


@pytest.mark.parametrize(
    "requirement",
    ["{path}", "evil @ file://{path}", "evil @ git+file://{path}", "--index-url=http://x/"],
)
async def test_a_package_list_entry_that_needs_a_build_is_refused(
    builder: BuildHarness, base: str, tmp_path: Path, marker: Path, requirement: str
) -> None:
    project = hostile_project(tmp_path / "evil", marker)
    build = await builder.run(package_list("direct", base, requirement.format(path=project)))
    assert "buildah" in refused_before_running(build, marker)


@pytest.fixture
def index_with_a_hostile_dependency(tmp_path: Path, marker: Path) -> Path:
    """A directory of wheels (a site's own index) with ``good``, whose Requires-Dist is a
    local source tree that writes ``marker`` when it is built."""
    hostile_project(tmp_path / "evil", marker)
    good = tmp_path / "good"
    (good / "good").mkdir(parents=True)
    (good / "good" / "__init__.py").write_text("")
    (good / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.2"]\nbuild-backend = "flit_core.buildapi"\n'
        '[project]\nname = "good"\nversion = "1.0"\ndescription = "d"\n'
        f'dependencies = ["evil @ file://{tmp_path / "evil"}"]\n'
    )
    wheels = tmp_path / "index"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(good)],
        check=True,
        capture_output=True,
    )
    return wheels


async def test_a_dependency_that_is_a_source_tree_is_refused(
    builder: BuildHarness,
    base: str,
    marker: Path,
    index_with_a_hostile_dependency: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--only-binary=:all:`` does not stop this one: a wheel from the index whose
    Requires-Dist names a local directory made pip run that directory's setup.py."""
    monkeypatch.setenv("PIP_FIND_LINKS", str(index_with_a_hostile_dependency))
    build = await builder.run(package_list("transitive", base, "good==1.0"))
    assert "evil" in refused_before_running(build, marker)


async def test_a_repository_with_an_in_tree_build_backend_is_not_built_on_the_host(
    builder: BuildHarness, base: str, tmp_path: Path, marker: Path
) -> None:
    url = git_repository(
        tmp_path / "repo",
        {
            "pyproject.toml": (
                '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
                'backend-path = ["."]\n[project]\nname = "x"\nversion = "1"\n'
            ),
            "backend.py": f"open({str(marker)!r}, 'w').write('ran')\n",
        },
    )
    build = await builder.run(git_build("in-tree", url, base))
    assert "pyproject.toml" in refused_before_running(build, marker)


async def test_a_requirements_line_with_a_direct_reference_is_refused(
    builder: BuildHarness, base: str, tmp_path: Path, marker: Path
) -> None:
    project = hostile_project(tmp_path / "evil", marker)
    url = git_repository(tmp_path / "repo", {"requirements.txt": f"evil @ file://{project}\n"})
    build = await builder.run(git_build("direct-line", url, base))
    assert failed(build)[0] == "RequiresBuild"
    assert not marker.exists()


@pytest.mark.parametrize("file", ["requirements.txt", "runtime.txt", "Pipfile", "binder"])
async def test_environment_files_that_link_out_of_the_repository_are_not_read(
    builder: BuildHarness, base: str, tmp_path: Path, file: str
) -> None:
    secret = tmp_path / "host-secret"
    secret.mkdir()
    (secret / "requirements.txt").write_text("root:supersecret-hash:0:0\n")
    target = secret if file == "binder" else secret / "requirements.txt"
    url = git_repository(tmp_path / "repo", {"README.md": "x\n"}, links={file: target})
    build = await builder.run(git_build("linked", url, base))
    reason, message = failed(build)
    assert "symbolic link that leaves the repository" in message, message
    assert "supersecret" not in json.dumps(build)
    assert "supersecret" not in builder.controller.read_log("linked")
    assert reason == "BuildFailed"


def wheel_with_scripts(directory: Path, name: str, scripts: dict[str, bytes]) -> Path:
    """A wheel of ``name`` 1.0 whose ``.data/scripts`` are ``scripts``, written by hand (as
    anyone publishing to an index can): pip copies such scripts as they are."""
    directory.mkdir(parents=True, exist_ok=True)
    dist_info = f"{name}-1.0.dist-info"
    files = {
        f"{name}/__init__.py": b"",
        **{f"{name}-1.0.data/scripts/{script}": data for script, data in scripts.items()},
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{dist_info}/RECORD,,\n"
    wheel = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in {**files, f"{dist_info}/RECORD": record.encode()}.items():
            info = zipfile.ZipInfo(path)
            info.external_attr = 0o100755 << 16
            archive.writestr(info, data)
    return wheel


async def test_a_script_whose_first_line_backtracks_does_not_stall_the_build(
    builder: BuildHarness, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shebang pattern had three overlapping quantifiers after ``.*``: a 48 KB first
    line with ``python`` repeated and no newline took hours to refuse (cubic: 4 KB took
    3.5 s), holding the build. It is linear now; an ordinary ``#!python`` script is still
    pointed at the image's interpreter."""
    hostile = b"#!/bin/sh " + b"python" * 8_000
    wheel = wheel_with_scripts(
        tmp_path / "wheels", "slowscript", {"slow": hostile, "plain": b"#!python\nprint(1)\n"}
    )
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheel.parent))
    started = time.monotonic()
    build = await asyncio.wait_for(builder.run(package_list("slow", base, "slowscript==1.0")), 120)
    assert build["status"]["phase"] == "Ready", build["status"]["conditions"]
    assert time.monotonic() - started < 120
    view = await inspect(build["status"]["image"])
    assert (view.fs.read("/usr/local/bin/slow") or b"").startswith(b"#!/bin/sh python")
    assert view.fs.read("/usr/local/bin/plain") == b"#!/usr/bin/python3\nprint(1)\n"


@pytest.fixture
def limited_builder(
    tmp_path: Path,
    isolated_home: Path,
    registry: RegistryServer,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[BuildHarness]:
    harness = BuildHarness(
        tmp_path,
        target=f"{registry.host}/built",
        clone_timeout=3.0,
        max_repository_bytes=1_000_000,
    )
    yield from harness.running(jp_asyncio_loop)


class TricklingGitServer:
    """An HTTP server that answers git's first request one byte every two seconds."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/repo.git"
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-"
                    b"advertisement\r\nContent-Length: 100000\r\n\r\n"
                )
                while not self._stop.wait(2):
                    connection.sendall(b"0")
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


async def test_a_clone_that_trickles_is_cut_off_at_the_deadline(
    limited_builder: BuildHarness, base: str
) -> None:
    server = TricklingGitServer()
    try:
        started = time.monotonic()
        build = await limited_builder.run(git_build("trickle", server.url, base))
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert "ImageBuilder.clone_timeout" in failed(build)[1]
    assert elapsed < 15


async def test_a_repository_over_the_size_limit_is_stopped(
    limited_builder: BuildHarness, base: str, tmp_path: Path
) -> None:
    # 3 MB of hex text: git compresses it to about half, still over the 1 MB limit.
    url = git_repository(tmp_path / "big", {"blob.txt": os.urandom(1_500_000).hex()})
    build = await limited_builder.run(git_build("big", url, base))
    assert "ImageBuilder.max_repository_bytes" in failed(build)[1]


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("Pipfile.lock", '{"default": ["six"]}', "Pipfile.lock"),
        ("Pipfile", 'packages = "six"\n', "Pipfile"),
        ("Pipfile", "a = " + "[" * 5_000 + "]" * 5_000 + "\n", "Pipfile"),
        ("pyproject.toml", "a = " + "{b = " * 5_000 + "1" + "}" * 5_000 + "\n", "pyproject"),
    ],
    ids=["lock-default-a-list", "packages-a-string", "toml-too-deep", "toml-inline-too-deep"],
)
async def test_environment_files_of_the_wrong_shape_fail_the_build_naming_the_file(
    builder: BuildHarness, base: str, tmp_path: Path, file: str, content: str, message: str
) -> None:
    """A section that is not a table (``AttributeError``) and TOML nested past the
    recursion limit (``RecursionError``, which tomllib does not turn into its own error)
    escaped the repository reader; each is now the file named in the build's failure."""
    url = git_repository(tmp_path / "repo", {file: content})
    build = await builder.run(git_build("odd-shape", url, base))
    reason, text = failed(build)
    assert reason == "BuildFailed" and message in text, text
