"""The tag watcher: resolves every watched tag with one manifest HEAD, records what moved,
announces each move once, and starts the rebuilds that asked for it.

It runs in the server's event loop without blocking it: registry requests are async (the
product's :class:`~runtime_images.registry.RegistryClient`, which honours 429 and
Retry-After), the store, the builds and the state file are read and written in threads.
Requests are bounded by ``max_concurrency`` in all and ``max_per_registry`` per registry,
and issued round-robin across registries so one slow registry does not hold every slot.
The same tag used by many images is resolved once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets import Float, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

from ..errors import RuntimeImagesError
from ..reference import InvalidReferenceError, parse
from ..registry import RegistryClient, RegistryError
from ..store import RuntimeImageStore
from .state import TagRecord, WatchState, now_iso
from .subjects import BUILD_BASE, Subject, build_bases, runtime_images

__all__ = ["CheckStats", "Summarize", "TagWatcher"]

Summarize = Callable[[str, str], Any]
"""``summarize(pinned_ref, current_ref)`` -> ``{packages: {added, removed, changed},
vulnerabilities: {fixed, introduced} | None}`` or None; sync (run in a thread) or async."""
Builds = Callable[[], list[dict[str, Any]]]
Rebuild = Callable[[str, str], Awaitable[Any]]
Emit = Callable[[dict[str, Any]], None]


@dataclass
class CheckStats:
    """What the last check cost: registry requests, the most in flight, and seconds."""

    tags: int = 0
    requests: int = 0
    peak_concurrency: int = 0
    seconds: float = 0.0
    in_flight: int = 0
    per_registry_peak: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "tags": self.tags,
            "requests": self.requests,
            "peakConcurrency": self.peak_concurrency,
            "seconds": round(self.seconds, 3),
        }


def _summary_key(pinned: str, current: str) -> str:
    return f"{pinned}..{current}"


def _round_robin(references: Iterable[str]) -> list[str]:
    """References ordered one registry at a time, so every registry gets turns early."""
    queues: dict[str, list[str]] = defaultdict(list)
    for reference in references:
        queues[parse(reference).registry_host].append(reference)
    ordered: list[str] = []
    while queues:
        for host in list(queues):
            ordered.append(queues[host].pop(0))
            if not queues[host]:
                del queues[host]
    return ordered


class TagWatcher(LoggingConfigurable):
    """Notice when the tag of a runtime image or of a build's base moves (``c.TagWatcher``)."""

    interval = Float(
        6 * 3600.0,
        min=0.0,
        config=True,
        help="""Seconds between two checks of every watched tag (default 6 hours); 0 turns
        the periodic check off (POST /runtime-images/updates/check and `jupyter
        runtime-images outdated --check` still check on demand).""",
    )
    max_concurrency = Integer(
        8,
        min=1,
        config=True,
        help="Manifest requests in flight at once during a check, over all registries.",
    )
    max_per_registry = Integer(
        8,
        min=1,
        config=True,
        help="""Manifest requests in flight at once to any one registry (at most
        max_concurrency), so a check spreads its requests over the registries.""",
    )
    state_dir = Unicode(
        config=True,
        help="""Directory of the watch's state (state.json: each tag's digests and when
        they were first seen). Defaults to <the store's data_dir>/runtime-images/watch.""",
    )
    summary_timeout = Float(
        300.0,
        min=1.0,
        config=True,
        help="Seconds the summary of one move (the diff of two images) may take.",
    )

    def __init__(
        self,
        store: RuntimeImageStore,
        client: RegistryClient,
        *,
        builds: Builds | None = None,
        rebuild: Rebuild | None = None,
        emit: Emit | None = None,
        summarize: Summarize | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.client = client
        self.builds = builds
        self.rebuild = rebuild
        self.emit = emit
        self.summarize = summarize
        self.last_stats = CheckStats()
        self._task: asyncio.Task[None] | None = None
        self._check_lock = asyncio.Lock()

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return str(Path(self.store.data_dir) / "runtime-images" / "watch")

    @property
    def directory(self) -> Path:
        return Path(self.state_dir)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Check every ``interval`` seconds in the background (nothing when it is 0)."""
        if self.interval > 0 and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # keep watching whatever one check met
                self.log.exception("runtime-images: checking the watched tags failed")

    # -- reading ---------------------------------------------------------------------------

    def subjects(self) -> list[Subject]:
        """Everything watched now (blocking: store and builds are read from disk)."""
        subjects = runtime_images(self.store)
        if self.builds is not None:
            subjects += build_bases(self.builds())
        return subjects

    def updates(self, new: Iterable[str] = ()) -> dict[str, Any]:
        """The moves known from the last check, as ``GET updates`` answers (blocking).

        ``new`` are the subject keys whose move the current check found first (and, with an
        ``emit`` function, announced: a watcher without one — the CLI's — leaves the
        announcement to the server).
        """
        state = WatchState.load(self.directory)
        return self._report(self.subjects(), state, set(new))

    def _report(self, subjects: list[Subject], state: WatchState, new: set[str]) -> dict[str, Any]:
        updates, errors = [], []
        for subject in subjects:
            record = state.tags.get(subject.reference)
            if record is None:
                continue
            if record.error:
                errors.append({"name": subject.name, "kind": subject.kind, "error": record.error})
            pinned = subject.pinned or state.baselines.get(subject.key)
            current = record.current
            if pinned is None or current is None or pinned == current:
                continue
            updates.append(
                {
                    "name": subject.name,
                    "kind": subject.kind,
                    "reference": subject.reference,
                    "pinned": pinned,
                    "current": current,
                    "since": record.first_seen.get(current),
                    "summary": state.summaries.get(_summary_key(pinned, current)),
                    "pinnedByDigest": subject.pinned is not None,
                    "new": subject.key in new,
                }
            )
        updates.sort(key=lambda u: (u["kind"] != "runtime-image", u["name"]))
        return {"checkedAt": state.checked_at, "updates": updates, "errors": errors}

    # -- checking --------------------------------------------------------------------------

    async def check(self) -> dict[str, Any]:
        """Resolve every watched tag now; record, announce and act on what moved."""
        async with self._check_lock:
            subjects = await asyncio.to_thread(self.subjects)
            references = sorted({s.reference for s in subjects})
            results = await self._resolve_all(references)
            at = now_iso()

            def merge(state: WatchState) -> dict[str, Any]:
                state.checked_at = at
                for reference, (digest, error) in results.items():
                    record = state.tags.setdefault(reference, TagRecord())
                    if digest is not None:
                        record.observe(digest, at)
                    else:
                        record.checked_at, record.error = at, error
                watched = {s.reference for s in subjects}
                for reference in [r for r in state.tags if r not in watched]:
                    del state.tags[reference]
                for subject in subjects:
                    current = state.tags[subject.reference].current
                    if subject.pinned is None and current is not None:
                        state.baselines.setdefault(subject.key, current)
                keys = {s.key for s in subjects}
                for mapping in (state.baselines, state.notified, state.acted):
                    for key in [k for k in mapping if k not in keys]:
                        del mapping[key]
                moved = []
                for subject in subjects:
                    pinned = subject.pinned or state.baselines.get(subject.key)
                    current = state.tags[subject.reference].current
                    if pinned and current and pinned != current:
                        if state.notified.get(subject.key) != current:
                            moved.append(subject)
                            if self.emit is not None:  # announced here: never again
                                state.notified[subject.key] = current
                    elif self.emit is not None:
                        state.notified.pop(subject.key, None)
                return self._report(subjects, state, {s.key for s in moved})

            report = await asyncio.to_thread(WatchState.update, self.directory, merge)
            for update in report["updates"]:
                if update["new"]:
                    self._announce(update)
            await self._rebuild_moved_bases(subjects, report)
            if self.summarize is not None and report["updates"]:
                await self._summarize(report)
            report["stats"] = self.last_stats.to_json()
            return report

    def _announce(self, update: Mapping[str, Any]) -> None:
        if self.emit is None:
            return
        event = {k: update[k] for k in ("name", "kind", "reference", "pinned", "current")}
        if update.get("since"):
            event["since"] = update["since"]
        try:
            self.emit(event)
        except Exception:  # an event bus failure must not lose the check's result
            self.log.exception("runtime-images: emitting update-available failed")

    async def _resolve_all(self, references: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """Each tag's digest now (or the error that kept it from being known)."""
        stats = CheckStats(tags=len(references))
        self.last_stats = stats
        started = time.monotonic()
        overall = asyncio.Semaphore(self.max_concurrency)
        per_registry: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(min(self.max_per_registry, self.max_concurrency))
        )
        results: dict[str, tuple[str | None, str | None]] = {}

        async def resolve(reference: str) -> None:
            try:
                host = parse(reference).registry_host
            except InvalidReferenceError as error:
                results[reference] = (None, str(error))
                return
            async with per_registry[host], overall:
                stats.requests += 1
                stats.in_flight += 1
                stats.peak_concurrency = max(stats.peak_concurrency, stats.in_flight)
                try:
                    descriptor = await self.client.head_manifest(reference)
                    results[reference] = (descriptor.digest, None)
                except (RegistryError, InvalidReferenceError, OSError) as error:
                    results[reference] = (None, str(error)[:2000])
                finally:
                    stats.in_flight -= 1

        # Tasks started in round-robin order: the semaphores serve waiters first come,
        # first served, so the registries take turns.
        await asyncio.gather(*(resolve(r) for r in _round_robin(references)))
        stats.seconds = time.monotonic() - started
        return results

    async def _rebuild_moved_bases(self, subjects: list[Subject], report: dict[str, Any]) -> None:
        """Start the rebuild of each opted-in build whose base moved, once per new digest."""
        if self.rebuild is None:
            return
        wanted = {s.name: s for s in subjects if s.kind == BUILD_BASE and s.rebuild}
        for update in report["updates"]:
            subject = wanted.get(update["name"]) if update["kind"] == BUILD_BASE else None
            if subject is None:
                continue
            current = str(update["current"])

            def claim(state: WatchState, key: str = subject.key, digest: str = current) -> bool:
                if state.acted.get(key) == digest:
                    return False
                state.acted[key] = digest
                return True

            if not await asyncio.to_thread(WatchState.update, self.directory, claim):
                continue
            new_base = parse(subject.reference).with_digest(current).familiar()
            try:
                await self.rebuild(subject.name, new_base)
                update["rebuilding"] = True
            except (RuntimeImagesError, OSError) as error:  # refused (still running…): said
                self.log.warning("runtime-images: rebuilding %s failed: %s", subject.name, error)
                update["rebuildError"] = str(error)

    async def _summarize(self, report: dict[str, Any]) -> None:
        """Summaries of the moves that have none yet, kept in the state (one per pair)."""
        assert self.summarize is not None
        computed: dict[str, Any] = {}
        for update in report["updates"]:
            key = _summary_key(update["pinned"], update["current"])
            if update["summary"] is not None or key in computed:
                update["summary"] = update["summary"] or computed.get(key)
                continue
            reference = parse(update["reference"])
            pinned = reference.with_digest(update["pinned"]).familiar()
            current = reference.with_digest(update["current"]).familiar()
            try:
                result = await asyncio.to_thread(self.summarize, pinned, current)
                if inspect.isawaitable(result):
                    result = await asyncio.wait_for(result, self.summary_timeout)
            except Exception:  # a pluggable function's failure: no summary, still a report
                self.log.exception("runtime-images: summarizing %s failed", key)
                continue
            if isinstance(result, dict):
                computed[key] = update["summary"] = result
        if computed:

            def keep(state: WatchState) -> None:
                state.summaries.update(computed)

            await asyncio.to_thread(WatchState.update, self.directory, keep)
