"""Requirement profiles: static checks of an image against what a platform needs of it.

Sources: Elyra's runtime-image docs and pipeline templates, Kubeflow Notebooks' image
requirements and base Dockerfile, ODH BYON's ``validate`` task, Gateway Provisioners'
kernel image (see docs/registry.md). Each check returns pass, warn or fail with a message
that says what was found and why it matters.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..documents import parse_count
from ..errors import ValidationFailedError
from ..fields import FieldError
from ..reference import local_warning
from .report import ImageView, User

__all__ = [
    "DOCUMENT_PROFILES",
    "PROFILES",
    "Check",
    "CheckResult",
    "UnknownProfile",
    "check_profile_names",
    "known_profiles",
    "run_profiles",
]

Result = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class CheckResult:
    profile: str
    id: str
    result: Result
    message: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    id: str
    run: Callable[[ImageView], tuple[Result, str]]


class UnknownProfile(ValidationFailedError):
    """A requirement profile that does not exist (the field ``profiles``)."""

    def __init__(self, message: str) -> None:
        super().__init__([FieldError("profiles", message)], message)


def _path_text(view: ImageView) -> str:
    return ":".join(view.report.config.path) or "(empty)"


def _on_path(command: str, why: str) -> Callable[[ImageView], tuple[Result, str]]:
    def check(view: ImageView) -> tuple[Result, str]:
        found = view.which(command)
        if found:
            return "pass", f"{command} is {found}"
        return "fail", f"{command} is not on PATH ({_path_text(view)}); {why}"

    return check


def _python3(view: ImageView) -> tuple[Result, str]:
    found = view.which("python3")
    if not found:
        return "fail", (
            f"python3 is not on PATH ({_path_text(view)}); Elyra runs every pipeline step "
            "with python3"
        )
    py = next((p for p in view.report.pythons if p.path == found), None)
    version = f" (Python {py.version})" if py and py.version else ""
    return "pass", f"python3 is {found}{version}"


def _python_version(
    minimum: tuple[int, int], maximum: tuple[int, int] | None, why: str, level: Result
) -> Callable[[ImageView], tuple[Result, str]]:
    def check(view: ImageView) -> tuple[Result, str]:
        py = view.report.python
        if py is None:
            return "fail", f"no Python interpreter on PATH ({_path_text(view)}); {why}"
        found = py.version_tuple
        if not found:
            return "warn", f"could not tell the version of {py.path} from the image; {why}"
        if found[:2] < minimum:
            return level, (
                f"{py.path} is Python {py.version}, older than {minimum[0]}.{minimum[1]}; {why}"
            )
        if maximum and found[:2] > maximum:
            return "warn", (
                f"{py.path} is Python {py.version}, newer than {maximum[0]}.{maximum[1]}; {why}"
            )
        return "pass", f"{py.path} is Python {py.version}"

    return check


def _pip(view: ImageView) -> tuple[Result, str]:
    if view.report.pip:
        return "pass", "pip is installed"
    return "warn", (
        "pip is not installed; Elyra runs 'python3 -m pip install' for its requirements "
        "before each step"
    )


def _distribution(
    names: Iterable[str], why: str, level: Result = "fail"
) -> Callable[[ImageView], tuple[Result, str]]:
    options = list(names)

    def check(view: ImageView) -> tuple[Result, str]:
        for name in options:
            dist = view.report.distribution(name)
            if dist:
                return "pass", f"{dist.name} {dist.version} is installed ({dist.location})"
        return level, f"{' or '.join(options)} is not installed; {why}"

    return check


def _effective_user(view: ImageView) -> tuple[int | None, str, User | None]:
    """(uid, as written, passwd entry) of the config's User; '' and 'root' are UID 0."""
    text = view.report.config.user
    name = text.split(":", 1)[0]
    if name in ("", "root", "0"):
        return 0, text or "(not set)", view.report.user("root")
    user = view.report.user(name)
    if user is not None:
        return user.uid, text, user
    return parse_count(name, 10), text, None


def _not_root(platform: str) -> Callable[[ImageView], tuple[Result, str]]:
    def check(view: ImageView) -> tuple[Result, str]:
        uid, text, _user = _effective_user(view)
        if uid == 0:
            return "fail", f"the image runs as root (User {text}); {platform}"
        if uid is None:
            return "fail", (
                f"the image's User {text!r} is not in /etc/passwd, so it cannot start; {platform}"
            )
        return "pass", f"the image runs as UID {uid} (User {text})"

    return check


