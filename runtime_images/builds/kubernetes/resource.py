"""The custom resource as the cluster gets it: the operator's field names, the ODH
annotations, and the labels that say who created it (so that only their own is replaced).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cluster import label_value

OWNER_LABEL = "runtime-images.jupyter.org/owner"
OWNER_ANNOTATION = "runtime-images.jupyter.org/owner"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "jupyter-runtime-images"


# The operator's spec field names, from ours (aliases resolved by model.normalize).
SPEC_FIELDS = {
    "buildType": "buildType",
    "fromImage": "fromImage",
    "builderImage": "baseImage",
    "repositoryUrl": "repository",
    "gitRef": "gitRef",
    "imagePullSecret": "imagePullSecret",
    "runtimeEnvironment": "runtimeEnvironment",
    "packageVersions": "packageVersions",
}


def cluster_resource(
    resource: Mapping[str, Any], api_version: str, kind: str, owner: str
) -> dict[str, Any]:
    """The custom resource to create: the operator's names, annotations, owner label."""
    metadata = resource["metadata"]
    spec = resource["spec"]
    annotations = {
        key: value
        for key, value in (metadata.get("annotations") or {}).items()
        if key.startswith("opendatahub.io/")
    }
    annotations[OWNER_ANNOTATION] = owner
    labels = dict(metadata.get("labels") or {})
    labels[OWNER_LABEL] = label_value(owner)
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": metadata["name"], "labels": labels, "annotations": annotations},
        "spec": {SPEC_FIELDS[key]: value for key, value in spec.items() if key in SPEC_FIELDS},
    }


def is_ours(existing: Mapping[str, Any], owner: str) -> bool:
    """Created by this extension for this user (so it may be replaced)."""
    labels = (existing.get("metadata") or {}).get("labels") or {}
    return bool(
        labels.get(MANAGED_BY_LABEL) == MANAGED_BY and labels.get(OWNER_LABEL) == label_value(owner)
    )
