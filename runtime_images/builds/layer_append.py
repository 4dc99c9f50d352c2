"""PackageList and GitRepository builds by appending layers to a base image, no daemon.

A build resolves its base image (``builderImage``, or ``runtimeEnvironment`` through
``ImageBuilder.base_images``), reads the base (:mod:`.base_image`: its Python, site-packages,
installed distributions and user), installs the packages with the host's pip for the
image's interpreter into a staging directory (wheels only: :mod:`.packages`), and appends
that as one reproducible layer (plus, for a repository, a layer with its files in the
working directory). The new config and manifest go to the layout (:mod:`.image_config`)
and, with a target registry, are pushed there. The result is checked and the runtime image
configured through :mod:`.outcome`. What layer append cannot do is raised as
:class:`CannotAppend`, for the embedded engine to hand over or fail.
"""

from __future__ import annotations

import asyncio
import posixpath
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .. import registry
from ..documents import parse_count
from ..fileio import held_temp_dir
from ..inspect import CheckResult, ImageView
from ..inspect.report import Distribution, canonical_name
from ..reference import Reference, parse
from ..registry.layout import Layout
from ..registry.manifest import Descriptor, Platform
from . import model
from .base_image import BaseImages, apply_layer_file
from .engine import BuildContext, BuildFailure
from .image_config import assemble, assemble_index, path_dirs
from .layers import LayerBlob, LayerPlan, write_layer
from .outcome import Outcomes, failure_of, push_image
from .packages import (
    EarlyInstall,
    Installation,
    PackageError,
    PythonTarget,
    RequiresBuild,
    check_requirements,
    install,
    merged_lock,
    place_data,
    platform_tags,
    remove_distribution,
)
from .repository import DetectedEnvironment, RepositoryError, clone_for, detect
from .settings import BuildSettings

__all__ = ["CannotAppend", "LayerAppend"]

STEPS = 4


class CannotAppend(Exception):
    """Layer append cannot build this (``reason`` RequiresBuild or BuildFailed); the
    message says why — for a fallback engine, or the build's failure."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.reason: str = getattr(error, "reason", model.BUILD_FAILED)

    def on(self, platform: str | None) -> CannotAppend:
        """This failure, naming the platform of a multi-platform build it happened on."""
        if platform is None:
            return self
        named = CannotAppend(Exception(f"{platform}: {self}"))
        named.reason = self.reason
        return named


@dataclass(frozen=True)
class _PlatformImage:
    """One platform's image built into the layout (its manifest not tagged yet)."""

    platform: Platform
    manifest: Descriptor
    lock: list[str]
    pinned_base: Reference


@dataclass(frozen=True)
class _BuiltView:
    """What reads a built platform image back for its checks: its base's parsed view (the
    memory a build holds) with the new layers."""

    base: ImageView
    blobs: list[LayerBlob]
    config: dict[str, Any]
    digest: str

    def read(self, layout: Layout, reference: Reference) -> ImageView:
        """The built image's view (blocking): the base's with the new layers applied."""
        return _with_layers(self.base, layout, self.blobs, self.config, reference, self.digest)


