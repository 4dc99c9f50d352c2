"""The CustomNBImage resource: validation, aliases and its status (phase and conditions).

It follows Meteor's CRD (``meteor.zone/v1alpha1``) with the seed's field names
(``builderImage``, ``repositoryUrl``) and accepts the operator's (``baseImage``,
``repository``) as aliases. Unlike the operator's webhook, every field is checked, with
errors naming the field (the operator never validated ``fromImage`` or ``repository``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .. import documents
from ..errors import ValidationFailedError
from ..fields import FieldError
from ..validation import compiled_validator, json_schema_errors

API_VERSION = "meteor.zone/v1alpha1"
KIND = "CustomNBImage"
ANNOTATION_NAME = "opendatahub.io/notebook-image-name"
ANNOTATION_DESC = "opendatahub.io/notebook-image-desc"
ANNOTATION_CREATOR = "opendatahub.io/notebook-image-creator"
ANNOTATION_PLATFORMS = "runtime-images.jupyter.org/platforms"
"""The platforms of a multi-platform build, comma-separated: one image index is built, its
packages resolved for each platform by pip (no emulation)."""
MAX_PLATFORMS = 8
BUILDABLE_ARCHITECTURES = ("amd64", "arm64", "ppc64le", "s390x")

IMAGE_IMPORT, PACKAGE_LIST, GIT_REPOSITORY = "ImageImport", "PackageList", "GitRepository"
PENDING, BUILDING, READY, FAILED = "Pending", "Building", "Ready", "Failed"
ACTIVE_PHASES = (PENDING, BUILDING)

# Condition types (steps) and the reasons a failure can have.
IMPORTING, VALIDATING, BUILDING_STEP, PUSHING, READY_CONDITION = (
    "Importing",
    "Validating",
    "Building",
    "Pushing",
    "Ready",
)
AUTH_REQUIRED = "AuthRequired"
IMAGE_NOT_FOUND = "ImageNotFound"
REGISTRY_UNAVAILABLE = "RegistryUnavailable"
REQUIREMENTS_NOT_MET = "RequirementsNotMet"
BUILD_FAILED = "BuildFailed"
DIGEST_MISMATCH = "DigestMismatch"
REQUIRES_BUILD = "RequiresBuild"
CANCELLED = "Cancelled"

_ALIASES = {"baseImage": "builderImage", "repository": "repositoryUrl"}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _errors(document: object) -> list[FieldError]:
    return json_schema_errors(compiled_validator("custom-nb-image"), document)


def normalize(document: object) -> dict[str, Any]:
    """Validate a submitted resource and return it with aliases resolved.

    ``status`` in the input is ignored (it is the controller's); ``generation`` starts at 1.
    """
    if not isinstance(document, Mapping):
        raise ValidationFailedError([FieldError("", "the resource must be a JSON or YAML object")])
    resource = copy.deepcopy(dict(document))
    resource.pop("status", None)
    errors = _errors(resource)
    spec = resource.get("spec")
    if isinstance(spec, dict):
        for alias, canonical in _ALIASES.items():
            if alias in spec:
                if canonical in spec and spec[canonical] != spec[alias]:
                    errors.append(
                        FieldError(f"spec.{alias}", f"is an alias of {canonical}; give only one")
                    )
                spec.setdefault(canonical, spec.pop(alias))
        type_errors = _build_type_errors(spec)
        if type_errors:
            # The schema states these per-buildType rules too, for other clients; say each
            # once, in Python's words, which name the alternatives.
            errors = [e for e in errors if not e.path.startswith(_BUILD_TYPE_FIELDS)]
        errors.extend(type_errors)
    errors.extend(_platforms_errors(resource))
    if errors:
        raise ValidationFailedError(
            sorted(set(errors), key=lambda e: (e.path, e.message)), _summary(errors)
        )
    metadata = resource["metadata"]
    metadata.setdefault("generation", 1)
    metadata.setdefault("creationTimestamp", now())
    return resource


def requested_platforms(resource: Mapping[str, Any]) -> list[str] | None:
    """The platforms a multi-platform build makes (one image index), in the annotation's
    order; None when it builds its base image's platform only. (Checked at submit.)"""
    annotations = (resource.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(ANNOTATION_PLATFORMS)
    if not isinstance(value, str):
        return None
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def _platforms_errors(resource: Mapping[str, Any]) -> list[FieldError]:
    """What is wrong with the platforms annotation: each entry must be a Linux platform pip
    has wheels for (``linux/amd64``, ``linux/arm64``…), listed once."""
    metadata = resource.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if not isinstance(annotations, Mapping) or ANNOTATION_PLATFORMS not in annotations:
        return []
    field = f"metadata.annotations.{ANNOTATION_PLATFORMS}"
    value = annotations[ANNOTATION_PLATFORMS]
    spec = resource.get("spec")
    if isinstance(spec, Mapping) and spec.get("buildType") == IMAGE_IMPORT:
        return [
            FieldError(
                field,
                "an import copies every platform the image has, as it is: leave this out",
            )
        ]
    entries = [e.strip() for e in value.split(",")] if isinstance(value, str) else []
    if not entries or not all(entries):
        return [
            FieldError(
                field, "must be a comma-separated list of platforms, e.g. linux/amd64,linux/arm64"
            )
        ]
    if len(entries) > MAX_PLATFORMS:
        return [FieldError(field, f"at most {MAX_PLATFORMS} platforms, not {len(entries)}")]
    errors = [
        FieldError(field, problem) for entry in entries if (problem := _platform_problem(entry))
    ]
    repeated = sorted({entry for entry in entries if entries.count(entry) > 1})
    if repeated:
        errors.append(FieldError(field, f"lists {', '.join(repeated)} more than once"))
    return errors


def _platform_problem(entry: str) -> str | None:
    # Imported here: the registry package is heavy, and the CLI parses builds without it.
    from ..registry.manifest import Platform

    try:
        platform = Platform.parse(entry)
    except ValueError:
        platform = None
    if platform is None or platform.os != "linux":
        return f"{entry!r} is not a Linux platform (os/architecture, e.g. linux/arm64)"
    architecture, variant = platform.architecture, platform.variant
    if architecture not in BUILDABLE_ARCHITECTURES:
        return (
            f"{entry!r}: packages are added for {', '.join(BUILDABLE_ARCHITECTURES)} "
            "(the architectures of manylinux wheels)"
        )
    if variant is not None and (architecture, variant) != ("arm64", "v8"):
        return f"{entry!r}: {architecture} has no variant {variant!r}"
    return None


_BUILD_TYPE_FIELDS = tuple(
    f"spec.{name}"
    for name in ("builderImage", "baseImage", "runtimeEnvironment", "repositoryUrl", "repository")
)


def _summary(errors: list[FieldError]) -> str:
    listed = "; ".join(str(e) for e in errors[:5])
    return f"Invalid CustomNBImage: {listed}"


def _build_type_errors(spec: Mapping[str, Any]) -> list[FieldError]:
    build_type = spec.get("buildType")
    errors: list[FieldError] = []
    if build_type == PACKAGE_LIST:
        environment = spec.get("runtimeEnvironment")
        complete = isinstance(environment, dict) and all(
            environment.get(key) for key in ("osName", "osVersion", "pythonVersion")
        )
        if spec.get("builderImage") and environment:
            errors.append(
                FieldError(
                    "spec.builderImage",
                    "builderImage and runtimeEnvironment are mutually exclusive",
                )
            )
        elif not spec.get("builderImage") and not environment:
            errors.append(FieldError("spec", "builderImage or runtimeEnvironment is required"))
        elif environment and not complete:
            errors.append(
                FieldError("spec.runtimeEnvironment", "needs osName, osVersion and pythonVersion")
            )
    elif build_type == GIT_REPOSITORY:
        url = spec.get("repositoryUrl")
        if not url:
            errors.append(FieldError("spec.repositoryUrl", "'repositoryUrl' is required"))
        elif not _looks_like_git_url(str(url)):
            errors.append(
                FieldError(
                    "spec.repositoryUrl",
                    "must be an https://, http://, ssh://, git:// or file:// URL",
                )
            )
    for key in (
        "fromImage",
        "builderImage",
        "packageVersions",
        "repositoryUrl",
        "gitRef",
        "runtimeEnvironment",
    ):
        if key in spec and not _used_by(build_type, key):
            errors.append(FieldError(f"spec.{key}", f"is not used by buildType {build_type}"))
    return errors


def _used_by(build_type: object, key: str) -> bool:
    used = {
        IMAGE_IMPORT: {"fromImage"},
        PACKAGE_LIST: {"builderImage", "packageVersions", "runtimeEnvironment"},
        GIT_REPOSITORY: {"repositoryUrl", "gitRef", "builderImage"},
    }
    return key in used.get(str(build_type), {key})


def _looks_like_git_url(url: str) -> bool:
    return url.startswith(("https://", "http://", "ssh://", "git://", "file://", "git@"))


RESOURCE_LIMITS = documents.Limits(max_nodes=100_000)
"""A resource is a few dozen values: room for long package lists, none for alias bombs."""


def parse_text(text: str | bytes) -> Any:
    """A resource from JSON or YAML text (as ``kubectl`` accepts either), parsed strictly."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise documents.InvalidDocument(
                "The resource", f"it is not UTF-8 text ({error.reason})"
            ) from None
    return documents.loads_json_or_yaml(text, "The resource", RESOURCE_LIMITS)


# -- status --------------------------------------------------------------------------------


def set_condition(
    resource: dict[str, Any], type_: str, status: str, reason: str, message: str
) -> None:
    """Add or update the condition ``type_`` (``lastTransitionTime`` moves on change only).

    The condition is moved to the end of the list, so the last condition is always the
    latest one and its message is what a person is shown.
    """
    resource_status = resource.setdefault("status", {})
    conditions: list[dict[str, Any]] = resource_status.setdefault("conditions", [])
    generation = resource["metadata"].get("generation", 1)
    previous = next((c for c in conditions if c.get("type") == type_), None)
    changed = previous is None or previous.get("status") != status
    condition = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now()
        if changed or previous is None
        else previous.get("lastTransitionTime", now()),
        "observedGeneration": generation,
    }
    if previous is not None:
        conditions.remove(previous)
    conditions.append(condition)


def latest_condition(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    conditions = (resource.get("status") or {}).get("conditions") or []
    return conditions[-1] if conditions else None


def phase_of(resource: Mapping[str, Any]) -> str:
    return str((resource.get("status") or {}).get("phase", PENDING))


def runtime_image_tags(resource: Mapping[str, Any]) -> list[str]:
    """The tags a build gives the runtime image it configures, whatever engine ran it:
    ``imported`` for an ImageImport, ``built`` for a PackageList or GitRepository."""
    return ["imported" if resource["spec"].get("buildType") == IMAGE_IMPORT else "built"]


def display_fields(resource: Mapping[str, Any]) -> tuple[str, str, str]:
    """The display name, description and creator the annotations give."""
    annotations = resource["metadata"]["annotations"]
    return (
        annotations[ANNOTATION_NAME],
        annotations[ANNOTATION_DESC],
        annotations[ANNOTATION_CREATOR],
    )
