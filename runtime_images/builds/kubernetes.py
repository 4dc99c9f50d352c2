"""The Kubernetes engine: run a CustomNBImage on a cluster that runs Meteor's operator.

Submitting a build with this engine creates the custom resource in the cluster (the
operator's field names, the ODH annotations, an owner label naming the Jupyter user),
then mirrors the operator's status back onto the local resource with a watch — resumed
from the last ``resourceVersion`` seen, re-listed on ``410 Gone``, retried with back-off
while the cluster cannot be reached. The operator's phases and conditions are mapped onto
ours by :func:`mirror_status`, correcting its known misreports (a succeeded GitRepository
or PackageList PipelineRun aggregated to ``Failed``, M1; ``PipelineRunCreated`` set on a
failed create, M7; the first instead of the latest message shown, M11). A Ready build
configures the runtime image exactly as the embedded engine does
(:func:`~.controller.configure_runtime_image`), pointing at the image the operator
recorded in the ImageStream named after its PipelineRun. Cancelling or deleting the build
deletes the custom resource in the cluster; stopping the server does not (the build is
followed again on the next start).

Why the official ``kubernetes`` client, off the event loop: it is the client every
cluster administrator already has (kubeconfig exec plugins, OIDC, in-cluster service
accounts are all handled by its config loaders), and this engine makes a handful of short
calls per build plus one long-lived watch. Short calls run in ``asyncio.to_thread`` with a
request timeout. Each watch stream is read by its own daemon thread feeding an
``asyncio.Queue``, so a watch never holds one of the default executor's few workers for
minutes and never delays the interpreter's exit; cancelling the build (or stopping the
server) shuts the stream's socket down so the thread ends at once. ``kubernetes_asyncio``
would avoid the threads but brings aiohttp and a second, async-only configuration API.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import getpass
import json
import os
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from traitlets import Bool, Float, Integer, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..errors import ConflictError, ValidationFailedError
from . import model
from .controller import BuildContext, BuildFailure, configure_runtime_image

if TYPE_CHECKING:
    from ..store import RuntimeImageStore

ENGINE_NAME = "kubernetes"
OWNER_LABEL = "runtime-images.jupyter.org/owner"
OWNER_ANNOTATION = "runtime-images.jupyter.org/owner"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "jupyter-runtime-images"
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

# Failure reasons of this engine (in addition to the model's).
CLUSTER_NOT_CONFIGURED = "ClusterNotConfigured"
CLUSTER_UNAVAILABLE = "ClusterUnavailable"
FORBIDDEN = "Forbidden"
CRD_NOT_INSTALLED = "CRDNotInstalled"
REJECTED = "Rejected"
ALREADY_EXISTS = "AlreadyExists"
DELETED_IN_CLUSTER = "DeletedInCluster"
PIPELINE_CREATE_FAILED = "PipelineCreateFailed"

KINDS = {
    "customnbimages": "CustomNBImage",
    "customruntimeenvironments": "CustomRuntimeEnvironment",
}

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

SOFTWARE_ANNOTATION = "opendatahub.io/notebook-software"
DEPENDENCIES_ANNOTATION = "opendatahub.io/notebook-python-dependencies"


@functools.cache
def call_errors() -> tuple[type[BaseException], ...]:
    """What a call through the client can raise: its ApiException (an HTTP status),
    urllib3's errors (not reached, cut off), and a malformed body."""
    import urllib3.exceptions
    from kubernetes.client.exceptions import OpenApiException

    return (OSError, ValueError, urllib3.exceptions.HTTPError, OpenApiException)


# -- errors ---------------------------------------------------------------------------------