class LayerAppend:
    """Builds PackageList and GitRepository images by layer append."""

    def __init__(
        self,
        settings: BuildSettings,
        client: registry.RegistryClient,
        bases: BaseImages,
        outcomes: Outcomes,
    ) -> None:
        self.settings = settings
        self.client = client
        self.bases = bases
        self.outcomes = outcomes
        self._cleaned = False

    async def run(self, build: BuildContext) -> None:
        layout = Layout(Path(self.settings.layout_dir))
        if not self._cleaned:  # what builds of a crashed process left in the layout
            self._cleaned = True
            await asyncio.to_thread(layout.remove_abandoned)
        with held_temp_dir(layout.root, f".build-{build.name}-") as work:
            await self._run(build, layout, work)

    async def _run(self, build: BuildContext, layout: Layout, work: Path) -> None:
        spec = build.spec
        detected: DetectedEnvironment | None = None
        repository_dir: Path | None = None
        if spec["buildType"] == model.GIT_REPOSITORY:
            repository_dir = work / "repository"
            detected = await self._clone(build, repository_dir)
            requirements = list(detected.requirements)
        else:
            requirements = list(spec["packageVersions"])
        base = self.settings.base_of(spec, detected)
        try:
            check_requirements(requirements)
        except PackageError as error:
            raise CannotAppend(error) from None
        base_ref = parse(base)
        platforms = model.requested_platforms(build.resource)
        images: list[_PlatformImage] = []
        other_checks: dict[str, list[CheckResult]] = {}
        for index, platform in enumerate(platforms or [None]):
            image, view = await self._build_platform(
                build,
                layout,
                work / f"platform-{index}",
                base_ref,
                platform,
                requirements,
                repository_dir,
                detected,
            )
            images.append(image)
            if index == 0:
                first_view = view  # the build's report, checked after the push
            else:  # checked now, so that one more platform's base view is held at a time
                own = self.settings.result_reference(build.name, image.manifest.digest)
                other_checks[str(image.platform)] = await self.outcomes.platform_checks(
                    build, str(image.platform), partial(view.read, layout, own)
                )
            del view
        lock = merged_lock([image.lock for image in images])
        await build.update(lock=lock)
        if platforms:
            top = assemble_index(layout, [(image.manifest, image.platform) for image in images])
            await build.update(
                platforms=[
                    {"platform": str(i.platform), "digest": i.manifest.digest, "lock": i.lock}
                    for i in images
                ]
            )
        else:
            top = images[0].manifest
        layout.tag(f"{build.name}:latest", top)
        result = self.settings.result_reference(build.name, top.digest)
        pinned_base = images[0].pinned_base
        made = f" for {', '.join(platforms)}" if platforms else ""
        await build.condition(
            model.BUILDING_STEP,
            "True",
            "Built",
            (
                f"Built {top.digest}{made} from {pinned_base.familiar()} "
                f"({len(lock)} locked distribution(s))."
            ),
        )
        if self.settings.target_registry:
            await push_image(
                build,
                result,
                lambda progress: self.client.push_image(
                    layout,
                    top.digest,
                    result.without_digest(),
                    mount_from=pinned_base,
                    progress=progress,
                ),
            )
        await build.update(image=result.familiar())
        validation = await self.outcomes.validate_local(
            build,
            partial(first_view.read, layout, result),
            result,
            {str(images[0].platform): [], **other_checks} if platforms else None,
        )
        await self.outcomes.ready(build, result, validation, "Built")

    async def _build_platform(
        self,
        build: BuildContext,
        layout: Layout,
        work: Path,
        base_ref: Reference,
        platform: str | None,
        requirements: list[str],
        repository_dir: Path | None,
        detected: DetectedEnvironment | None,
    ) -> tuple[_PlatformImage, _BuiltView]:
        """Build the image of one platform (``None``: the base's, RegistryClient.platform)
        into the layout: its manifest is not tagged yet."""
        where = f" for {platform}" if platform else ""
        early: EarlyInstall | None = None
        try:
            await build.step(model.BUILDING_STEP, f"Reading the base image {base_ref}{where}.")
            try:
                resolved = await self.client.resolve(base_ref, platform)
                if requirements:
                    early = EarlyInstall(
                        requirements,
                        resolved.platform.architecture,
                        path_dirs(resolved.config),
                        work / "pip-early",
                        build.log,
                    )
                view = await self.bases.fetch(
                    build, layout, base_ref, resolved, STEPS, early.on_file if early else None
                )
            except registry.RegistryError as error:
                raise failure_of(error, str(base_ref), model.BUILDING_STEP) from None
            pinned_base = base_ref.with_tag(base_ref.tag or "latest").with_digest(resolved.digest)
            await build.update(baseImage=str(pinned_base))

            target = _python_target(view, resolved.platform.architecture)
            uid, gid = _owner(view)
            await build.step(
                model.BUILDING_STEP,
                (
                    f"Installing {len(requirements)} requirement(s) for Python {target.version}"
                    f"{where} into {target.site_packages}."
                ),
            )
            plans = []
            lock: list[str] = []
            if requirements:
                try:
                    plan, lock = await self._package_layer(
                        build, view, target, requirements, work, uid, gid, early
                    )
                except CannotAppend as error:
                    raise error.on(platform) from None
                plans.append(plan)
            if repository_dir is not None:
                plans.append(
                    await asyncio.to_thread(_repository_layer, view, repository_dir, uid, gid)
                )
            blobs = [
                await asyncio.to_thread(write_layer, plan, layout.temp_file()) for plan in plans
            ]
            for blob in blobs:
                layout.add_file(blob.path, blob.digest)
            manifest, config = assemble(
                layout, resolved, blobs, build, pinned_base, lock, detected, target.bin_dir
            )
            return _PlatformImage(resolved.platform, manifest, lock, pinned_base), _BuiltView(
                view, blobs, config, manifest.digest
            )
        finally:
            if early is not None:
                await early.close()

    async def _clone(self, build: BuildContext, directory: Path) -> DetectedEnvironment:
        await clone_for(build, directory, self.settings.clone_limits)
        try:
            detected = detect(directory)
        except RepositoryError as error:
            raise CannotAppend(error) from None
        await build.update(detected=detected.to_json())
        build.log(f"Detected: {detected.summary()}")
        if detected.install_project:
            # Building a project runs its code (setup.py, an in-tree build backend).
            raise CannotAppend(
                RequiresBuild(
                    f"The repository is a Python project ({detected.files[-1]}) that must be "
                    "built to be installed, which runs its code; layer append never runs a "
                    "build's code on this machine: use the buildah engine."
                )
            )
        return detected

    async def _package_layer(
        self,
        build: BuildContext,
        view: ImageView,
        target: PythonTarget,
        requirements: list[str],
        work: Path,
        uid: int,
        gid: int,
        early: EarlyInstall | None = None,
    ) -> tuple[LayerPlan, list[str]]:
        base_dists = {canonical_name(d.name): d for d in view.report.distributions}
        base_versions = {n: d.version for n, d in base_dists.items()}
        installed = await early.result(target, base_versions) if early else None
        if installed is None:
            try:
                installed = await install(
                    requirements, target, base_versions, work / "pip", build.log
                )
            except PackageError as error:
                raise CannotAppend(error) from None
        plan = await asyncio.to_thread(
            _plan_package_layer, view, target, installed, base_dists, uid, gid
        )
        return plan, installed.lock


