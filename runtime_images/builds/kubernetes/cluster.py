"""The connection to a Kubernetes API server: configuration, calls, watches and errors.

Why the official ``kubernetes`` client, off the event loop: it is the client every
cluster administrator already has (kubeconfig exec plugins, OIDC, in-cluster service
accounts are all handled by its config loaders), and the engine makes a handful of short
calls per build plus one long-lived watch. Short calls run in ``asyncio.to_thread`` with a
request timeout. Each watch stream is read by its own daemon thread feeding an
``asyncio.Queue``, so a watch never holds one of the default executor's few workers for
minutes and never delays the interpreter's exit; closing the stream (a cancelled build, a
stopping server) shuts its socket down so the thread ends at once. ``kubernetes_asyncio``
would avoid the threads but brings aiohttp and a second, async-only configuration API.

Nothing here knows about builds or the operator: failures are :class:`ClusterError` (an
HTTP status and the API server's ``Status``) or :class:`ConfigurationError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
import socket
import threading
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@functools.cache
def call_errors() -> tuple[type[BaseException], ...]:
    """What a call through the client can raise: its ApiException (an HTTP status),
    urllib3's errors (not reached, cut off), and a malformed body."""
    import urllib3.exceptions
    from kubernetes.client.exceptions import OpenApiException

    return (OSError, ValueError, urllib3.exceptions.HTTPError, OpenApiException)


# -- errors ---------------------------------------------------------------------------------


