"""Registry credentials from docker/podman auth files, and WWW-Authenticate challenges.

Credentials are read, never written, never logged and never put in an exception message
(``Credentials.__repr__`` hides the secret).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import documents

__all__ = ["Challenge", "CredentialStore", "Credentials", "default_auth_files", "parse_challenge"]

log = logging.getLogger(__name__)

_DOCKER_HUB_KEYS = (
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "https://index.docker.io/v1/",
    "https://index.docker.io/v2/",
)


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or an identity token used as the password)."""

    username: str
    password: str = field(repr=False)
    source: str = ""

    def basic_header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def default_auth_files() -> list[str]:
    """Where podman and docker keep credentials, in the order podman reads them."""
    paths: list[str] = []
    if os.environ.get("REGISTRY_AUTH_FILE"):
        paths.append(os.environ["REGISTRY_AUTH_FILE"])
    if os.environ.get("XDG_RUNTIME_DIR"):
        paths.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    home = os.path.expanduser("~")
    paths.append(os.path.join(home, ".config", "containers", "auth.json"))
    docker_dir = os.environ.get("DOCKER_CONFIG") or os.path.join(home, ".docker")
    paths.append(os.path.join(docker_dir, "config.json"))
    return paths


def _host_of(key: str) -> str:
    """``https://index.docker.io/v1/`` -> ``index.docker.io``; ``quay.io/org`` kept."""
    key = re.sub(r"^[a-z]+://", "", key.strip()).rstrip("/")
    if re.search(r"/v[12]$", key):
        key = key.rsplit("/", 1)[0]
    return key


_FileState = tuple[int, int, int, int]


