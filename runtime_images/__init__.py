"""jupyter-runtime-images: manage the container images notebooks, kernels and pipelines run in."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    # The prebuilt JupyterLab extension (built from labextension/ into this package).
    return [{"src": "labextension", "dest": "jupyter-runtime-images"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    # Imported here so that `import runtime_images` (the CLI, the client) stays light.
    from .app import RuntimeImages

    return [{"module": "runtime_images.app", "app": RuntimeImages}]
