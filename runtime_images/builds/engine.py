"""What a build engine is, and how it reports: the contract between engines and the
controller that runs them.

An engine (embedded, buildah, kubernetes) gets a :class:`BuildContext` — the resource, and
ways to record conditions, progress and log lines — and either returns (it marked the
build Ready through :mod:`.outcome`) or raises :class:`BuildFailure` with a reason a person
can act on. It never touches the controller itself.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from . import model

__all__ = ["BuildContext", "BuildFailure", "Engine", "Recorder"]


class Recorder(Protocol):
    """Where a running build's state goes (the controller: files and events)."""

    async def save(self, resource: dict[str, Any]) -> None: ...

    def schedule_save(self, build: BuildContext) -> None: ...

    def append_log(self, name: str, line: str) -> None: ...


class BuildFailure(Exception):
    """A build step failed for a reason a person can act on (a condition reason)."""

    def __init__(self, reason: str, message: str, condition: str = model.READY_CONDITION) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.condition = condition


class Engine(Protocol):
    """Runs one build type to completion, reporting through the :class:`BuildContext`.

    An engine that keeps state outside the server (a custom resource in a cluster) may
    also define ``async cancel(resource)``: it is called when a person cancels or deletes
    the build, and not when the server stops (the build then resumes on the next start).
    One that only follows work done elsewhere sets ``uses_build_slot = False``, so its
    builds do not count against ``BuildController.concurrency``.
    """

    name: str

    async def run(self, build: BuildContext) -> None: ...


class BuildContext:
    """One running build: its resource, and the ways an engine reports progress."""

    PROGRESS_INTERVAL = 0.5

    def __init__(self, recorder: Recorder, resource: dict[str, Any]) -> None:
        self.recorder = recorder
        self.resource = resource
        self._last_progress = 0.0

    @property
    def name(self) -> str:
        return str(self.resource["metadata"]["name"])

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.resource["spec"]
        return spec

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.resource.setdefault("status", {})
        return status

    async def condition(self, type_: str, status: str, reason: str, message: str) -> None:
        model.set_condition(self.resource, type_, status, reason, message)
        self.log(f"{type_}={status} {reason}: {message}")
        await self.save()

    async def step(self, type_: str, message: str) -> None:
        """Start a step: its condition is Unknown (in progress) until it ends."""
        self.status["phase"] = model.BUILDING
        await self.condition(type_, "Unknown", "InProgress", message)

    async def update(self, **fields: Any) -> None:
        self.status.update(fields)
        await self.save()

    def progress(
        self, bytes_done: int, bytes_total: int, steps_done: int, steps_total: int
    ) -> None:
        """Record progress; saved and emitted at most twice a second (and at the end)."""
        self.status["progress"] = {
            "bytesDone": bytes_done,
            "bytesTotal": bytes_total,
            "stepsDone": steps_done,
            "stepsTotal": steps_total,
        }
        now = time.monotonic()
        if bytes_done >= bytes_total or now - self._last_progress >= self.PROGRESS_INTERVAL:
            self._last_progress = now
            self.recorder.schedule_save(self)

    def log(self, line: str) -> None:
        self.recorder.append_log(self.name, f"{model.now()} {line}")

    async def save(self) -> None:
        await self.recorder.save(self.resource)
