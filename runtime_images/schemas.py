"""The JSON Schemas and the OpenAPI description, from the top-level ``schemas/`` folder.

``schemas/`` is their one source. A wheel carries it inside the package
(``runtime_images/schemas/``, see pyproject.toml's ``force-include``); an editable install
or a source checkout reads it beside the package.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["schema_path"]

_INSTALLED = Path(__file__).parent / "schemas"
_SOURCE = Path(__file__).parent.parent / "schemas"


def schema_path(name: str) -> Path:
    """The path of ``schemas/<name>`` (e.g. ``runtime-image.json``, ``events/build.yaml``)."""
    installed = _INSTALLED / name
    return installed if installed.exists() else _SOURCE / name