def _with_layers(
    base: ImageView,
    layout: Layout,
    blobs: list[LayerBlob],
    config: dict[str, object],
    result: Reference,
    digest: str,
) -> ImageView:
    """The built image's view: the base's (copied: it may be cached for other builds) with
    the new layers applied (blocking)."""
    from ..inspect.report import build_report

    fs = base.fs.copy()
    for blob in blobs:
        apply_layer_file(fs, layout.blob_path(blob.digest))
    return build_report(
        fs,
        config,
        reference=str(result),
        digest=digest,
        platform=base.report.platform,
        compressed_size=base.report.compressed_size + sum(b.size for b in blobs),
    )


def _python_target(view: ImageView, architecture: str) -> PythonTarget:
    """Where the base's interpreter takes packages: a venv on PATH, or the system's."""
    python = view.report.python
    if python is None or not python.version:
        raise BuildFailure(
            model.BUILD_FAILED,
            (
                "The base image has no python3 on PATH "
                f"({':'.join(view.report.config.path)}), so packages cannot be added to it."
            ),
            model.BUILDING_STEP,
        )
    version = ".".join(python.version.split(".")[:2])
    musl = bool(view.report.os and view.report.os.id == "alpine")
    platforms = platform_tags(architecture, musl)
    venv = posixpath.dirname(posixpath.dirname(python.path))
    if view.fs.lookup(f"{venv}/pyvenv.cfg") is not None:
        # A virtual environment on PATH (UBI's /opt/app-root, many notebook images): its
        # interpreter does not see the system site-packages its symlink points into.
        return PythonTarget(
            version,
            python.path,
            f"{venv}/lib/python{version}/site-packages",
            f"{venv}/bin",
            platforms,
        )
    real = python.real_path or python.path
    prefix = posixpath.dirname(posixpath.dirname(real))
    candidates = [
        f"{prefix}/lib/python{version}/site-packages",
        f"/usr/local/lib/python{version}/site-packages",
    ]
    site = next((c for c in candidates if (n := view.fs.lookup(c)) is not None and n.is_dir), None)
    bin_dir = f"{prefix}/bin"
    if site is None and view.fs.lookup("/usr/lib/python3/dist-packages") is not None:
        # Debian's interpreter: pip installs into /usr/local/lib/pythonX.Y/dist-packages.
        site, bin_dir = f"/usr/local/lib/python{version}/dist-packages", "/usr/local/bin"
    if site is None:
        site = candidates[0]
    return PythonTarget(version, python.path, site, bin_dir, platforms)


def _owner(view: ImageView) -> tuple[int, int]:
    """The uid and gid the image runs as (files of the new layers belong to them)."""
    user = view.report.config.user.split(":", 1)[0]
    if not user:
        return 0, 0
    found = view.report.user(user)
    if found is not None:
        return found.uid, found.gid
    return (parse_count(user, 10) or 0), 0


def _repository_layer(view: ImageView, repository: Path, uid: int, gid: int) -> LayerPlan:
    working_dir = view.report.config.working_dir or "/home/jovyan"
    plan = LayerPlan(uid=uid, gid=gid)
    git_dir = repository / ".git"
    if git_dir.exists():
        shutil.rmtree(git_dir)
    plan.add_tree(repository, working_dir)
    return plan


def _plan_package_layer(
    view: ImageView,
    target: PythonTarget,
    installed: Installation,
    base_dists: dict[str, Distribution],
    uid: int,
    gid: int,
) -> LayerPlan:
    """The layer of what pip installed, less what the base has, hiding what it upgrades."""
    plan = LayerPlan(uid=uid, gid=gid)
    for name, version in installed.installed.items():
        old = base_dists.get(name)
        if old is None:
            continue
        if old.version == version:
            remove_distribution(installed.site, name)  # the base has it already
            continue
        # An upgrade: hide the old metadata and the old files of its top-level packages,
        # so only the new version is importable.
        for entry in view.fs.listdir(old.location):
            if entry.endswith(".dist-info") and _dist_name(entry) == name:
                plan.whiteouts.add(f"{old.location}/{entry}")
        for entry in installed.top_level.get(name, []):
            existing = view.fs.lookup(f"{old.location}/{entry}")
            if existing is None or entry.endswith(".dist-info"):
                continue
            if old.location != target.site_packages:
                plan.whiteouts.add(f"{old.location}/{entry}")
            elif existing.is_dir:
                plan.opaque.add(f"{target.site_packages}/{entry}")
    for tree, destination in place_data(installed, target, installed.site.parent / "data"):
        plan.add_tree(tree, destination)
    plan.add_tree(installed.site, target.site_packages)
    return plan


def _dist_name(directory: str) -> str:
    return canonical_name(directory[: -len(".dist-info")].rsplit("-", 1)[0])
