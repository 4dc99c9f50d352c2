"""The export formats: one runtime image record written the way each platform reads it.

Every renderer is a pure function of the selected images (their stored metadata, their
pinned reference and, where the format carries contents, their inspected facts), so the
same record always gives the same document. The fields written are those the consuming
platform's own code reads (see docs/exports.md for the sources):

- ``odh-imagestream``: the ODH dashboard's ``processImageInfo``/``mapImageStreamToBYONImage``
  (``backend/src/routes/api/images/imageUtils.ts``);
- ``odh-runtime-imagestream``: the ODH notebook controller's ``SyncRuntimeImagesConfigMap``
  (``notebook_runtime.go``): the label, ``tag.from.name``, the first object of the
  ``runtime-image-metadata`` array and its ``display_name``;
- ``kubespawner``: KubeSpawner's ``profile_list`` (``kubespawner_override``,
  ``profile_options.*.choices``) under z2jh's ``singleuser.profileList``;
- ``kubeflow``: the Jupyter web app's ``spawner_ui_config.yaml`` (``spawnerFormDefaults``,
  ``image``/``imageGroupOne``/``imageGroupTwo`` with ``value`` and ``options``);
- ``prepuller``: z2jh's ``prePuller.extraImages`` (rendered as ``{{name}}:{{tag}}`` in the
  container ``image-pull-{{key}}``), or one pinned reference per line;
- ``elyra``: Elyra's runtime-image files, ``image_name`` pinned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..reference import DEFAULT_TAG, Reference
from .facts import ImageFacts, Packages
from .yamltext import dump as dump_yaml
from .yamltext import dump_all as dump_yaml_all

__all__ = ["FORMATS", "ExportFormat", "ExportImage", "ExportOptions", "Style"]

DNS_LABEL_MAX = 63
ACCELERATOR_IDENTIFIERS = {
    "CUDA": "nvidia.com/gpu",
    "ROCm": "amd.com/gpu",
    "Intel Gaudi": "habana.ai/gaudi",
}
"""Accelerator stacks to the device-plugin resource (the ODH AcceleratorProfile
``identifier``) that runs them; cuDNN and NCCL ride on CUDA."""


@dataclass(frozen=True)
class ExportImage:
    """One selected runtime image: its store record, its pinned reference, its facts."""

    name: str
    display_name: str
    metadata: dict[str, Any]
    pinned: Reference
    facts: ImageFacts | None = None

    @property
    def description(self) -> str:
        value = self.metadata.get("description")
        return value if isinstance(value, str) else ""

    @property
    def tags(self) -> list[str]:
        value = self.metadata.get("tags")
        return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []

    @property
    def pull_policy(self) -> str | None:
        value = self.metadata.get("pull_policy")
        return value if isinstance(value, str) and value else None

    @property
    def pull_secret(self) -> str | None:
        value = self.metadata.get("pull_secret")
        return value if isinstance(value, str) and value else None

    @property
    def image(self) -> str:
        """The fully qualified pinned reference (CRI-O refuses ambiguous short names)."""
        return str(self.pinned)

    @property
    def tag(self) -> str:
        return self.pinned.tag or DEFAULT_TAG

    @property
    def accelerator_identifiers(self) -> list[str]:
        found = [a.name for a in (self.facts.accelerators if self.facts else [])]
        return sorted({ACCELERATOR_IDENTIFIERS[n] for n in found if n in ACCELERATOR_IDENTIFIERS})


@dataclass(frozen=True)
class ExportOptions:
    """What a person may set per export (the record has no such field)."""

    creator: str = "jupyter-runtime-images"


@dataclass(frozen=True)
class Style:
    name: str
    title: str
    media_type: str
    extension: str

    def to_json(self) -> dict[str, str]:
        return {
            "style": self.name,
            "title": self.title,
            "mediaType": self.media_type,
            "extension": self.extension,
        }


Renderer = Callable[[Sequence[ExportImage], Style, ExportOptions], str]


@dataclass(frozen=True)
class ExportFormat:
    format: str
    title: str
    styles: tuple[Style, ...]
    render: Renderer = field(repr=False)
    needs_facts: bool = False

    @property
    def default_style(self) -> Style:
        return self.styles[0]

    def style(self, name: str | None) -> Style | None:
        if not name:
            return self.default_style
        return next((s for s in self.styles if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
        default = self.default_style
        return {
            "format": self.format,
            "title": self.title,
            "mediaType": default.media_type,
            "extension": default.extension,
            "styles": [s.to_json() for s in self.styles],
        }


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def kubernetes_names(images: Sequence[ExportImage], limit: int = DNS_LABEL_MAX) -> list[str]:
    """DNS-1123 labels for the images, unique within the export: runtime image names may
    hold ``_`` (not allowed) and be longer than a label; clashes get ``-2``, ``-3``…"""
    names: list[str] = []
    taken: set[str] = set()
    for image in images:
        base = re.sub(r"[^a-z0-9-]+", "-", image.name.lower()).strip("-") or "image"
        base = base[:limit].rstrip("-") or "image"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            suffix = f"-{n}"
            candidate = base[: limit - len(suffix)].rstrip("-") + suffix
        taken.add(candidate)
        names.append(candidate)
    return names


# --- Open Data Hub -------------------------------------------------------------------------


_encode = json.encoder.encode_basestring


def _packages(packages: Sequence[Any], visible: bool | None = None) -> str:
    """The JSON array of ``{name, version[, visible]}`` the dashboard parses, written
    with the encoder's string escaping directly (hundreds of packages per image)."""
    names, versions = (
        (packages.names, packages.versions)
        if isinstance(packages, Packages)
        else ([p.name for p in packages], [p.version for p in packages])
    )
    tail = "}" if visible is None else f',"visible":{"true" if visible else "false"}}}'
    items = ",".join(
        f'{{"name":{_encode(n)},"version":{_encode(v)}{tail}'
        for n, v in zip(names, versions, strict=True)
    )
    return f"[{items}]"


