"""Meteor's operator, read from outside: its status mapped onto ours, and its ImageStreams.

The rows of :func:`mirror_status` follow the operator's controller
(``controllers/cre/controller.go`` of thoth-station/meteor-operator: Tekton ``Succeeded``
→ conditions → ``AggregatePhase``) and correct its known misreports (a succeeded
GitRepository or PackageList PipelineRun aggregated to ``Failed``, M1;
``PipelineRunCreated`` set on a failed create, M7; the first instead of the latest message
shown, M11). docs/kubernetes.md has the table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import model

PIPELINE_CREATE_FAILED = "PipelineCreateFailed"
SOFTWARE_ANNOTATION = "opendatahub.io/notebook-software"
DEPENDENCIES_ANNOTATION = "opendatahub.io/notebook-python-dependencies"


@dataclass(frozen=True)
class Mirror:
    """Our view of the operator's status: phase, the step's reason, the message shown."""

    phase: str
    reason: str
    message: str


def latest_condition(conditions: object) -> Mapping[str, Any] | None:
    """The most recent condition (by ``lastTransitionTime``; the later one on a tie).

    The operator's UI showed ``conditions[0]`` (M11); the latest is what happened last.
    """
    if not isinstance(conditions, list):
        return None
    valid = [c for c in conditions if isinstance(c, Mapping)]
    if not valid:
        return None
    ordered = sorted(
        enumerate(valid), key=lambda ic: (str(ic[1].get("lastTransitionTime", "")), ic[0])
    )
    return ordered[-1][1]


def mirror_status(cluster_resource: Mapping[str, Any], build_type: str) -> Mirror:
    """Map the operator's ``status`` (phase and conditions) onto ours.

    See docs/kubernetes.md for the table; its rows follow the operator's controller
    (Tekton ``Succeeded`` → conditions → ``AggregatePhase``) and correct its misreports.
    """
    status = cluster_resource.get("status") or {}
    raw = [c for c in status.get("conditions") or [] if isinstance(c, Mapping) and c.get("type")]
    conditions = {str(c["type"]): c for c in raw}
    operator_phase = str(status.get("phase") or "")
    latest = latest_condition(raw)
    latest_message = str((latest or {}).get("message") or "")

    def state(type_: str) -> str:
        return str(conditions.get(type_, {}).get("status", ""))

    def message(type_: str, fallback: str) -> str:
        return str(conditions.get(type_, {}).get("message") or fallback)

    # The PipelineRun could not be created (M7: PipelineRunCreated is set all the same).
    if state("ErrorPipelineRunCreate") == "True":
        return Mirror(
            model.FAILED,
            PIPELINE_CREATE_FAILED,
            "The operator could not create the PipelineRun: "
            + message("ErrorPipelineRunCreate", "no reason given")
            + " (check that the operator's Pipelines are installed in the namespace).",
        )
    if state("ImageImportInvalid") == "True":
        return Mirror(
            model.FAILED,
            model.REQUIREMENTS_NOT_MET,
            message("ImageImportInvalid", "The image does not meet the requirements."),
        )
    # The declarative conditions of the operator's PR #168 (Ready, LatestBuildSucceeded).
    if "LatestBuildSucceeded" in conditions:
        if state("LatestBuildSucceeded") == "False":
            return Mirror(
                model.FAILED, model.BUILD_FAILED, message("LatestBuildSucceeded", "Build failed.")
            )
        if state("LatestBuildSucceeded") == "True" and state("Ready") != "False":
            return Mirror(model.READY, "Ready", message("Ready", latest_message))
        return Mirror(model.BUILDING, "InProgress", latest_message or "Building in the cluster.")
    if state("PipelineRunCompleted") == "True":
        completed = message("PipelineRunCompleted", "")
        if state("ImageImportReady") == "False":
            return Mirror(
                model.FAILED,
                model.BUILD_FAILED,
                message("ImageImportReady", "Import failed.")
                + " (The operator does not tell a missing image from missing credentials: "
                "check that the image exists and, if it is private, that its pull secret is "
                "linked to the pipeline's service account.)",
            )
        if state("ErrorBuildingImage") == "True":
            return Mirror(
                model.FAILED,
                model.BUILD_FAILED,
                message("ErrorBuildingImage", "Build failed!")
                + " See the PipelineRun's logs in the cluster for the cause.",
            )
        if state("PackageListBuildCompleted") == "False":
            return Mirror(
                model.FAILED,
                model.BUILD_FAILED,
                message("PackageListBuildCompleted", "Build from Package List failed!")
                + " See the PipelineRun's logs in the cluster for the cause.",
            )
        if "failure" in completed.lower():
            return Mirror(model.FAILED, model.BUILD_FAILED, completed)
        for marker in ("ImageImportReady", "PackageListBuildCompleted"):
            if state(marker) == "True":
                return Mirror(model.READY, "Ready", message(marker, completed))
        # M1: the PipelineRun succeeded, but no condition marks success for this build
        # type (GitRepository; PackageList before the operator's PR #158), so the operator
        # aggregates it to Failed. The run succeeded: it is Ready.
        return Mirror(
            model.READY,
            "Ready",
            completed or "The PipelineRun has been completed successfully.",
        )
    if state("PipelineRunCreated") == "True" or state("GenericPipelineError") == "True":
        reason = "InProgress"
        if latest is not None and latest.get("type") == "GenericPipelineError":
            reason = "PipelineRunGenericError"
        return Mirror(model.BUILDING, reason, latest_message or "Building in the cluster.")
    # No condition the operator's controller sets: fall back on its phase.
    if operator_phase == "Succeeded":
        return Mirror(model.READY, "Ready", latest_message or "The operator reports success.")
    if operator_phase == "Failed":
        return Mirror(
            model.FAILED, model.BUILD_FAILED, latest_message or "The operator reports a failure."
        )
    if operator_phase == "Running":
        return Mirror(model.BUILDING, "InProgress", latest_message or "Building in the cluster.")
    if operator_phase == "Unknown":
        return Mirror(
            model.BUILDING,
            "Unknown",
            "The operator reports the phase Unknown"
            + (f": {latest_message}" if latest_message else "."),
        )
    return Mirror(
        model.PENDING,
        "Pending",
        latest_message
        or "Created in the cluster; waiting for the operator to start a PipelineRun (if this "
        "lasts, check that Meteor's operator runs in the cluster).",
    )


def image_of_stream(
    stream: Mapping[str, Any],
) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    """The image an ImageStream's first tag resolved to, and its ODH annotations."""
    spec_tags = (stream.get("spec") or {}).get("tags") or []
    status_tags = (stream.get("status") or {}).get("tags") or []
    image: str | None = None
    for tag in status_tags:
        items = tag.get("items") or [] if isinstance(tag, Mapping) else []
        if items and isinstance(items[0], Mapping) and items[0].get("dockerImageReference"):
            image = str(items[0]["dockerImageReference"])
            break
    software = dependencies = None
    for tag in spec_tags:
        if not isinstance(tag, Mapping):
            continue
        if image is None and (tag.get("from") or {}).get("kind") == "DockerImage":
            image = str(tag["from"].get("name") or "") or None
        annotations = tag.get("annotations") or {}
        software = software or _name_versions(annotations.get(SOFTWARE_ANNOTATION))
        dependencies = dependencies or _name_versions(annotations.get(DEPENDENCIES_ANNOTATION))
    return image, software, dependencies


def _name_versions(text: object) -> list[dict[str, str]] | None:
    if not isinstance(text, str):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, list):
        return None
    return [
        {"name": str(item.get("name", "")), "version": str(item.get("version", ""))}
        for item in parsed
        if isinstance(item, Mapping) and item.get("name")
    ]
