"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tornado.httpclient import HTTPResponse

VALID_IMAGE = {
    "display_name": "My Image 1",
    "schema_name": "runtime-image",
    "metadata": {"image_name": "quay.io/jdoe/img:1.0", "tags": ["a", "b"]},
}

Fetch = Callable[..., Awaitable["HTTPResponse"]]
"""pytest-jupyter's ``jp_fetch``."""


def store_dir(base: Path) -> Path:
    return base / "metadata" / "runtime-images"


def write_instance(directory: Path, name: str, document: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """A real ``jupyter server`` subprocess with the extension, on a free loopback port."""

    def __init__(self, env: dict[str, str], root: Path, *options: str) -> None:
        self.port = free_port()
        self.token = "test-token-" + os.urandom(8).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(root / f"server-{self.port}.log", "wb")  # noqa: SIM115
        self.log_path = Path(log.name)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.port_retries=0",
                "--ServerApp.allow_root=True",
                *options,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log_path.read_text())
            try:
                self.request("GET", "/runtime-images/schema")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start:\n" + self.log_path.read_text())

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status, response_headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            raw = error.read()
            status, response_headers = error.code, dict(error.headers)
        return status, response_headers, json.loads(raw) if raw.strip() else None

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    """Stop a server the tests started: ask it to terminate, and kill it if it has not
    exited within ``timeout`` seconds (it is always waited for, so no zombie is left)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


JUPYTER = str(Path(sys.executable).parent / "jupyter")


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``jupyter runtime-images ARGS`` as a user would, in a real subprocess."""
    return subprocess.run(
        [JUPYTER, "runtime-images", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=stdin,
    )


# A process forked from pytest inherits its peak RSS (hundreds of MB) in ru_maxrss, even
# across exec; a fresh interpreter forking the command gives the command's own peak.
_MEASURE = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"code": os.waitstatus_to_exitcode(status), "kb": usage.ru_maxrss}, out)
"""


def peak_rss(
    command: list[str], env: dict[str, str], workdir: Path, timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``command``; return how it ended and its peak resident memory in MB."""
    result_file = workdir / f"rss-{os.getpid()}-{time.monotonic_ns()}.json"
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(result_file), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    measured = json.loads(result_file.read_text())
    completed.returncode = measured["code"]
    return completed, measured["kb"] / 1024


def strict_json(text: str) -> Any:
    """Parse JSON as a browser's ``JSON.parse`` does: no ``NaN`` or ``Infinity``."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"the answer is not standard JSON: it contains {name}")

    return json.loads(text, parse_constant=refuse)


def server_config(
    base: dict[str, Any], tmp_path: Path, **sections: dict[str, Any]
) -> dict[str, Any]:
    """pytest-jupyter's ``jp_server_config`` with a registry client that reads no credentials
    and never retries (a test must not wait on a retry), builds and export facts kept in
    ``tmp_path``, and the test's own ``sections`` (merged into those, trait by trait)."""
    config: dict[str, dict[str, Any]] = {
        "RegistryClient": {"auth_file": str(tmp_path / "none.json"), "retries": 0},
        "BuildController": {"builds_dir": str(tmp_path / "builds")},
        "ImageExporter": {"facts_dir": str(tmp_path / "facts")},
    }
    for section, traits in sections.items():
        config[section] = {**config.get(section, {}), **traits}
    return {**base, **config}


async def rest(fetch: Any, method: str, *parts: str, body: Any = None, **kwargs: Any) -> Any:
    """A request to ``runtime-images/<parts>`` with pytest-jupyter's ``jp_fetch``: (status,
    headers, body parsed as strict JSON when it is JSON, else text), errors included."""
    from tornado.httpclient import HTTPClientError

    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    kwargs.setdefault("allow_nonstandard_methods", True)  # a POST with no body
    try:
        response = await fetch("runtime-images", *parts, method=method, body=body, **kwargs)
    except HTTPClientError as error:
        response = error.response
        assert response is not None
    text = response.body.decode() if response.body else ""
    content_type = response.headers.get("Content-Type", "")
    parsed = strict_json(text) if text.strip() and "json" in content_type else text or None
    return response.code, response.headers, parsed


async def create_image(
    fetch: Any,
    display_name: str,
    image_name: str,
    *,
    name: str | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """``POST images`` of a runtime image for ``image_name``; the instance the server made
    (its status must be 201)."""
    metadata: dict[str, Any] = {"image_name": image_name}
    if tags is not None:
        metadata["tags"] = tags
    body = {"display_name": display_name, "schema_name": "runtime-image", "metadata": metadata}
    if name is not None:
        body["name"] = name
    status, _, created = await rest(fetch, "POST", "images", body=body)
    assert status == 201, created
    return dict(created)