def render_odh_imagestream(
    images: Sequence[ExportImage], style: Style, options: ExportOptions
) -> str:
    docs = []
    for order, (image, name) in enumerate(zip(images, kubernetes_names(images), strict=True), 1):
        facts = image.facts
        docs.append(
            {
                "apiVersion": "image.openshift.io/v1",
                "kind": "ImageStream",
                "metadata": {
                    "name": name,
                    "labels": {
                        "opendatahub.io/notebook-image": "true",
                        "opendatahub.io/dashboard": "true",
                        "app.kubernetes.io/created-by": "byon",
                    },
                    "annotations": {
                        "opendatahub.io/notebook-image-name": image.display_name,
                        "opendatahub.io/notebook-image-desc": image.description,
                        "opendatahub.io/notebook-image-url": image.image,
                        "opendatahub.io/notebook-image-creator": options.creator,
                        "opendatahub.io/notebook-image-order": str(order),
                        "opendatahub.io/recommended-accelerators": _compact(
                            image.accelerator_identifiers
                        ),
                    },
                },
                "spec": {
                    "lookupPolicy": {"local": True},
                    "tags": [
                        {
                            "name": image.tag,
                            "annotations": {
                                "opendatahub.io/notebook-software": _packages(
                                    facts.software if facts else []
                                ),
                                "opendatahub.io/notebook-python-dependencies": _packages(
                                    facts.python_dependencies if facts else [], visible=True
                                ),
                                "openshift.io/imported-from": image.image,
                            },
                            "from": {"kind": "DockerImage", "name": image.image},
                            "importPolicy": {"importMode": "PreserveOriginal"},
                            "referencePolicy": {"type": "Source"},
                        }
                    ],
                },
            }
        )
    return dump_yaml_all(docs)


def elyra_metadata(image: ExportImage, image_name: str) -> dict[str, Any]:
    """The record's Elyra metadata with ``image_name`` pinned (unknown keys kept)."""
    return {**image.metadata, "image_name": image_name}


def render_odh_runtime_imagestream(
    images: Sequence[ExportImage], style: Style, options: ExportOptions
) -> str:
    docs = []
    for image, name in zip(images, kubernetes_names(images), strict=True):
        runtime = {
            "display_name": image.display_name,
            "metadata": {**elyra_metadata(image, image.image), "display_name": image.display_name},
            "schema_name": "runtime-image",
        }
        docs.append(
            {
                "apiVersion": "image.openshift.io/v1",
                "kind": "ImageStream",
                "metadata": {
                    "name": name,
                    "labels": {"opendatahub.io/runtime-image": "true"},
                    "annotations": {
                        "opendatahub.io/runtime-image-name": image.display_name,
                        "opendatahub.io/runtime-image-desc": image.description,
                        "opendatahub.io/runtime-image-url": image.image,
                    },
                },
                "spec": {
                    "lookupPolicy": {"local": True},
                    "tags": [
                        {
                            "name": image.tag,
                            "annotations": {
                                "opendatahub.io/runtime-image-metadata": _compact([runtime])
                            },
                            "from": {"kind": "DockerImage", "name": image.image},
                            "importPolicy": {"importMode": "PreserveOriginal"},
                            "referencePolicy": {"type": "Source"},
                        }
                    ],
                },
            }
        )
    return dump_yaml_all(docs)


# --- JupyterHub on Kubernetes (z2jh / KubeSpawner) -----------------------------------------


def _override(image: ExportImage) -> dict[str, Any]:
    override: dict[str, Any] = {"image": image.image}
    if image.pull_policy:
        override["image_pull_policy"] = image.pull_policy
    if image.pull_secret:
        override["image_pull_secrets"] = [image.pull_secret]
    return override


