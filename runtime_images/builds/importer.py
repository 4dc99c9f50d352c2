"""The embedded engine's ImageImport: pin, inspect and validate, then configure the image.

Steps, each a condition: ``Importing`` (resolve the tag to the digest the registry serves),
``Validating`` (stream the layers, check the requirement profiles), then ``Ready`` (create
or update the runtime image named like the resource, pinned to the digest with the tag
kept). Nothing touches the runtime image unless every step succeeded. A build resumed after
a restart reuses the digest it had already pinned, so it validates what it resolved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..reference import parse
from . import model
from .controller import BuildContext, BuildFailure, configure_runtime_image

if TYPE_CHECKING:
    from ..inspect import ImageInspector, Validation
    from ..reference import Reference
    from ..registry import RegistryClient
    from ..store import RuntimeImageStore
    from .builder import ImageBuilder

STEPS = 3


def failure_of(error: Exception, image: str) -> BuildFailure:
    """Turn a registry error into a failure reason and a message a person can act on."""
    from .. import registry

    host = parse(image).registry_host if _parses(image) else image
    if isinstance(error, registry.InvalidCredentials):
        return BuildFailure(
            model.AUTH_REQUIRED,
            (
                f"The registry {host} refused the credentials in your auth file: update them "
                f"(e.g. `podman login {host}`) and retry. ({error})"
            ),
        )
    if isinstance(error, registry.AuthRequired):
        return BuildFailure(
            model.AUTH_REQUIRED,
            (
                f"The registry {host} asks for credentials: add them to your auth file "
                f"(REGISTRY_AUTH_FILE or ~/.docker/config.json, e.g. with `podman login {host}`) "
                f"and retry. ({error})"
            ),
        )
    if isinstance(error, registry.AccessDenied):
        return BuildFailure(
            model.AUTH_REQUIRED,
            (
                f"The registry {host} denied access to {image} with your credentials: ask for "
                f"pull access or use other credentials. ({error})"
            ),
        )
    if isinstance(error, registry.ImageNotFound):
        return BuildFailure(
            model.IMAGE_NOT_FOUND,
            (f"{image} was not found: check the repository name and tag. ({error})"),
        )
    if isinstance(error, registry.DigestMismatch):
        return BuildFailure(
            model.DIGEST_MISMATCH,
            (
                f"What the registry sent for {image} does not match its digest: the download "
                f"was corrupted or the registry is misbehaving; retry later. ({error})"
            ),
        )
    if isinstance(error, (registry.RegistryUnavailable, registry.RateLimited)):
        return BuildFailure(
            model.REGISTRY_UNAVAILABLE,
            (
                f"The registry {host} could not be reached after several attempts: check the "
                f"address and your network, then retry. ({error})"
            ),
        )
    return BuildFailure(model.BUILD_FAILED, f"The image {image} could not be read: {error}")


def _parses(image: str) -> bool:
    try:
        parse(image)
    except ValueError:
        return False
    return True


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


class ImageImportEngine:
    """Imports an existing image (ImageImport) inside the server, with no container runtime."""

    name = "embedded"

    def __init__(
        self,
        store: RuntimeImageStore,
        client: RegistryClient,
        inspector: ImageInspector,
        default_profiles: list[str] | None = None,
        builder: ImageBuilder | None = None,
    ) -> None:
        self.builder = builder
        self.store = store
        self.client = client
        self.inspector = inspector
        self.default_profiles = default_profiles

    async def run(self, build: BuildContext) -> None:
        from .. import registry

        source = build.spec["fromImage"]
        pinned = await self._pin(build, source, registry)
        validation = await self._validate(build, pinned, registry)
        result = await self._copy(build, pinned)
        await self._configure(build, result, validation)

    async def _copy(self, build: BuildContext, pinned: Reference) -> Reference:
        """With ImageBuilder.copy_imports, copy the image to the target registry."""
        builder = self.builder
        if builder is None or not builder.copy_imports or not builder.target_registry:
            return pinned
        from .builder import copy_image

        prefix = builder.target_registry.rstrip("/")
        target = parse(f"{prefix}/{build.name}:{pinned.tag or 'latest'}").with_digest(
            str(pinned.digest)
        )
        location = self.client._locate(pinned)
        source = f"docker://{location.host}/{location.repository}@{pinned.digest}"
        await copy_image(build, builder.skopeo, self.client, source, target, pinned)
        await build.update(image=str(target), sourceImage=str(pinned))
        return target

    async def _pin(self, build: BuildContext, source: str, registry: Any) -> Reference:
        already = build.status.get("image")
        if already:  # resumed: validate exactly what was resolved before the restart
            return parse(already)
        await build.step(model.IMPORTING, f"Resolving {source} in its registry.")
        build.progress(0, 0, 0, STEPS)
        try:
            pinned = await self.client.pin(source)
        except registry.RegistryError as error:
            raise self._failure(error, source, model.IMPORTING) from None
        await build.update(image=str(pinned))
        await build.condition(
            model.IMPORTING, "True", "Resolved", f"{source} resolved to {pinned.digest}."
        )
        return pinned

    async def _validate(self, build: BuildContext, pinned: Reference, registry: Any) -> Validation:
        from ..inspect import InvalidLayer, UnsupportedLayer

        profiles = build.spec.get("profiles") or self.default_profiles or None
        await build.step(model.VALIDATING, f"Reading the layers of {pinned.familiar()}.")

        def progress(done: int, total: int) -> None:
            build.progress(done, total, 1, STEPS)

        try:
            validation = await self.inspector.validate(
                self.client, pinned, profiles, progress=progress
            )
        except registry.RegistryError as error:
            raise self._failure(error, str(pinned), model.VALIDATING) from None
        except (InvalidLayer, UnsupportedLayer) as error:
            raise BuildFailure(
                model.BUILD_FAILED, f"A layer cannot be read: {error}", model.VALIDATING
            ) from None
        await record_validation(build, validation)
        return validation

    async def _configure(
        self, build: BuildContext, pinned: Reference, validation: Validation
    ) -> None:
        name = build.name
        action = await configure_runtime_image(self.store, build, pinned.familiar())
        build.status["phase"] = model.READY
        build.progress(
            validation.report.compressed_size, validation.report.compressed_size, STEPS, STEPS
        )
        await build.condition(
            model.READY_CONDITION,
            "True",
            "Ready",
            (
                f"Imported and validated; runtime image '{name}' {action}, pinned to "
                f"{pinned.familiar()}."
            ),
        )

    @staticmethod
    def _failure(error: Exception, image: str, step: str) -> BuildFailure:
        failure = failure_of(error, image)
        failure.condition = step
        return failure
