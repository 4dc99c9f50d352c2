"""The fixture most contents tests start from: an image pushed and its contents read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contents.support import ContentsOf, push, read
from tests.fixtures import oci
from tests.fixtures.registry import RegistryServer


@pytest.fixture
def contents_of(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> ContentsOf:
    """Push an image to this test's repository and read its contents in-process, through
    one cache of this test's (no real credentials file is read)."""

    def push_and_read(image: oci.Image, tag: str = "1") -> dict[str, Any]:
        return read(push(registry, repo_name, image, tag), tmp_path / "cache")

    return push_and_read
