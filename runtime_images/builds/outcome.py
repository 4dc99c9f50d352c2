"""How any engine ends a build: its image checked, the checks recorded, failures explained,
the image copied where it should live, and the runtime image configured.

Every engine (embedded import, layer append, buildah, kubernetes) ends a build through
these, so a Ready build means the same thing — and configures the same runtime image —
wherever it ran.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from .. import registry
from ..errors import AlreadyExistsError, NotFoundError
from ..inspect import DOCUMENT_PROFILES, CheckResult, InvalidLayer, Validation, run_profiles
from ..reference import InvalidReferenceError, Reference, parse
from . import model
from .engine import BuildContext, BuildFailure

if TYPE_CHECKING:
    from ..contents import ContentsReader
    from ..inspect import ImageInspector, ImageView
    from ..store import RuntimeImageStore

_T = TypeVar("_T")

__all__ = [
    "Outcomes",
    "checks_message",
    "configure_runtime_image",
    "failure_of",
    "push_image",
    "record_validation",
]


def failure_of(error: Exception, image: str, step: str | None = None) -> BuildFailure:
    """Turn a registry error into a failure reason and a message a person can act on
    (the condition ``step`` it happened in, when given)."""
    failure = _failure_of(error, image)
    if step is not None:
        failure.condition = step
    return failure


# The first class the error is an instance of gives the reason, and what to do (with
# {host} and {image}); the error's own message follows.
_FAILURES: tuple[tuple[type[Exception] | tuple[type[Exception], ...], str, str], ...] = (
    (
        registry.InvalidCredentials,
        model.AUTH_REQUIRED,
        (
            "The registry {host} refused the credentials in your auth file: update them "
            "(e.g. `podman login {host}`) and retry."
        ),
    ),
    (
        registry.AuthRequired,
        model.AUTH_REQUIRED,
        (
            "The registry {host} asks for credentials: add them to your auth file "
            "(REGISTRY_AUTH_FILE or ~/.docker/config.json, e.g. with `podman login {host}`) "
            "and retry."
        ),
    ),
    (
        registry.AccessDenied,
        model.AUTH_REQUIRED,
        (
            "The registry {host} denied access to {image} with your credentials: ask for "
            "pull access or use other credentials."
        ),
    ),
    (
        registry.ImageNotFound,
        model.IMAGE_NOT_FOUND,
        "{image} was not found: check the repository name and tag.",
    ),
    (
        registry.DigestMismatch,
        model.DIGEST_MISMATCH,
        (
            "What the registry sent for {image} does not match its digest: the download was "
            "corrupted or the registry is misbehaving; retry later."
        ),
    ),
    (
        (registry.RegistryUnavailable, registry.RateLimited),
        model.REGISTRY_UNAVAILABLE,
        (
            "The registry {host} could not be reached after several attempts: check the "
            "address and your network, then retry."
        ),
    ),
)


def _failure_of(error: Exception, image: str) -> BuildFailure:
    for kind, reason, advice in _FAILURES:
        if isinstance(error, kind):
            what = advice.format(host=_registry_host(image), image=image)
            return BuildFailure(reason, f"{what} ({error})")
    if isinstance(error, InvalidLayer):
        return BuildFailure(model.BUILD_FAILED, f"A layer of {image} cannot be read: {error}")
    return BuildFailure(model.BUILD_FAILED, f"The image {image} could not be read: {error}")


def _reading_layers(check: Callable[[], _T]) -> _T:
    """``check()`` (blocking), a layer it cannot read failing the build at Validating."""
    try:
        return check()
    except InvalidLayer as error:
        raise BuildFailure(model.BUILD_FAILED, str(error), model.VALIDATING) from None


def _named(platform: str | None, checks: list[CheckResult]) -> list[CheckResult]:
    """The checks another platform of a multi-platform build does not pass, named by it."""
    return [
        replace(check, message=f"{platform}: {check.message}")
        for check in checks
        if check.result != "pass"
    ]


def _registry_host(image: str) -> str:
    try:
        return parse(image).registry_host
    except InvalidReferenceError:
        return image


def checks_message(validation: Validation) -> str:
    failures = validation.failures
    listed = "; ".join(f"{c.message} [{c.profile}]" for c in failures)
    return f"The image does not meet {len(failures)} requirement(s): {listed}"


async def record_validation(build: BuildContext, validation: Validation) -> None:
    """Put a validation's checks and software in the status; fail unless every check passed."""
    report = validation.report.to_json()
    await build.update(
        checks=[check.to_json() for check in validation.checks],
        software=report.get("software", []),
        pythonDependencies=[
            {"name": d["name"], "version": d["version"]} for d in report.get("distributions", [])
        ],
        accelerators=report.get("accelerators", []),
        suggestedTags=validation.report.suggested_tags,
    )
    if not validation.ok:
        raise BuildFailure(model.REQUIREMENTS_NOT_MET, checks_message(validation), model.VALIDATING)
    warnings = sum(1 for c in validation.checks if c.result == "warn")
    await build.condition(
        model.VALIDATING,
        "True",
        "RequirementsMet",
        (
            f"All checks of {', '.join(validation.profiles)} passed"
            + (f" ({warnings} warning(s))." if warnings else ".")
        ),
    )


