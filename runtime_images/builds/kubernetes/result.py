"""What a Ready build produced: the image, pinned, and what the pipeline recorded of it.

The operator's status has no image field: the result is in the ImageStream its pipeline
wrote, named after the PipelineRun. A build pushes to the cluster's internal registry
before it applies its stream, so the stream has the digest when the run ends — and the
image can be pulled only from inside the cluster. An import patches its stream's tag in
the pipeline's ``finally`` task, and OpenShift imports the tag asynchronously: the digest
comes later, or an ``ImportSuccess=False`` condition says why it will not. So an import
waits (bounded) for its stream, then pins from the registry itself; it never ends Ready
unpinned, and fails saying both reasons when neither can pin it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...reference import parse
from ...registry import RegistryError
from .. import model
from ..engine import BuildFailure
from ..outcome import failure_of
from .operator import image_of_stream, imported_tag, run_name_of

# Read one ImageStream by name: None when there is none (or it may not be read).
StreamReader = Callable[[str], Awaitable[Mapping[str, Any] | None]]
# Resolve a tag to ``name:tag@digest`` in the registry; raises RegistryError.
Pinner = Callable[[str], Awaitable[str]]

INTERNAL_REGISTRY_HINT = (
    "in the cluster's internal registry: it can be pulled only from inside the cluster"
)


@dataclass(frozen=True)
class Produced:
    """The resulting image (None: none recorded), its software, and how it was found."""

    image: str | None
    software: list[Any] | None = None
    dependencies: list[Any] | None = None
    note: str = ""


def stream_names(cluster_resource: Mapping[str, Any], build_type: str) -> list[str]:
    """Where the result may be: the stream named after the PipelineRun (the pipelines name it
    so), those of the runs in ``status.pipelines``, and the one named like the resource."""
    names = [run_name_of(cluster_resource, build_type)]
    for pipeline in (cluster_resource.get("status") or {}).get("pipelines") or []:
        if isinstance(pipeline, Mapping):
            names += [str(pipeline[k]) for k in ("pipelineRunName", "name") if pipeline.get(k)]
    names.append(str((cluster_resource.get("metadata") or {}).get("name", "")))
    return [name for name in dict.fromkeys(names) if name]


def is_internal(image: str) -> bool:
    """An image in a cluster's own registry (a Service name: ``*.svc[:port]/…``)."""
    host = image.partition("/")[0].partition(":")[0]
    return host.endswith((".svc", ".svc.cluster.local"))


async def _first_stream(
    read: StreamReader, names: list[str]
) -> tuple[str, Mapping[str, Any]] | None:
    for name in names:
        stream = await read(name)
        if stream is not None:
            return name, stream
    return None


async def built_image(read: StreamReader, names: list[str]) -> Produced:
    """A build's image: the digest its stream recorded when the image was pushed."""
    found = await _first_stream(read, names)
    if found is None:
        return Produced(None)
    image, software, dependencies = image_of_stream(found[1])
    note = f"The image is {INTERNAL_REGISTRY_HINT}." if image and is_internal(image) else ""
    return Produced(image, software, dependencies, note)


async def imported_image(
    read: StreamReader,
    names: list[str],
    source: str,
    since: str,
    wait: float,
    pin: Pinner,
) -> Produced:
    """An import's image, pinned: by its stream (within ``wait`` s), else by the registry.

    ``since`` is when the resource was created: a stream item older than that is an
    earlier resource's import of the same name.
    """
    reference = parse(source)
    if reference.digest:
        return Produced(source)
    tag = reference.tag or "latest"
    found = await _first_stream(read, names)
    deadline = time.monotonic() + wait
    state = None
    while found is not None:
        state = imported_tag(found[1], tag, since)
        remaining = deadline - time.monotonic()
        if state is not None or remaining <= 0:
            break
        await asyncio.sleep(min(1.0, remaining))
        found = (found[0], await read(found[0]) or found[1])
    software = dependencies = None
    if found is not None:
        _, software, dependencies = image_of_stream(found[1])
        stream = f"{(found[1].get('metadata') or {}).get('namespace', '')}/{found[0]}"
        if state is not None and state.digest:
            pinned = str(reference.without_digest().with_tag(tag).with_digest(state.digest))
            return Produced(pinned, software, dependencies, f"Pinned by the ImageStream {stream}.")
        if state is not None:
            why = f"OpenShift could not import it into the ImageStream {stream} ({state.failure})"
        else:
            why = f"the ImageStream {stream} had not recorded its digest after {wait:g} s"
    else:
        why = "no ImageStream of the import could be read"
    try:
        pinned = await pin(source)
    except RegistryError as error:
        failure = failure_of(error, source)
        raise BuildFailure(
            failure.reason,
            f"The cluster imported {source}, but its digest is not known: {why}; and this "
            f"server could not pin it either: {failure.message} The runtime image is not "
            "configured unpinned.",
            model.READY_CONDITION,
        ) from None
    return Produced(
        pinned, software, dependencies, f"The image was pinned from the registry ({why})."
    )
