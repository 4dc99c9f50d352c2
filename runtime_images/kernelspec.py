"""Kernelspecs that launch kernels in a runtime image, in Gateway Provisioners' format.

The ``kernel.json`` written here has the keys and values that Gateway Provisioners 0.5.0's
``jupyter k8s-spec install`` / ``jupyter docker-spec install`` write for the same image and
options, because it is made the same way (``cli/base_app.py::_finalize_kernel_json``):

1. start from the package's template ``kernel-specs/container_<language>/kernel.json``;
2. cut every line at ``#`` and apply ``string.Template.safe_substitute``;
3. merge the result over jupyter_client's ``KernelSpec().to_dict()`` (which adds
   ``interrupt_mode`` and, with jupyter_client >= 8.8, ``kernel_protocol_version``);
4. add ``authorized_users``, ``unauthorized_users`` and ``port_range`` to the provisioner's
   ``config`` only when they differ from the defaults, and ``launch_timeout`` always.

The launcher (``scripts/launch_kubernetes.py`` and ``kernel-pod.yaml.j2``, or
``scripts/launch_docker.py``) and the logo are copied from the installed
``gateway_provisioners`` package: the kernelspec's ``argv`` runs them on this host, so the
package must be installed here anyway. Without it, :class:`GatewayProvisionersMissing`
says what to install.

The image is the runtime image's ``image_name`` as stored: ``repo:tag@sha256:…`` once it
has been pinned. Nothing here imports tornado.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from traitlets import Bool
from traitlets.config import LoggingConfigurable

from .errors import AlreadyExistsError, UpstreamError, ValidationFailedError
from .fields import FieldError
from .fileio import atomic_write_bytes, file_lock
from .store import RuntimeImageStore

PROVISIONERS: dict[str, dict[str, str]] = {
    "kubernetes": {
        "provisioner_name": "kubernetes-provisioner",
        "launcher_dir": "kubernetes",
        "launcher_name": "launch_kubernetes.py",
        "kernel_prefix": "k8s",
        "display_suffix": "on Kubernetes",
    },
    "docker": {
        "provisioner_name": "docker-provisioner",
        "launcher_dir": "docker",
        "launcher_name": "launch_docker.py",
        "kernel_prefix": "docker",
        "display_suffix": "on Docker",
    },
}
LANGUAGES = ("python", "r", "scala")
LANGUAGE_SUBSTITUTIONS = {"python": "python", "r": "R", "scala": "scala"}
DEFAULT_KERNEL_CLASS_NAME = "ipykernel.ipkernel.IPythonKernel"
DEFAULT_LAUNCH_TIMEOUT = 30
DEFAULT_PORT_RANGE = "0..0"
DEFAULT_UNAUTHORIZED_USERS = ("root",)

KERNEL_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
KERNEL_NAME_MAX_LENGTH = 200
PORT_RANGE_PATTERN = re.compile(r"^(\d{1,5})\.\.(\d{1,5})$")
USER_NAME_PATTERN = re.compile(r"^[^\s,]+$")
INSTALL_HINT = "pip install gateway-provisioners"
MAX_KERNEL_JSON_BYTES = 1024 * 1024
MAX_RECORDS = 10_000


class GatewayProvisionersMissing(UpstreamError):
    """The ``gateway_provisioners`` package (launchers and templates) is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "Kernelspecs for runtime images use the launchers of Gateway Provisioners, which "
            f"is not installed in this Python environment ({sys.prefix}). Install it with "
            f"`{INSTALL_HINT}` (with the [k8s] or [docker] extra to launch kernels) and "
            "restart the Jupyter server.",
            code="GatewayProvisionersMissing",
        )


class KernelspecExistsError(AlreadyExistsError):
    """A kernelspec with that name exists at the destination and ``replace`` is false."""


@dataclass(frozen=True)
class KernelspecOptions:
    """What to install; :func:`parse_options` builds it from a REST body or CLI options."""

    provisioner: str
    kernel_name: str | None = None
    display_name: str | None = None
    language: str = "python"
    user: bool = False
    prefix: str | None = None
    sys_prefix: bool = False
    replace: bool = False
    launch_timeout: int = DEFAULT_LAUNCH_TIMEOUT
    port_range: str = DEFAULT_PORT_RANGE
    authorized_users: tuple[str, ...] = ()
    unauthorized_users: tuple[str, ...] = DEFAULT_UNAUTHORIZED_USERS

    def kernels_dir(self) -> Path:
        """The ``kernels`` directory: the user's (the default), PREFIX's or sys.prefix's."""
        from jupyter_core.paths import jupyter_data_dir

        if self.prefix:
            return Path(os.path.abspath(self.prefix)) / "share" / "jupyter" / "kernels"
        if self.sys_prefix:
            return Path(sys.prefix) / "share" / "jupyter" / "kernels"
        return Path(jupyter_data_dir()) / "kernels"