class ClusterError(Exception):
    """A failed call to the API server: its HTTP code (0: not reached) and Status body."""

    def __init__(self, code: int, message: str, status: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status: Mapping[str, Any] = status or {}

    @property
    def transient(self) -> bool:
        """Worth retrying: not reached, throttled, or a server-side error."""
        return self.code == 0 or self.code == 429 or self.code >= 500

    @property
    def reason(self) -> str:
        return str(self.status.get("reason", ""))

    @classmethod
    def from_status(cls, status: Mapping[str, Any]) -> ClusterError:
        code = status.get("code")
        return cls(
            int(code) if isinstance(code, int) else 500,
            str(status.get("message") or status.get("reason") or "unknown error"),
            status,
        )

    @classmethod
    def from_exception(cls, error: BaseException) -> ClusterError:
        """From an ``ApiException`` (its body parsed as a Status) or a transport error."""
        code = getattr(error, "status", None)
        if isinstance(code, int) and code > 0:
            body = getattr(error, "body", None)
            status: dict[str, Any] = {}
            if isinstance(body, (bytes, str)) and body:
                with contextlib.suppress(ValueError):
                    parsed = json.loads(body)
                    if isinstance(parsed, dict):
                        status = parsed
            message = str(status.get("message") or getattr(error, "reason", "") or error)
            return cls(code, message, status)
        return cls(0, f"{type(error).__name__}: {error}")


def forbidden_message(error: ClusterError, verb: str, resource: str, namespace: str) -> str:
    """Which verb on which resource RBAC refused, from the 403 Status, and what to do."""
    found = re.search(
        r'User "(?P<user>[^"]*)" cannot (?P<verb>[\w-]+) resource "(?P<resource>[^"]+)"'
        r'(?: in API group "(?P<group>[^"]*)")?(?: in the namespace "(?P<namespace>[^"]+)")?',
        error.message,
    )
    if found:
        group = found["group"]
        what = f"{found['resource']}.{group}" if group else found["resource"]
        where = f"in the namespace {found['namespace']}" if found["namespace"] else "cluster-wide"
        who = found["user"]
        verb = found["verb"]
    else:
        details = error.status.get("details") or {}
        kind, group = details.get("kind") or resource, details.get("group")
        what = f"{kind}.{group}" if group and "." not in str(kind) else str(kind)
        where, who = f"in the namespace {namespace}", "this server's identity"
    return (
        f"The cluster refused to let {who} {verb} {what} {where} (RBAC: the '{verb}' verb is "
        f"missing). Ask an administrator to bind a Role granting it (see "
        f"docs/kubernetes-rbac.yaml). (API server: {error.message})"
    )


# -- the status mapping ---------------------------------------------------------------------


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


# -- the engine -----------------------------------------------------------------------------


class KubernetesEngine(LoggingConfigurable):
    """Runs CustomNBImage builds on a Kubernetes cluster through Meteor's operator.

    Configure it as ``c.KubernetesEngine.<trait>``, and select it with
    ``c.BuildController.engine = "kubernetes"``.
    """

    name = ENGINE_NAME
    # The cluster does the work: following a build must not hold one of the controller's
    # local build slots (c.BuildController.concurrency), or a third build would wait.
    uses_build_slot = False
    pending_message = "Submitting to the Kubernetes cluster."

    kubeconfig = Unicode(
        "",
        help="""Path of the kubeconfig file naming the cluster and credentials. Empty: the
        KUBECONFIG environment variable, else ~/.kube/config; when neither exists and the
        server runs in a pod, the pod's service account (in-cluster configuration).""",
    ).tag(config=True)

    context = Unicode(
        "",
        help="The kubeconfig context to use; empty for its current-context.",
    ).tag(config=True)

    in_cluster = Bool(
        None,
        allow_none=True,
        help="""Use the pod's service account instead of a kubeconfig: True always, False
        never, None (the default) when no kubeconfig file exists and
        KUBERNETES_SERVICE_HOST is set.""",
    ).tag(config=True)

    namespace = Unicode(
        "",
        help="""Namespace the custom resources are created in. Empty: the kubeconfig
        context's namespace, else the service account's namespace in a pod, else
        "default".""",
    ).tag(config=True)

    api_version = Unicode(
        "meteor.zone/v1alpha1",
        help="API group and version of the operator's custom resource (group/version).",
    ).tag(config=True)

    plural = Unicode(
        "customnbimages",
        help="""Resource plural of the custom resource: "customnbimages" (the CNBi era of
        Meteor's operator) or "customruntimeenvironments" (after its rename, PR #139).""",
    ).tag(config=True)

    kind = Unicode(
        help="""Kind of the custom resource. Default: CustomNBImage for customnbimages,
        CustomRuntimeEnvironment for customruntimeenvironments.""",
    ).tag(config=True)

    owner = Unicode(
        help="""The Jupyter user the resources are labelled with
        (runtime-images.jupyter.org/owner). Default: $JUPYTERHUB_USER, else the user
        running the server.""",
    ).tag(config=True)

    request_timeout = Float(30.0, help="Seconds one API call (other than a watch) may take.").tag(
        config=True
    )

    watch_timeout = Float(
        300.0,
        help="""Seconds a watch stays open before it is renewed (from the last
        resourceVersion seen).""",
    ).tag(config=True)

    retry_backoff = Float(
        1.0,
        help="""Seconds before the first retry when the cluster cannot be reached; doubled
        on each further failure up to max_backoff.""",
    ).tag(config=True)

    max_backoff = Float(
        30.0, help="Longest wait between two retries when the cluster cannot be reached."
    ).tag(config=True)

    create_attempts = Integer(
        4,
        help="""Attempts at creating the resource while the cluster cannot be reached, before
        the build fails with ClusterUnavailable.""",
    ).tag(config=True)

    imagestream_api_version = Unicode(
        "image.openshift.io/v1",
        help="""API group/version of the ImageStreams the operator's pipelines create (the
        resulting image is read from the one named after the PipelineRun).""",
    ).tag(config=True)

    @validate("api_version")
    def _valid_api_version(self, proposal: Any) -> str:
        value = str(proposal["value"])
        group, _, version = value.partition("/")
        if not group or not version or "/" in version:
            raise TraitError(
                f"api_version must be group/version, e.g. meteor.zone/v1alpha1: {value!r}"
            )
        return value

    @default("kind")
    def _default_kind(self) -> str:
        return KINDS.get(self.plural, "CustomNBImage")

    @default("owner")
    def _default_owner(self) -> str:
        try:
            return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
        except (KeyError, OSError):  # no passwd entry for the UID
            return "unknown"

    def __init__(self, store: RuntimeImageStore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self._api: Any = None
        self._namespace: str = ""
        self._host: str = ""
        self._lock = asyncio.Lock()

    @property
    def group(self) -> str:
        return self.api_version.partition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.partition("/")[2]

    @property
    def resource(self) -> str:
        return f"{self.plural}.{self.group}"

    # -- connection -------------------------------------------------------------------------

    async def connect(self) -> tuple[Any, str]:
        """The ``CustomObjectsApi`` and namespace (loaded once; raises BuildFailure)."""
        async with self._lock:
            if self._api is None:
                self._api, self._namespace, self._host = await asyncio.to_thread(self._load)
            return self._api, self._namespace

    def _load(self) -> tuple[Any, str, str]:
        try:
            from kubernetes import client, config
        except ImportError:
            raise BuildFailure(
                CLUSTER_NOT_CONFIGURED,
                "The kubernetes engine needs the Kubernetes client: install "
                "jupyter-runtime-images[kubernetes] (pip install kubernetes).",
            ) from None
        path = self.kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        path = os.path.expanduser(path or "~/.kube/config")
        in_cluster = self.in_cluster
        if in_cluster is None:
            in_cluster = not os.path.exists(path) and bool(
                os.environ.get("KUBERNETES_SERVICE_HOST")
            )
        configuration = client.Configuration()
        # one connection per open watch, plus the short calls of every build
        configuration.connection_pool_maxsize = 64
        namespace = self.namespace
        try:
            if in_cluster:
                config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
                if not namespace:
                    with contextlib.suppress(OSError), open(SERVICE_ACCOUNT_NAMESPACE) as file:
                        namespace = file.read().strip()
            else:
                if not os.path.exists(path):
                    raise BuildFailure(
                        CLUSTER_NOT_CONFIGURED,
                        f"No Kubernetes cluster is configured: there is no kubeconfig at {path} "
                        "and the server does not run in a pod. Set KUBECONFIG or "
                        "c.KubernetesEngine.kubeconfig (see docs/kubernetes.md), or use the "
                        "embedded engine (c.BuildController.engine = 'embedded').",
                    )
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=path,
                    context=self.context or None,
                    client_configuration=configuration,
                    persist_config=False,
                )
                if not namespace:
                    contexts, current = config.list_kube_config_contexts(path)  # type: ignore[no-untyped-call]
                    chosen = next((c for c in contexts if c.get("name") == self.context), current)
                    namespace = ((chosen or {}).get("context") or {}).get("namespace", "")
        except config.ConfigException as error:
            raise BuildFailure(
                CLUSTER_NOT_CONFIGURED,
                f"The Kubernetes configuration ({'in-cluster' if in_cluster else path}) "
                f"cannot be used: {error}",
            ) from None
        api = client.CustomObjectsApi(client.ApiClient(configuration))
        return api, namespace or "default", str(configuration.host)

    async def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def call() -> Any:
            try:
                return function(*args, _request_timeout=self.request_timeout, **kwargs)
            except call_errors() as error:
                raise ClusterError.from_exception(error) from None

        return await asyncio.to_thread(call)

    def _failure(self, error: ClusterError, verb: str, namespace: str, step: str) -> BuildFailure:
        """A failure a person can act on, from what the API server answered."""
        if error.code == 401:
            self._api = None  # reload the credentials next time
            return BuildFailure(
                FORBIDDEN,
                f"The cluster at {self._host} did not accept the credentials of the "
                f"kubeconfig (expired token?): log in again. ({error.message})",
                step,
            )
        if error.code == 403 and "admission webhook" not in error.message:
            return BuildFailure(
                FORBIDDEN, forbidden_message(error, verb, self.resource, namespace), step
            )
        if error.code == 404 and not (error.status.get("details") or {}).get("name"):
            return BuildFailure(
                CRD_NOT_INSTALLED,
                f"The cluster at {self._host} does not serve {self.resource} "
                f"({self.api_version}): the operator's CustomResourceDefinition is not "
                "installed, or it is installed under another name (set "
                "c.KubernetesEngine.api_version and plural, e.g. plural = "
                f"'customruntimeenvironments'). (API server: {error.message})",
                step,
            )
        if error.code in (400, 403, 422) or "admission webhook" in error.message:
            return BuildFailure(REJECTED, rejection_message(error, self.kind), step)
        if error.transient:
            return BuildFailure(
                CLUSTER_UNAVAILABLE,
                f"The cluster at {self._host} could not be reached or failed: {error.message}. "
                "Check the network and the kubeconfig, then retry.",
                step,
            )
        return BuildFailure(
            model.BUILD_FAILED, f"The cluster answered {error.code}: {error.message}", step
        )

    # -- the resource in the cluster --------------------------------------------------------

    def cluster_resource(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        """The custom resource to create: the operator's names, annotations, owner label."""
        metadata = resource["metadata"]
        spec = resource["spec"]
        annotations = {
            key: value
            for key, value in (metadata.get("annotations") or {}).items()
            if key.startswith("opendatahub.io/")
        }
        annotations[OWNER_ANNOTATION] = self.owner
        labels = dict(metadata.get("labels") or {})
        labels[OWNER_LABEL] = label_value(self.owner)
        labels[MANAGED_BY_LABEL] = MANAGED_BY
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": {"name": metadata["name"], "labels": labels, "annotations": annotations},
            "spec": {SPEC_FIELDS[key]: value for key, value in spec.items() if key in SPEC_FIELDS},
        }

    def _is_ours(self, existing: Mapping[str, Any]) -> bool:
        labels = (existing.get("metadata") or {}).get("labels") or {}
        return bool(
            labels.get(MANAGED_BY_LABEL) == MANAGED_BY
            and labels.get(OWNER_LABEL) == label_value(self.owner)
        )

    async def _create(self, build: BuildContext, api: Any, namespace: str, step: str) -> None:
        body = self.cluster_resource(build.resource)
        backoff = self.retry_backoff
        attempt = 0
        while True:
            attempt += 1
            call = asyncio.ensure_future(
                self._call(
                    api.create_namespaced_custom_object,
                    self.group,
                    self.version,
                    namespace,
                    self.plural,
                    body,
                )
            )
            try:
                created = await asyncio.shield(call)
                break
            except asyncio.CancelledError:
                # Cancelled while the create is in flight: it may still land. Record it if
                # it does, so that cancelling deletes it instead of leaving it running.
                with contextlib.suppress(Exception):
                    self._record(
                        build, await asyncio.wait_for(call, self.request_timeout), namespace
                    )
                raise
            except ClusterError as error:
                if error.code == 409:
                    await self._replace_stale(build, api, namespace, step)
                    continue
                if error.transient and attempt < self.create_attempts:
                    build.log(f"Creating in the cluster failed ({error.message}); retrying.")
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                raise self._failure(error, "create", namespace, step) from None
        self._record(build, created, namespace)
        build.status["phase"] = model.PENDING
        await build.condition(
            model.READY_CONDITION,
            "Unknown",
            "Pending",
            f"Created {self.kind} {namespace}/{build.name} in the cluster at {self._host}; "
            "waiting for the operator.",
        )

    def _record(self, build: BuildContext, created: Mapping[str, Any], namespace: str) -> None:
        """Remember where the resource lives (its UID guards every later delete)."""
        meta = created.get("metadata") or {}
        build.status["cluster"] = {
            "server": self._host,
            "namespace": namespace,
            "name": meta.get("name", build.name),
            "uid": meta.get("uid", ""),
            "apiVersion": self.api_version,
            "kind": self.kind,
        }

    async def _replace_stale(
        self, build: BuildContext, api: Any, namespace: str, step: str
    ) -> None:
        """A resource of the same name exists: replace it if it is this user's, else fail."""
        try:
            existing = await self._call(
                api.get_namespaced_custom_object,
                self.group,
                self.version,
                namespace,
                self.plural,
                build.name,
            )
        except ClusterError as error:
            if error.code == 404:
                return  # deleted meanwhile: create again
            raise self._failure(error, "get", namespace, step) from None
        if not self._is_ours(existing):
            owner = ((existing.get("metadata") or {}).get("annotations") or {}).get(
                OWNER_ANNOTATION
            ) or "someone else"
            raise BuildFailure(
                ALREADY_EXISTS,
                f"A {self.kind} named {build.name!r} already exists in the namespace "
                f"{namespace}, created by {owner}: choose another name.",
                step,
            )
        build.log(f"Replacing the earlier {self.kind} {namespace}/{build.name} in the cluster.")
        await self._delete(api, namespace, build.name, step)
        for _ in range(50):
            try:
                await self._call(
                    api.get_namespaced_custom_object,
                    self.group,
                    self.version,
                    namespace,
                    self.plural,
                    build.name,
                )
            except ClusterError as error:
                if error.code == 404:
                    return
                raise self._failure(error, "get", namespace, step) from None
            await asyncio.sleep(0.2)
        raise BuildFailure(
            ALREADY_EXISTS,
            f"The earlier {self.kind} {namespace}/{build.name} is still being deleted "
            "(a finalizer?); retry later.",
            step,
        )

    async def _delete(
        self, api: Any, namespace: str, name: str, step: str, uid: str | None = None
    ) -> bool:
        """Delete the resource; False when it was already gone."""
        body: dict[str, Any] = {"propagationPolicy": "Background"}
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            await self._call(
                api.delete_namespaced_custom_object,
                self.group,
                self.version,
                namespace,
                self.plural,
                name,
                body=body,
            )
        except ClusterError as error:
            if error.code in (404, 409):  # gone, or another resource now has the name
                return False
            raise self._failure(error, "delete", namespace, step) from None
        return True

    # -- running ----------------------------------------------------------------------------

    async def run(self, build: BuildContext) -> None:
        step = (
            model.IMPORTING
            if build.spec["buildType"] == model.IMAGE_IMPORT
            else model.BUILDING_STEP
        )
        api, namespace = await self.connect()
        cluster = build.status.get("cluster") or {}
        if cluster.get("uid"):
            namespace = cluster.get("namespace", namespace)
            build.log(f"Following {self.kind} {namespace}/{build.name} in the cluster again.")
        else:
            await self._create(build, api, namespace, step)
        await self._follow(build, api, namespace, step)

    async def cancel(self, resource: Mapping[str, Any]) -> None:
        """Delete the custom resource in the cluster (the operator's runs go with it)."""
        cluster = (resource.get("status") or {}).get("cluster") or {}
        if not cluster.get("uid"):
            return  # never created there
        try:
            api, _ = await self.connect()
            deleted = await self._delete(
                api, cluster["namespace"], cluster["name"], model.READY_CONDITION, cluster["uid"]
            )
        except BuildFailure as failure:
            if failure.reason == CLUSTER_NOT_CONFIGURED:
                self.log.warning(
                    "runtime-images: %s was not deleted in the cluster: %s",
                    cluster["name"],
                    failure.message,
                )
                return
            raise ConflictError(
                f"The build could not be deleted in the cluster: {failure.message}"
            ) from None
        if deleted:
            self.log.info(
                "runtime-images: deleted %s %s/%s in the cluster",
                self.kind,
                cluster["namespace"],
                cluster["name"],
            )

    async def _follow(self, build: BuildContext, api: Any, namespace: str, step: str) -> None:
        """Mirror the resource's status until it is Ready or Failed: list, then watch."""
        uid = build.status["cluster"]["uid"]
        version: str | None = None
        backoff = self.retry_backoff
        applied: list[Mirror | None] = [None]
        while True:
            try:
                if version is None:
                    listed = await self._call(
                        api.list_namespaced_custom_object,
                        self.group,
                        self.version,
                        namespace,
                        self.plural,
                        field_selector=f"metadata.name={build.name}",
                    )
                    items = [
                        item
                        for item in listed.get("items") or []
                        if (item.get("metadata") or {}).get("uid") == uid
                    ]
                    if not items:
                        raise self._deleted(build, namespace, step)
                    version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
                    if await self._apply(build, api, namespace, items[0], step, applied):
                        return
                opened, events = time.monotonic(), 0
                # aclosing: leaving the loop early (an end, an ERROR event, a cancellation
                # while applying) stops the reading thread now, not when the generator is
                # garbage collected (never, once the event loop has closed).
                watch = self._watch(api, namespace, build.name, version)
                async with contextlib.aclosing(watch):
                    async for event in watch:
                        events += 1
                        kind, obj = event.get("type"), event.get("object") or {}
                        if kind == "ERROR":
                            raise ClusterError.from_status(obj)
                        meta = obj.get("metadata") or {}
                        version = str(meta.get("resourceVersion") or version)
                        backoff = self.retry_backoff
                        if kind == "BOOKMARK" or meta.get("uid") not in (uid, None):
                            continue
                        if kind == "DELETED":
                            raise self._deleted(build, namespace, step)
                        if await self._apply(build, api, namespace, obj, step, applied):
                            return
                if not events and time.monotonic() - opened < 1:
                    await asyncio.sleep(backoff)  # a stream closed at once: do not hammer
                    backoff = min(backoff * 2, self.max_backoff)
            except ClusterError as error:
                if error.code == 410:  # the resourceVersion is too old: list again
                    build.log(f"The watch expired ({error.message}); listing again.")
                    version = None
                    continue
                if not error.transient:
                    verb = "list" if version is None else "watch"
                    raise self._failure(error, verb, namespace, step) from None
                message = (
                    f"Lost contact with the cluster at {self._host} ({error.message}); "
                    f"retrying in {backoff:g} s."
                )
                build.log(message)
                if model.phase_of(build.resource) == model.BUILDING:
                    await build.condition(step, "Unknown", CLUSTER_UNAVAILABLE, message)
                applied[0] = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    def _deleted(self, build: BuildContext, namespace: str, step: str) -> BuildFailure:
        return BuildFailure(
            DELETED_IN_CLUSTER,
            f"The {self.kind} {namespace}/{build.name} was deleted in the cluster before it "
            "ended; retry to submit it again.",
            step,
        )

    async def _watch(
        self, api: Any, namespace: str, name: str, version: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Watch events of one resource from ``version``, read by a daemon thread."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        opened: dict[str, Any] = {}
        closed = threading.Event()

        def put(item: tuple[str, Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def pump() -> None:
            from kubernetes.watch.watch import iter_resp_lines

            try:
                response = api.list_namespaced_custom_object(
                    self.group,
                    self.version,
                    namespace,
                    self.plural,
                    field_selector=f"metadata.name={name}",
                    resource_version=version,
                    allow_watch_bookmarks=True,
                    watch=True,
                    timeout_seconds=int(self.watch_timeout),
                    _preload_content=False,
                    _request_timeout=(self.request_timeout, self.watch_timeout + 30),
                )
            except call_errors() as error:
                put(("error", ClusterError.from_exception(error)))
                return
            opened["response"] = response
            try:
                if closed.is_set():
                    return
                for line in iter_resp_lines(response):  # type: ignore[no-untyped-call]
                    if line.strip():
                        put(("event", json.loads(line)))
                put(("end", None))
            except Exception as error:  # noqa: BLE001 - reported, or the stream was closed
                if not closed.is_set():
                    put(("error", ClusterError.from_exception(error)))
            finally:
                with contextlib.suppress(Exception):
                    response.close()
                with contextlib.suppress(Exception):
                    response.release_conn()

        thread = threading.Thread(target=pump, name=f"runtime-images-watch-{name}", daemon=True)
        thread.start()
        try:
            while True:
                kind, value = await queue.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            closed.set()
            response = opened.get("response")
            if response is not None:
                # Only wake the reading thread (it closes the response itself): close()
                # here could wait on the lock its blocked read holds, on the event loop.
                with contextlib.suppress(Exception):
                    response.shutdown()

    async def _apply(
        self,
        build: BuildContext,
        api: Any,
        namespace: str,
        obj: Mapping[str, Any],
        step: str,
        applied: list[Mirror | None],
    ) -> bool:
        """Mirror one state of the cluster's resource; True when the build has ended."""
        status = obj.get("status") or {}
        build.status["cluster"] = {
            **build.status.get("cluster", {}),
            "phase": status.get("phase", ""),
            "conditions": status.get("conditions") or [],
            "pipelines": status.get("pipelines") or [],
        }
        mirror = mirror_status(obj, build.spec["buildType"])
        if mirror == applied[0]:
            await build.save()
            return False
        applied[0] = mirror
        if mirror.phase == model.PENDING:
            if not status.get("conditions") and model.phase_of(build.resource) == model.PENDING:
                await build.save()  # keep "Created … in the cluster at …; waiting …"
                return False
            build.status["phase"] = model.PENDING
            await build.condition(model.READY_CONDITION, "Unknown", "Pending", mirror.message)
            return False
        if mirror.phase == model.BUILDING:
            build.status["phase"] = model.BUILDING
            await build.condition(step, "Unknown", mirror.reason, mirror.message)
            return False
        if mirror.phase == model.FAILED:
            raise BuildFailure(mirror.reason, mirror.message, step)
        await self._ready(build, api, namespace, obj, mirror, step)
        return True

    async def _ready(
        self,
        build: BuildContext,
        api: Any,
        namespace: str,
        obj: Mapping[str, Any],
        mirror: Mirror,
        step: str,
    ) -> None:
        image, software, dependencies = await self._result(build, api, namespace, obj)
        if software is not None:
            build.status["software"] = software
        if dependencies is not None:
            build.status["pythonDependencies"] = dependencies
        if step == model.IMPORTING:
            model.set_condition(build.resource, model.IMPORTING, "True", "Imported", mirror.message)
            model.set_condition(
                build.resource,
                model.VALIDATING,
                "True",
                "RequirementsMet",
                "The cluster's validation pipeline passed.",
            )
        else:
            model.set_condition(
                build.resource, model.BUILDING_STEP, "True", "Built", mirror.message
            )
        if image:
            build.status["image"] = image
            tags = ["imported" if step == model.IMPORTING else "built", "kubernetes"]
            try:
                action = await configure_runtime_image(self.store, build, image, tags)
            except ValidationFailedError as error:
                raise BuildFailure(
                    model.BUILD_FAILED,
                    f"The cluster built {image}, but it cannot be configured as a runtime "
                    f"image: {error}",
                    model.READY_CONDITION,
                ) from None
            message = f"{mirror.message} Runtime image '{build.name}' {action}: {image}."
        else:
            message = (
                f"{mirror.message} The operator recorded no image (no ImageStream for its "
                "PipelineRun), so no runtime image was configured."
            )
        build.status["phase"] = model.READY
        await build.condition(model.READY_CONDITION, "True", "Ready", message)

    async def _result(
        self, build: BuildContext, api: Any, namespace: str, obj: Mapping[str, Any]
    ) -> tuple[str | None, list[Any] | None, list[Any] | None]:
        """The resulting image (pinned when the ImageStream says), software, dependencies."""
        status = obj.get("status") or {}
        for key in ("image", "imageReference", "dockerImageReference"):
            if isinstance(status.get(key), str) and status[key]:
                return status[key], None, None
        names = []
        for pipeline in status.get("pipelines") or []:
            if isinstance(pipeline, Mapping):
                for key in ("pipelineRunName", "name"):
                    if pipeline.get(key) and pipeline[key] not in names:
                        names.append(str(pipeline[key]))
        names.append(build.name)
        group, _, version = self.imagestream_api_version.partition("/")
        for stream_name in names:
            try:
                stream = await self._call(
                    api.get_namespaced_custom_object,
                    group,
                    version,
                    namespace,
                    "imagestreams",
                    stream_name,
                )
            except ClusterError as error:
                if error.code not in (404,):
                    build.log(f"The ImageStream {stream_name} cannot be read: {error.message}")
                continue
            found = image_of_stream(stream)
            if found[0]:
                return found
        if build.spec["buildType"] == model.IMAGE_IMPORT:
            return str(build.spec["fromImage"]), None, None
        return None, None, None


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


def label_value(text: str) -> str:
    """``text`` as a valid label value (63 characters of [A-Za-z0-9-_.], alphanumeric ends)."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63].strip("-_.")
    return value or "unknown"


def rejection_message(error: ClusterError, kind: str) -> str:
    """What an admission webhook (or the CRD's schema) said when it refused the resource."""
    text = error.message
    found = re.match(
        r'admission webhook "(?P<hook>[^"]+)" denied the request: (?P<why>.*)', text, re.DOTALL
    )
    causes = [
        f"{cause.get('field', '')}: {cause.get('message', '')}".strip(": ")
        for cause in (error.status.get("details") or {}).get("causes") or []
        if isinstance(cause, Mapping)
    ]
    if found:
        message = (
            f"The cluster's admission webhook {found['hook']} rejected the {kind}: {found['why']}"
        )
    else:
        message = f"The cluster rejected the {kind}: {text}"
    if causes and not all(cause in message for cause in causes):
        message += " (" + "; ".join(causes) + ")"
    return message
