"""The Kubernetes engine: run a CustomNBImage on a cluster that runs Meteor's operator.

Submitting a build with this engine creates the custom resource in the cluster (the
operator's field names, the ODH annotations, an owner label naming the Jupyter user),
then mirrors the operator's status back onto the local resource with a watch — resumed
from the last ``resourceVersion`` seen, re-listed on ``410 Gone``, retried with back-off
while the cluster cannot be reached. The operator's phases and conditions are mapped onto
ours by :func:`~.operator.mirror_status`. A Ready build configures the runtime image
exactly as the embedded engine does (:func:`~..controller.configure_runtime_image`),
pointing at the image the operator recorded in the ImageStream named after its
PipelineRun. Cancelling or deleting the build deletes the custom resource in the cluster;
stopping the server does not (the build is followed again on the next start).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import time
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any

from traitlets import Bool, Float, Integer, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ...errors import ConflictError, ValidationFailedError
from .. import model
from ..controller import BuildContext, BuildFailure, configure_runtime_image
from .cluster import (
    ClusterError,
    ConfigurationError,
    call,
    forbidden_message,
    label_value,
    load_connection,
    rejection_message,
    watch_events,
)
from .operator import Mirror, image_of_stream, mirror_status

if TYPE_CHECKING:
    from ...store import RuntimeImageStore

ENGINE_NAME = "kubernetes"
OWNER_LABEL = "runtime-images.jupyter.org/owner"
OWNER_ANNOTATION = "runtime-images.jupyter.org/owner"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "jupyter-runtime-images"

# Failure reasons of this engine (in addition to the model's).
CLUSTER_NOT_CONFIGURED = "ClusterNotConfigured"
CLUSTER_UNAVAILABLE = "ClusterUnavailable"
FORBIDDEN = "Forbidden"
CRD_NOT_INSTALLED = "CRDNotInstalled"
REJECTED = "Rejected"
ALREADY_EXISTS = "AlreadyExists"
DELETED_IN_CLUSTER = "DeletedInCluster"

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
                try:
                    connection = await asyncio.to_thread(
                        load_connection,
                        self.kubeconfig,
                        self.context,
                        self.in_cluster,
                        self.namespace,
                    )
                except ConfigurationError as error:
                    raise BuildFailure(CLUSTER_NOT_CONFIGURED, str(error)) from None
                self._api, self._namespace = connection.api, connection.namespace
                self._host = connection.host
            return self._api, self._namespace

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return await call(self.request_timeout, function, *args, **kwargs)

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

    def _watch(
        self, api: Any, namespace: str, name: str, version: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Watch events of one resource from ``version``, read by a daemon thread."""

        def open_stream() -> Any:
            return api.list_namespaced_custom_object(
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

        return watch_events(open_stream, name)

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