@dataclass(frozen=True)
class InstalledKernelspec:
    kernel_name: str
    resource_dir: Path
    kernel_json: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.resource_dir / "kernel.json"

    def to_json(self) -> dict[str, Any]:
        return {
            "kernel_name": self.kernel_name,
            "resource_dir": str(self.resource_dir),
            "path": str(self.path),
            "kernel_json": self.kernel_json,
        }


class KernelspecInstaller(LoggingConfigurable):
    """Server-side policy of ``POST images/{name}/kernelspec`` (``c.KernelspecInstaller``)."""

    allow_rest_install_locations = Bool(
        False,
        config=True,
        help="""Let REST requests install with ``prefix`` or ``sys_prefix`` (the CLI always
        may). Off by default: a kernelspec's launcher runs on this host, so a web request
        installs only in the user's Jupyter data directory unless this is set.""",
    )

    def location_errors(self, options: KernelspecOptions) -> list[FieldError]:
        if self.allow_rest_install_locations:
            return []
        hint = "only allowed over REST when c.KernelspecInstaller.allow_rest_install_locations"
        return [
            FieldError(key, f"is {hint} is true")
            for key in ("prefix", "sys_prefix")
            if getattr(options, key)
        ]


OPTION_KEYS = {
    "provisioner",
    "kernel_name",
    "display_name",
    "language",
    "user",
    "prefix",
    "sys_prefix",
    "replace",
    "launch_timeout",
    "port_range",
    "authorized_users",
    "unauthorized_users",
}


def _users(value: object, key: str, errors: list[FieldError]) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(FieldError(key, "must be a list of user names"))
        return None
    bad = [v for v in value if not USER_NAME_PATTERN.fullmatch(v)]
    if bad:
        errors.append(FieldError(key, f"user names must not be empty or hold spaces: {bad!r}"))
        return None
    return tuple(sorted(set(value)))


