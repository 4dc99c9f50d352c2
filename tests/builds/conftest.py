"""Fixtures of the build tests: real registries (tests/fixtures/plugin.py), the layer
build harness, and an isolated environment for CLI and server subprocesses."""

import json
from pathlib import Path

import pytest

from tests.builds.test_layer_builds import base, builder  # noqa: F401
from tests.fixtures.plugin import (  # noqa: F401
    basic_registry,
    isolated_home,
    own_registry,
    registry,
    repo_name,
    token_registry,
)


@pytest.fixture
def env(isolated_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The isolated environment, with builds and registry settings in the shared config."""
    config_file = Path(isolated_env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json"
    config = json.loads(config_file.read_text())
    config["RegistryClient"] = {"auth_file": str(tmp_path / "none.json"), "retries": 0}
    config["BuildController"] = {"poll_interval": 0.2}
    config_file.write_text(json.dumps(config))
    return isolated_env
