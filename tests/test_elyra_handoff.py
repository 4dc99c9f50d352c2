"""Hand-off with a real Elyra 4.x: both products see each other's runtime images.

Elyra (``elyra-server==4.1.1``) pulls in jupyter-ai, kfp and dozens of pins that conflict
with the test environment, so it lives in its own virtual environment, ``.venv-elyra/`` at
the repository root (git-ignored). The ``elyra_metadata`` fixture creates it once, the first
time these tests run, and reuses it afterwards (about 2 minutes to create on the
development machine). Its ``elyra-metadata`` CLI then runs as a subprocess on the same
``JUPYTER_DATA_DIR`` as this product's CLI and store.

``RUNTIME_IMAGES_ELYRA_TESTS=0`` skips these tests, saying so in the report (for a machine
without access to a package index); otherwise a failure to create the environment fails
the tests — they are never skipped silently. See docs/elyra.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runtime_images.store import RuntimeImageStore

from .support import run_cli, store_dir

ELYRA_VERSION = "4.1.1"
ELYRA_VENV = Path(__file__).parents[1] / ".venv-elyra"
PINNED = (
    "quay.io/acme/pipeline:1.0@sha256:"
    "4c1e997385b8fb4ad4d1d3c7e5af7ff3f882e4a8e5b6f7bd61d8c3b2f1e0a9d8"
)

pytestmark = [
    pytest.mark.timeout(1200),
    pytest.mark.skipif(
        os.environ.get("RUNTIME_IMAGES_ELYRA_TESTS") == "0",
        reason="RUNTIME_IMAGES_ELYRA_TESTS=0: the Elyra hand-off tests were turned off",
    ),
]


def _installed_version(venv: Path) -> str | None:
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    result = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('elyra-server'))"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result.stdout.strip() if result.returncode == 0 else None


@pytest.fixture(scope="session")
def elyra_metadata() -> Path:
    """``.venv-elyra/bin/elyra-metadata`` of elyra-server 4.1.1, creating the venv if needed."""
    if _installed_version(ELYRA_VENV) != ELYRA_VERSION:
        started = time.monotonic()
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(ELYRA_VENV)],
            [str(ELYRA_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"],
            [
                str(ELYRA_VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                f"elyra-server=={ELYRA_VERSION}",
            ],
        ]
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True, check=False, timeout=1100)
            if result.returncode != 0:
                pytest.fail(
                    f"Creating {ELYRA_VENV} failed ({' '.join(step)}):\n{result.stderr[-3000:]}\n"
                    "Set RUNTIME_IMAGES_ELYRA_TESTS=0 to turn these tests off (docs/elyra.md)."
                )
        print(f"created {ELYRA_VENV} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return ELYRA_VENV / "bin" / "elyra-metadata"


def elyra(env: dict[str, str], executable: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Elyra's own environment, not this one's: drop this venv from PATH.
    elyra_env = {**env, "PATH": f"{executable.parent}:/usr/local/bin:/usr/bin:/bin"}
    elyra_env.pop("VIRTUAL_ENV", None)
    elyra_env.pop("ELYRA_METADATA_PATH", None)
    return subprocess.run(
        [str(executable), *args],
        env=elyra_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def elyra_list(env: dict[str, str], executable: Path) -> dict[str, dict[str, Any]]:
    result = elyra(env, executable, "list", "runtime-images", "--json")
    assert result.returncode == 0, result.stderr
    return {item["name"]: item for item in json.loads(result.stdout)}


def our_list(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    result = run_cli(env, "list", "--json")
    assert result.returncode == 0, result.stderr
    return {item["name"]: item for item in json.loads(result.stdout)}


def test_elyra_lists_the_images_created_here(
    elyra_metadata: Path, isolated_env: dict[str, str]
) -> None:
    data_dir = Path(isolated_env["JUPYTER_DATA_DIR"])
    # Given: one image from our CLI (every field), one from our store, pinned
    created = run_cli(
        isolated_env,
        "create",
        "--name",
        "from_cli",
        "--display_name",
        "From our CLI",
        "--image_name",
        "quay.io/acme/cli:2.0",
        "--description",
        "Made by jupyter runtime-images",
        "--tags",
        "gpu,pytorch",
        "--pull_policy",
        "IfNotPresent",
        "--pull_secret",
        "acme-pull",
    )
    assert created.returncode == 0, created.stderr
    store = RuntimeImageStore(data_dir=str(data_dir), shared_data_dirs=[], factory_data_dirs=[])
    store.create(
        {
            "display_name": "From our store (pinned)",
            "schema_name": "runtime-image",
            "metadata": {"image_name": PINNED, "tags": ["pinned"]},
        }
    )
    mine = our_list(isolated_env)

    # When
    listed = elyra_list(isolated_env, elyra_metadata)

    # Then: the same names, display names and metadata, read from our files
    for name in ("from_cli", "from_our_store_pinned"):
        assert name in listed, sorted(listed)
        assert listed[name]["display_name"] == mine[name]["display_name"]
        assert listed[name]["metadata"] == mine[name]["metadata"]
        assert listed[name]["schema_name"] == "runtime-image"
        assert Path(listed[name]["resource"]) == store_dir(data_dir) / f"{name}.json"
    assert listed["from_cli"]["metadata"] == {
        "image_name": "quay.io/acme/cli:2.0",
        "description": "Made by jupyter runtime-images",
        "tags": ["gpu", "pytorch"],
        "pull_policy": "IfNotPresent",
        "pull_secret": "acme-pull",
    }

    # An edit made here is what Elyra reads next.
    assert (
        run_cli(isolated_env, "update", "--name", "from_cli", "--image_name", PINNED).returncode
        == 0
    )
    assert elyra_list(isolated_env, elyra_metadata)["from_cli"]["metadata"]["image_name"] == PINNED


def test_the_images_elyra_creates_are_listed_here(
    elyra_metadata: Path, isolated_env: dict[str, str]
) -> None:
    # Given
    made = elyra(
        isolated_env,
        elyra_metadata,
        "create",
        "runtime-images",
        "--name",
        "elyra_made",
        "--display_name",
        "Made by Elyra",
        "--image_name",
        "quay.io/elyra/made:1.0",
        "--description",
        "Created with elyra-metadata",
        "--tags",
        "a,b",
        "--pull_policy",
        "Always",
    )
    assert made.returncode == 0, made.stderr
    theirs = elyra_list(isolated_env, elyra_metadata)["elyra_made"]

    # When
    mine = our_list(isolated_env)

    # Then
    assert "elyra_made" in mine
    assert mine["elyra_made"]["display_name"] == "Made by Elyra" == theirs["display_name"]
    assert mine["elyra_made"]["metadata"] == theirs["metadata"]
    assert mine["elyra_made"]["metadata"] == {
        "image_name": "quay.io/elyra/made:1.0",
        "description": "Created with elyra-metadata",
        "tags": ["a", "b"],
        "pull_policy": "Always",
    }
    assert mine["elyra_made"]["origin"] == "user"

    # An Elyra update is seen here; our update is seen there; Elyra removes what we made.
    updated = elyra(
        isolated_env,
        elyra_metadata,
        "update",
        "runtime-images",
        "--name",
        "elyra_made",
        "--image_name",
        "quay.io/elyra/made:1.1",
    )
    assert updated.returncode == 0, updated.stderr
    assert (
        our_list(isolated_env)["elyra_made"]["metadata"]["image_name"] == "quay.io/elyra/made:1.1"
    )
    assert run_cli(isolated_env, "duplicate", "--name", "elyra_made").returncode == 0
    copy = next(n for n, i in our_list(isolated_env).items() if "(copy)" in i["display_name"])
    removed = elyra(isolated_env, elyra_metadata, "remove", "runtime-images", "--name", copy)
    assert removed.returncode == 0, removed.stderr
    assert copy not in our_list(isolated_env)