def _jovyan(view: ImageView) -> tuple[Result, str]:
    user = view.report.user("jovyan")
    if user is None:
        return "fail", (
            "there is no user jovyan in /etc/passwd; Kubeflow notebook images run as jovyan "
            "with UID 1000"
        )
    if user.uid != 1000:
        return "fail", f"jovyan has UID {user.uid}, not 1000; Kubeflow expects UID 1000"
    return "pass", "jovyan has UID 1000"


def _jovyan_home(view: ImageView) -> tuple[Result, str]:
    user = view.report.user("jovyan")
    if user is None:
        return "fail", "there is no user jovyan, so no /home/jovyan home"
    if user.home != "/home/jovyan":
        return "fail", (
            f"jovyan's home is {user.home}, not /home/jovyan, where Kubeflow mounts the "
            "notebook volume"
        )
    node = view.fs.lookup("/home/jovyan")
    if node is None or not node.is_dir:
        return "warn", "jovyan's home is /home/jovyan but the directory is not in the image"
    return "pass", "jovyan's home is /home/jovyan"


def _group_100(view: ImageView) -> tuple[Result, str]:
    user = view.report.user("jovyan")
    if user is None:
        return "fail", "there is no user jovyan to be in group 100 (users)"
    if user.gid == 100 or 100 in user.groups:
        return "pass", "jovyan is in group 100 (users)"
    if user.gid == 0:
        return "pass", (
            "jovyan's primary group is 0, as in current Kubeflow images (for arbitrary UIDs)"
        )
    return "fail", (
        f"jovyan's primary group is {user.gid} and it is not in group 100 (users); Kubeflow "
        "sets fsGroup 100 so the notebook volume is writable"
    )


def _port_8888(view: ImageView) -> tuple[Result, str]:
    ports = view.report.config.exposed_ports
    if "8888/tcp" in ports or "8888" in ports:
        return "pass", "port 8888 is exposed"
    shown = ", ".join(ports) or "none"
    return "warn", (
        f"port 8888 is not exposed (exposed: {shown}); Kubeflow connects to the notebook "
        "server on 8888"
    )


def _home_set(view: ImageView) -> tuple[Result, str]:
    home = view.report.config.env.get("HOME")
    if home:
        return "pass", f"HOME is {home}"
    _uid, _text, user = _effective_user(view)
    if user is not None and user.home and view.fs.lookup(user.home) is not None:
        return "warn", (
            f"HOME is not set in the image config; the runtime will use {user.home} from "
            "/etc/passwd. ODH needs $HOME set and writable"
        )
    return "fail", "HOME is not set and the image's user has no home directory; ODH needs $HOME"


def _start_singleuser(view: ImageView) -> tuple[Result, str]:
    found = view.which("start-singleuser.sh")
    if found:
        return "pass", f"start-singleuser.sh is {found}"
    node = next(
        (
            view.fs.lookup(posixpath.join(d, "start-singleuser.sh"))
            for d in view.report.config.path
            if view.fs.lookup(posixpath.join(d, "start-singleuser.sh"))
        ),
        None,
    )
    if node is not None:
        return "fail", "start-singleuser.sh is on PATH but not executable; chmod 0755 it"
    return "fail", (
        f"start-singleuser.sh is not on PATH ({_path_text(view)}); ODH starts notebooks with it"
    )


BOOTSTRAP = "/usr/local/bin/bootstrap-kernel.sh"
LAUNCHERS = "/usr/local/bin/kernel-launchers"
_LAUNCHER_FILES = {
    "python": "python/scripts/launch_ipykernel.py",
    "r": "R/scripts/launch_IRkernel.R",
    "scala": "scala/lib",
}


def _bootstrap(view: ImageView) -> tuple[Result, str]:
    node = view.fs.lookup(BOOTSTRAP)
    if node is None:
        return "fail", (
            f"{BOOTSTRAP} is missing; run 'jupyter image-bootstrap install' "
            "(gateway_provisioners) in the image"
        )
    if not node.is_executable:
        return "fail", (
            f"{BOOTSTRAP} is not executable (mode {node.mode & 0o7777:04o}); the installer "
            "writes it 0644, add 'chmod 0755' in the Dockerfile"
        )
    return "pass", f"{BOOTSTRAP} is executable"


