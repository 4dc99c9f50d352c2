"""The optional buildah engine: PackageList and GitRepository builds that run code.

Layer append (the embedded engine) never runs anything in the image, so it cannot compile
a package, install OS packages or run a repository's scripts. This engine writes a
Containerfile for the same inputs and runs ``buildah bud`` (``--isolation chroot`` and the
``vfs`` storage driver by default: no daemon, no user namespaces, no cgroups needed):

- PackageList: ``FROM <base>`` + ``RUN python3 -m pip install --no-cache-dir <packages>``.
- GitRepository (detected like repo2docker): ``apt.txt`` is installed with apt-get as root
  (then back to the image's user), the repository is copied into the image's working
  directory owned by its user, ``environment.yml`` is applied with mamba or conda (the
  build fails clearly when the base has neither), requirements (``requirements.txt``,
  ``Pipfile``, the project itself) are installed with pip, and ``postBuild`` is run. A
  repository ``Dockerfile`` (or ``binder/Dockerfile``) is built as is, and nothing else is.

pip and PEP 668: a base whose Python is "externally managed" (Debian's, Ubuntu's) gets
``--break-system-packages``, decided inside the build by the marker file; pip then installs
into ``/usr/local`` and leaves the distribution's packages alone, as the embedded engine
does. No venv: ``python3`` on the image's PATH stays the interpreter kernels and pipelines
run, and sees the packages.

buildah's output is streamed into the build log line by line; the image is pushed to
``ImageBuilder.target_registry`` (or written to the local OCI layout as
``oci:<layout_dir>:<name>:latest``), validated against the requirement profiles and
configured as a runtime image, with the same conditions as the embedded engine.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitlets import List, Unicode, default
from traitlets.config import LoggingConfigurable

from ..fileio import held_temp_dir
from ..reference import Reference, parse
from ..registry.layout import Layout
from . import model
from .base_image import read_layout_image
from .engine import BuildContext, BuildFailure
from .image_config import LABEL_PREFIX, build_inputs
from .importer import ImageImport
from .outcome import Outcomes, failure_of
from .repository import (
    DetectedEnvironment,
    RepositoryError,
    clone_for,
    detect,
    environment_root,
    inside,
    read_environment_file,
)
from .settings import BuildSettings

if TYPE_CHECKING:
    from ..inspect import Validation
    from ..registry import RegistryClient

# What this engine builds that layer append cannot (the rest of repository.UNSUPPORTED is
# a Dockerfile, which replaces detection altogether).
RUN_FILES = ("apt.txt", "postBuild", "environment.yml", "environment.yaml")
APT_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9.+-]*(=[A-Za-z0-9.+:~-]+)?$")  # repo2docker's names
STEP_LINE = re.compile(r"^STEP ([0-9]{1,6})/([0-9]{1,6})\b")
TAIL_LINES = 12
PEP_668_FLAG = (
    "$(python3 -c \"import os, sysconfig; print('--break-system-packages' if os.path.exists("
    "os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')) else '')\")"
)


class BuildahEngine(LoggingConfigurable):
    """Builds PackageList and GitRepository images with ``buildah bud`` (no daemon)."""

    name = "buildah"

    command = Unicode("buildah", help="The buildah command (a name on PATH or a path).").tag(
        config=True
    )

    storage_driver = Unicode(
        "vfs",
        help="""buildah's storage driver (--storage-driver). "vfs" works everywhere, including
        in containers without fuse-overlayfs, at the cost of disk space and speed; "overlay"
        is faster where the kernel allows it.""",
    ).tag(config=True)

    root = Unicode(
        help="""buildah's image storage (--root): base images pulled once are kept there for
        later builds. Defaults to <jupyter_data_dir()>/runtime-images/buildah/root.""",
    ).tag(config=True)

    runroot = Unicode(
        help="""buildah's run-time state (--runroot). Defaults to
        <jupyter_data_dir()>/runtime-images/buildah/runroot.""",
    ).tag(config=True)

    isolation = Unicode(
        "chroot",
        help="""How RUN instructions are isolated (buildah bud --isolation): "chroot" needs
        no cgroups or user namespaces (it works as root in a container); "oci" or "rootless"
        where a working OCI runtime is available.""",
    ).tag(config=True)

    volumes = List(
        Unicode(),
        help="""Bind mounts for every RUN instruction, not stored in the image
        (buildah bud --volume HOST:CONTAINER[:OPTIONS]); e.g. behind a TLS-intercepting
        proxy, "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"
        lets pip and apt in the build trust the host's certificate authorities.""",
    ).tag(config=True)

    extra_args = List(
        Unicode(),
        help="""Extra arguments given to `buildah bud` (before the context directory), e.g.
        ["--network=host"] or ["--pull=always"].""",
    ).tag(config=True)

    @default("root")
    def _default_root(self) -> str:
        return os.path.join(_data_dir(), "runtime-images", "buildah", "root")

    @default("runroot")
    def _default_runroot(self) -> str:
        return os.path.join(_data_dir(), "runtime-images", "buildah", "runroot")

    def __init__(
        self,
        settings: BuildSettings,
        client: RegistryClient,
        outcomes: Outcomes,
        importer: ImageImport,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.builder = settings
        self.client = client
        self.outcomes = outcomes
        self.importer = importer

    @property
    def available(self) -> bool:
        """Whether the buildah command is installed."""
        return shutil.which(self.command) is not None

    async def run(self, build: BuildContext) -> None:
        if build.spec["buildType"] == model.IMAGE_IMPORT:
            await self.importer.run(build)  # nothing to build: the embedded import
            return
        layout = Layout(Path(self.builder.layout_dir))
        with held_temp_dir(layout.root, f".build-{build.name}-") as work:
            await self._run(build, layout, work)

    # -- the build -----------------------------------------------------------------------

    async def _run(self, build: BuildContext, layout: Layout, work: Path) -> None:
        spec = build.spec
        context = work / "context"
        containerfile = work / "Containerfile"
        detected: DetectedEnvironment | None = None
        if spec["buildType"] == model.GIT_REPOSITORY:
            context, dockerfile, detected = await self._clone(build, work)
            if dockerfile is not None:
                build.log(f"Building the repository's {dockerfile} as is.")
                containerfile = context / dockerfile
                base: str | None = None
            else:
                assert detected is not None
                base = self.builder.base_of(spec, detected)
        else:
            context.mkdir()
            base = self.builder.base_of(spec, None)

        pinned_base: Reference | None = None
        if base is not None:
            pinned_base, config = await self._resolve_base(build, base)
            try:
                text = self._containerfile(build, pinned_base, config, context, detected)
            except RepositoryError as error:
                raise BuildFailure(model.BUILD_FAILED, str(error), model.BUILDING_STEP) from None
            containerfile.write_text(text, "utf-8")
            build.log("Containerfile:\n" + text)

        tag = f"localhost/jupyter-runtime-images/{build.name}:build-{os.getpid()}"
        labels = {
            f"{LABEL_PREFIX}.inputs": json.dumps(
                build_inputs(build, str(pinned_base) if pinned_base else None), sort_keys=True
            ),
            f"{LABEL_PREFIX}.engine": self.name,
        }
        if detected is not None:
            labels[f"{LABEL_PREFIX}.detected"] = json.dumps(detected.to_json(), sort_keys=True)
        await build.step(model.BUILDING_STEP, f"Building with buildah bud ({self.isolation}).")
        bud = ["bud", "--isolation", self.isolation, "--layers=false", "-t", tag]
        bases = [pinned_base] if pinned_base else _from_images(containerfile)
        bud += [f"--tls-verify={'false' if any(map(self._insecure, bases)) else 'true'}"]
        bud += self._authfile()
        for volume in self.volumes:
            bud += ["--volume", volume]
        for key, value in labels.items():
            bud += ["--label", f"{key}={value}"]
        bud += [*self.extra_args, "-f", str(containerfile), str(context)]
        try:
            code, tail = await self._buildah(build, bud, progress=True)
            if code != 0:
                raise BuildFailure(
                    model.BUILD_FAILED,
                    f"buildah bud failed (exit {code}):\n" + "\n".join(tail),
                    model.BUILDING_STEP,
                )
            await build.condition(
                model.BUILDING_STEP,
                "True",
                "Built",
                "Built with buildah"
                + (f" from {pinned_base.familiar()}." if pinned_base else " from its Dockerfile."),
            )
            result = await self._push(build, layout, tag, work)
        finally:
            with contextlib.suppress(Exception):
                await self._buildah(build, ["rmi", tag], quiet=True)
        await build.update(image=result.familiar())
        validation = await self._validate(build, layout, result)
        await self.outcomes.ready(build, result, validation, "Built")

    async def _clone(
        self, build: BuildContext, work: Path
    ) -> tuple[Path, str | None, DetectedEnvironment | None]:
        """Clone; return the context, the repository's Dockerfile (if any) or what it needs."""
        repository = work / "context"
        await clone_for(build, repository, self.builder.clone_limits)
        try:
            shutil.rmtree(repository / ".git", ignore_errors=True)
            root, prefix = environment_root(repository)
            if (root / "Dockerfile").is_file():
                inside(repository, root / "Dockerfile", f"{prefix}Dockerfile")
                await build.update(detected={"files": [f"{prefix}Dockerfile"]})
                return repository, f"{prefix}Dockerfile", None
            detected = detect(repository, allow=RUN_FILES)
        except RepositoryError as error:
            raise BuildFailure(model.BUILD_FAILED, str(error), model.BUILDING_STEP) from None
        await build.update(detected=detected.to_json())
        build.log(f"Detected: {detected.summary()}")
        return repository, None, detected

    async def _resolve_base(
        self, build: BuildContext, base: str
    ) -> tuple[Reference, dict[str, Any]]:
        """Pin the base to the digest its registry serves, and read its config (user, dir)."""
        from .. import registry

        await build.step(model.BUILDING_STEP, f"Resolving the base image {base}.")
        try:
            base_ref = parse(base)
            resolved = await self.client.resolve(base_ref)
        except (registry.RegistryError, ValueError) as error:
            raise failure_of(error, base, model.BUILDING_STEP) from None
        if base_ref.is_local:
            # buildah pulls FROM images itself, and no registry serves localhost/….
            raise BuildFailure(
                model.BUILD_FAILED,
                (
                    f"The base {base_ref.familiar()} is one of this machine's images, which "
                    "buildah cannot pull: publish it first (jupyter runtime-images publish "
                    f"{base_ref.without_digest().familiar()} --to docker://…) and build on the "
                    "published reference, or use the embedded engine."
                ),
                model.BUILDING_STEP,
            )
        pinned = base_ref.with_tag(base_ref.tag or "latest").with_digest(resolved.digest)
        await build.update(baseImage=str(pinned))
        config: dict[str, Any] = resolved.config.get("config") or {}
        return pinned, config

    def _containerfile(
        self,
        build: BuildContext,
        base: Reference,
        config: dict[str, Any],
        context: Path,
        detected: DetectedEnvironment | None,
    ) -> str:
        user = str(config.get("User") or "")
        working_dir = str(config.get("WorkingDir") or "/home/jovyan")
        root_user = user.split(":", 1)[0] in ("", "root", "0")
        # FROM by digest only: the tag is kept in the labels and status.baseImage.
        lines = [f"FROM {base.repository}@{base.digest}"]
        if detected is None:
            packages = list(build.spec["packageVersions"])
            lines.append(_pip_install(packages))
            return "\n".join(lines) + "\n"

        files = {name.rsplit("/", 1)[-1]: name for name in detected.files}
        if "apt.txt" in files:
            text = read_environment_file(context, context / files["apt.txt"], files["apt.txt"])
            packages = _apt_packages(text, files["apt.txt"])
            if packages:
                if not root_user:
                    lines.append("USER root")
                lines.append(
                    "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install "
                    "-y -qq --no-install-recommends "
                    + " ".join(shlex.quote(p) for p in packages)
                    + " && apt-get clean && rm -rf /var/lib/apt/lists/*"
                )
                if not root_user:
                    lines.append(f"USER {user}")
        chown = f"--chown={user} " if user else ""
        lines.append(f"COPY {chown}. {shlex.quote(working_dir)}")
        cd = f"cd {shlex.quote(working_dir)} && "
        environment = files.get("environment.yml") or files.get("environment.yaml")
        if environment:
            env_file = shlex.quote(environment)
            lines.append(
                f"RUN {cd}if command -v mamba >/dev/null 2>&1; then "
                f"mamba env update -n base -f {env_file}; "
                f"elif command -v conda >/dev/null 2>&1; then "
                f"conda env update -n base -f {env_file}; "
                f"else echo '{environment} needs conda or mamba on the base image PATH: "
                "use a conda-based builderImage (e.g. quay.io/jupyter/base-notebook).' >&2; "
                "exit 1; fi"
            )
        requirements = list(detected.requirements)
        if detected.install_project:
            requirements.append(".")
        if requirements:
            lines.append("RUN " + cd + _pip_install(requirements)[len("RUN ") :])
        if "postBuild" in files:
            script = shlex.quote(f"./{files['postBuild']}")
            lines.append(f"RUN {cd}chmod +x {script} && {script}")
        return "\n".join(lines) + "\n"

    # -- pushing and validating ------------------------------------------------------------

    async def _push(self, build: BuildContext, layout: Layout, tag: str, work: Path) -> Reference:
        digest_file = work / "digest"
        target = self.builder.target_registry
        push = ["push", "--digestfile", str(digest_file)]
        if target:
            destination_ref = self.builder.result_reference(build.name, "sha256:" + "0" * 64)
            location = self.client.location(destination_ref, push=True)
            shown = f"{destination_ref.repository}:latest"
            await build.step(model.PUSHING, f"Pushing to {shown}.")
            push += [f"--tls-verify={str(not location.plain_http).lower()}"]
            push += self._authfile()
            push += [tag, f"docker://{location.host}/{location.repository}:latest"]
        else:
            shown = f"oci:{layout.root}:{build.name}:latest"
            build.log(f"Writing the image to the local layout as {shown}.")
            staging = work / "oci-layout"  # adopted below, under the layout's lock
            push += [tag, f"oci:{staging}:{build.name}:latest"]
        code, tail = await self._buildah(build, push)
        if code != 0:
            text = "\n".join(tail)
            reason = (
                model.AUTH_REQUIRED
                if re.search(r"unauthorized|authentication required|denied", text, re.IGNORECASE)
                else model.REGISTRY_UNAVAILABLE
                if target
                else model.BUILD_FAILED
            )
            raise BuildFailure(
                reason,
                f"buildah push to {shown} failed (exit {code}):\n{text}",
                model.PUSHING if target else model.BUILDING_STEP,
            )
        if not target:
            await asyncio.to_thread(layout.adopt, Layout(staging), f"{build.name}:latest")
        result = self.builder.result_reference(build.name, digest_file.read_text().strip())
        if target:
            await build.condition(
                model.PUSHING, "True", "Pushed", f"Pushed {result.digest} to {shown}."
            )
        return result

    async def _validate(self, build: BuildContext, layout: Layout, result: Reference) -> Validation:
        """Check the built image like an imported one: in its registry, or in the layout."""
        if self.builder.target_registry:
            return await self.outcomes.validate_in_registry(build, result, 1, 2)
        limits, digest = self.outcomes.inspector.limits, result.digest
        assert digest is not None
        return await self.outcomes.validate_local(
            build, lambda: read_layout_image(layout, digest, result, limits), result
        )

    # -- running buildah -------------------------------------------------------------------

    def _insecure(self, ref: Reference) -> bool:
        """Whether the registry of ``ref`` is spoken to over plain http (RegistryClient's rule:
        loopback hosts and RegistryClient.insecure_registries)."""
        return self.client.location(ref).plain_http

    def _authfile(self) -> list[str]:
        auth_file = self.client.auth_file or os.environ.get("REGISTRY_AUTH_FILE")
        return [f"--authfile={auth_file}"] if auth_file and os.path.exists(auth_file) else []

    async def _buildah(
        self, build: BuildContext, args: list[str], progress: bool = False, quiet: bool = False
    ) -> tuple[int, list[str]]:
        """Run buildah, streaming its output into the build log; (exit code, last lines)."""
        command = [
            self.command,
            "--storage-driver",
            self.storage_driver,
            "--root",
            self.root,
            "--runroot",
            self.runroot,
            *args,
        ]
        if not quiet:
            build.log("$ " + shlex.join(command))
        # buildah refuses to push when the auth file these name is missing; we read them
        # as optional, so buildah gets them only when they exist.
        env = dict(os.environ)
        if not os.path.exists(env.get("REGISTRY_AUTH_FILE", "")):
            env.pop("REGISTRY_AUTH_FILE", None)
        if not os.path.exists(os.path.join(env.get("DOCKER_CONFIG", ""), "config.json")):
            env.pop("DOCKER_CONFIG", None)
        process = await asyncio.create_subprocess_exec(
            *command,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            limit=1024 * 1024,
            start_new_session=True,  # its own process group: a cancel stops RUN's processes too
        )
        tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        try:
            assert process.stdout is not None
            async for raw in _lines(process.stdout):
                line = raw.decode("utf-8", errors="replace").rstrip()
                if not line:
                    continue
                tail.append(line)
                if quiet:
                    continue
                build.log(f"buildah: {line}")
                step = STEP_LINE.match(line)
                if progress and step:
                    build.progress(0, 0, int(step.group(1)) - 1, int(step.group(2)))
            return await process.wait(), list(tail)
        finally:
            if process.returncode is None:  # cancelled: stop buildah and what RUN started
                _signal_group(process.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    _signal_group(process.pid, signal.SIGKILL)
                    await process.wait()
                _signal_group(process.pid, signal.SIGKILL)  # what RUN left behind


def _signal_group(pid: int, signum: int) -> None:
    """Signal the process group buildah leads (it was started in a session of its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


async def _lines(stream: asyncio.StreamReader) -> Any:
    """Lines of ``stream``; an over-long line (a progress bar) is cut, never fatal."""
    while True:
        try:
            line = await stream.readuntil(b"\n")
        except asyncio.IncompleteReadError as end:
            if end.partial:
                yield end.partial
            return
        except asyncio.LimitOverrunError as overrun:
            line = await stream.readexactly(overrun.consumed)
        yield line


def _from_images(containerfile: Path) -> list[Reference]:
    """The registry images a (repository's) Dockerfile starts from (``FROM`` lines)."""
    images = []
    for line in containerfile.read_text("utf-8", errors="replace").splitlines():
        words = [w for w in line.split() if not w.startswith("--")]
        if len(words) >= 2 and words[0].upper() == "FROM":
            with contextlib.suppress(ValueError):  # a stage name, scratch, an ARG
                images.append(parse(words[1]))
    return images


def _pip_install(requirements: Iterable[str]) -> str:
    quoted = " ".join(shlex.quote(r) for r in requirements)
    return f"RUN python3 -m pip install --no-cache-dir {PEP_668_FLAG} {quoted}"


def _apt_packages(text: str, shown: str) -> list[str]:
    packages = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        for name in line.split():
            if not APT_PACKAGE.match(name):
                raise BuildFailure(
                    model.BUILD_FAILED,
                    f"{shown}: {name!r} is not a Debian package name.",
                    model.BUILDING_STEP,
                )
            packages.append(name)
    return packages


def _data_dir() -> str:
    from jupyter_core.paths import jupyter_data_dir

    return jupyter_data_dir()
