"""Publishing an image where people can use it: a registry, an ``oci-archive`` file,
podman/buildah storage or a Docker daemon.

A build without ``ImageBuilder.target_registry`` leaves its image in this machine's layout
(``localhost/<name>:latest@sha256:…``), which only this product reads. Publishing copies
it — or any image the registry client reads — out, keeping its digest. Registries are
written by the product's own client (no skopeo needed); archives are written here; the
container engines' storages are reached through their own commands (skopeo, else podman or
buildah, else docker), which read the archive this module writes. With ``repoint`` the
caller then moves the runtime image, and the kernelspecs made from it, to the published,
pinned reference (:func:`runtime_images.watch.move_image`) — If-Match safe, so an edit made
while the image was copied is not overwritten.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets import Float, Integer, Unicode
from traitlets.config import LoggingConfigurable

from .errors import UpstreamError, ValidationFailedError
from .fields import FieldError
from .reference import InvalidReferenceError, Reference, parse
from .registry import PushProgress, RegistryClient
from .registry.archive import write_oci_archive

__all__ = [
    "TRANSPORTS",
    "Destination",
    "ImagePublisher",
    "Published",
    "parse_destination",
]

TRANSPORTS = ("docker", "oci-archive", "containers-storage", "docker-daemon")
EXAMPLES = (
    "docker://registry.example.com/team/image:tag, oci-archive:image.tar, "
    "containers-storage:team/image:tag or docker-daemon:team/image:tag"
)


@dataclass(frozen=True)
class Destination:
    """Where to publish: a transport and its target, as skopeo names them."""

    transport: str
    target: str
    """``host[:port]/repo[:tag]`` (docker), a file path (oci-archive), ``repo:tag``."""
    reference: Reference | None = None
    """The parsed target of every transport but ``oci-archive``."""

    def __str__(self) -> str:
        return f"{self.transport}:{'//' if self.transport == 'docker' else ''}{self.target}"


def _refused(message: str) -> ValidationFailedError:
    return ValidationFailedError([FieldError("to", message)], f"Invalid destination: {message}")


def parse_destination(value: object, base_dir: Path | None = None) -> Destination:
    """Parse ``to`` (:class:`ValidationFailedError` naming the field ``to`` otherwise).

    A relative ``oci-archive:`` path is relative to ``base_dir`` (the server's root
    directory; the working directory on the command line) and must stay below it.
    """
    if not isinstance(value, str) or not value.strip():
        raise _refused(f"name a destination, e.g. {EXAMPLES}")
    text = value.strip()
    transport, sep, target = text.partition(":")
    if not sep or transport not in TRANSPORTS:
        raise _refused(f"{text!r} names no known transport; use one of {EXAMPLES}")
    if transport == "oci-archive":
        return Destination(transport, str(_archive_path(target, base_dir)))
    if transport == "docker":
        if not target.startswith("//"):
            raise _refused("a registry destination is docker://host[:port]/repository[:tag]")
        target = target[2:]
    try:
        ref = parse(target)
    except InvalidReferenceError as error:
        raise _refused(str(error)) from None
    if ref.digest:
        raise _refused(f"{target}: name a tag, not a digest (the digest is the image's own)")
    if transport == "docker":
        first = target.split("/", 1)[0]
        if "/" not in target or not ("." in first or ":" in first or first == "localhost"):
            raise _refused(f"{target}: name the registry host, e.g. registry.example.com/{target}")
        if ref.is_local:
            raise _refused(
                f"{target}: localhost/… names this machine's own images; a registry on this "
                "machine has a port (localhost:5000/…)"
            )
    return Destination(transport, target, ref)


def _archive_path(target: str, base_dir: Path | None) -> Path:
    if not target:
        raise _refused("oci-archive: needs a file name, e.g. oci-archive:image.tar")
    path = Path(target).expanduser()
    if base_dir is not None:
        base = base_dir.resolve()
        path = (base / path).resolve()
        if not path.is_relative_to(base):
            raise _refused(f"{target}: the archive must be written below {base}")
    else:
        path = path.resolve()
    if path.is_dir():
        raise _refused(f"{target}: is a directory; name the archive file")
    if not path.parent.is_dir():
        raise _refused(f"{target}: the directory {path.parent} does not exist")
    return path


@dataclass(frozen=True)
class Published:
    """What was published: ``image`` names the copy (pinned when in a registry)."""

    source: str
    image: str
    digest: str
    to: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "image": self.image, "digest": self.digest, "to": self.to}


Progress = Callable[[int, int], None]


class ImagePublisher(LoggingConfigurable):
    """Copies images to the destinations of :func:`parse_destination`.

    Configure it as ``c.ImagePublisher.<trait>``.
    """

    skopeo = Unicode(
        "skopeo", help="skopeo, preferred for containers-storage and docker-daemon."
    ).tag(config=True)
    podman = Unicode("podman", help="podman, for containers-storage when skopeo is missing.").tag(
        config=True
    )
    buildah = Unicode(
        "buildah", help="buildah, for containers-storage without skopeo or podman."
    ).tag(config=True)
    docker = Unicode(
        "docker", help="The docker CLI, for docker-daemon when skopeo is missing."
    ).tag(config=True)
    command_timeout = Float(
        900.0, help="Seconds a container engine command may take to load a published image."
    ).tag(config=True)
    keep_free_bytes = Integer(
        1 << 30,
        help="""Bytes that must stay free on the disk an archive is written to (an
        oci-archive destination, or the temporary archive a container engine loads): a
        publish that would leave less fails before writing (507 InsufficientStorage).""",
    ).tag(config=True)

    async def publish(
        self,
        client: RegistryClient,
        source: Reference | str,
        destination: Destination,
        progress: Progress | None = None,
    ) -> Published:
        """Copy ``source`` (an image the client reads, local or in a registry)."""
        ref = parse(source) if isinstance(source, str) else source
        if destination.transport == "docker":
            assert destination.reference is not None

            def pushed(report: PushProgress) -> None:
                if progress is not None:
                    progress(report.done, report.total)

            pinned = await client.copy_image(ref, destination.reference, progress=pushed)
            assert pinned.digest is not None
            return Published(ref.familiar(), pinned.familiar(), pinned.digest, str(destination))
        image_source, descriptor = await client.image_source(ref)
        if destination.transport == "oci-archive":
            await write_oci_archive(
                image_source,
                descriptor.digest,
                Path(destination.target),
                ref.tag,
                progress,
                self.keep_free_bytes,
            )
            return Published(ref.familiar(), str(destination), descriptor.digest, str(destination))
        with tempfile.TemporaryDirectory(prefix="runtime-images-publish-") as work:
            archive = Path(work) / "image.tar"
            await write_oci_archive(
                image_source, descriptor.digest, archive, ref.tag, progress, self.keep_free_bytes
            )
            await self._load(archive, destination)
        return Published(ref.familiar(), destination.target, descriptor.digest, str(destination))

    async def _load(self, archive: Path, destination: Destination) -> None:
        """Hand the archive to the engine that owns ``destination``'s storage."""
        target = destination.target
        skopeo = shutil.which(self.skopeo)
        if skopeo:
            await self._run(
                [skopeo, "copy", "--quiet", f"oci-archive:{archive}", str(destination)], target
            )
            return
        if destination.transport == "containers-storage":
            for command in (self.podman, self.buildah):
                found = shutil.which(command)
                if found:
                    loaded = await self._run(
                        [found, "pull", "--quiet", f"oci-archive:{archive}"], target
                    )
                    image_id = loaded.strip().splitlines()[-1] if loaded.strip() else ""
                    await self._run([found, "tag", image_id, target], target)
                    return
            needed = "skopeo, podman or buildah (e.g. `apt install skopeo`)"
        else:
            docker = shutil.which(self.docker)
            if docker:
                loaded = await self._run(
                    [docker, "load", "--quiet", "--input", str(archive)], target
                )
                image_id = loaded.strip().rsplit(" ", 1)[-1] if loaded.strip() else ""
                await self._run([docker, "tag", image_id, target], target)
                return
            needed = "skopeo or the docker CLI (e.g. `apt install skopeo`)"
        raise UpstreamError(
            f"Publishing to {destination} needs {needed}, and none is installed.",
            code="PublishToolMissing",
        )

    async def _run(self, command: list[str], target: str) -> str:
        """Run a container engine command; its stdout (:class:`UpstreamError` on failure)."""
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), self.command_timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise UpstreamError(
                f"{Path(command[0]).name} did not finish loading {target} within "
                f"{self.command_timeout:g} s (ImagePublisher.command_timeout)",
                code="PublishFailed",
            ) from None
        if process.returncode != 0:
            text = err.decode("utf-8", "replace").strip()[-600:]
            hint = ""
            if "docker-daemon:" in " ".join(command) or Path(command[0]).name == "docker":
                daemon = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
                hint = f" Is a Docker daemon running and reachable at {daemon} (DOCKER_HOST)?"
            raise UpstreamError(
                f"{Path(command[0]).name} could not load the image as {target}: {text}.{hint}",
                code="PublishFailed",
            )
        return out.decode("utf-8", "replace")


@dataclass(frozen=True)
class PublishRequest:
    """A publish request's body, checked before anything is copied."""

    to: Destination
    repoint: bool

    @classmethod
    def parse(cls, body: object, base_dir: Path | None = None) -> PublishRequest:
        """``{"to": DEST, "repoint": bool}``; every bad field named."""
        if not isinstance(body, dict):
            raise ValidationFailedError(
                [FieldError("", 'expected an object: {"to": DEST, "repoint": false}')]
            )
        errors = [FieldError(key, "unknown field") for key in body if key not in ("to", "repoint")]
        repoint = body.get("repoint", False)
        if not isinstance(repoint, bool):
            errors.append(FieldError("repoint", "must be true or false"))
        try:
            to = parse_destination(body.get("to"), base_dir)
        except ValidationFailedError as error:
            errors += error.errors
        else:
            if repoint is True and to.transport != "docker":
                errors.append(
                    FieldError(
                        "repoint",
                        "a runtime image can only point at a registry: publish to docker://…",
                    )
                )
        if errors:
            raise ValidationFailedError(
                errors, "Invalid publish request: " + "; ".join(map(str, errors))
            )
        return cls(to, bool(repoint))
