"""Fixtures of the build tests: the layer build harness on a base image in a real registry
(the registries themselves come from tests/fixtures/plugin.py, as everywhere)."""

from tests.builds.test_layer_builds import base, builder  # noqa: F401