class CredentialStore:
    """Look up credentials for a registry (and repository) in auth files.

    ``paths`` are tried in order; the first file with an entry for the registry wins.
    Within a file the most specific key wins (``quay.io/org/repo`` over ``quay.io/org`` over
    ``quay.io``), as podman does. Files are re-read when they change (modification time,
    size or inode), and :meth:`changed` tells a client to drop what it derived from them.
    """

    def __init__(self, paths: Iterable[str] | None = None, helper_timeout: float = 10) -> None:
        self._explicit = list(paths) if paths is not None else None
        self._cache: dict[str, tuple[_FileState, dict[str, Credentials]]] = {}
        self._helpers: dict[str, tuple[_FileState, dict[str, str], str | None]] = {}
        self._helper_results: dict[tuple[str, str], tuple[float, Credentials | None]] = {}
        self._seen: tuple[tuple[str, _FileState | None], ...] | None = None
        self.helper_timeout = helper_timeout

    @property
    def paths(self) -> list[str]:
        return self._explicit if self._explicit is not None else default_auth_files()

    def changed(self) -> bool:
        """Whether any auth file appeared, changed or went away since the last call.

        One ``stat`` per file: cheap enough for every request. The first call only
        records the state. On a change, credential helpers' cached answers are dropped too.
        """
        seen = tuple((path, _state(path)) for path in self.paths)
        changed = self._seen is not None and seen != self._seen
        self._seen = seen
        if changed:
            self._helper_results.clear()
        return changed

    def _load(self, path: str) -> dict[str, Credentials]:
        state = _state(path)
        if state is None:
            return {}
        cached = self._cache.get(path)
        if cached and cached[0] == state:
            return cached[1]
        entries: dict[str, Credentials] = {}
        try:
            with open(path, encoding="utf-8") as f:
                doc = documents.loads_json(f.read(), path)
        except (OSError, ValueError) as error:  # InvalidDocument (too deep…) is a ValueError
            log.warning("Ignoring unreadable registry auth file %s: %s", path, type(error).__name__)
            return {}
        auths = doc.get("auths") if isinstance(doc, dict) else None
        for key, value in (auths if isinstance(auths, dict) else {}).items():
            creds = _entry_credentials(value, path)
            if creds is not None:
                entries[_host_of(key)] = creds
        helpers: dict[str, str] = {}
        store: str | None = None
        if isinstance(doc, dict):
            if isinstance(doc.get("credHelpers"), dict):
                helpers = {
                    _host_of(k): v for k, v in doc["credHelpers"].items() if isinstance(v, str)
                }
            if isinstance(doc.get("credsStore"), str) and doc["credsStore"]:
                store = doc["credsStore"]
        self._helpers[path] = (state, helpers, store)
        self._cache[path] = (state, entries)
        return entries

    def lookup(self, registry: str, repository: str = "") -> Credentials | None:
        """Credentials for ``registry`` (``host[:port]``), most specific repository key first.

        Only ``auths`` entries; :meth:`lookup_async` also asks credential helpers.
        """
        candidates = _candidates(registry, repository)
        for path in self.paths:
            entries = self._load(path)
            for key in candidates:
                if key in entries:
                    return entries[key]
        return None

    async def lookup_async(self, registry: str, repository: str = "") -> Credentials | None:
        """Like :meth:`lookup`, and asks ``credHelpers``/``credsStore`` as docker does.

        Per file: a ``credHelpers`` entry for the registry, then ``auths``, then
        ``credsStore``. Helpers (``docker-credential-<name> get``) run as subprocesses
        without blocking the event loop; their answers are cached for a minute.
        """
        candidates = _candidates(registry, repository)
        hosts = list(_DOCKER_HUB_KEYS) if registry in _DOCKER_HUB_KEYS else [registry]
        server = "https://index.docker.io/v1/" if registry in _DOCKER_HUB_KEYS else registry
        for path in self.paths:
            entries = self._load(path)
            _, helpers, store = self._helpers.get(path, (None, {}, None))
            helper = next((helpers[h] for h in hosts if h in helpers), None)
            if helper:
                creds = await self._run_helper(helper, server)
                if creds is not None:
                    return creds
            for key in candidates:
                if key in entries:
                    return entries[key]
            if store:
                creds = await self._run_helper(store, server)
                if creds is not None:
                    return creds
        return None

    async def _run_helper(self, helper: str, server: str) -> Credentials | None:
        cached = self._helper_results.get((helper, server))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        program = shutil.which(f"docker-credential-{helper}")
        if program is None:
            log.warning("Credential helper docker-credential-%s is not on PATH", helper)
            return None
        creds: Credentials | None = None
        try:
            process = await asyncio.create_subprocess_exec(
                program,
                "get",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                out, _ = await asyncio.wait_for(
                    process.communicate(server.encode()), self.helper_timeout
                )
            except TimeoutError:
                process.kill()
                await process.wait()
                log.warning("Credential helper docker-credential-%s timed out", helper)
                return None
            except asyncio.CancelledError:  # the operation's deadline: no helper left behind
                process.kill()
                await asyncio.shield(process.wait())
                raise
            if process.returncode == 0:
                answer = documents.loads_json(out, f"docker-credential-{helper}'s answer")
                username, secret = answer.get("Username"), answer.get("Secret")
                if isinstance(username, str) and isinstance(secret, str) and secret:
                    creds = Credentials(username, secret, f"docker-credential-{helper}")
        except (OSError, ValueError, AttributeError) as error:
            log.warning(
                "Credential helper docker-credential-%s failed: %s", helper, type(error).__name__
            )
            return None
        self._helper_results[(helper, server)] = (time.monotonic() + 60, creds)
        return creds


def _state(path: str) -> _FileState | None:
    """What identifies a version of a file without reading it: mtime, ctime, size, inode."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)


def _candidates(registry: str, repository: str) -> list[str]:
    hosts = list(_DOCKER_HUB_KEYS) if registry in _DOCKER_HUB_KEYS else [registry]
    candidates: list[str] = []
    parts = repository.split("/") if repository else []
    for host in hosts:
        candidates += [f"{host}/{'/'.join(parts[:n])}" for n in range(len(parts), 0, -1)]
    return candidates + hosts


def _entry_credentials(value: object, path: str) -> Credentials | None:
    if not isinstance(value, dict):
        return None
    username, password = value.get("username"), value.get("password")
    if isinstance(value.get("auth"), str) and value["auth"]:
        try:
            decoded = base64.b64decode(value["auth"], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            log.warning("Ignoring an entry with an invalid 'auth' value in %s", path)
            return None
        username, sep, password = decoded.partition(":")
        if not sep:
            return None
    if isinstance(value.get("identitytoken"), str) and value["identitytoken"]:
        # Docker's OAuth identity token: sent as the password of the "<token>" user.
        return Credentials("<token>", value["identitytoken"], path)
    if isinstance(username, str) and isinstance(password, str) and username:
        return Credentials(username, password, path)
    return None


@dataclass(frozen=True)
class Challenge:
    scheme: str
    params: dict[str, str]


_PARAM_RE = re.compile(r'\s*([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


def parse_challenge(header: str) -> Challenge | None:
    """Parse ``Bearer realm="…",service="…",scope="…"`` (RFC 6750 §3) or ``Basic realm="…"``."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _PARAM_RE.match(rest, pos)
        if not match or match.end() == pos:
            break
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", value or "")
        pos = match.end()
    return Challenge(scheme.lower(), params)