def render_kubespawner(images: Sequence[ExportImage], style: Style, options: ExportOptions) -> str:
    slugs = kubernetes_names(images)
    if style.name == "choice":
        choices: dict[str, Any] = {}
        for index, (image, slug) in enumerate(zip(images, slugs, strict=True)):
            choice: dict[str, Any] = {"display_name": image.display_name}
            if index == 0:
                choice["default"] = True
            choice["kubespawner_override"] = _override(image)
            choices[slug] = choice
        profiles: list[dict[str, Any]] = [
            {
                "display_name": "Runtime images",
                "slug": "runtime-images",
                "description": "Choose the image your server runs in.",
                "default": True,
                "profile_options": {"image": {"display_name": "Image", "choices": choices}},
            }
        ]
    else:
        profiles = []
        for index, (image, slug) in enumerate(zip(images, slugs, strict=True)):
            profile: dict[str, Any] = {
                "display_name": image.display_name,
                "slug": slug,
                "description": image.description or image.image,
            }
            if index == 0:
                profile["default"] = True
            profile["kubespawner_override"] = _override(image)
            profiles.append(profile)
    return dump_yaml({"singleuser": {"profileList": profiles}})


# --- Kubeflow Notebooks ---------------------------------------------------------------------

KUBEFLOW_GROUPS = (
    ("imageGroupOne", {"vscode", "code-server", "codeserver"}),
    ("imageGroupTwo", {"rstudio"}),
)
"""Kubeflow's image groups by the web app they serve: VS Code-like apps rewrite the path
to ``/`` (group one), RStudio-like ones get ``X-RStudio-Root-Path`` (group two); a
runtime image with one of these tags goes to that group, every other one to ``image``."""


def render_kubeflow(images: Sequence[ExportImage], style: Style, options: ExportOptions) -> str:
    groups: dict[str, list[str]] = {"image": [], "imageGroupOne": [], "imageGroupTwo": []}
    for image in images:
        tags = {t.lower() for t in image.tags}
        group = next((g for g, marks in KUBEFLOW_GROUPS if tags & marks), "image")
        if image.image not in groups[group]:
            groups[group].append(image.image)
    defaults = {
        group: {"value": options_[0], "options": options_}
        for group, options_ in groups.items()
        if options_
    }
    return dump_yaml({"spawnerFormDefaults": defaults})


# --- Pre-pullers ---------------------------------------------------------------------------


def render_prepuller(images: Sequence[ExportImage], style: Style, options: ExportOptions) -> str:
    unique: dict[str, ExportImage] = {}
    for image in images:
        unique.setdefault(image.image, image)
    chosen = list(unique.values())
    if style.name == "list":
        return "".join(f"{image.image}\n" for image in chosen)
    keys = kubernetes_names(chosen, DNS_LABEL_MAX - len("image-pull-"))
    extra = {
        key: {
            "name": image.pinned.repository,
            # z2jh renders "{{name}}:{{tag}}"; a digest after the tag pins it (the tag is
            # then ignored by the container runtime).
            "tag": f"{image.tag}@{image.pinned.digest}" if image.pinned.digest else image.tag,
        }
        for key, image in zip(keys, chosen, strict=True)
    }
    return dump_yaml({"prePuller": {"extraImages": extra}})


# --- Elyra ----------------------------------------------------------------------------------


def render_elyra(images: Sequence[ExportImage], style: Style, options: ExportOptions) -> str:
    files = {
        f"{image.name}.json": {
            "display_name": image.display_name,
            "schema_name": "runtime-image",
            "metadata": elyra_metadata(image, image.pinned.familiar()),
        }
        for image in images
    }
    return json.dumps(files, indent=2, ensure_ascii=False) + "\n"


_YAML = "application/yaml"
FORMATS: dict[str, ExportFormat] = {
    f.format: f
    for f in (
        ExportFormat(
            "odh-imagestream",
            "Open Data Hub workbench images (ImageStreams)",
            (Style("imagestreams", "ImageStreams", _YAML, "yaml"),),
            render_odh_imagestream,
            needs_facts=True,
        ),
        ExportFormat(
            "odh-runtime-imagestream",
            "Open Data Hub pipeline runtime images (ImageStreams)",
            (Style("imagestreams", "ImageStreams", _YAML, "yaml"),),
            render_odh_runtime_imagestream,
        ),
        ExportFormat(
            "kubespawner",
            "JupyterHub (z2jh singleuser.profileList)",
            (
                Style("profiles", "One profile per image", _YAML, "yaml"),
                Style("choice", "One profile with an image choice", _YAML, "yaml"),
            ),
            render_kubespawner,
        ),
        ExportFormat(
            "kubeflow",
            "Kubeflow Notebooks (spawner_ui_config.yaml)",
            (Style("spawner-ui-config", "spawnerFormDefaults", _YAML, "yaml"),),
            render_kubeflow,
        ),
        ExportFormat(
            "prepuller",
            "Pre-pullers (z2jh prePuller.extraImages, or a list)",
            (
                Style("z2jh", "z2jh prePuller.extraImages", _YAML, "yaml"),
                Style("list", "One pinned reference per line", "text/plain", "txt"),
            ),
            render_prepuller,
        ),
        ExportFormat(
            "elyra",
            "Elyra runtime image files",
            (Style("files", "File name to file", "application/json", "json"),),
            render_elyra,
        ),
    )
}