DocumentChecks = Callable[[Reference, list[str], str | None], Awaitable[list[CheckResult]]]
"""The checks of the profiles computed above inspection (``vulnerabilities``) for an image,
the profiles a build names and a platform of the image (None: the registry client's)."""


class Outcomes:
    """The checks and the end of a build, with what they need (store, registry, inspector).

    ``default_profiles`` are the requirement profiles a build checks when its spec names
    none (``BuildController.default_profiles``, else ``ImageInspector.default_profiles``);
    ``document_checks`` makes the checks of :data:`~runtime_images.inspect.DOCUMENT_PROFILES`
    (the app wires the vulnerability database in).
    """

    def __init__(
        self,
        store: RuntimeImageStore,
        client: registry.RegistryClient,
        inspector: ImageInspector,
        default_profiles: list[str] | None = None,
        contents: ContentsReader | None = None,
        document_checks: DocumentChecks | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.inspector = inspector
        self.default_profiles = default_profiles
        # Images in a registry are checked through the contents cache when there is one:
        # the image is read once, and its Details (packages, SBOM) answer at once after.
        self.contents = contents
        self.document_checks = document_checks

    async def _with_document_checks(
        self,
        validation: Validation,
        image: Reference | None,
        platforms: Sequence[str | None] = (None,),
    ) -> Validation:
        """``validation`` with the document profiles' checks of ``image``: all of the first
        platform's (the one ``validation`` is of), what the others do not pass."""
        wanted = [p for p in validation.profiles if p in DOCUMENT_PROFILES]
        if not wanted or image is None or self.document_checks is None:
            return validation
        checks = list(validation.checks)
        for index, platform in enumerate(platforms):
            try:
                extra = await self.document_checks(image, validation.profiles, platform)
            except registry.RegistryError as error:
                raise failure_of(error, str(image), model.VALIDATING) from None
            checks += extra if index == 0 else _named(platform, extra)
        return Validation(validation.report, validation.profiles, checks)

    def profiles(self, build: BuildContext) -> list[str]:
        return list(
            build.spec.get("profiles")
            or self.default_profiles
            or list(self.inspector.default_profiles)
        )

    async def validate_in_registry(
        self, build: BuildContext, image: Reference, steps_done: int, steps_total: int
    ) -> Validation:
        """Stream the image's layers from its registry and check it (condition Validating)."""
        await build.step(model.VALIDATING, f"Reading the layers of {image.familiar()}.")

        def progress(done: int, total: int) -> None:
            build.progress(done, total, steps_done, steps_total)

        try:
            validator = self.contents if self.contents is not None else self.inspector
            validation = await validator.validate(
                self.client, image, self.profiles(build), progress=progress
            )
        except registry.RegistryError as error:
            raise failure_of(error, str(image), model.VALIDATING) from None
        validation = await self._with_document_checks(validation, image)
        await record_validation(build, validation)
        return validation

    async def validate_local(
        self,
        build: BuildContext,
        read: Callable[[], ImageView],
        image: Reference | None = None,
        platforms: Mapping[str, list[CheckResult]] | None = None,
    ) -> Validation:
        """Check an image built here: ``read()`` gives its view (blocking: it runs in a
        thread, as do the checks); ``image``, where it can be read from, for the checks of
        the document profiles. ``platforms``, for a multi-platform build: each platform
        (the first is ``read``'s) and what :meth:`platform_checks` found it does not pass."""
        profiles = self.profiles(build)
        await build.step(
            model.VALIDATING, f"Checking the built image against {', '.join(profiles)}."
        )

        def check() -> Validation:
            view = read()
            checks = run_profiles(view, profiles)
            for found in (platforms or {}).values():
                checks += found
            return Validation(view.report, profiles, checks)

        validation = await asyncio.to_thread(_reading_layers, check)
        validation = await self._with_document_checks(
            validation, image, list(platforms) if platforms else (None,)
        )
        await record_validation(build, validation)
        return validation

    async def platform_checks(
        self, build: BuildContext, platform: str, read: Callable[[], ImageView]
    ) -> list[CheckResult]:
        """What one more platform of a multi-platform build does not pass, named by it: run
        as soon as it is built, so that one platform's image view is held at a time."""
        build.log(f"Checking the image for {platform}.")

        def check() -> list[CheckResult]:
            return _named(platform, run_profiles(read(), self.profiles(build)))

        return await asyncio.to_thread(_reading_layers, check)

    async def ready(
        self, build: BuildContext, image: Reference, validation: Validation, done: str
    ) -> None:
        """Configure the runtime image and mark the build Ready (``done``: "Imported",
        "Built")."""
        action = await configure_runtime_image(self.store, build, image.familiar())
        build.status["phase"] = model.READY
        size = validation.report.compressed_size
        steps = int((build.status.get("progress") or {}).get("stepsTotal") or 1)
        build.progress(size, size, steps, steps)
        await build.condition(
            model.READY_CONDITION,
            "True",
            "Ready",
            (
                f"{done} and validated; runtime image '{build.name}' {action}, pinned to "
                f"{image.familiar()}."
            ),
        )


async def configure_runtime_image(
    store: RuntimeImageStore, build: BuildContext, image_name: str
) -> str:
    """Create or update the runtime image named like the build; "created" or "updated".

    Display name, description and creator come from the resource's annotations, the pull
    secret from ``spec.imagePullSecret``, the tags from :func:`model.runtime_image_tags`;
    ``status.runtimeImage`` is set (not saved). Updating keeps what a person added to the
    runtime image (their tags, pull policy, other keys).
    """
    display_name, description, creator = model.display_fields(build.resource)
    name = build.name
    metadata: dict[str, Any] = {
        "image_name": image_name,
        "description": description,
        "creator": creator,
    }
    secret = (build.spec.get("imagePullSecret") or {}).get("name")
    if secret:
        metadata["pull_secret"] = secret
    build_tags = model.runtime_image_tags(build.resource)

    def create_or_update() -> str:
        try:
            existing = store.get_entry(name)
        except NotFoundError:
            try:
                store.create(
                    {
                        "name": name,
                        "display_name": display_name,
                        "schema_name": "runtime-image",
                        "metadata": {**metadata, "tags": build_tags},
                    }
                )
                return "created"
            except AlreadyExistsError:
                existing = store.get_entry(name)
        kept = (existing.document or {}).get("metadata") if existing.valid else None
        if not isinstance(kept, dict):  # an invalid file is repaired, not merged
            kept = {}
        old_tags = [t for t in kept.get("tags") or [] if isinstance(t, str)]
        merged = {
            **kept,
            **metadata,
            "tags": [*old_tags, *(t for t in build_tags if t not in old_tags)],
        }
        store.replace(
            name,
            {"display_name": display_name, "schema_name": "runtime-image", "metadata": merged},
        )
        store.record_history(name, image_name, "rebuilt")
        return "updated"

    action = await asyncio.to_thread(create_or_update)
    build.status["runtimeImage"] = name
    return action


async def push_image(
    build: BuildContext,
    destination: Reference,
    push: Callable[[Callable[[registry.PushProgress], None]], Awaitable[Reference]],
) -> Reference:
    """Push the build's image with the registry client (condition ``Pushing``); where it is.

    ``push`` is the client call (``push_image`` of a layout, or ``copy_image`` from a
    registry) given a progress callback; the build's byte progress follows the upload.
    """
    target = destination.without_digest().familiar()
    await build.step(model.PUSHING, f"Pushing to {target}.")
    steps = build.status.get("progress") or {}
    steps_done, steps_total = int(steps.get("stepsDone", 0)), int(steps.get("stepsTotal", 0))

    def report(progress: registry.PushProgress) -> None:
        build.progress(progress.done, progress.total, steps_done, steps_total)

    try:
        pushed = await push(report)
    except registry.AccessDenied as error:
        raise BuildFailure(
            model.AUTH_REQUIRED,
            (
                f"The registry {destination.registry_host} denied pushing to {target} with "
                f"your credentials: ask for push access to the repository, or use other "
                f"credentials. ({error})"
            ),
            model.PUSHING,
        ) from None
    except (registry.RegistryError, InvalidReferenceError) as error:
        raise failure_of(error, target, model.PUSHING) from None
    await build.condition(model.PUSHING, "True", "Pushed", f"Pushed {pushed.digest} to {target}.")
    return pushed
