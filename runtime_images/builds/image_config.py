"""The config and manifest of an image built here, and the labels that say how it was made.

A built image keeps its base's config (user, working directory, entrypoint…) with the new
layers' ``diff_ids`` and history appended, the scripts directory on ``PATH``, and labels
(``io.jupyter.runtime-images.inputs`` / ``.lock`` / ``.detected``) recording its inputs, so
the same inputs give the same digest and anyone can tell what an image was built from.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..reference import Reference
from ..registry import ResolvedImage
from ..registry.layout import OCI_CONFIG, OCI_MANIFEST, Layout, canonical_json, oci_layer_type
from ..registry.manifest import OCI_INDEX, Descriptor, Platform
from .engine import BuildContext
from .layers import LayerBlob
from .repository import DetectedEnvironment

__all__ = [
    "DEFAULT_PATH",
    "LABEL_PREFIX",
    "assemble",
    "assemble_index",
    "build_inputs",
    "path_dirs",
    "with_on_path",
]

LABEL_PREFIX = "io.jupyter.runtime-images"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # as runtimes set
_LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def build_inputs(build: BuildContext, base: str | None) -> dict[str, Any]:
    """What a build was made from: the ``io.jupyter.runtime-images.inputs`` label."""
    inputs: dict[str, Any] = {"buildType": build.spec["buildType"]}
    if base is not None:
        inputs["base"] = base
    for key in ("packageVersions", "repositoryUrl", "gitRef"):
        if key in build.spec:
            inputs[key] = build.spec[key]
    if "commit" in build.status:
        inputs["commit"] = build.status["commit"]
    return inputs


def with_on_path(env: list[str], directory: str) -> list[str]:
    """``env`` (``KEY=value`` entries) with ``directory`` on PATH: console scripts installed
    there must be found (it is appended, so the base's own commands keep precedence)."""
    for index, entry in enumerate(env):
        if entry.startswith("PATH="):
            if directory in entry[len("PATH=") :].split(":"):
                return env
            env[index] = f"{entry}:{directory}"
            return env
    return [*env, f"PATH={DEFAULT_PATH}:{directory}"]


def path_dirs(config: dict[str, Any]) -> list[str]:
    """The PATH of an image config (Docker's default when it sets none)."""
    for entry in (config.get("config") or {}).get("Env") or []:
        if isinstance(entry, str) and entry.startswith("PATH="):
            return entry[len("PATH=") :].split(":")
    return DEFAULT_PATH.split(":")


def assemble(
    layout: Layout,
    base: ResolvedImage,
    blobs: list[LayerBlob],
    build: BuildContext,
    base_reference: Reference,
    lock: list[str],
    detected: DetectedEnvironment | None,
    bin_dir: str,
) -> tuple[Descriptor, dict[str, Any]]:
    """Write the built image's config and manifest to the layout; the manifest's descriptor
    and the config."""
    config = copy.deepcopy(base.config)
    config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    config["rootfs"]["diff_ids"] = [
        *config["rootfs"].get("diff_ids", []),
        *(b.diff_id for b in blobs),
    ]
    history = list(config.get("history", []))
    for blob in blobs:
        history.append(
            {
                "created": config.get("created", "1970-01-01T00:00:00Z"),
                "created_by": f"jupyter-runtime-images {build.spec['buildType']}",
                "comment": f"layer {blob.digest}",
            }
        )
    config["history"] = history
    inner = config.setdefault("config", {})
    inner["Env"] = with_on_path(list(inner.get("Env") or []), bin_dir)
    labels = dict(inner.get("Labels") or {})
    labels[f"{LABEL_PREFIX}.inputs"] = json.dumps(
        build_inputs(build, str(base_reference)), sort_keys=True
    )
    labels[f"{LABEL_PREFIX}.lock"] = "\n".join(lock)
    if detected is not None:
        labels[f"{LABEL_PREFIX}.detected"] = json.dumps(detected.to_json(), sort_keys=True)
    inner["Labels"] = labels
    config_descriptor = layout.add_bytes(canonical_json(config), OCI_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_descriptor.to_json(),
        "layers": [
            {
                "mediaType": oci_layer_type(layer.media_type),
                "digest": layer.digest,
                "size": layer.size,
            }
            for layer in base.manifest.layers
        ]
        + [{"mediaType": _LAYER_TYPE, "digest": b.digest, "size": b.size} for b in blobs],
    }
    return layout.add_bytes(canonical_json(manifest), OCI_MANIFEST), config


def assemble_index(layout: Layout, images: list[tuple[Descriptor, Platform]]) -> Descriptor:
    """Write the image index of a multi-platform build (each platform's manifest, in the
    order built) to the layout; its descriptor."""
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": manifest.media_type,
                "digest": manifest.digest,
                "size": manifest.size,
                "platform": {
                    "os": platform.os,
                    "architecture": platform.architecture,
                    **({"variant": platform.variant} if platform.variant else {}),
                },
            }
            for manifest, platform in images
        ],
    }
    return layout.add_bytes(canonical_json(index), OCI_INDEX)
