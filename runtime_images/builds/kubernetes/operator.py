"""Meteor's operator, read from outside: its names, its status mapped onto ours, its runs.

The rows of :func:`mirror_status` follow the operator's controller
(``controllers/cre/controller.go`` of thoth-station/meteor-operator: Tekton ``Succeeded``
→ conditions → ``AggregatePhase``) and correct its known misreports (a succeeded
GitRepository or PackageList PipelineRun aggregated to ``Failed``, M1;
``PipelineRunCreated`` set on a failed create, M7; the first instead of the latest message
shown, M11). docs/kubernetes.md has the table. The operator's report is second-hand: what
Tekton says of the PipelineRun (:func:`run_failure`) says what actually failed, and the
ImageStream the run wrote (:func:`image_of_stream`, :func:`imported_tag`) what it made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import model

PIPELINE_CREATE_FAILED = "PipelineCreateFailed"
PIPELINE_NOT_FOUND = "PipelineNotFound"
PIPELINE_INVALID = "PipelineInvalid"
SOFTWARE_ANNOTATION = "opendatahub.io/notebook-software"
DEPENDENCIES_ANNOTATION = "opendatahub.io/notebook-python-dependencies"


# The operator's PipelineRun of a resource: cre-<name>-<generation>-<type>, in the
# resource's namespace, running the Pipeline cre-<type> (controllers/cre/controller.go).
PIPELINE_TYPES = {
    model.IMAGE_IMPORT: "import",
    model.PACKAGE_LIST: "package-list",
    model.GIT_REPOSITORY: "gitrepo",
}
TEKTON_NAME_LIMIT = 63  # Tekton's webhook refuses longer PipelineRun names (pipeline#7938)
OPERATOR_NAMESPACE = "aicoe-meteor"  # where the operator's kustomization puts its Pipelines


def pipeline_run_name(name: str, generation: int, build_type: str) -> str:
    return f"cre-{name}-{generation}-{PIPELINE_TYPES[build_type]}"


def longest_name(build_type: str) -> int:
    """The longest resource name whose first PipelineRun name Tekton accepts."""
    return TEKTON_NAME_LIMIT - len(pipeline_run_name("", 1, build_type))


def run_name_of(cluster_resource: Mapping[str, Any], build_type: str) -> str:
    """The PipelineRun the operator reports on: from ``status.pipelines``, else its name."""
    metadata = cluster_resource.get("metadata") or {}
    name = str(metadata.get("name", ""))
    for pipeline in (cluster_resource.get("status") or {}).get("pipelines") or []:
        if (
            isinstance(pipeline, Mapping)
            and pipeline.get("name") == name
            and pipeline.get("pipelineRunName")
        ):
            return str(pipeline["pipelineRunName"])
    generation = metadata.get("generation")
    return pipeline_run_name(name, generation if isinstance(generation, int) else 1, build_type)


@dataclass(frozen=True)
class Mirror:
    """Our view of the operator's status: phase, the step's reason, the message shown."""

    phase: str
    reason: str
    message: str


def most_recent_condition(conditions: object) -> Mapping[str, Any] | None:
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
    latest = most_recent_condition(raw)
    latest_message = str((latest or {}).get("message") or "")

    def state(type_: str) -> str:
        return str(conditions.get(type_, {}).get("status", ""))

    def message(type_: str, fallback: str) -> str:
        return str(conditions.get(type_, {}).get("message") or fallback)

    # The PipelineRun could not be created (M7: PipelineRunCreated is set all the same).
    # A missing Pipeline does not fail the create: Tekton fails the run (run_failure).
    if state("ErrorPipelineRunCreate") == "True":
        why = message("ErrorPipelineRunCreate", "no reason given")
        hint = ""
        if f"no more than {TEKTON_NAME_LIMIT} characters" in why:
            hint = (
                f" (Tekton refuses PipelineRun names over {TEKTON_NAME_LIMIT} characters, and "
                "the operator names it cre-<name>-<generation>-<type>: use a shorter name.)"
            )
        elif "forbidden" in why:
            hint = " (The operator's service account may not create PipelineRuns there.)"
        return Mirror(
            model.FAILED,
            PIPELINE_CREATE_FAILED,
            f"The operator could not create the PipelineRun: {why}{hint}",
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
        for failure, failed_state, default in (
            ("ErrorBuildingImage", "True", "Build failed!"),
            ("PackageListBuildCompleted", "False", "Build from Package List failed!"),
        ):
            if state(failure) == failed_state:
                return Mirror(
                    model.FAILED,
                    model.BUILD_FAILED,
                    message(failure, default)
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


# -- what Tekton says of the run ------------------------------------------------------------


def succeeded_condition(run: Mapping[str, Any]) -> Mapping[str, Any]:
    """The PipelineRun's ``Succeeded`` condition (Tekton sets no other), or {}."""
    for condition in (run.get("status") or {}).get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == "Succeeded":
            return condition
    return {}


def owned_by(run: Mapping[str, Any], uid: str) -> bool:
    references = (run.get("metadata") or {}).get("ownerReferences") or []
    return any(isinstance(r, Mapping) and r.get("uid") == uid for r in references)


