"""Container image references: parsing, validation and normalisation.

This follows github.com/distribution/reference (the grammar every registry client uses)
exactly, including its normalisation of familiar names (``ubuntu`` is
``docker.io/library/ubuntu``). It is pure and framework-free so the schema validator, the
registry client and the CLI share one definition of what an image name is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .digest import InvalidDigestError, parse_digest

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "LOCAL_DOMAIN",
    "InvalidReferenceError",
    "Reference",
    "local_warning",
    "normalise_mirrors",
    "parse",
    "rewrite_for_mirror",
    "unpinned_warning",
]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
DOCKER_HUB_REGISTRY = "registry-1.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
LOCAL_DOMAIN = "localhost"
NAME_TOTAL_LENGTH_MAX = 255
TAG_LENGTH_MAX = 128

# The regular expressions of distribution/reference regexp.go, translated to Python.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_NAME_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_OPTIONAL_PORT = r"(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_IPV6_ADDRESS = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = _DOMAIN_NAME_COMPONENT + r"(?:\." + _DOMAIN_NAME_COMPONENT + r")*"
_HOST = r"(?:" + _DOMAIN_NAME + r"|" + _IPV6_ADDRESS + r")"
_DOMAIN_AND_PORT = _HOST + _OPTIONAL_PORT
_PATH_COMPONENT = _ALPHANUMERIC + r"(?:" + _SEPARATOR + _ALPHANUMERIC + r")*"
_REMOTE_NAME = _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_NAME = r"(?:" + _DOMAIN_AND_PORT + r"/)?" + _REMOTE_NAME

REFERENCE_PATTERN = r"^(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?$"
"""The anchored reference pattern; also used by the JSON Schema for client-side checks."""

_REFERENCE_RE = re.compile(REFERENCE_PATTERN, re.ASCII)
_ANCHORED_NAME_RE = re.compile(
    r"^(?:(" + _DOMAIN_AND_PORT + r")/)?(" + _REMOTE_NAME + r")$", re.ASCII
)
_IDENTIFIER_RE = re.compile(r"^[a-f0-9]{64}$")
_TAG_RE = re.compile(r"^" + _TAG + r"$", re.ASCII)


class InvalidReferenceError(ValueError):
    """A string is not a valid image reference; the message says why."""


@dataclass(frozen=True)
class Reference:
    """A parsed, normalised image reference (``domain/path[:tag][@digest]``)."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        """The fully qualified repository name, e.g. ``docker.io/library/ubuntu``."""
        return f"{self.domain}/{self.path}"

    @property
    def registry_host(self) -> str:
        """The host (and port) to contact: Docker Hub's API host for ``docker.io``."""
        return DOCKER_HUB_REGISTRY if self.domain == DEFAULT_DOMAIN else self.domain

    @property
    def is_local(self) -> bool:
        """``localhost/…`` with no port: an image kept on this machine (its OCI layout),
        as podman and buildah name local images — no registry serves it."""
        return self.domain == LOCAL_DOMAIN

    @property
    def is_pinned(self) -> bool:
        return self.digest is not None

    @property
    def is_floating(self) -> bool:
        """True when the reference names no digest and no tag, or the ``latest`` tag."""
        return self.digest is None and self.tag in (None, DEFAULT_TAG)

    @property
    def familiar_name(self) -> str:
        """The short form people type: ``ubuntu`` rather than ``docker.io/library/ubuntu``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.repository
        if self.path.startswith(OFFICIAL_REPO_PREFIX) and self.path.count("/") == 1:
            return self.path[len(OFFICIAL_REPO_PREFIX) :]
        return self.path

    def familiar(self) -> str:
        """The familiar string form, keeping tag and digest."""
        return self.familiar_name + self._suffix()

    def with_digest(self, digest: str) -> Reference:
        return replace(self, digest=_check_digest(digest))

    def without_digest(self) -> Reference:
        return replace(self, digest=None)

    def with_tag(self, tag: str | None) -> Reference:
        if tag is not None:
            _check_tag(tag)
        return replace(self, tag=tag)

    def for_pull(self) -> str:
        """What to request from the registry: the digest if pinned, else the tag or ``latest``."""
        return self.digest or self.tag or DEFAULT_TAG

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.repository + self._suffix()


def _check_tag(tag: str) -> None:
    if len(tag) > TAG_LENGTH_MAX:
        raise InvalidReferenceError(f"tag must not be more than {TAG_LENGTH_MAX} characters")
    if not _TAG_RE.fullmatch(tag):
        raise InvalidReferenceError(f"invalid tag {tag!r}")


def _check_digest(digest: str) -> str:
    try:
        return str(parse_digest(digest))
    except InvalidDigestError as error:
        raise InvalidReferenceError(str(error)) from None


def _split_domain(name: str) -> tuple[str, str]:
    """distribution/reference ``splitDockerDomain``: find the registry host, if any."""
    first, sep, rest = name.partition("/")
    if not sep or (
        first != "localhost" and "." not in first and ":" not in first and first.lower() == first
    ):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def parse(value: str) -> Reference:
    """Parse and normalise a reference the way ``docker pull`` does.

    Raises :class:`InvalidReferenceError` with a message a person can act on.
    """
    if not isinstance(value, str):
        raise InvalidReferenceError("an image reference must be a string")
    if not value:
        raise InvalidReferenceError("an image reference must not be empty")
    if value != value.strip():
        raise InvalidReferenceError("an image reference must not have spaces around it")
    if _IDENTIFIER_RE.fullmatch(value):
        raise InvalidReferenceError(
            "a 64-character hexadecimal string is an image ID, not a repository name"
        )
    match = _REFERENCE_RE.fullmatch(value)
    if match is None:
        raise InvalidReferenceError(_explain_mismatch(value))
    name, tag, digest = match.group(1), match.group(2), match.group(3)
    domain, path = _split_domain(name)
    if not _ANCHORED_NAME_RE.fullmatch(f"{domain}/{path}"):
        raise InvalidReferenceError(f"invalid repository name {name!r}")
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReferenceError(
            f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    if tag is not None:
        _check_tag(tag)
    if digest is not None:
        _check_digest(digest)
    return Reference(domain=domain, path=path, tag=tag, digest=digest)


def _explain_mismatch(value: str) -> str:
    """Say what is wrong with a string that does not match the grammar."""
    name_part = value.split("@", 1)[0]
    last_slash = name_part.rfind("/")
    colon = name_part.rfind(":")
    repo = name_part[:colon] if colon > last_slash else name_part
    if any(c.isspace() for c in value):
        return "an image reference must not contain spaces"
    if repo != repo.lower() and _REFERENCE_RE.fullmatch(_lower_repository(value, len(repo))):
        return "repository name must be lowercase"
    if "@" in value and not re.search(
        r"@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:", value
    ):
        return "invalid digest: expected @algorithm:hex, e.g. @sha256:<64 hex characters>"
    if colon > last_slash and colon >= 0:
        tag = name_part[colon + 1 :]
        if len(tag) > TAG_LENGTH_MAX:
            return f"tag must not be more than {TAG_LENGTH_MAX} characters"
        if not _TAG_RE.fullmatch(tag):
            return (
                f"invalid tag {tag!r}: use letters, digits, '_', '.' and '-', "
                "not starting with '.' or '-'"
            )
    return (
        "invalid reference format: expected [registry[:port]/]repository[:tag][@digest], "
        "e.g. quay.io/org/image:1.0"
    )


def _lower_repository(value: str, repo_length: int) -> str:
    """Lower-case the path of the repository part, keeping a registry host as it is."""
    repo = value[:repo_length]
    first, sep, rest = repo.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first + "/" + rest.lower() + value[repo_length:]
    return repo.lower() + value[repo_length:]


def _split_prefix(value: str, what: str) -> tuple[str, str]:
    """Split ``host[:port][/path]`` for mirror rules; the host must look like a registry."""
    first, _, rest = value.strip("/").partition("/")
    if first == LEGACY_DEFAULT_DOMAIN:
        first = DEFAULT_DOMAIN
    if not (first == "localhost" or "." in first or ":" in first):
        raise InvalidReferenceError(
            f"{what} {value!r} must start with a registry host such as docker.io, "
            "quay.io or mirror.local:5000"
        )
    check = f"{first}/{rest}" if rest else f"{first}/x"
    if not _ANCHORED_NAME_RE.fullmatch(check):
        raise InvalidReferenceError(f"{what} {value!r} is not a valid registry[/path] prefix")
    return first, rest


def normalise_mirrors(mirrors: Mapping[str, str]) -> dict[str, str]:
    """Validate mirror rules ``{"docker.io": "mirror.local:5000/dockerhub"}`` and normalise keys.

    Keys are registry hosts or repository prefixes (``quay.io/org``); values are where those
    repositories are served on an air-gapped site. Raises :class:`InvalidReferenceError`
    naming the bad rule.
    """
    rules: dict[str, str] = {}
    for prefix, target in mirrors.items():
        p_host, p_path = _split_prefix(prefix, "mirror prefix")
        t_host, t_path = _split_prefix(target, f"mirror target for {prefix!r}")
        rules["/".join(x for x in (p_host, p_path) if x)] = "/".join(
            x for x in (t_host, t_path) if x
        )
    return rules


def rewrite_for_mirror(ref: Reference, mirrors: Mapping[str, str]) -> Reference:
    """Where to fetch ``ref`` from on a site with registry mirrors (longest prefix wins).

    ``docker.io/library/ubuntu:22.04`` with ``{"docker.io": "mirror.local:5000/dockerhub"}``
    becomes ``mirror.local:5000/dockerhub/library/ubuntu:22.04``; tag and digest are kept.
    Prefixes match whole path components only (``quay.io/org`` does not match
    ``quay.io/organisation``). Rules should come from :func:`normalise_mirrors`.
    """
    repository = ref.repository
    best: str | None = None
    for prefix in mirrors:
        if (repository == prefix or repository.startswith(prefix + "/")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    if best is None:
        return ref
    rewritten = mirrors[best] + repository[len(best) :]
    domain, _, path = rewritten.partition("/")
    if not path or not _ANCHORED_NAME_RE.fullmatch(rewritten):
        raise InvalidReferenceError(
            f"mirror rule {best!r} -> {mirrors[best]!r} turns {repository!r} into "
            f"the invalid repository {rewritten!r}"
        )
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReferenceError(
            f"mirror rule {best!r} makes the repository name of {repository!r} longer than "
            f"{NAME_TOTAL_LENGTH_MAX} characters"
        )
    return replace(ref, domain=domain, path=path)


def unpinned_warning(ref: Reference | str) -> str | None:
    """A warning for a reference that can change under its users, or ``None`` when pinned.

    A reference with no digest and either no tag or ``latest`` follows whatever the registry
    serves today; notebooks and pipeline runs stop being reproducible.
    """
    parsed = parse(ref) if isinstance(ref, str) else ref
    if not parsed.is_floating:
        return None
    what = "has no tag" if parsed.tag is None else "uses the 'latest' tag"
    return (
        f"{parsed.familiar()} {what} and no digest, so it can change at any time; "
        "pin it to a digest (pin) or use a version tag for reproducible runs"
    )


def local_warning(ref: Reference | str) -> str | None:
    """A warning for a reference to this machine's own images, or ``None``.

    ``localhost/…`` images live in this machine's image layout: the server and the CLI here
    read them, but Elyra's pipelines, Kubeflow, clusters and other machines cannot pull them.
    """
    parsed = parse(ref) if isinstance(ref, str) else ref
    if not parsed.is_local:
        return None
    return (
        f"{parsed.familiar_name} is only on this machine (its local image layout): only this "
        "machine can use it; publish it to a registry (jupyter runtime-images publish … "
        "--to docker://HOST/REPOSITORY --repoint) so pipelines and clusters can pull it"
    )