def _launchers(view: ImageView) -> tuple[Result, str]:
    language = (view.report.config.env.get("KERNEL_LANGUAGE") or "python").lower()
    relative = _LAUNCHER_FILES.get(language, language)
    path = f"{LAUNCHERS}/{relative}"
    if view.fs.lookup(path) is not None:
        return "pass", f"the {language} kernel launcher is at {path}"
    return "fail", (
        f"{path} is missing: no kernel launcher for {language} (KERNEL_LANGUAGE); run "
        f"'jupyter image-bootstrap install --languages {language.capitalize()}'"
    )


PROFILES: dict[str, list[Check]] = {
    "elyra": [
        Check("python3", _python3),
        Check(
            "python-version",
            _python_version(
                (3, 10), (3, 13), "Elyra's bootstrapper supports Python 3.10 to 3.13", "warn"
            ),
        ),
        Check("pip", _pip),
        Check("curl", _on_path("curl", "Elyra downloads its bootstrapper with curl")),
        Check("sh", _on_path("sh", "Elyra runs each pipeline step with sh -c")),
        Check("tar", _on_path("tar", "Elyra unpacks the step's inputs with tar")),
    ],
    "kubeflow": [
        Check("user-jovyan", _jovyan),
        Check("home", _jovyan_home),
        Check("group-100", _group_100),
        Check("port-8888", _port_8888),
        Check("not-root", _not_root("Kubeflow runs notebooks as jovyan (UID 1000)")),
    ],
    "odh-notebook": [
        Check(
            "python-version",
            _python_version((3, 8), None, "ODH needs Python 3.8 or newer", "fail"),
        ),
        Check(
            "jupyterlab",
            _distribution(["jupyterlab"], "ODH notebook images serve JupyterLab"),
        ),
        Check(
            "jupyterhub",
            _distribution(
                ["jupyterhub", "jupyter_server"],
                "ODH starts the server with 'jupyter labhub' (jupyterhub)",
            ),
        ),
        Check("start-singleuser", _start_singleuser),
        Check("home", _home_set),
    ],
    "gateway-kernel": [
        Check("bootstrap-kernel", _bootstrap),
        Check("kernel-launchers", _launchers),
        Check("bash", _on_path("bash", "bootstrap-kernel.sh is a bash script")),
        Check(
            "ipykernel",
            _distribution(["ipykernel"], "the Python kernel launcher starts an IPython kernel"),
        ),
        Check(
            "jupyter-client",
            _distribution(["jupyter_client"], "the kernel launcher imports jupyter_client"),
        ),
        Check(
            "pycryptodomex",
            _distribution(
                ["pycryptodomex"], "the launcher encrypts the connection info with it", "warn"
            ),
        ),
        Check(
            "not-root",
            _not_root("kernel pods set no command or user, so the image's User applies"),
        ),
    ],
}


DOCUMENT_PROFILES: dict[str, str] = {
    "vulnerabilities": "known vulnerabilities of the image's packages (runtime_images.vulns)",
}
"""Profiles whose checks a layer above inspection computes from the image's package
inventory and its own state (a vulnerability database that changes without the image
changing): known here by name, so that every list of profiles accepts them; their checks
are not in :data:`PROFILES` and :func:`run_profiles` has none for them."""


def known_profiles() -> list[str]:
    return [*PROFILES, *DOCUMENT_PROFILES]


def check_profile_names(profiles: Iterable[str]) -> list[str]:
    """The names as a list; raise :class:`UnknownProfile` naming any unknown one."""
    names = list(profiles)
    known = known_profiles()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UnknownProfile(
            f"unknown profile {', '.join(unknown)}; known profiles: {', '.join(known)}"
        )
    return names


def run_profiles(view: ImageView, profiles: Iterable[str]) -> list[CheckResult]:
    """Run the named profiles in order; unknown names raise :class:`UnknownProfile`.

    An image only this machine has (``localhost/…``) gets a warning first, whatever the
    profiles: every platform they describe pulls images from a registry.
    """
    names = check_profile_names(profiles)
    local = local_warning(view.report.reference) if view.report.reference else None
    results = [CheckResult("image", "published", "warn", local)] if local else []
    for name in names:
        for check in PROFILES.get(name, []):
            result, message = check.run(view)
            results.append(CheckResult(name, check.id, result, message))
    return results
