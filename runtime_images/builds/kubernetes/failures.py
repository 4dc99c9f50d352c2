"""What the cluster's refusals mean for a build: a reason and a message a person can act on.

The API server words its refusals for programs; a 403 may be RBAC, a quota or a namespace
being deleted, a 500 may be an admission webhook that is down. Each becomes one of the
reasons below (in addition to the model's and the operator module's), with what to do.
Some refusals come only after the operator has run (a name too long for its PipelineRun):
:func:`refusal` says them before anything is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import model
from ..engine import BuildFailure
from .cluster import ClusterError, Target, forbidden_message, metadata_errors, rejection_message
from .operator import TEKTON_NAME_LIMIT, longest_name, pipeline_run_name

CLUSTER_NOT_CONFIGURED = "ClusterNotConfigured"
CLUSTER_UNAVAILABLE = "ClusterUnavailable"
FORBIDDEN = "Forbidden"
CRD_NOT_INSTALLED = "CRDNotInstalled"
REJECTED = "Rejected"
ALREADY_EXISTS = "AlreadyExists"
DELETED_IN_CLUSTER = "DeletedInCluster"
NAME_TOO_LONG = "NameTooLong"
INVALID_METADATA = "InvalidMetadata"
WEBHOOK_UNAVAILABLE = "WebhookUnavailable"
QUOTA_EXCEEDED = "QuotaExceeded"
NAMESPACE_TERMINATING = "NamespaceTerminating"


def not_served(
    host: str, api_version: str, plurals: list[str], served: Mapping[str, str], step: str
) -> BuildFailure:
    """None of the operator's resources is served (found by API discovery)."""
    group = api_version.partition("/")[0]
    names = " nor ".join(f"{plural}.{group}" for plural in plurals)
    also = f" It serves: {', '.join(sorted(served))}." if served else ""
    return BuildFailure(
        CRD_NOT_INSTALLED,
        f"The cluster at {host} serves neither {names} ({api_version}): Meteor's operator "
        "(its CustomResourceDefinition) is not installed, or under another version or name "
        f"(set c.KubernetesEngine.api_version and plural).{also}",
        step,
    )


def failure(
    error: ClusterError, verb: str, target: Target, api_version: str, step: str
) -> BuildFailure:
    """A failure a person can act on, from what the API server answered."""
    resource = f"{target.plural}.{api_version.partition('/')[0]}"
    if error.code == 401:
        return BuildFailure(
            FORBIDDEN,
            f"The cluster at {target.host} did not accept the credentials of the "
            f"kubeconfig (expired token?): log in again. ({error.message})",
            step,
        )
    if error.quota_exceeded:
        return BuildFailure(
            QUOTA_EXCEEDED,
            f"The namespace {target.namespace} has no room for another {target.kind}: "
            "its ResourceQuota is used up. Delete finished builds (their resources in the "
            f"cluster) or ask an administrator for more. (API server: {error.message})",
            step,
        )
    if error.namespace_terminating:
        return BuildFailure(
            NAMESPACE_TERMINATING,
            f"The namespace {target.namespace} is being deleted: nothing new can be "
            "created in it. Set c.KubernetesEngine.namespace to another one. "
            f"(API server: {error.message})",
            step,
        )
    if error.code == 403 and "admission webhook" not in error.message:
        return BuildFailure(
            FORBIDDEN, forbidden_message(error, verb, resource, target.namespace), step
        )
    if error.code == 404 and not error.names_an_object:
        return BuildFailure(
            CRD_NOT_INSTALLED,
            f"The cluster at {target.host} does not serve {resource} "
            f"({api_version}): the operator's CustomResourceDefinition is not "
            "installed, or it is installed under another name (set "
            "c.KubernetesEngine.api_version and plural, e.g. plural = "
            f"'customruntimeenvironments'). (API server: {error.message})",
            step,
        )
    hook = error.unreachable_webhook
    if hook:
        return BuildFailure(
            WEBHOOK_UNAVAILABLE,
            f"The cluster could not call the admission webhook {hook}, which Meteor's "
            f"operator serves to check each {target.kind or 'resource'}: is the operator "
            f"running, and its webhook Service reachable? (API server: {error.message})",
            step,
        )
    if error.code == 409:
        return BuildFailure(
            ALREADY_EXISTS,
            f"The cluster keeps answering that the {target.kind} exists ({error.message}): "
            "something recreates it under that name; choose another name.",
            step,
        )
    if error.code in (400, 403, 422) or "admission webhook" in error.message:
        return BuildFailure(REJECTED, rejection_message(error, target.kind), step)
    if error.transient:
        return BuildFailure(
            CLUSTER_UNAVAILABLE,
            f"The cluster at {target.host} could not be reached or failed: "
            f"{error.message}. Check the network and the kubeconfig, then retry.",
            step,
        )
    return BuildFailure(
        model.BUILD_FAILED, f"The cluster answered {error.code}: {error.message}", step
    )


def refusal(resource: Mapping[str, Any], sent: Mapping[str, Any], step: str) -> BuildFailure | None:
    """What the cluster would refuse only later, said before anything is created.

    ``sent`` is the custom resource as it would be created (its labels and annotations).
    """
    name = str(resource["metadata"]["name"])
    build_type = str(resource["spec"]["buildType"])
    limit = longest_name(build_type)
    if len(name) > limit:
        run = pipeline_run_name(name, 1, build_type)
        return BuildFailure(
            NAME_TOO_LONG,
            f"The name {name!r} has {len(name)} characters; on a cluster a {build_type} "
            f"build's name may have at most {limit} characters: Meteor's operator names "
            f"its PipelineRun {run!r} ({len(run)} characters), and Tekton refuses "
            f"PipelineRun names over {TEKTON_NAME_LIMIT}. Submit it under a shorter name.",
            step,
        )
    metadata = sent["metadata"]
    errors = metadata_errors(metadata["labels"], metadata["annotations"])
    if errors:
        return BuildFailure(
            INVALID_METADATA,
            "The cluster would refuse this resource's metadata: "
            + "; ".join(errors)
            + ". Fix them and submit it again.",
            step,
        )
    return None


def deleted(name: str, target: Target, step: str) -> BuildFailure:
    """The resource is gone before the build ended (someone deleted it in the cluster)."""
    return BuildFailure(
        DELETED_IN_CLUSTER,
        f"The {target.kind} {target.namespace}/{name} was deleted in the cluster "
        "before it ended; retry to submit it again.",
        step,
    )