def parse_options(body: object) -> KernelspecOptions:
    """Check a JSON body (or the CLI's options as a dict); every problem names its field."""
    if not isinstance(body, Mapping):
        raise ValidationFailedError([FieldError("", "the body must be a JSON object")])
    errors: list[FieldError] = [
        FieldError(str(key), "is not a kernelspec option") for key in body if key not in OPTION_KEYS
    ]
    values: dict[str, Any] = {}

    provisioner = body.get("provisioner")
    if not isinstance(provisioner, str) or provisioner not in PROVISIONERS:
        errors.append(FieldError("provisioner", "must be one of: kubernetes, docker"))
    values["provisioner"] = provisioner

    for key in ("kernel_name", "display_name", "prefix"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            errors.append(FieldError(key, "must be a non-empty string"))
            continue
        values[key] = value
    if "kernel_name" in values:
        name = values["kernel_name"].replace(" ", "_").lower()
        if len(name) > KERNEL_NAME_MAX_LENGTH or not KERNEL_NAME_PATTERN.fullmatch(name):
            errors.append(
                FieldError(
                    "kernel_name",
                    "must start with a letter or digit and hold only ASCII letters, digits, "
                    f"'.', '-' and '_' (at most {KERNEL_NAME_MAX_LENGTH} characters)",
                )
            )
        values["kernel_name"] = name
    if "prefix" in values and not os.path.isabs(values["prefix"]):
        errors.append(FieldError("prefix", "must be an absolute path"))

    language = body.get("language", "python")
    if not isinstance(language, str) or language.lower() not in LANGUAGES:
        errors.append(FieldError("language", "must be one of: python, r, scala"))
    else:
        values["language"] = language.lower()

    for key in ("user", "sys_prefix", "replace"):
        value = body.get(key, False)
        if not isinstance(value, bool):
            errors.append(FieldError(key, "must be true or false"))
        else:
            values[key] = value
    chosen = [k for k in ("user", "prefix", "sys_prefix") if values.get(k)]
    if len(chosen) > 1:
        errors.append(
            FieldError(chosen[1], "choose one of user, prefix and sys_prefix (default: user)")
        )

    timeout = body.get("launch_timeout", DEFAULT_LAUNCH_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 86400:
        errors.append(FieldError("launch_timeout", "must be a whole number of seconds, 1-86400"))
    else:
        values["launch_timeout"] = timeout

    port_range = body.get("port_range", DEFAULT_PORT_RANGE)
    match = PORT_RANGE_PATTERN.fullmatch(port_range) if isinstance(port_range, str) else None
    if match is None:
        errors.append(FieldError("port_range", "must be LOWER..UPPER, e.g. 40000..41000"))
    else:
        lower, upper = int(match[1]), int(match[2])
        if (lower, upper) != (0, 0) and not (1024 <= lower < upper <= 65535):
            errors.append(
                FieldError(
                    "port_range", "must be 0..0 (any port) or 1024 <= LOWER < UPPER <= 65535"
                )
            )
        values["port_range"] = port_range

    for key in ("authorized_users", "unauthorized_users"):
        value = body.get(key)
        if value is None:
            continue
        users = _users(value, key, errors)
        if users is not None:
            values[key] = users

    if errors:
        summary = "; ".join(str(e) for e in errors)
        raise ValidationFailedError(errors, f"Invalid kernelspec options: {summary}")
    return KernelspecOptions(**values)


def gateway_provisioners_dir() -> Path:
    """The installed ``gateway_provisioners`` package directory (its data files).

    Found without importing it (its import pulls in every provisioner's dependencies).
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("gateway_provisioners")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise GatewayProvisionersMissing()
    return Path(locations[0])


def build_kernel_json(
    template_text: str,
    options: KernelspecOptions,
    *,
    kernel_name: str,
    display_name: str,
    image_name: str,
    install_dir: str,
) -> dict[str, Any]:
    """The kernel.json Gateway Provisioners 0.5.0 writes from ``template_text``."""
    from jupyter_client.kernelspec import KernelSpec

    provisioner = PROVISIONERS[options.provisioner]
    substitutions = {
        "display_name": display_name,
        "install_dir": install_dir,
        "language": LANGUAGE_SUBSTITUTIONS[options.language],
        "ipykernel_subclass_name": DEFAULT_KERNEL_CLASS_NAME,
        "image_name": image_name,
        "provisioner_name": provisioner["provisioner_name"],
        "launcher_name": provisioner["launcher_name"],
    }
    # The template is JSON with '#' comments; the values are substituted into JSON strings,
    # so quote them as JSON (a display name may hold a double quote).
    quoted = {key: json.dumps(value)[1:-1] for key, value in substitutions.items()}
    text = "".join(line.split("#", 1)[0] for line in template_text.splitlines(keepends=True))
    kernel_json: dict[str, Any] = KernelSpec().to_dict()
    kernel_json.update(json.loads(Template(text).safe_substitute(quoted)))
    provisioner_stanza = kernel_json["metadata"]["kernel_provisioner"]
    config: dict[str, Any] = provisioner_stanza.get("config") or {}
    provisioner_stanza["config"] = config
    if options.authorized_users:
        config["authorized_users"] = list(options.authorized_users)
    if options.unauthorized_users and options.unauthorized_users != DEFAULT_UNAUTHORIZED_USERS:
        config["unauthorized_users"] = list(options.unauthorized_users)
    if options.port_range != DEFAULT_PORT_RANGE:
        config["port_range"] = options.port_range
    config["launch_timeout"] = options.launch_timeout
    return kernel_json


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(
        source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )


def install_kernelspec(
    store: RuntimeImageStore, name: str, options: KernelspecOptions
) -> InstalledKernelspec:
    """Write the kernelspec for runtime image ``name``; return where and what was written."""
    entry = store.get(name)
    metadata = (entry.document or {}).get("metadata") or {}
    image_name = str(metadata["image_name"])
    provisioner = PROVISIONERS[options.provisioner]
    kernel_name = options.kernel_name or _default_kernel_name(provisioner["kernel_prefix"], name)
    display_name = options.display_name or f"{entry.display_name} {provisioner['display_suffix']}"

    package = gateway_provisioners_dir()
    template = package / "kernel-specs" / f"container_{options.language}" / "kernel.json"
    launchers = package / "kernel-launchers" / provisioner["launcher_dir"]
    resources = package / "kernel-resources" / options.language
    if not (template.is_file() and launchers.is_dir()):
        raise GatewayProvisionersMissing()

    kernels_dir = options.kernels_dir()
    destination = kernels_dir / kernel_name
    if os.path.lexists(destination) and not options.replace:
        raise KernelspecExistsError(
            f'A kernelspec exists at {destination}; pass --replace (REST: "replace": true) '
            "to replace it."
        )
    kernel_json = build_kernel_json(
        template.read_text("utf-8"),
        options,
        kernel_name=kernel_name,
        display_name=display_name,
        image_name=image_name,
        install_dir=str(destination),
    )
    kernels_dir.mkdir(parents=True, exist_ok=True)
    # Assemble next to (not inside) the kernels directory, so no half-written kernelspec is
    # ever listed, then move it into place with a rename.
    staging = Path(tempfile.mkdtemp(prefix=".kernelspec-staging-", dir=kernels_dir.parent))
    try:
        _copy_tree(launchers, staging)
        if resources.is_dir():
            _copy_tree(resources, staging)
        data = json.dumps(kernel_json, indent=2) + "\n"
        (staging / "kernel.json").write_text(data, "utf-8")
        os.chmod(staging, 0o755)
        _move_into_place(staging, destination, options.replace)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    installed = InstalledKernelspec(kernel_name, destination, kernel_json)
    record_created(store, name, installed)
    return installed


# -- which kernelspecs this product created, for moving them with their runtime image -------


def _records_path(store: RuntimeImageStore) -> Path:
    return Path(store.data_dir) / "runtime-images" / "kernelspecs.json"


def _read_records(path: Path) -> list[dict[str, str]]:
    """The records on disk; a missing, oversized or edited-into-nonsense file is none."""
    try:
        if path.stat().st_size > MAX_KERNEL_JSON_BYTES * 4:
            return []
        value = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return []
    items = value.get("kernelspecs") if isinstance(value, dict) else None
    if not isinstance(items, list):
        return []
    keys = ("kernel_name", "resource_dir", "runtime_image")
    return [
        {key: item[key] for key in keys}
        for item in items[:MAX_RECORDS]
        if isinstance(item, dict) and all(isinstance(item.get(key), str) for key in keys)
    ]


def _write_records(path: Path, records: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"kernelspecs": records[-MAX_RECORDS:]}, indent=1) + "\n"
    atomic_write_bytes(path, data.encode("utf-8"))


def record_created(store: RuntimeImageStore, name: str, installed: InstalledKernelspec) -> None:
    """Remember that the kernelspec at ``installed.resource_dir`` was made from ``name``."""
    path = _records_path(store)
    with file_lock(path.with_name(".kernelspecs.lock")):
        records = [
            r for r in _read_records(path) if r["resource_dir"] != str(installed.resource_dir)
        ]
        records.append(
            {
                "kernel_name": installed.kernel_name,
                "resource_dir": str(installed.resource_dir),
                "runtime_image": name,
            }
        )
        _write_records(path, records)


def created_from(store: RuntimeImageStore, name: str) -> list[dict[str, str]]:
    """The kernelspecs this product created from runtime image ``name`` that still exist."""
    return [
        r
        for r in _read_records(_records_path(store))
        if r["runtime_image"] == name and os.path.isfile(Path(r["resource_dir"]) / "kernel.json")
    ]


def repoint_kernelspecs(
    store: RuntimeImageStore, name: str, old_image: str, new_image: str, dry_run: bool = False
) -> list[str]:
    """Make the kernelspecs created from ``name`` that launch ``old_image`` launch
    ``new_image``; the names of those changed (or, with ``dry_run``, that would be).

    A kernelspec someone pointed at another image since is left alone.
    """
    changed: list[str] = []
    for record in created_from(store, name):
        path = Path(record["resource_dir"]) / "kernel.json"
        try:
            if path.stat().st_size > MAX_KERNEL_JSON_BYTES:
                continue
            kernel_json = json.loads(path.read_bytes())
            config = kernel_json["metadata"]["kernel_provisioner"]["config"]
        except (OSError, ValueError, RecursionError, KeyError, TypeError):
            continue
        if not isinstance(config, dict) or config.get("image_name") != old_image:
            continue
        if not dry_run:
            config["image_name"] = new_image
            data = json.dumps(kernel_json, indent=2) + "\n"
            atomic_write_bytes(path, data.encode("utf-8"), mode=0o644)
        changed.append(record["kernel_name"])
    return changed


def _default_kernel_name(prefix: str, name: str) -> str:
    """``k8s_<name>`` / ``docker_<name>``, as Gateway Provisioners names its defaults."""
    candidate = f"{prefix}_{name}".lower()
    candidate = re.sub(r"[^a-z0-9._-]+", "_", candidate)
    return candidate[:KERNEL_NAME_MAX_LENGTH]


def _move_into_place(staging: Path, destination: Path, replace: bool) -> None:
    old: Path | None = None
    if replace and os.path.lexists(destination):
        old = destination.with_name(f".{destination.name}.replaced-{os.getpid()}-{id(staging)}")
        os.replace(destination, old)
    try:
        os.rename(staging, destination)
    except OSError as error:
        if old is not None:
            os.replace(old, destination)
        if os.path.lexists(destination):
            raise KernelspecExistsError(
                f"A kernelspec appeared at {destination} while this one was written."
            ) from error
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