def run_failure(run: Mapping[str, Any], reported: Mirror) -> Mirror:
    """What failed, from the failed run's ``Succeeded`` condition; ``reported`` otherwise.

    The operator turns every failed run into the same message per build type ("Import
    failed, this could be due to the repository…"), whatever Tekton said.
    """
    condition = succeeded_condition(run)
    reason = str(condition.get("reason") or "")
    said = str(condition.get("message") or "")
    metadata = run.get("metadata") or {}
    name, namespace = metadata.get("name", ""), metadata.get("namespace", "")
    pipeline = ((run.get("spec") or {}).get("pipelineRef") or {}).get("name", "")
    logs = f"See its logs: tkn pipelinerun logs {name} -n {namespace}"
    tekton = f"(Tekton, {reason}: {said})"
    if reason == "CouldntGetPipeline":
        return Mirror(
            model.FAILED,
            PIPELINE_NOT_FOUND,
            f"Tekton could not find the Pipeline {pipeline} for the PipelineRun "
            f"{namespace}/{name}: Meteor's operator installs its Pipelines in one namespace "
            f"({OPERATOR_NAMESPACE} by default), and Tekton looks for them in the run's "
            f"namespace, the build's ({namespace}). Submit builds in the namespace that has "
            f"the Pipelines (c.KubernetesEngine.namespace) or install them in {namespace}. "
            + tekton,
        )
    if reason in (
        "CouldntGetTask",
        "PipelineValidationFailed",
        "ParameterMissing",
        "ParameterTypeMismatch",
        "InvalidWorkspaceBindings",
        "PipelineInvalidGraph",
    ):
        return Mirror(
            model.FAILED,
            PIPELINE_INVALID,
            f"Tekton cannot run the Pipeline {pipeline} in {namespace} as the operator "
            "started it: its Tasks and ClusterTasks must be installed, and the Pipelines must "
            f"be those of the operator's version. {tekton}",
        )
    if reason in ("PipelineRunTimeout", "PipelineRunTimedOut"):
        return Mirror(
            model.FAILED, model.BUILD_FAILED, f"The PipelineRun timed out. {tekton} {logs}."
        )
    if reason in ("Cancelled", "PipelineRunCancelled", "StoppedRunFinally", "CancelledRunFinally"):
        return Mirror(
            model.FAILED,
            model.BUILD_FAILED,
            f"The PipelineRun {namespace}/{name} was cancelled in the cluster. {tekton}",
        )
    if reason == "Failed":  # a task failed: the operator's words and hint still apply
        return Mirror(reported.phase, reported.reason, f"{reported.message} {tekton} {logs}.")
    return Mirror(model.FAILED, model.BUILD_FAILED, f"The PipelineRun failed. {tekton} {logs}.")


def reported_from_a_run(cluster_resource: Mapping[str, Any]) -> bool:
    """The operator's outcome comes from a PipelineRun it read (not a failed create)."""
    types = {
        c.get("type")
        for c in (cluster_resource.get("status") or {}).get("conditions") or []
        if isinstance(c, Mapping)
    }
    return bool(types & {"PipelineRunCompleted", "LatestBuildSucceeded"})


def judge_run(
    run: Mapping[str, Any] | None, uid: str, reported: Mirror, where: str, kind: str
) -> tuple[Mirror | None, str]:
    """The operator's outcome, checked against the run it names: the outcome to show (None:
    it was not this resource's run, or the run has not ended) and a line for the log.

    The operator reads the run by name (``cre-<name>-<generation>-<type>``), so a resource
    recreated under a name can be told the outcome of an earlier resource's run.
    """
    if run is None:
        return (
            reported,
            f"The PipelineRun {where} is gone; the operator's report is taken as it is.",
        )
    if not owned_by(run, uid):
        return None, (
            f"The operator reported on {where}, the PipelineRun of an earlier {kind} of this "
            "name; waiting for this one's own run."
        )
    state = succeeded_condition(run).get("status")
    if state == "False":
        failed = reported
        if reported.phase != model.FAILED:
            failed = Mirror(model.FAILED, model.BUILD_FAILED, "The PipelineRun failed.")
        return run_failure(run, failed), ""
    if state != "True":
        return None, f"The operator reported an outcome, but {where} has not ended; waiting."
    if reported.phase == model.FAILED:  # conditions left over from an earlier run's report
        said = succeeded_condition(run).get("message") or "succeeded"
        return Mirror(
            model.READY,
            "Ready",
            f"The PipelineRun {where} succeeded (Tekton: {said}); the operator's failure "
            "conditions were left over from an earlier run.",
        ), ""
    return reported, ""


# -- what the run wrote into its ImageStream -------------------------------------------------


@dataclass(frozen=True)
class ImportedTag:
    """An ImageStream tag's import: its digest, or why OpenShift could not import it."""

    digest: str | None = None
    failure: str | None = None  # "<reason>: <message>" of ImportSuccess=False


def imported_tag(stream: Mapping[str, Any], tag: str, since: str) -> ImportedTag | None:
    """The import of ``tag`` (None: not done yet); items created before ``since`` (an
    earlier resource's run of the same name) do not count."""
    for entry in (stream.get("status") or {}).get("tags") or []:
        if not isinstance(entry, Mapping) or entry.get("tag") != tag:
            continue
        for item in entry.get("items") or []:
            if not isinstance(item, Mapping) or str(item.get("created") or since) < since:
                continue
            reference = str(item.get("dockerImageReference") or "")
            digest = str(item.get("image") or reference.rpartition("@")[2])
            if digest.startswith("sha256:"):
                return ImportedTag(digest=digest)
        for condition in entry.get("conditions") or []:
            if (
                isinstance(condition, Mapping)
                and condition.get("type") == "ImportSuccess"
                and condition.get("status") == "False"
            ):
                return ImportedTag(
                    failure=f"{condition.get('reason', '')}: {condition.get('message', '')}"
                )
    return None


def image_of_stream(
    stream: Mapping[str, Any],
) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    """The image an ImageStream's first tag resolved to (by digest), and its ODH annotations.

    A tag not resolved yet gives no image: its ``from`` name is a tag, not a pinned image.
    """
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