class ClusterError(Exception):
    """A failed call to the API server: its HTTP code (0: not reached) and Status body."""

    def __init__(self, code: int, message: str, status: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status: Mapping[str, Any] = status or {}

    @property
    def transient(self) -> bool:
        """Worth retrying: not reached, throttled, or a server-side error."""
        return self.code == 0 or self.code == 429 or self.code >= 500

    @property
    def reason(self) -> str:
        return str(self.status.get("reason", ""))

    @property
    def causes(self) -> list[Mapping[str, Any]]:
        causes = (self.status.get("details") or {}).get("causes") or []
        return [cause for cause in causes if isinstance(cause, Mapping)]

    @property
    def names_an_object(self) -> bool:
        """A 404 of an object, not of its resource's path (a CRD not installed)."""
        return bool((self.status.get("details") or {}).get("name"))

    @property
    def too_large_version(self) -> bool:
        """A watch from a version the server has not reached (etcd restored): list again."""
        return "Too large resource version" in self.message or any(
            cause.get("reason") == "ResourceVersionTooLarge" for cause in self.causes
        )

    @property
    def unreachable_webhook(self) -> str | None:
        """The admission webhook the API server could not call, if that is the failure."""
        found = re.search(r'failed calling webhook "(?P<hook>[^"]+)"', self.message)
        return found["hook"] if found and self.code >= 500 else None

    @property
    def quota_exceeded(self) -> bool:
        return self.code == 403 and "exceeded quota" in self.message

    @property
    def namespace_terminating(self) -> bool:
        return self.code == 403 and (
            "because it is being terminated" in self.message
            or any(cause.get("reason") == "NamespaceTerminating" for cause in self.causes)
        )

    @classmethod
    def from_status(cls, status: Mapping[str, Any]) -> ClusterError:
        code = status.get("code")
        return cls(
            int(code) if isinstance(code, int) else 500,
            str(status.get("message") or status.get("reason") or "unknown error"),
            status,
        )

    @classmethod
    def from_exception(cls, error: BaseException) -> ClusterError:
        """From an ``ApiException`` (its body parsed as a Status) or a transport error."""
        code = getattr(error, "status", None)
        if isinstance(code, int) and code > 0:
            body = getattr(error, "body", None)
            status: dict[str, Any] = {}
            if isinstance(body, (bytes, str)) and body:
                with contextlib.suppress(ValueError):
                    parsed = json.loads(body)
                    if isinstance(parsed, dict):
                        status = parsed
            message = str(status.get("message") or getattr(error, "reason", "") or error)
            return cls(code, message, status)
        return cls(0, f"{type(error).__name__}: {error}")


def forbidden_message(error: ClusterError, verb: str, resource: str, namespace: str) -> str:
    """Which verb on which resource RBAC refused, from the 403 Status, and what to do."""
    found = re.search(
        r'User "(?P<user>[^"]*)" cannot (?P<verb>[\w-]+) resource "(?P<resource>[^"]+)"'
        r'(?: in API group "(?P<group>[^"]*)")?(?: in the namespace "(?P<namespace>[^"]+)")?',
        error.message,
    )
    if found:
        group = found["group"]
        what = f"{found['resource']}.{group}" if group else found["resource"]
        where = f"in the namespace {found['namespace']}" if found["namespace"] else "cluster-wide"
        who = found["user"]
        verb = found["verb"]
    else:
        details = error.status.get("details") or {}
        kind, group = details.get("kind") or resource, details.get("group")
        what = f"{kind}.{group}" if group and "." not in str(kind) else str(kind)
        where, who = f"in the namespace {namespace}", "this server's identity"
    return (
        f"The cluster refused to let {who} {verb} {what} {where} (RBAC: the '{verb}' verb is "
        f"missing). Ask an administrator to bind a Role granting it (see "
        f"docs/kubernetes-rbac.yaml). (API server: {error.message})"
    )


# -- the status mapping ---------------------------------------------------------------------


def label_value(text: str) -> str:
    """``text`` as a valid label value (63 characters of [A-Za-z0-9-_.], alphanumeric ends)."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63].strip("-_.")
    return value or "unknown"


_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
ANNOTATIONS_LIMIT = 256 * 1024


def _key_errors(key: str) -> list[str]:
    prefix, slash, name = key.rpartition("/")
    errors = []
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        errors.append("its prefix must be a DNS subdomain (lower case, at most 253 characters)")
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        errors.append(
            "its name must be at most 63 characters of letters, digits, '-', '_' or '.', "
            "beginning and ending with a letter or digit"
        )
    return errors


def metadata_errors(labels: Mapping[str, object], annotations: Mapping[str, object]) -> list[str]:
    """What the API server would refuse in these labels and annotations, field by field."""
    errors = []
    for key, value in labels.items():
        errors += [f"metadata.labels: the key {key!r}: {e}" for e in _key_errors(str(key))]
        text = str(value)
        if len(text) > 63 or not _LABEL_VALUE.match(text):
            errors.append(
                f"metadata.labels: the value {text!r} of {key!r} must be empty or at most 63 "
                "characters of letters, digits, '-', '_' or '.', beginning and ending with a "
                "letter or digit"
            )
    size = 0
    for key, value in annotations.items():
        errors += [f"metadata.annotations: the key {key!r}: {e}" for e in _key_errors(str(key))]
        size += len(str(key).encode()) + len(str(value).encode())
    if size > ANNOTATIONS_LIMIT:
        errors.append(
            f"metadata.annotations: {size} bytes in all, over the API server's limit of "
            f"{ANNOTATIONS_LIMIT}"
        )
    return errors


def rejection_message(error: ClusterError, kind: str) -> str:
    """What an admission webhook (or the CRD's schema) said when it refused the resource."""
    text = error.message
    found = re.match(
        r'admission webhook "(?P<hook>[^"]+)" denied the request: (?P<why>.*)', text, re.DOTALL
    )
    causes = [
        f"{cause.get('field', '')}: {cause.get('message', '')}".strip(": ")
        for cause in (error.status.get("details") or {}).get("causes") or []
        if isinstance(cause, Mapping)
    ]
    if found:
        message = (
            f"The cluster's admission webhook {found['hook']} rejected the {kind}: {found['why']}"
        )
    else:
        message = f"The cluster rejected the {kind}: {text}"
    if causes and not all(cause in message for cause in causes):
        message += " (" + "; ".join(causes) + ")"
    return message


# -- connecting -----------------------------------------------------------------------------


class ConfigurationError(Exception):
    """No usable cluster configuration (no kubeconfig, an unusable one, no client)."""


@dataclass(frozen=True)
class Connection:
    """One loaded configuration: the ``CustomObjectsApi`` on it, its namespace and server."""

    api: Any
    namespace: str
    host: str


@dataclass(frozen=True)
class Target:
    """Where a custom resource lives: the connection, its namespace, plural and kind."""

    connection: Connection
    namespace: str
    plural: str
    kind: str

    @property
    def api(self) -> Any:
        return self.connection.api

    @property
    def host(self) -> str:
        return self.connection.host


def load_connection(
    kubeconfig: str, context: str, in_cluster: bool | None, namespace: str
) -> Connection:
    """Load the configuration (blocking: run it in a thread); raises ConfigurationError."""
    try:
        import yaml  # the client's own parser
        from kubernetes import client, config
    except ImportError:
        raise ConfigurationError(
            "The kubernetes engine needs the Kubernetes client: install "
            "jupyter-runtime-images[kubernetes] (pip install kubernetes)."
        ) from None
    # Every file KUBECONFIG lists, merged as kubectl and the client merge them.
    path = kubeconfig or os.environ.get("KUBECONFIG", "") or "~/.kube/config"
    paths = [os.path.expanduser(p) for p in path.split(os.pathsep) if p]
    path = os.pathsep.join(paths)
    found = any(os.path.exists(p) for p in paths)
    if in_cluster is None:
        in_cluster = not found and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    configuration = client.Configuration()
    # one connection per open watch, plus the short calls of every build
    configuration.connection_pool_maxsize = 64
    try:
        if in_cluster:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            if not namespace:
                with contextlib.suppress(OSError), open(SERVICE_ACCOUNT_NAMESPACE) as file:
                    namespace = file.read().strip()
        else:
            if not found:
                raise ConfigurationError(
                    f"No Kubernetes cluster is configured: there is no kubeconfig at {path} "
                    "and the server does not run in a pod. Set KUBECONFIG or "
                    "c.KubernetesEngine.kubeconfig (see docs/kubernetes.md), or use the "
                    "embedded engine (c.BuildController.engine = 'embedded')."
                )
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=path,
                context=context or None,
                client_configuration=configuration,
                persist_config=False,
            )
            if not namespace:
                contexts, current = config.list_kube_config_contexts(path)  # type: ignore[no-untyped-call]
                chosen = next((c for c in contexts if c.get("name") == context), current)
                namespace = ((chosen or {}).get("context") or {}).get("namespace", "")
                if not isinstance(namespace, str):
                    raise config.ConfigException("the context's namespace is not a string")
    # The client checks a kubeconfig's fields as it meets them: a file that is not YAML,
    # or a field of another type (contexts: 5), raises the parser's or Python's errors,
    # not its ConfigException; too deep a file is a RecursionError.
    except yaml.YAMLError as error:
        raise _unusable(path, in_cluster, f"it is not YAML: {error}") from None
    except (config.ConfigException, ValueError, TypeError, AttributeError, KeyError) as error:
        raise _unusable(path, in_cluster, str(error)) from None
    except RecursionError:
        raise _unusable(path, in_cluster, "it is nested too deeply") from None
    api = client.CustomObjectsApi(client.ApiClient(configuration))
    return Connection(api, namespace or "default", str(configuration.host))


def _unusable(path: str, in_cluster: bool, problem: str) -> ConfigurationError:
    where = "in-cluster" if in_cluster else path
    return ConfigurationError(f"The Kubernetes configuration ({where}) cannot be used: {problem}")


async def call(timeout: float, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """One short API call in a thread, within ``timeout`` seconds; raises ClusterError."""

    def run() -> Any:
        try:
            return function(*args, _request_timeout=timeout, **kwargs)
        except call_errors() as error:
            raise ClusterError.from_exception(error) from None

    return await asyncio.to_thread(run)


async def served_resources(
    connection: Connection, group: str, version: str, timeout: float
) -> dict[str, str]:
    """API discovery: the resources ``group/version`` serves, plural -> kind (404: none)."""
    response = await call(
        timeout, connection.api.get_api_resources, group, version, _preload_content=False
    )
    try:
        listed = json.loads(response.data)
    except ValueError:
        raise ClusterError(0, f"the discovery of {group}/{version} is not JSON") from None
    return {
        str(item["name"]): str(item.get("kind", ""))
        for item in listed.get("resources") or []
        if isinstance(item, Mapping) and "/" not in str(item.get("name", "/"))
    }


# -- watching -------------------------------------------------------------------------------


async def watch_events(
    open_stream: Callable[[], Any], name: str
) -> AsyncGenerator[dict[str, Any], None]:
    """The events of a watch stream, read by a daemon thread; raises ClusterError.

    ``open_stream`` makes the watch request (``_preload_content=False``) and returns the
    urllib3 response. Closing the generator stops the thread at once.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    opened: dict[str, Any] = {}
    closed = threading.Event()

    def put(item: tuple[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def pump() -> None:
        from kubernetes.watch.watch import iter_resp_lines

        try:
            response = open_stream()
        except call_errors() as error:
            put(("error", ClusterError.from_exception(error)))
            return
        opened["response"] = response
        try:
            if closed.is_set():
                return
            for line in iter_resp_lines(response):  # type: ignore[no-untyped-call]
                if line.strip():
                    put(("event", json.loads(line)))
            put(("end", None))
        except Exception as error:  # noqa: BLE001 - reported, or the stream was closed
            if not closed.is_set():
                put(("error", ClusterError.from_exception(error)))
        finally:
            with contextlib.suppress(Exception):
                response.close()
            with contextlib.suppress(Exception):
                response.release_conn()

    thread = threading.Thread(target=pump, name=f"runtime-images-watch-{name}", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = await queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        closed.set()
        response = opened.get("response")
        if response is not None:
            # Only wake the reading thread (it closes the response itself): close()
            # here could wait on the lock its blocked read holds, on the event loop.
            with contextlib.suppress(Exception):
                stop_reading(response)


def stop_reading(response: Any) -> None:
    """Make a blocked read of ``response`` return now, from another thread."""
    shutdown = getattr(response, "shutdown", None)
    if callable(shutdown):  # urllib3 >= 2.3
        shutdown()
    else:
        shutdown_socket(response)


def shutdown_socket(response: Any) -> None:
    """Shut down the socket under a urllib3 response (urllib3 < 2.3 has no ``shutdown``)."""
    connection = getattr(response, "connection", None) or getattr(response, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:  # the connection was already released: reach the file object's socket
        raw = getattr(getattr(getattr(response, "_fp", None), "fp", None), "raw", None)
        sock = getattr(raw, "_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
