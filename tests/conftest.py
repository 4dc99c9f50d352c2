"""Shared fixtures: a Jupyter server with the extension, on temporary Jupyter directories.

pytest-jupyter points JUPYTER_DATA_DIR, the system path and the env path at temporary
directories, so the store's user, shared and factory levels never touch real files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Real registries and their fixtures (tests/fixtures/plugin.py), for every test directory.
pytest_plugins = ("pytest_jupyter.jupyter_server", "tests.fixtures.plugin")

from .support import RunningServer, store_dir


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {
            # jupyter_server_terminals has a websocket route without @ws_authenticated,
            # which fails to load under allow_unauthenticated_access=False: leave it out.
            "jpserver_extensions": {"runtime_images": True, "jupyter_server_terminals": False},
            # Test against a server which requires authentication on all endpoints.
            "allow_unauthenticated_access": False,
        }
    }


@pytest.fixture
def user_dir(jp_data_dir: Path) -> Path:
    return store_dir(jp_data_dir)


@pytest.fixture
def shared_dir(jp_system_jupyter_path: Path) -> Path:
    return store_dir(jp_system_jupyter_path)


@pytest.fixture
def factory_dir(jp_env_jupyter_path: Path) -> Path:
    return store_dir(jp_env_jupyter_path)


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Environment for subprocesses: every Jupyter directory in tmp_path."""
    env = dict(os.environ)
    home = tmp_path / "home"
    home.mkdir()
    env.update(
        HOME=str(home),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        JUPYTER_NO_CONFIG="",
        DOCKER_CONFIG=str(tmp_path / "docker"),
        REGISTRY_AUTH_FILE=str(tmp_path / "auth.json"),
    )
    # The server and the CLI read the same configuration file: keep every store level
    # inside tmp_path (the machine's shared and factory directories are not looked at).
    from runtime_images.store import PACKAGED_FACTORY_DIR

    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "RuntimeImageStore": {
                    "shared_data_dirs": [str(tmp_path / "shared")],
                    "factory_data_dirs": [str(tmp_path / "factory"), PACKAGED_FACTORY_DIR],
                }
            }
        )
    )
    return env


@pytest.fixture
def env(isolated_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The isolated environment, with registry and build settings for tests in the shared
    configuration file: no credentials, no registry retries, builds picked up at once."""
    config_file = Path(isolated_env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json"
    config = json.loads(config_file.read_text())
    config["RegistryClient"] = {"auth_file": str(tmp_path / "none.json"), "retries": 0}
    config["BuildController"] = {"poll_interval": 0.2}
    config_file.write_text(json.dumps(config))
    return isolated_env


@pytest.fixture
def running_server(env: dict[str, str], tmp_path: Path) -> Iterator[RunningServer]:
    """A real ``jupyter server`` on the environment of :func:`env`."""
    server = RunningServer(env, tmp_path)
    try:
        yield server
    finally:
        server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API leaves an asyncio loop running in the
    main thread, and pytest-jupyter's loop cannot be closed in a test after them."""
    ui = Path(__file__).parent / "ui"
    items.sort(key=lambda item: Path(str(item.path)).is_relative_to(ui))
