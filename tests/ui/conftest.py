"""Real-browser tests: a real `jupyter lab` (started here) driven by Debian's chromium.

Every server runs with temporary HOME / JUPYTER_* directories on a free loopback port
with a token, and is always terminated and waited for. The browser is Debian's
`/usr/bin/chromium` (never a downloaded one), driven by Playwright for Python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port, stop_process

CHROMIUM = os.environ.get("RUNTIME_IMAGES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
TOKEN = "runtime-images-ui-test-token"

if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
    pytest.skip(
        f"{CHROMIUM} not found: apt-get install -y chromium fonts-dejavu-core",
        allow_module_level=True,
    )

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """Replace pytest-jupyter's loop fixture: these tests are synchronous, and
    Playwright's sync API runs its own event loop that must not be closed here."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """No in-process Jupyter server here (the servers are subprocesses)."""
    yield None


@dataclass
class LabServer:
    """A running `jupyter lab` and its directories."""

    url: str
    token: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> Path:
        path = self.data_dir / "metadata" / "runtime-images"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def lab_url(self, path: str = "lab") -> str:
        return f"{self.url}{path}?token={self.token}&reset"

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """``method runtime-images/{path}`` with the token (and ``body`` as JSON): the status
        and the parsed answer (an error status raises ``HTTPError``)."""
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            f"{self.url}runtime-images/{path}", data=data, method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")

    def api(self, path: str) -> Any:
        return self.request("GET", path)[1]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_lab(
    tmp: Path,
    name: str,
    extra_args: list[str] | None = None,
    server_config: dict[str, Any] | None = None,
    page_config: dict[str, Any] | None = None,
) -> LabServer:
    home = tmp / "home"
    dirs = {
        "HOME": home,
        "JUPYTER_DATA_DIR": tmp / "data",
        "JUPYTER_CONFIG_DIR": tmp / "config",
        "JUPYTER_RUNTIME_DIR": tmp / "runtime",
    }
    for path in [*dirs.values(), tmp / "root"]:
        path.mkdir(parents=True, exist_ok=True)
    # No "Jupyter news" pop-up, no update check.
    labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps(
            {
                "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True},
                **(page_config or {}),
            }
        )
    )
    if server_config:
        (dirs["JUPYTER_CONFIG_DIR"] / "jupyter_server_config.json").write_text(
            json.dumps(server_config)
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update({k: str(v) for k, v in dirs.items()})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={tmp / 'root'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *(extra_args or []),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    OUTPUT.mkdir(exist_ok=True)
    log_path = OUTPUT / f"jupyter-lab-{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    url = f"http://127.0.0.1:{port}/"
    server = LabServer(url, TOKEN, dirs["JUPYTER_DATA_DIR"], env, process, log_path)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            log.close()
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{url}api/status?token={TOKEN}", timeout=2):
                break
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                stop_lab(server)
                raise RuntimeError(f"jupyter lab did not start:\n{server.log()}") from None
            time.sleep(0.25)
    log.close()
    return server


def stop_lab(server: LabServer) -> None:
    stop_process(server.process)


@pytest.fixture(scope="module")
def lab_options() -> dict[str, Any]:
    """Override in a test module to start its server differently."""
    return {}


@pytest.fixture(scope="module")
def lab(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    lab_options: dict[str, Any],
) -> Iterator[LabServer]:
    tmp = tmp_path_factory.mktemp("lab")
    setup = lab_options.get("setup")
    if setup:
        setup(tmp / "data")
    server = start_lab(
        tmp,
        request.module.__name__.rsplit(".", 1)[-1],
        server_config=lab_options.get("server_config"),
        page_config=lab_options.get("page_config"),
    )
    try:
        yield server
    finally:
        stop_lab(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleLog:
    """Browser console errors and uncaught page errors.

    Chromium logs every 4xx answer of a fetch as a console error ("Failed to load
    resource"). The tests provoke exactly three on purpose on the runtime-images API (a
    field error only the server finds, 400; a name conflict, 409; a stale edit, 412):
    those are kept apart in `expected`; anything else is an error.
    """

    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    missing_routes: list[str] = field(default_factory=list)

    COMPANION_ROUTES = ("/runtime-images/vulns/summary", "/runtime-images/updates")
    """Routes the panel asks once after the list, for its badges: a server without the
    vulnerability or watch features (before they merge) answers 404 and is not asked
    again; those answers are kept apart in `missing_routes`."""

    EXPECTED_STATUSES = (
        "status of 400 (Bad Request)",
        "status of 409 (Conflict)",
        "status of 412 (Precondition Failed)",
    )

    def attach(self, page: Any) -> None:
        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            text = f"console.error: {message.text} @ {message.location}"
            url = str(message.location.get("url", ""))
            failed_load = message.text.startswith("Failed to load resource")
            if (
                failed_load
                and any(status in message.text for status in self.EXPECTED_STATUSES)
                and "/runtime-images/images" in url
            ):
                self.expected.append(text)
            elif (
                failed_load
                and "status of 404" in message.text
                and any(url.split("?")[0].endswith(r) for r in self.COMPANION_ROUTES)
            ):
                self.missing_routes.append(text)
            else:
                self.errors.append(text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))


@pytest.fixture(scope="module")
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture(scope="module")
def page(browser: Any, lab: LabServer, console: ConsoleLog) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    console.attach(page)
    page.goto(lab.lab_url())
    page.wait_for_selector("#jp-main-dock-panel", state="visible", timeout=60_000)
    page.wait_for_selector(".jp-LauncherCard, .jp-Launcher", timeout=60_000)
    try:
        yield page
    finally:
        context.close()


def copy_artifact(path: Path, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    target = OUTPUT / name
    shutil.copyfile(path, target)
    return target


@pytest.fixture(autouse=True)
def timing(request: pytest.FixtureRequest) -> Iterator[None]:
    """Record each test's duration in its module's ``TIMINGS``, when it keeps one."""
    start = time.monotonic()
    yield
    timings = getattr(request.module, "TIMINGS", None)
    if timings is not None:
        timings[request.node.name] = round(time.monotonic() - start, 2)
