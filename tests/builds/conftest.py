"""Fixtures of the build tests: real registries (tests/fixtures/plugin.py) and the layer
build harness."""

from tests.builds.test_layer_builds import base, builder  # noqa: F401
from tests.fixtures.plugin import (  # noqa: F401
    basic_registry,
    isolated_home,
    own_registry,
    registry,
    repo_name,
    token_registry,
)
