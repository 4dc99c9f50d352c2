"""Real-registry fixtures (see tests/fixtures/plugin.py)."""

from tests.fixtures.plugin import (  # noqa: F401
    basic_registry,
    hostile_registry,
    isolated_home,
    logged_registry,
    own_registry,
    registry,
    repo_name,
    token_registry,
)
