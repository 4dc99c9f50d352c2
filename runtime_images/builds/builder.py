"""The embedded engine's PackageList and GitRepository builds: layer append, no daemon.

A build resolves its base image (``builderImage``, or ``runtimeEnvironment`` through the
``ImageBuilder.base_images`` table), downloads the base's layers once into the local OCI
layout, reads the base's filesystem from them (Python version, site-packages, installed
distributions, the user it runs as), installs the packages with the host's pip for the
image's interpreter into a staging directory, and appends that as one reproducible layer
(plus, for a repository, a layer with the repository's files in the working directory).
The new config and manifest go to the layout and, when a target registry is configured,
are pushed there with ``skopeo copy --preserve-digests``. The result is validated against
the requirement profiles before the runtime image is configured.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import posixpath
import re
import shutil
import tarfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitlets import Bool, Dict, Float, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

from .. import documents
from ..fileio import atomic_write_bytes, held_temp_dir, hold, remove_abandoned
from ..inspect.filesystem import DEFAULT_LIMITS, FileSystem, Limits
from ..inspect.report import Distribution, ImageView, build_report, canonical_name
from ..inspect.stream import open_layer_file
from ..reference import Reference, parse
from . import model
from .controller import BuildContext, BuildFailure, Engine
from .layers import LayerPlan, write_layer
from .oci import OCI_CONFIG, OCI_MANIFEST, Layout, canonical_json, oci_layer_type
from .packages import (
    EarlyInstall,
    Installation,
    PackageError,
    PythonTarget,
    RequiresBuild,
    check_requirements,
    install,
    place_data,
    platform_tags,
    remove_distribution,
)
from .repository import CloneLimits, DetectedEnvironment, RepositoryError, clone, detect

if TYPE_CHECKING:
    from ..inspect import ImageInspector, Validation
    from ..registry import RegistryClient
    from .importer import ImageImportEngine

LABEL_PREFIX = "io.jupyter.runtime-images"
_DOWNLOAD_CHUNK = 1 << 20
FileObserver = Callable[[str, tarfile.TarInfo], None]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # as runtimes set
STEPS = 4


class ImageBuilder(LoggingConfigurable):
    """Where the embedded engine puts built images, and what it builds them from."""

    target_registry = Unicode(
        "",
        help="""Registry repository prefix built images are pushed to, e.g.
        "registry.example.com:5000/notebooks" (each build becomes <prefix>/<name>:latest).
        Empty: keep them in the local OCI layout only (layout_dir), referenced as
        localhost/<name>:latest@sha256:… — copy them elsewhere with `skopeo copy oci:…`.""",
    ).tag(config=True)

    layout_dir = Unicode(
        help="""The local OCI image layout built images (and their base layers) are kept in.
        Defaults to <jupyter_data_dir()>/runtime-images/oci-layout.""",
    ).tag(config=True)

    base_images = Dict(
        value_trait=Unicode(),
        default_value={
            "debian:12:3.11": "docker.io/library/python:3.11-slim-bookworm",
            "debian:12:3.12": "docker.io/library/python:3.12-slim-bookworm",
            "debian:12:3.13": "docker.io/library/python:3.13-slim-bookworm",
            "ubi:8:3.8": "registry.access.redhat.com/ubi8/python-38:latest",
            "ubi:9:3.11": "registry.access.redhat.com/ubi9/python-311:latest",
            "ubi:9:3.12": "registry.access.redhat.com/ubi9/python-312:latest",
            "ubuntu:24.04:3.12": "quay.io/jupyter/base-notebook:python-3.12",
        },
        help="""Base image for a PackageList runtimeEnvironment, keyed
        "osName:osVersion:pythonVersion" (lower-case). Also used by GitRepository builds
        whose runtime.txt names a Python version (the first entry with that version).""",
    ).tag(config=True)

    default_base_image = Unicode(
        "docker.io/library/python:3.12-slim-bookworm",
        help="Base image of a GitRepository build that names none (no builderImage, no runtime.txt).",
    ).tag(config=True)

    skopeo = Unicode("skopeo", help="The skopeo command used to push to target_registry.").tag(
        config=True
    )

    fallback_engine = Unicode(
        "",
        help="""The engine a PackageList or GitRepository build is handed to when layer
        append cannot build it (a package without a fitting wheel, a project that must be
        compiled, or apt.txt, postBuild, environment.yml or a Dockerfile in the repository):
        "buildah" (registered when the buildah command is installed; see c.BuildahEngine).
        Empty: such builds fail with reason BuildFailed, naming what could not be done.""",
    ).tag(config=True)

    base_cache_size = Integer(
        4,
        help="""How many parsed base images the embedded engine keeps in memory, so the next
        build on the same base skips reading its layers (a few MB each; 0 turns it off).""",
    ).tag(config=True)

    base_cache_bytes = Integer(
        256 * 1024 * 1024,
        help="""Most memory (estimated) the parsed base images kept between builds may use
        together. A base larger than this on its own is neither kept in memory nor recorded
        in the layout (.parsed/): it is read again for each build.""",
    ).tag(config=True)

    clone_timeout = Float(
        300.0,
        help="""Seconds a GitRepository build may spend cloning its repository (a server
        that trickles or never ends is cut off).""",
    ).tag(config=True)

    max_repository_bytes = Integer(
        1 << 30,
        help="""Largest clone of a GitRepository build, on disk (bytes); a larger one is
        stopped while it downloads.""",
    ).tag(config=True)

    @property
    def clone_limits(self) -> CloneLimits:
        return CloneLimits(self.clone_timeout, self.max_repository_bytes)

    copy_imports = Bool(
        False,
        help="""Copy imported images (ImageImport) into target_registry, as OpenShift's
        ImageStreams do, so notebooks keep working when the source registry is unreachable;
        the runtime image then points at the copy (same digest).""",
    ).tag(config=True)

    @default("layout_dir")
    def _default_layout_dir(self) -> str:
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "runtime-images", "oci-layout")

    def base_for(self, environment: dict[str, str]) -> str:
        key = ":".join(
            environment[k].strip().lower() for k in ("osName", "osVersion", "pythonVersion")
        )
        try:
            return self.base_images[key]
        except KeyError:
            known = ", ".join(sorted(self.base_images)) or "none"
            raise BuildFailure(
                model.BUILD_FAILED,
                (
                    f"No base image is configured for runtimeEnvironment {key}; known: {known} "
                    "(ImageBuilder.base_images), or give builderImage."
                ),
                model.BUILDING_STEP,
            ) from None

    def base_for_python(self, version: str) -> str | None:
        for key, image in self.base_images.items():
            if key.rsplit(":", 1)[-1] == version:
                return image
        return None

    def result_reference(self, name: str, digest: str) -> Reference:
        """Where a build's image is: ``<target_registry>/<name>:latest@…``, or
        ``localhost/<name>:latest@…`` when it stays in the local layout."""
        prefix = self.target_registry.rstrip("/") or "localhost"
        return parse(f"{prefix}/{name}:latest").with_digest(digest)


class _HandOver(Exception):
    """Layer append cannot build this; the message says why (for the fallback engine)."""


def build_inputs(build: BuildContext, base: str | None) -> dict[str, Any]:
    """What a build was made from: the ``io.jupyter.runtime-images.inputs`` label."""
    inputs: dict[str, Any] = {"buildType": build.spec["buildType"]}
    if base is not None:
        inputs["base"] = base
    for key in ("packageVersions", "repositoryUrl", "gitRef"):
        if key in build.spec:
            inputs[key] = build.spec[key]
    if "commit" in build.status:
        inputs["commit"] = build.status["commit"]
    return inputs


def read_layout_image(
    layout: Layout, digest: str, reference: Reference, limits: Limits = DEFAULT_LIMITS
) -> ImageView:
    """Read an image of the local layout (its manifest ``digest``) like one in a registry
    (blocking: run it in a thread)."""
    manifest = documents.loads_json(layout.read_blob(digest), f"the manifest {digest}")
    config = documents.loads_json(
        layout.read_blob(manifest["config"]["digest"]), f"the config of {digest}"
    )
    fs = FileSystem(limits)
    for layer in manifest["layers"]:
        _apply(fs, layout.blob_path(layer["digest"]))
    platform = f"{config.get('os', 'linux')}/{config.get('architecture', 'amd64')}"
    return build_report(
        fs,
        config,
        reference=str(reference),
        digest=digest,
        platform=platform,
        compressed_size=sum(int(layer["size"]) for layer in manifest["layers"]),
    )


async def copy_image(
    build: BuildContext,
    skopeo: str,
    client: RegistryClient,
    source: str,
    destination: Reference,
    source_reference: Reference | None = None,
) -> None:
    """Copy an image with ``skopeo copy --preserve-digests`` (condition ``Pushing``).

    ``source`` is a skopeo transport (``oci:…`` or ``docker://…``); registry sources and
    the destination get the client's plain-http rule and auth file. Blobs the destination
    registry already has are not sent again, and within one registry they are mounted.
    """
    target = f"{destination.repository}:{destination.tag}"
    await build.step(model.PUSHING, f"Pushing to {target}.")
    if shutil.which(skopeo) is None:
        raise BuildFailure(
            model.BUILD_FAILED,
            (
                f"Pushing needs skopeo, which is not installed (ImageBuilder.skopeo = {skopeo!r}); "
                "install it, or clear ImageBuilder.target_registry."
            ),
            model.PUSHING,
        )

    def plain_http(reference: Reference) -> bool:
        return client._locate(reference).base_url.startswith("http:")

    location = client._locate(destination)
    command = [
        skopeo,
        "copy",
        "--preserve-digests",
        "--quiet",
        f"--dest-tls-verify={str(not plain_http(destination)).lower()}",
    ]
    if source_reference is not None:
        command.append(f"--src-tls-verify={str(not plain_http(source_reference)).lower()}")
    auth_file = client.auth_file or os.environ.get("REGISTRY_AUTH_FILE")
    if auth_file and os.path.exists(auth_file):
        command.append(f"--authfile={auth_file}")
    command += [source, f"docker://{location.host}/{location.repository}:{destination.tag}"]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    text = output.decode("utf-8", errors="replace").strip()
    if text:
        build.log(f"skopeo: {text}")
    if process.returncode != 0:
        denied = re.search(r"unauthorized|authentication required|denied", text, re.IGNORECASE)
        reason = model.AUTH_REQUIRED if denied else model.REGISTRY_UNAVAILABLE
        raise BuildFailure(reason, f"Pushing to {target} failed: {text[-400:]}", model.PUSHING)
    await build.condition(
        model.PUSHING, "True", "Pushed", f"Pushed {destination.digest} to {target}."
    )


class LayerBuildEngine:
    """PackageList and GitRepository builds by appending layers to a base image."""

    name = "embedded"

    def __init__(
        self,
        config: ImageBuilder,
        client: RegistryClient,
        inspector: ImageInspector,
        importer: ImageImportEngine,
        default_profiles: list[str] | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.inspector = inspector
        self.importer = importer
        self.default_profiles = default_profiles
        self.fallback: Engine | None = None  # ImageBuilder.fallback_engine, set by the app
        # Parsed base filesystems by (digest, platform), most recently used last; shared
        # read-only by the builds that use them.
        self._bases: OrderedDict[tuple[str, str], FileSystem] = OrderedDict()
        self._cleaned = False

    async def run(self, build: BuildContext) -> None:
        layout = Layout(Path(self.config.layout_dir))
        if not self._cleaned:  # what builds of a crashed process left in the layout
            self._cleaned = True
            await asyncio.to_thread(remove_abandoned, _temporaries(layout))
        try:
            with held_temp_dir(layout.root, f".build-{build.name}-") as work:
                await self._run(build, layout, work)
        except _HandOver as error:
            if self.fallback is None:
                raise BuildFailure(model.BUILD_FAILED, str(error), model.BUILDING_STEP) from None
            message = (
                f"Layer append cannot build this ({error}); handing it to the "
                f"{self.fallback.name} engine (ImageBuilder.fallback_engine)."
            )
            await build.condition(model.BUILDING_STEP, "Unknown", "HandedOver", message)
            await build.update(handedOverTo=self.fallback.name)
            await self.fallback.run(build)

    def _cannot(self, error: Exception) -> Exception:
        """What layer append cannot do: fail (``RequiresBuild`` when building would run the
        input's code, else ``BuildFailed``), or hand the build over (fallback_engine)."""
        if self.fallback is None:
            reason = getattr(error, "reason", model.BUILD_FAILED)
            return BuildFailure(reason, str(error), model.BUILDING_STEP)
        return _HandOver(str(error))

    async def _run(self, build: BuildContext, layout: Layout, work: Path) -> None:
        from .. import registry

        spec = build.spec
        detected: DetectedEnvironment | None = None
        repository_dir: Path | None = None
        if spec["buildType"] == model.GIT_REPOSITORY:
            await build.step(model.BUILDING_STEP, f"Cloning {spec['repositoryUrl']}.")
            repository_dir = work / "repository"
            try:
                commit = await clone(
                    spec["repositoryUrl"],
                    spec.get("gitRef"),
                    repository_dir,
                    build.log,
                    self.config.clone_limits,
                )
            except RepositoryError as error:
                raise BuildFailure(model.BUILD_FAILED, str(error), model.BUILDING_STEP) from None
            await build.update(commit=commit)
            try:
                detected = detect(repository_dir)
            except RepositoryError as error:
                raise self._cannot(error) from None
            await build.update(detected=detected.to_json())
            build.log(f"Detected: {detected.summary()}")
            base = (
                spec.get("builderImage")
                or (
                    detected.python_version and self.config.base_for_python(detected.python_version)
                )
                or self.config.default_base_image
            )
            requirements = list(detected.requirements)
            if detected.install_project:
                # Building a project runs its code (setup.py, an in-tree build backend).
                raise self._cannot(
                    RequiresBuild(
                        f"The repository is a Python project ({detected.files[-1]}) "
                        "that must be built to be installed, which runs its code; layer "
                        "append never runs a build's code on this machine: use the buildah "
                        "engine."
                    )
                )
        else:
            base = spec.get("builderImage") or self.config.base_for(spec["runtimeEnvironment"])
            requirements = list(spec["packageVersions"])
        try:
            check_requirements(requirements)
        except PackageError as error:
            raise self._cannot(error) from None

        early: EarlyInstall | None = None
        try:
            await build.step(model.BUILDING_STEP, f"Reading the base image {base}.")
            try:
                base_ref = parse(base)
                resolved = await self.client.resolve(base_ref)
                if requirements:
                    early = EarlyInstall(
                        requirements,
                        resolved.platform.architecture,
                        _path_dirs(resolved.config),
                        work / "pip-early",
                        build.log,
                    )
                view = await self._fetch_base(
                    build, layout, base_ref, resolved, early.on_file if early else None
                )
            except registry.RegistryError as error:
                from .importer import failure_of

                failure = failure_of(error, base)
                failure.condition = model.BUILDING_STEP
                raise failure from None
            pinned_base = base_ref.with_tag(base_ref.tag or "latest").with_digest(resolved.digest)
            await build.update(baseImage=str(pinned_base))

            target = self._python_target(view, resolved.platform.architecture)
            uid, gid = self._owner(view)
            await build.step(
                model.BUILDING_STEP,
                (
                    f"Installing {len(requirements)} requirement(s) for Python {target.version} "
                    f"into {target.site_packages}."
                ),
            )
            layers = []
            lock: list[str] = []
            if requirements:
                plan, lock = await self._package_layer(
                    build, view, target, requirements, work, uid, gid, early
                )
                layers.append(plan)
            if repository_dir is not None:
                layers.append(
                    await asyncio.to_thread(self._repository_layer, view, repository_dir, uid, gid)
                )
            blobs = [
                await asyncio.to_thread(write_layer, plan, layout.temp_file()) for plan in layers
            ]
            for blob in blobs:
                layout.add_file(blob.path, blob.digest)
            await build.update(lock=lock)

            manifest, config = self._assemble(
                layout, resolved, blobs, build, pinned_base, lock, detected, target.bin_dir
            )
            ref_name = f"{build.name}:latest"
            layout.tag(ref_name, manifest)
            result = self._result_reference(build.name, manifest.digest)
            await build.condition(
                model.BUILDING_STEP,
                "True",
                "Built",
                (
                    f"Built {manifest.digest} from {pinned_base.familiar()} "
                    f"({len(lock)} locked distribution(s))."
                ),
            )
            if self.config.target_registry:
                await self._push(build, layout, ref_name, result)
            await build.update(image=result.familiar())

            validation = await self._validate(
                build, view, layout, blobs, config, result, manifest.digest
            )
            await self.importer._configure(build, result, validation)
        finally:
            if early is not None:
                await early.close()

    # -- steps -----------------------------------------------------------------------------

    async def _fetch_base(
        self,
        build: BuildContext,
        layout: Layout,
        ref: Reference,
        resolved: Any,
        on_file: FileObserver | None = None,
    ) -> ImageView:
        """Download the base layers the layout lacks (verified), then read them locally.

        Downloading and parsing one after the other is as fast as parsing while the layer
        streams in: both hold the GIL most of the time, and the layer is kept for the push.
        """
        layers = resolved.manifest.layers
        FileSystem(self.inspector.limits).check_layers(len(layers))
        total = sum(layer.size for layer in layers)
        done = 0
        for layer in layers:
            if not layout.has_blob(layer.digest):
                incoming = layout.temp_file()
                try:
                    with open(incoming, "wb") as handle:  # noqa: ASYNC230 (writes off the loop)
                        hold(handle)
                        async for chunk in self.client.stream_blob(ref, layer, _DOWNLOAD_CHUNK):
                            await asyncio.to_thread(handle.write, chunk)
                            done += len(chunk)
                            build.progress(done, total, 0, STEPS)
                    layout.add_file(incoming, layer.digest)
                finally:
                    incoming.unlink(missing_ok=True)
            else:
                done += layer.size
            build.progress(done, total, 0, STEPS)
        fs = await self._parsed_base(layout, resolved, on_file)
        return await asyncio.to_thread(
            build_report,
            fs,
            resolved.config,
            reference=str(ref),
            digest=resolved.digest,
            platform=str(resolved.platform),
            compressed_size=total,
        )

    async def _parsed_base(
        self, layout: Layout, resolved: Any, on_file: FileObserver | None = None
    ) -> FileSystem:
        """The base's merged filesystem: from memory, from the layout's record of it (a
        restarted server), or read from the layout's blobs (and recorded there)."""
        key = (resolved.digest, str(resolved.platform))
        fs = self._bases.get(key)
        if fs is not None:
            self._bases.move_to_end(key)
            return fs
        record = (
            layout.root / ".parsed" / f"{key[0].replace(':', '-')}-{key[1].replace('/', '-')}.json"
        )
        limits = self.inspector.limits
        budget = self.config.base_cache_bytes
        fs = await asyncio.to_thread(_read_parsed, record, limits, budget)
        if fs is None:
            fs = FileSystem(limits)
            for layer in resolved.manifest.layers:
                await asyncio.to_thread(_apply, fs, layout.blob_path(layer.digest), on_file)
            if _footprint(fs) <= budget:
                await asyncio.to_thread(_write_parsed, record, fs)
        if self.config.base_cache_size > 0 and _footprint(fs) <= budget:
            self._bases[key] = fs
            while len(self._bases) > self.config.base_cache_size or (
                sum(_footprint(kept) for kept in self._bases.values()) > budget
            ):
                self._bases.popitem(last=False)
        return fs

    @staticmethod
    def _python_target(view: ImageView, architecture: str) -> PythonTarget:
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
        site = next(
            (c for c in candidates if (n := view.fs.lookup(c)) is not None and n.is_dir), None
        )
        bin_dir = f"{prefix}/bin"
        if site is None and view.fs.lookup("/usr/lib/python3/dist-packages") is not None:
            # Debian's interpreter: pip installs into /usr/local/lib/pythonX.Y/dist-packages.
            site, bin_dir = f"/usr/local/lib/python{version}/dist-packages", "/usr/local/bin"
        if site is None:
            site = candidates[0]
        return PythonTarget(version, python.path, site, bin_dir, platforms)

    @staticmethod
    def _owner(view: ImageView) -> tuple[int, int]:
        user = view.report.config.user.split(":", 1)[0]
        if not user:
            return 0, 0
        found = view.report.user(user)
        if found is not None:
            return found.uid, found.gid
        return (int(user), 0) if user.isdigit() else (0, 0)

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
                raise self._cannot(error) from None
        plan = await asyncio.to_thread(
            _plan_package_layer, view, target, installed, base_dists, uid, gid
        )
        return plan, installed.lock

    @staticmethod
    def _repository_layer(view: ImageView, repository: Path, uid: int, gid: int) -> LayerPlan:
        working_dir = view.report.config.working_dir or "/home/jovyan"
        plan = LayerPlan(uid=uid, gid=gid)
        git_dir = repository / ".git"
        if git_dir.exists():
            shutil.rmtree(git_dir)
        plan.add_tree(repository, working_dir)
        return plan

    def _assemble(
        self,
        layout: Layout,
        resolved: Any,
        blobs: list[Any],
        build: BuildContext,
        base: Reference,
        lock: list[str],
        detected: DetectedEnvironment | None,
        bin_dir: str,
    ) -> tuple[Any, dict[str, Any]]:
        config = copy.deepcopy(resolved.config)
        config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        config["rootfs"]["diff_ids"] = [
            *config["rootfs"].get("diff_ids", []),
            *(b.diff_id for b in blobs),
        ]
        inputs = build_inputs(build, str(base))
        history = list(config.get("history", []))
        for blob in blobs:
            history.append(
                {
                    "created": config.get("created", "1970-01-01T00:00:00Z"),
                    "created_by": f"jupyter-runtime-images {build.spec['buildType']}",
                    "comment": f"layer {blob.digest}",
                }
            )
        config["history"] = history
        inner = config.setdefault("config", {})
        inner["Env"] = with_on_path(list(inner.get("Env") or []), bin_dir)
        labels = dict(inner.get("Labels") or {})
        labels[f"{LABEL_PREFIX}.inputs"] = json.dumps(inputs, sort_keys=True)
        labels[f"{LABEL_PREFIX}.lock"] = "\n".join(lock)
        if detected is not None:
            labels[f"{LABEL_PREFIX}.detected"] = json.dumps(detected.to_json(), sort_keys=True)
        inner["Labels"] = labels
        config_descriptor = layout.add_bytes(canonical_json(config), OCI_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config_descriptor.to_json(),
            "layers": [
                {
                    "mediaType": oci_layer_type(layer.media_type),
                    "digest": layer.digest,
                    "size": layer.size,
                }
                for layer in resolved.manifest.layers
            ]
            + [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": b.digest,
                    "size": b.size,
                }
                for b in blobs
            ],
        }
        return layout.add_bytes(canonical_json(manifest), OCI_MANIFEST), config

    def _result_reference(self, name: str, digest: str) -> Reference:
        return self.config.result_reference(name, digest)

    async def _push(
        self, build: BuildContext, layout: Layout, ref_name: str, result: Reference
    ) -> None:
        await copy_image(
            build, self.config.skopeo, self.client, f"oci:{layout.root}:{ref_name}", result
        )

    async def _validate(
        self,
        build: BuildContext,
        base_view: ImageView,
        layout: Layout,
        blobs: list[Any],
        config: dict[str, Any],
        result: Reference,
        digest: str,
    ) -> Validation:
        from ..inspect import Validation
        from ..inspect.profiles import run_profiles
        from .importer import record_validation

        profiles = (
            build.spec.get("profiles")
            or self.default_profiles
            or list(self.inspector.default_profiles)
        )
        await build.step(
            model.VALIDATING, f"Checking the built image against {', '.join(profiles)}."
        )

        def check() -> Validation:
            fs = base_view.fs.copy()  # the base's may be cached for other builds
            for blob in blobs:
                _apply(fs, layout.blob_path(blob.digest))
            view = build_report(
                fs,
                config,
                reference=str(result),
                digest=digest,
                platform=base_view.report.platform,
                compressed_size=base_view.report.compressed_size + sum(b.size for b in blobs),
            )
            return Validation(view.report, profiles, run_profiles(view, profiles))

        validation = await asyncio.to_thread(check)
        await record_validation(build, validation)
        return validation


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


def with_on_path(env: list[str], directory: str) -> list[str]:
    """``env`` (``KEY=value`` entries) with ``directory`` on PATH: console scripts installed
    there must be found (it is appended, so the base's own commands keep precedence)."""
    for index, entry in enumerate(env):
        if entry.startswith("PATH="):
            if directory in entry[len("PATH=") :].split(":"):
                return env
            env[index] = f"{entry}:{directory}"
            return env
    return [*env, f"PATH={DEFAULT_PATH}:{directory}"]


def _read_parsed(record: Path, limits: Limits, max_bytes: int) -> FileSystem | None:
    """A base filesystem recorded by an earlier build, or None (none, unreadable, or over
    the budget: the record is this product's own file, but in a directory users write)."""
    try:
        if record.stat().st_size > max_bytes:
            return None
        return FileSystem.from_json(documents.loads_json(record.read_bytes()), limits)
    except (OSError, ValueError):
        return None


_BYTES_PER_ENTRY = 230  # measured: a Node, its name and its slot in the parent's dict


def _footprint(fs: FileSystem) -> int:
    """Estimated memory of a parsed filesystem, for the base cache's budget."""
    return fs.entries * _BYTES_PER_ENTRY + fs.kept_bytes


def _temporaries(layout: Layout) -> list[Path]:
    return [*layout.root.glob(".incoming-*"), *layout.root.glob(".build-*")]


def _write_parsed(record: Path, fs: FileSystem) -> None:
    record.parent.mkdir(exist_ok=True)
    data = json.dumps(fs.to_json(), separators=(",", ":")).encode()
    atomic_write_bytes(record, data, mode=0o644)


def _apply(fs: FileSystem, blob: Path, on_file: FileObserver | None = None) -> None:
    """Apply a layer blob of the layout (blocking: run it in a thread)."""
    with open_layer_file(blob) as stream:
        fs.apply_layer(stream, on_file=on_file)


def _path_dirs(config: dict[str, Any]) -> list[str]:
    """The PATH of an image config (Docker's default when it sets none)."""
    for entry in (config.get("config") or {}).get("Env") or []:
        if isinstance(entry, str) and entry.startswith("PATH="):
            return entry[len("PATH=") :].split(":")
    return DEFAULT_PATH.split(":")


def _dist_name(directory: str) -> str:
    return canonical_name(directory[: -len(".dist-info")].rsplit("-", 1)[0])


class EmbeddedEngine:
    """The default engine: imports with :class:`ImageImportEngine`, builds by layer append."""

    name = "embedded"

    def __init__(self, importer: ImageImportEngine, builder: LayerBuildEngine) -> None:
        self.importer = importer
        self.builder = builder

    async def run(self, build: BuildContext) -> None:
        if build.spec["buildType"] == model.IMAGE_IMPORT:
            await self.importer.run(build)
        else:
            await self.builder.run(build)
