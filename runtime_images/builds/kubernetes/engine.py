"""The Kubernetes engine: run a CustomNBImage on a cluster that runs Meteor's operator.

Submitting a build with this engine creates the custom resource in the cluster (the
operator's field names, the ODH annotations, an owner label naming the Jupyter user) —
after checking what the cluster would refuse late: names too long for the operator's
PipelineRun, labels the API server rejects. The resource plural is the one the cluster
serves (API discovery). The engine then mirrors the operator's status back with a watch —
resumed from the last ``resourceVersion`` seen, re-listed on ``410 Gone`` and on a
version the server has not reached, retried with back-off while the cluster cannot be
reached, with reloaded credentials when they are refused. The operator's phases and
conditions are mapped onto ours by :func:`~.operator.mirror_status`; an outcome is
checked against the PipelineRun itself (it must be this resource's run: the operator reads
runs by name) and a failure says what Tekton said. A Ready build configures the runtime
image exactly as the embedded engine does (:func:`~..controller.configure_runtime_image`),
pinned (:mod:`.result`). Cancelling, deleting or replacing the resource deletes it in the
foreground, so that its PipelineRun is gone before a resource of the same name can be
created; stopping the server deletes nothing (the build is followed again on the next
start).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any

from ...errors import ConflictError, ValidationFailedError
from ...registry import RegistryClient
from .. import model
from ..engine import BuildContext, BuildFailure
from ..outcome import configure_runtime_image
from .cluster import (
    ClusterError,
    ConfigurationError,
    Connection,
    Target,
    call,
    load_connection,
    served_resources,
    watch_events,
)
from .failures import (
    ALREADY_EXISTS,
    CLUSTER_NOT_CONFIGURED,
    CLUSTER_UNAVAILABLE,
    FORBIDDEN,
    deleted,
    failure,
    not_served,
    refusal,
)
from .operator import Mirror, judge_run, mirror_status, reported_from_a_run, run_name_of
from .resource import OWNER_ANNOTATION, cluster_resource, is_ours
from .result import Produced, built_image, imported_image, stream_names
from .settings import KINDS, KubernetesSettings

if TYPE_CHECKING:
    from ...store import RuntimeImageStore

ENGINE_NAME = "kubernetes"
TEKTON_VERSIONS = ("v1", "v1beta1")


class KubernetesEngine(KubernetesSettings):
    """Runs CustomNBImage builds on a Kubernetes cluster through Meteor's operator.

    Configure it as ``c.KubernetesEngine.<trait>``, and select it with
    ``c.BuildController.engine = "kubernetes"``.
    """

    name = ENGINE_NAME
    # The cluster does the work: following a build must not hold one of the controller's
    # local build slots (c.BuildController.concurrency), or a third build would wait.
    uses_build_slot = False
    pending_message = "Submitting to the Kubernetes cluster."

    def __init__(
        self, store: RuntimeImageStore, registry: RegistryClient | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.registry = registry  # None: a client of its own, for each pin
        self._connection: Connection | None = None
        self._served: tuple[str, str] | None = None
        self._lock = asyncio.Lock()

    # -- connection -------------------------------------------------------------------------

    async def connect(self) -> Connection:
        """The connection (the configuration loaded once; raises BuildFailure)."""
        async with self._lock:
            if self._connection is None:
                self._connection = await self._load()
            return self._connection

    async def reconnect(self, stale: Connection) -> Connection:
        """Load the configuration again (fresh credentials), unless another build just did."""
        async with self._lock:
            if self._connection is None or self._connection is stale:
                self._connection = await self._load()
            return self._connection

    async def _load(self) -> Connection:
        try:
            return await asyncio.to_thread(
                load_connection, self.kubeconfig, self.context, self.in_cluster, self.namespace
            )
        except ConfigurationError as error:
            raise BuildFailure(CLUSTER_NOT_CONFIGURED, str(error)) from None

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return await call(self.request_timeout, function, *args, **kwargs)

    async def _target(self, build: BuildContext, step: str) -> Target:
        """Where the build's resource is (resumed) or goes (new: the resource served)."""
        connection = await self.connect()
        cluster = build.status.get("cluster") or {}
        if cluster.get("uid"):
            return self._recorded(cluster, connection)
        plural, kind = await self._served_resource(connection, step)
        return Target(connection, connection.namespace, plural, kind)

    def _recorded(self, cluster: Mapping[str, Any], connection: Connection) -> Target:
        """The target ``status.cluster`` recorded (older records have no plural)."""
        kind = str(cluster.get("kind") or self.kind)
        plural = cluster.get("plural") or next(
            (p for p, k in KINDS.items() if k == kind), self.plural
        )
        return Target(
            connection, str(cluster.get("namespace") or connection.namespace), plural, kind
        )

    async def _served_resource(self, connection: Connection, step: str) -> tuple[str, str]:
        """The configured plural, else the operator's resource the cluster serves."""
        if self.plural:
            return self.plural, self.kind or KINDS.get(self.plural, "")
        if self._served is not None:
            return self._served
        backoff = self.retry_backoff
        for attempt in range(1, self.create_attempts + 1):
            try:
                served = await served_resources(
                    connection, self.group, self.version, self.request_timeout
                )
                break
            except ClusterError as error:
                if error.code == 404:
                    served = {}
                    break
                if not error.transient or attempt == self.create_attempts:
                    target = Target(connection, connection.namespace, "/".join(KINDS), "")
                    raise self._failure(error, "get", target, step) from None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
        for plural, kind in KINDS.items():
            if plural in served:
                self._served = (plural, served[plural] or kind)
                return self._served
        raise not_served(connection.host, self.api_version, list(KINDS), served, step)

    def _failure(self, error: ClusterError, verb: str, target: Target, step: str) -> BuildFailure:
        return failure(error, verb, target, self.api_version, step)

    # -- the resource in the cluster --------------------------------------------------------

    async def _create(self, build: BuildContext, target: Target, step: str) -> Target:
        body = cluster_resource(build.resource, self.api_version, target.kind, self.owner)
        backoff = self.retry_backoff
        attempt = 0
        reloaded = False
        while True:
            attempt += 1
            call = asyncio.ensure_future(
                self._call(
                    target.api.create_namespaced_custom_object,
                    self.group,
                    self.version,
                    target.namespace,
                    target.plural,
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
                    self._record(build, await asyncio.wait_for(call, self.request_timeout), target)
                raise
            except ClusterError as error:
                if error.code == 409 and attempt <= 10:  # not forever: a name fought over
                    await self._replace_stale(build, target, step)
                    continue
                if error.code == 404 and not error.names_an_object:
                    self._served = None  # the CRD went away or changed: discover it again
                if error.code == 401 and not reloaded:  # an exec plugin's token expired?
                    reloaded = True
                    target = dataclasses.replace(
                        target, connection=await self.reconnect(target.connection)
                    )
                    continue
                if error.transient and attempt < self.create_attempts:
                    build.log(f"Creating in the cluster failed ({error.message}); retrying.")
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                raise self._failure(error, "create", target, step) from None
        self._record(build, created, target)
        build.status["phase"] = model.PENDING
        await build.condition(
            model.READY_CONDITION,
            "Unknown",
            "Pending",
            f"Created {target.kind} {target.namespace}/{build.name} in the cluster at "
            f"{target.host}; waiting for the operator.",
        )
        return target

    def _record(self, build: BuildContext, created: Mapping[str, Any], target: Target) -> None:
        """Remember where the resource lives (its UID guards every later delete)."""
        meta = created.get("metadata") or {}
        build.status["cluster"] = {
            "server": target.host,
            "namespace": target.namespace,
            "name": meta.get("name", build.name),
            "uid": meta.get("uid", ""),
            "apiVersion": self.api_version,
            "kind": target.kind,
            "plural": target.plural,
        }

    async def _get(self, target: Target, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self._call(
                target.api.get_namespaced_custom_object,
                self.group,
                self.version,
                target.namespace,
                target.plural,
                name,
            )
        except ClusterError as error:
            if error.code == 404:
                return None
            raise
        return found

    async def _replace_stale(self, build: BuildContext, target: Target, step: str) -> None:
        """A resource of the same name exists: replace it if it is this user's, else fail.

        It is deleted in the foreground, with its UID as a precondition: its PipelineRun
        (which the operator would take for the new resource's, by name) goes first, and a
        resource someone else created meanwhile under the name is never touched.
        """
        try:
            existing = await self._get(target, build.name)
        except ClusterError as error:
            raise self._failure(error, "get", target, step) from None
        if existing is None:
            return  # deleted meanwhile: create again
        if not is_ours(existing, self.owner):
            owner = ((existing.get("metadata") or {}).get("annotations") or {}).get(
                OWNER_ANNOTATION
            ) or "someone else"
            raise BuildFailure(
                ALREADY_EXISTS,
                f"A {target.kind} named {build.name!r} already exists in the namespace "
                f"{target.namespace}, created by {owner}: choose another name.",
                step,
            )
        uid = str(existing["metadata"].get("uid", ""))
        build.log(
            f"Replacing the earlier {target.kind} {target.namespace}/{build.name} in the "
            "cluster (its PipelineRun is deleted first)."
        )
        if not await self._delete(target, build.name, step, uid):
            return  # gone, or no longer the one read: look again
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                current = await self._get(target, build.name)
            except ClusterError as error:
                raise self._failure(error, "get", target, step) from None
            if current is None or current["metadata"].get("uid") != uid:
                return
            await asyncio.sleep(0.2)
        raise BuildFailure(
            ALREADY_EXISTS,
            f"The earlier {target.kind} {target.namespace}/{build.name} is still being deleted "
            "(a finalizer?); retry later.",
            step,
        )

    async def _delete(self, target: Target, name: str, step: str, uid: str) -> bool:
        """Delete the resource of this UID in the foreground; False when it was not there."""
        body = {"propagationPolicy": "Foreground", "preconditions": {"uid": uid}}
        try:
            await self._call(
                target.api.delete_namespaced_custom_object,
                self.group,
                self.version,
                target.namespace,
                target.plural,
                name,
                body=body,
            )
        except ClusterError as error:
            if error.code in (404, 409):  # gone, or another resource now has the name
                return False
            raise self._failure(error, "delete", target, step) from None
        return True

    # -- running ----------------------------------------------------------------------------

    async def run(self, build: BuildContext) -> None:
        step = (
            model.IMPORTING
            if build.spec["buildType"] == model.IMAGE_IMPORT
            else model.BUILDING_STEP
        )
        resumed = bool((build.status.get("cluster") or {}).get("uid"))
        if not resumed:
            refused = refusal(
                build.resource,
                cluster_resource(build.resource, self.api_version, "", self.owner),
                step,
            )
            if refused is not None:
                raise refused
        target = await self._target(build, step)
        if resumed:
            build.log(
                f"Following {target.kind} {target.namespace}/{build.name} in the cluster again."
            )
        else:
            target = await self._create(build, target, step)
        await self._follow(build, target, step)

    async def cancel(self, resource: Mapping[str, Any]) -> None:
        """Delete the custom resource in the cluster (the operator's runs go first)."""
        cluster = (resource.get("status") or {}).get("cluster") or {}
        if not cluster.get("uid"):
            return  # never created there
        try:
            target = self._recorded(cluster, await self.connect())
            deleted = await self._delete(
                target, cluster["name"], model.READY_CONDITION, cluster["uid"]
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
                target.kind,
                cluster["namespace"],
                cluster["name"],
            )

    # -- following --------------------------------------------------------------------------

    async def _follow(self, build: BuildContext, target: Target, step: str) -> None:
        """Mirror the resource's status until it is Ready or Failed: list, then watch."""
        uid = build.status["cluster"]["uid"]
        version: str | None = None
        backoff = self.retry_backoff
        applied: list[Mirror | None] = [None]
        watched = False  # a watch has worked: a 403 now is revoked or rotated credentials
        refused_since: float | None = None
        while True:
            try:
                if version is None:
                    listed = await self._call(
                        target.api.list_namespaced_custom_object,
                        self.group,
                        self.version,
                        target.namespace,
                        target.plural,
                        field_selector=f"metadata.name={build.name}",
                    )
                    refused_since = None
                    items = [
                        item
                        for item in listed.get("items") or []
                        if (item.get("metadata") or {}).get("uid") == uid
                    ]
                    if not items:
                        raise deleted(build.name, target, step)
                    version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
                    if await self._apply(build, target, items[0], step, applied):
                        return
                opened, events = time.monotonic(), 0
                # aclosing: leaving the loop early (an end, an ERROR event, a cancellation
                # while applying) stops the reading thread now, not when the generator is
                # garbage collected (never, once the event loop has closed).
                watch = self._watch(target, build.name, version)
                async with contextlib.aclosing(watch):
                    async for event in watch:
                        events += 1
                        watched, refused_since = True, None
                        kind, obj = event.get("type"), event.get("object") or {}
                        if kind == "ERROR":
                            raise ClusterError.from_status(obj)
                        meta = obj.get("metadata") or {}
                        version = str(meta.get("resourceVersion") or version)
                        backoff = self.retry_backoff
                        if kind == "BOOKMARK" or meta.get("uid") not in (uid, None):
                            continue
                        if kind == "DELETED":
                            raise deleted(build.name, target, step)
                        if await self._apply(build, target, obj, step, applied):
                            return
                if not events and time.monotonic() - opened < 1:
                    await asyncio.sleep(backoff)  # a stream closed at once: do not hammer
                    backoff = min(backoff * 2, self.max_backoff)
            except ClusterError as error:
                if error.code == 410 or error.too_large_version:
                    # History compacted, or the server is behind what was seen (restored
                    # from a backup): only a fresh list says where things are.
                    build.log(f"The watch cannot resume ({error.message}); listing again.")
                    version = None
                    continue
                if error.code == 401 or (error.code == 403 and watched):
                    refused_since = refused_since or time.monotonic()
                    if time.monotonic() - refused_since < self.auth_retry_timeout:
                        target = dataclasses.replace(
                            target, connection=await self.reconnect(target.connection)
                        )
                        await self._lost(
                            build,
                            step,
                            FORBIDDEN,
                            f"The cluster at {target.host} did not accept the credentials "
                            f"({error.message}); reloaded them, retrying in {backoff:g} s (the "
                            "build goes on in the cluster).",
                            applied,
                        )
                        await asyncio.sleep(backoff)
                        backoff = min(backoff * 2, self.max_backoff)
                        continue
                if not error.transient:
                    verb = "list" if version is None else "watch"
                    raise self._failure(error, verb, target, step) from None
                await self._lost(
                    build,
                    step,
                    CLUSTER_UNAVAILABLE,
                    f"Lost contact with the cluster at {target.host} ({error.message}); "
                    f"retrying in {backoff:g} s.",
                    applied,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _lost(
        self,
        build: BuildContext,
        step: str,
        reason: str,
        message: str,
        applied: list[Mirror | None],
    ) -> None:
        """Say the build is not followed for now (it goes on in the cluster)."""
        build.log(message)
        if model.phase_of(build.resource) == model.BUILDING:
            await build.condition(step, "Unknown", reason, message)
        applied[0] = None

    def _watch(
        self, target: Target, name: str, version: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Watch events of one resource from ``version``, read by a daemon thread."""

        def open_stream() -> Any:
            return target.api.list_namespaced_custom_object(
                self.group,
                self.version,
                target.namespace,
                target.plural,
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
        target: Target,
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
        if mirror.phase in (model.READY, model.FAILED) and reported_from_a_run(obj):
            checked = await self._checked(build, target, obj, mirror)
            if checked is None:
                await build.save()
                return False
            mirror = checked
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
        await self._ready(build, target, obj, mirror, step)
        return True

    async def _checked(
        self, build: BuildContext, target: Target, obj: Mapping[str, Any], mirror: Mirror
    ) -> Mirror | None:
        """The operator's outcome checked against its PipelineRun (None: not this run's)."""
        name = run_name_of(obj, build.spec["buildType"])
        where = f"{target.namespace}/{name}"
        try:
            run = await self._read_run(target, name)
        except ClusterError as error:
            why = (
                "RBAC: get on pipelineruns.tekton.dev is missing (docs/kubernetes-rbac.yaml)"
                if error.code == 403
                else error.message
            )
            build.log(
                f"The PipelineRun {where} cannot be read ({why}); the operator's report is "
                "taken as it is."
            )
            return mirror
        verdict, note = judge_run(run, build.status["cluster"]["uid"], mirror, where, target.kind)
        if note:
            build.log(note)
        return verdict

    async def _read_run(self, target: Target, name: str) -> Mapping[str, Any] | None:
        """The PipelineRun (Tekton's v1, else v1beta1), None when there is none."""
        for version in TEKTON_VERSIONS:
            try:
                run: Mapping[str, Any] = await self._call(
                    target.api.get_namespaced_custom_object,
                    "tekton.dev",
                    version,
                    target.namespace,
                    "pipelineruns",
                    name,
                )
                return run
            except ClusterError as error:
                if error.code != 404:
                    raise
                if error.names_an_object:
                    return None
        return None

    # -- the result -------------------------------------------------------------------------

    async def _ready(
        self,
        build: BuildContext,
        target: Target,
        obj: Mapping[str, Any],
        mirror: Mirror,
        step: str,
    ) -> None:
        produced = await self._produced(build, target, obj)
        if produced.software is not None:
            build.status["software"] = produced.software
        if produced.dependencies is not None:
            build.status["pythonDependencies"] = produced.dependencies
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
        image = produced.image
        if image:
            build.status["image"] = image
            try:
                action = await configure_runtime_image(self.store, build, image)
            except ValidationFailedError as error:
                raise BuildFailure(
                    model.BUILD_FAILED,
                    f"The cluster built {image}, but it cannot be configured as a runtime "
                    f"image: {error}",
                    model.READY_CONDITION,
                ) from None
            message = f"{mirror.message} Runtime image '{build.name}' {action}: {image}."
            if produced.note:
                message += f" {produced.note}"
        else:
            message = (
                f"{mirror.message} The operator recorded no image (no ImageStream for its "
                "PipelineRun), so no runtime image was configured."
            )
        build.status["phase"] = model.READY
        await build.condition(model.READY_CONDITION, "True", "Ready", message)

    async def _produced(
        self, build: BuildContext, target: Target, obj: Mapping[str, Any]
    ) -> Produced:
        """The resulting image: from the status, else the ImageStream of the PipelineRun."""
        status = obj.get("status") or {}
        for key in ("image", "imageReference", "dockerImageReference"):
            if isinstance(status.get(key), str) and status[key]:
                return Produced(status[key])
        names = stream_names(obj, build.spec["buildType"])
        read = functools.partial(self._read_stream, build, target)
        if build.spec["buildType"] != model.IMAGE_IMPORT:
            return await built_image(read, names)
        return await imported_image(
            read,
            names,
            str(build.spec["fromImage"]),
            str((obj.get("metadata") or {}).get("creationTimestamp") or ""),
            self.import_timeout,
            self._pin,
        )

    async def _read_stream(
        self, build: BuildContext, target: Target, name: str
    ) -> Mapping[str, Any] | None:
        group, _, version = self.imagestream_api_version.partition("/")
        try:
            stream: Mapping[str, Any] = await self._call(
                target.api.get_namespaced_custom_object,
                group,
                version,
                target.namespace,
                "imagestreams",
                name,
            )
        except ClusterError as error:
            if error.code != 404:
                build.log(f"The ImageStream {name} cannot be read: {error.message}")
            return None
        return stream

    async def _pin(self, image: str) -> str:
        """``image`` pinned to the digest its registry serves now."""
        if self.registry is not None:
            return str(await self.registry.pin(image))
        async with RegistryClient(parent=self) as client:
            return str(await client.pin(image))
