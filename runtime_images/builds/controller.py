"""The embedded build controller: reconciles CustomNBImage resources inside the server.

It is what Meteor's operator is for a cluster, without one: resources persisted in a
directory (:class:`~.store.BuildStore`) are driven ``Pending → Building → Ready | Failed``
by asyncio tasks (at most ``concurrency`` at once), every state change is saved and
emitted as an event, and on start the resources left ``Pending`` or ``Building`` by a
stopped or killed server are resumed. Unlike the operator, every outcome — success
included — is marked explicitly by a condition (its defects M1, M5, M7, M9).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from traitlets import Float, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from ..errors import ConflictError, NotFoundError, ValidationFailedError
from ..fields import FieldError
from . import model
from .claims import ClaimRegistry
from .engine import BuildContext, BuildFailure, Engine
from .store import BuildStore, default_directory

Emit = Callable[[dict[str, Any]], None]


class EndedElsewhere(Exception):
    """Another process ended (cancelled) or took over the build this one was running."""


class BuildController(LoggingConfigurable):
    """Runs CustomNBImage builds inside the Jupyter server (the embedded engine)."""

    builds_dir = Unicode(
        help="""Directory of CustomNBImage resources and build logs. Defaults to
        <jupyter_data_dir()>/runtime-images/builds."""
    ).tag(config=True)

    concurrency = Integer(2, help="How many builds run at the same time.").tag(config=True)

    poll_interval = Float(
        2.0,
        help="""Seconds between checks of the builds directory for resources submitted by
        the CLI or another process.""",
    ).tag(config=True)

    engine = Unicode(
        "embedded",
        help="""The engine that runs a build submitted without naming one: "embedded" (in
        this server, no daemon) or "kubernetes" (submit the CustomNBImage to a cluster that
        runs the operator and mirror its status; configure it as c.KubernetesEngine.<trait>).""",
    ).tag(config=True)

    default_profiles = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="""Requirement profiles an import is validated against when its spec names
        none; when unset, those of ImageInspector.default_profiles.""",
    ).tag(config=True)

    claim_lease = Float(
        30.0,
        help="""Seconds a process's claim on a running build lasts unless renewed (it is
        renewed every third of that). Another process on the same data directory takes a
        build over when the claim lapses — at once when the claimer's process is gone.""",
    ).tag(config=True)

    max_resource_bytes = Integer(
        4 * 1024 * 1024,
        help="""Largest CustomNBImage resource file (bytes, as written, status included); a
        submitted resource that would be larger is refused with a 413.""",
    ).tag(config=True)

    @default("builds_dir")
    def _default_builds_dir(self) -> str:
        return default_directory()

    def __init__(self, engines: Mapping[str, Engine], emit: Emit | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.resources = BuildStore(
            Path(self.builds_dir), max_resource_bytes=self.max_resource_bytes
        )
        self.engines = dict(engines)
        self.emit = emit
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancel_requested: set[str] = set()
        self._semaphore: asyncio.Semaphore | None = None
        self._poller: asyncio.Task[None] | None = None
        self._pending_saves: dict[str, asyncio.Task[None]] = {}
        self._save_order = itertools.count()
        self._last_written: dict[str, int] = {}
        self._write_lock = threading.Lock()
        self._known: dict[str, tuple[int, int]] = {}
        self._last_events: dict[str, dict[str, Any]] = {}
        self._last_emitted: dict[str, int] = {}
        # Builds a claim decides: run by another process (looked at again when its claim
        # lapses), and ours that were taken over or ended by another process.
        self.claims = ClaimRegistry(self.resources.directory, self.resources.lock, uuid.uuid4().hex)
        self._elsewhere: set[str] = set()
        self._given_up: set[str] = set()
        self._own_stamps: dict[str, tuple[int, int] | None] = {}

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, watch: bool = True) -> None:
        """Resume every build left Pending or Building, then watch for new ones (once: a
        second call while started does nothing). ``watch=False`` only makes the controller
        ready to run what is submitted to it (the CLI building one build itself)."""
        if self._poller is not None and not self._poller.done():
            return
        self._semaphore = asyncio.Semaphore(self.concurrency)
        if not watch:
            return
        removed = await asyncio.to_thread(self.resources.remove_abandoned_files)
        if removed:
            self.log.info("runtime-images: removed %d files left by interrupted writes", removed)
        for resource in await asyncio.to_thread(self.resources.list):
            if model.phase_of(resource) in model.ACTIVE_PHASES:
                self._schedule(resource["metadata"]["name"], resumed=True)
        self._known = await asyncio.to_thread(self.resources.stamps)
        self._poller = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        """Stop watching and stop running builds; they stay Building and resume later."""
        tasks = [t for t in [self._poller, *self._tasks.values()] if t is not None]
        self._poller = None
        for task in tasks:
            task.cancel()
        await _ended(*tasks)
        self._tasks.clear()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.sync()
            except Exception:  # keep watching whatever one scan met
                self.log.exception("runtime-images: scanning %s failed", self.resources.directory)

    async def sync(self) -> None:
        """Pick up resources written by another process, and builds whose claim lapsed;
        stop builds another process ended; forget deleted ones."""
        running = set(self._tasks)
        stamps = await asyncio.to_thread(self.resources.stamps)
        for name, stamp in stamps.items():
            changed = self._known.get(name) != stamp
            if name in self._tasks:
                if changed and stamp != self._own_stamps.get(name):
                    await self._stop_if_ended_elsewhere(name)
                continue
            lapsed = name in self._elsewhere and await asyncio.to_thread(self.claims.lapsed, name)
            if changed or lapsed:
                with contextlib.suppress(NotFoundError):
                    resource = await asyncio.to_thread(self.resources.get, name)
                    if model.phase_of(resource) in model.ACTIVE_PHASES:
                        self._schedule(name)
        self._elsewhere &= set(stamps)
        # Only builds that ran before the scan began, and whose file is still gone: one
        # submitted while the scan ran is not in it, and must not be taken for deleted.
        for name in (running & set(self._tasks)) - set(stamps):
            if not (self.resources.directory / f"{name}.json").exists():
                self._cancel_requested.add(name)
                self._tasks[name].cancel()
        self._known = stamps

    # -- operations ----------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        return self.resources.list()

    def get(self, name: str) -> dict[str, Any]:
        return self.resources.get(name)

    def read_log(self, name: str) -> str:
        return self.resources.read_log(name)

    def new_resource(
        self,
        document: object,
        engine: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """Validate a submitted document; return it as a Pending resource."""
        resource = model.normalize(document)
        engine_name = engine or self.engine
        if engine_name not in self.engines:
            raise ConflictError(f"No build engine named {engine_name!r} is configured.")
        if engine_name != "embedded" and model.requested_platforms(resource):
            field = f"metadata.annotations.{model.ANNOTATION_PLATFORMS}"
            why = (
                f"the {engine_name} engine builds one platform; multi-platform builds are made "
                "by the embedded engine (layer append, wheels resolved per platform)"
            )
            raise ValidationFailedError([FieldError(field, why)], f"{field}: {why}")
        if message is None:
            message = getattr(
                self.engines[engine_name], "pending_message", "Waiting for a free build slot."
            )
        resource["status"] = {"phase": model.PENDING, "engine": engine_name}
        model.set_condition(resource, model.READY_CONDITION, "Unknown", "Pending", message)
        return resource

    async def submit(self, document: object, engine: str | None = None) -> dict[str, Any]:
        """Validate and persist a new resource as Pending, and start it when a slot frees."""
        resource = self.new_resource(document, engine)
        await asyncio.to_thread(self.resources.create, resource)
        self._emit(resource)
        self._schedule(resource["metadata"]["name"])
        return resource

    async def cancel(self, name: str) -> dict[str, Any]:
        """Cancel a Pending or Building build: it ends Failed with reason Cancelled."""
        resource = await asyncio.to_thread(self.resources.get, name)
        if model.phase_of(resource) not in model.ACTIVE_PHASES:
            raise ConflictError(f"The build {name!r} has already ended; nothing to cancel.")
        if await self._stop_here(name):
            resource = await asyncio.to_thread(self.resources.get, name)  # as the engine left it
        if model.phase_of(resource) in model.ACTIVE_PHASES:  # it never started here
            await self._mark_cancelled(resource)
        await self._cancel_in_engine(resource)
        return resource

    async def _stop_here(self, name: str) -> bool:
        """Cancel the build's task in this process, if it has one, and wait until it ended
        (it records Cancelled itself); whether there was one."""
        task = self._tasks.get(name)
        if task is None:
            return False
        self._cancel_requested.add(name)
        task.cancel()
        await _ended(task)
        self._cancel_requested.discard(name)  # if it was cancelled before it started
        return True

    async def delete(self, name: str) -> None:
        """Cancel the build if it runs, then remove it and its log."""
        await self._stop_here(name)
        with contextlib.suppress(NotFoundError):
            await self._cancel_in_engine(await asyncio.to_thread(self.resources.get, name))
        await asyncio.to_thread(self.resources.delete, name)
        await asyncio.to_thread(self.claims.forget, name)
        self._known.pop(name, None)
        self._last_events.pop(name, None)
        if self.emit is not None:
            self.emit({"name": name, "phase": "Deleted"})

    async def retry(self, name: str, run: bool = True) -> dict[str, Any]:
        """Run an ended build again from the start (a new generation); with ``run=False``
        only mark it Pending, for whichever server runs it next."""
        resource = await asyncio.to_thread(self.resources.get, name)
        if model.phase_of(resource) in model.ACTIVE_PHASES:
            raise ConflictError(f"The build {name!r} is still running.")
        resource["metadata"]["generation"] = int(resource["metadata"].get("generation", 1)) + 1
        engine = (resource.get("status") or {}).get("engine", "embedded")
        resource["status"] = {"phase": model.PENDING, "engine": engine}
        model.set_condition(
            resource,
            model.READY_CONDITION,
            "Unknown",
            "Pending",
            "Retrying: waiting for a free build slot.",
        )
        await self.save(resource)
        if run:
            self._schedule(name)
        return resource

    async def rebuild(self, name: str, base: str) -> dict[str, Any]:
        """Run an ended build again because its base moved to ``base`` (``repo:tag@sha256:…``).

        What its last Ready run made is kept in ``status.lastGood``: the runtime image only
        moves when the rebuild is Ready, and a failed rebuild says which image stays. A base
        the spec pins by digest is replaced by ``base``; a tag is resolved afresh anyway.
        """
        resource = await asyncio.to_thread(self.resources.get, name)
        if model.phase_of(resource) in model.ACTIVE_PHASES:
            raise ConflictError(f"The build {name!r} is still running.")
        status = resource.get("status") or {}
        if model.phase_of(resource) == model.READY:
            kept = ("image", "baseImage", "sourceImage", "runtimeImage")
            last_good = {key: status[key] for key in kept if status.get(key)}
        else:
            last_good = status.get("lastGood") or {}
        spec = resource["spec"]
        for key in ("fromImage", "builderImage"):
            value = spec.get(key)
            if isinstance(value, str) and "@" in value:
                spec[key] = base
        resource["metadata"]["generation"] = int(resource["metadata"].get("generation", 1)) + 1
        resource["status"] = {
            "phase": model.PENDING,
            "engine": status.get("engine", "embedded"),
            "lastGood": last_good,
            "rebuild": {"reason": "BaseUpdated", "base": base, "requestedAt": model.now()},
        }
        model.set_condition(
            resource,
            model.READY_CONDITION,
            "Unknown",
            "Pending",
            f"Rebuilding on the new base {base}: waiting for a free build slot.",
        )
        await self.save(resource)
        self._schedule(name)
        return resource

    def resume(self, name: str) -> None:
        """Run a Pending or Building build that no process runs (it is claimed first)."""
        self._schedule(name)

    async def _uses_slot(self, name: str) -> bool:
        """Whether the build takes one of the ``concurrency`` slots: not when its engine
        only follows work done elsewhere (``uses_build_slot = False``, e.g. a cluster)."""
        try:
            resource = await asyncio.to_thread(self.resources.get, name)
        except NotFoundError:
            return True
        engine = self.engines.get((resource.get("status") or {}).get("engine", "embedded"))
        return bool(getattr(engine, "uses_build_slot", True))

    async def _cancel_in_engine(self, resource: Mapping[str, Any]) -> None:
        """Let the build's engine undo what it started outside the server (if it can)."""
        engine = self.engines.get((resource.get("status") or {}).get("engine", "embedded"))
        cancel = getattr(engine, "cancel", None)
        if cancel is not None:
            await cancel(resource)

    # -- running -------------------------------------------------------------------------

    def _schedule(self, name: str, resumed: bool = False) -> None:
        if name in self._tasks:
            return
        task = asyncio.create_task(self._run(name, resumed))
        self._tasks[name] = task
        task.add_done_callback(lambda _: self._tasks.pop(name, None))

    async def _run(self, name: str, resumed: bool) -> None:
        assert self._semaphore is not None
        try:
            slot: contextlib.AbstractAsyncContextManager[Any] = self._semaphore
            if not await self._uses_slot(name):
                slot = contextlib.nullcontext()
            async with slot:
                resource = await asyncio.to_thread(self.resources.get, name)
                if model.phase_of(resource) not in model.ACTIVE_PHASES:
                    return
                ours, previous = await asyncio.to_thread(self.claims.claim, name, self.claim_lease)
                if not ours:  # another process runs it; looked at again if its claim lapses
                    self._elsewhere.add(name)
                    return
                self._elsewhere.discard(name)
                build = BuildContext(self, resource)
                if resumed:
                    build.log("Resumed after the server restarted.")
                if previous is not None:
                    build.log(
                        f"Taken over from process {previous.pid} on {previous.host}, whose "
                        "claim lapsed (it stopped or was killed)."
                    )
                build.log(f"Run by process {os.getpid()} on {self.claims.host}.")
                task = asyncio.current_task()
                assert task is not None
                keeper = asyncio.create_task(self._keep_claim(name, task))
                try:
                    await self._drive(build, resource)
                except EndedElsewhere:
                    self.log.info("runtime-images: build %s was ended by another process", name)
                finally:
                    keeper.cancel()
                    await _ended(keeper)
                    await asyncio.to_thread(self.claims.release, name)
        except asyncio.CancelledError:
            if name in self._given_up:
                return  # another process ended or took over the build
            if name in self._cancel_requested:
                with contextlib.suppress(NotFoundError, EndedElsewhere):
                    await self._mark_cancelled(await asyncio.to_thread(self.resources.get, name))
                return
            raise
        finally:
            self._cancel_requested.discard(name)
            self._given_up.discard(name)
            pending = self._pending_saves.pop(name, None)
            if pending is not None and not pending.done():
                pending.cancel()  # a progress save not started yet must not follow the end

    async def _drive(self, build: BuildContext, resource: dict[str, Any]) -> None:
        """Run the build's engine and record how it ended (Failed, Cancelled) unless it
        succeeded (the engine records that itself)."""
        name = build.name
        engine = self.engines.get(resource["status"].get("engine", "embedded"))
        try:
            if engine is None:
                raise BuildFailure(model.BUILD_FAILED, "Its build engine is not configured.")
            build.status["phase"] = model.BUILDING
            build.status["observedGeneration"] = resource["metadata"].get("generation", 1)
            await engine.run(build)
        except BuildFailure as failure:
            await self._fail(build, failure)
        except asyncio.CancelledError:
            if name in self._cancel_requested and name not in self._given_up:
                await self._mark_cancelled(build.resource)
                return
            raise
        except EndedElsewhere:
            raise
        except Exception as error:  # an engine bug must not leave it Building
            self.log.exception("runtime-images: build %s failed", name)
            await self._fail(
                build,
                BuildFailure(
                    model.BUILD_FAILED, f"Unexpected error: {type(error).__name__}: {error}"
                ),
            )

    async def _keep_claim(self, name: str, task: asyncio.Task[Any]) -> None:
        """Renew the claim while the build runs; stop the build here if it was taken over
        (the lease lapsed while this process was stopped or cut off)."""
        while True:
            await asyncio.sleep(self.claim_lease / 3)
            if not await asyncio.to_thread(self.claims.renew, name, self.claim_lease):
                self.log.warning(
                    "runtime-images: another process took over build %s; stopping it here", name
                )
                self._given_up.add(name)
                task.cancel()
                return

    async def _stop_if_ended_elsewhere(self, name: str) -> None:
        """A build running here whose file another process changed: stop it when that
        process ended it (a cancel from another server or the CLI)."""
        try:
            resource = await asyncio.to_thread(self.resources.get, name)
        except NotFoundError:
            return  # deleted: the deletion check below cancels it
        task = self._tasks.get(name)
        if task is not None and model.phase_of(resource) not in model.ACTIVE_PHASES:
            self._given_up.add(name)
            task.cancel()

    async def _fail(self, build: BuildContext, failure: BuildFailure) -> None:
        build.status["phase"] = model.FAILED
        kept = (build.status.get("lastGood") or {}).get("image")
        if build.status.get("rebuild") and kept:
            runtime_image = build.status["lastGood"].get("runtimeImage") or build.name
            failure.message = (
                f"The rebuild on the new base failed; the runtime image '{runtime_image}' "
                f"keeps the last good image {kept}. {failure.message}"
            )
            build.status["rebuild"]["result"] = "Failed"
        if failure.condition != model.READY_CONDITION:
            model.set_condition(
                build.resource, failure.condition, "False", failure.reason, failure.message
            )
        await build.condition(model.READY_CONDITION, "False", failure.reason, failure.message)

    async def _mark_cancelled(self, resource: dict[str, Any]) -> None:
        resource.setdefault("status", {})["phase"] = model.FAILED
        model.set_condition(
            resource, model.READY_CONDITION, "False", model.CANCELLED, "The build was cancelled."
        )
        with contextlib.suppress(NotFoundError):
            self.resources.append_log(resource["metadata"]["name"], f"{model.now()} Cancelled.")
        await self.save(resource)

    # -- persistence and events ----------------------------------------------------------

    async def save(self, resource: dict[str, Any]) -> None:
        """Persist a snapshot of ``resource`` and emit it.

        Writes run in threads, and a cancelled build's last write may still be running
        when its "Cancelled" state is saved; each snapshot therefore carries its place in
        the order the event loop made them, and an older one never overwrites a newer one —
        on disk, nor in the events (threads may finish in another order than they wrote).
        """
        snapshot = copy.deepcopy(resource)
        name = snapshot["metadata"]["name"]
        if not (self.resources.directory / f"{name}.json").exists():
            raise NotFoundError(f"No build named {name!r}.")  # deleted meanwhile: stop
        order = next(self._save_order)
        written = await asyncio.to_thread(self._write, snapshot, order)
        if written and order > self._last_emitted.get(name, -1):
            self._last_emitted[name] = order
            self._emit(snapshot)

    def _write(self, snapshot: dict[str, Any], order: int) -> bool:
        name = snapshot["metadata"]["name"]
        with self._write_lock, self.resources.lock():
            if self._last_written.get(name, -1) > order:
                return False  # a newer state is already on disk
            self._refuse_if_ended_elsewhere(snapshot)
            self.resources.save(snapshot)
            self._last_written[name] = order
            self._own_stamps[name] = self.resources.stamp(name)
            return True

    def _refuse_if_ended_elsewhere(self, snapshot: dict[str, Any]) -> None:
        """Under the lock: another process (a cancel from another server or the CLI) may
        have ended this generation of the build since this one last wrote it."""
        name = snapshot["metadata"]["name"]
        try:
            current = self.resources.get(name)
        except NotFoundError:
            raise NotFoundError(f"No build named {name!r}.") from None
        same_generation = current["metadata"].get("generation", 1) == snapshot["metadata"].get(
            "generation", 1
        )
        changed_by_another = self.resources.stamp(name) != self._own_stamps.get(name)
        if (
            same_generation
            and changed_by_another
            and model.phase_of(current) not in model.ACTIVE_PHASES
            and name in self._tasks
        ):
            raise EndedElsewhere(name)

    def append_log(self, name: str, line: str) -> None:
        self.resources.append_log(name, line)

    def schedule_save(self, build: BuildContext) -> None:
        """Save from a synchronous progress callback, coalescing bursts."""
        name = build.name
        running = self._pending_saves.get(name)
        if running is not None and not running.done():
            return
        self._pending_saves[name] = asyncio.get_running_loop().create_task(build.save())

    def _emit(self, resource: Mapping[str, Any]) -> None:
        if self.emit is None:
            return
        status = resource.get("status") or {}
        latest = model.latest_condition(resource) or {}
        event: dict[str, Any] = {
            "name": resource["metadata"]["name"],
            "phase": status.get("phase", model.PENDING),
            "reason": latest.get("reason", ""),
            "message": latest.get("message", ""),
            "engine": status.get("engine", "embedded"),
        }
        if "progress" in status:
            event["progress"] = status["progress"]
        if self._last_events.get(event["name"]) == event:
            return  # a progress save and a step's save can carry the same state
        self._last_events[event["name"]] = event
        try:
            self.emit(event)
        except Exception:
            self.log.exception("runtime-images: emitting the build event failed")


async def _ended(*tasks: asyncio.Task[None]) -> None:
    """Wait until every task has ended, however it ended.

    Not ``suppress(CancelledError)`` around ``await task``: that would also swallow the
    cancellation of the waiting coroutine itself (a request or a shutdown being cancelled),
    which then goes on as if nothing had happened.
    """
    if not tasks:
        return
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: the build recorded (or logged) its own failure
