"""The settings of builds that run on this machine (``c.ImageBuilder.*``): the local OCI
layout and target registry, the base images, the fallback engine, and the budgets of the
base cache and of clones."""

from __future__ import annotations

from traitlets import Bool, Dict, Float, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

from ..reference import Reference, parse
from ..registry.layout import configured_layout_dir, default_layout_dir
from . import model
from .engine import BuildFailure
from .repository import CloneLimits, DetectedEnvironment

__all__ = ["BuildSettings"]


class BuildSettings(LoggingConfigurable):
    """Where built images go and what they are built from: the settings of the embedded
    and buildah engines.

    Configured as ``c.ImageBuilder.<trait>``, the name these settings have always had in
    configuration files (``c.BuildSettings.<trait>`` works too).
    """

    @classmethod
    def section_names(cls) -> list[str]:
        return [*super().section_names()[:-1], "ImageBuilder", cls.__name__]

    target_registry = Unicode(
        "",
        help="""Registry repository prefix built images are pushed to, e.g.
        "registry.example.com:5000/notebooks" (each build becomes <prefix>/<name>:latest).
        Empty: keep them in the local OCI layout only (layout_dir), referenced as
        localhost/<name>:latest@sha256:… — publish them with `jupyter runtime-images publish`.""",
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
        return (
            configured_layout_dir(self.config, ("RegistryClient", "local_layout_dir"))
            or default_layout_dir()
        )

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

    def base_of(self, spec: dict[str, object], detected: DetectedEnvironment | None) -> str:
        """The base image a build starts from: its ``builderImage``; else, for a package
        list, its ``runtimeEnvironment``'s; for a repository, the one for the Python its
        runtime.txt names, or ``default_base_image``."""
        builder_image = spec.get("builderImage")
        if isinstance(builder_image, str) and builder_image:
            return builder_image
        if detected is None:
            environment = spec["runtimeEnvironment"]
            assert isinstance(environment, dict)
            return self.base_for(environment)
        by_python = detected.python_version and self.base_for_python(detected.python_version)
        return by_python or self.default_base_image

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
