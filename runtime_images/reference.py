"""Container image references: parsing, validation and normalisation.

This follows github.com/distribution/reference (the grammar every registry client uses)
exactly, including its normalisation of familiar names (``ubuntu`` is
``docker.io/library/ubuntu``). It is pure and framework-free so the schema validator, the
registry client and the CLI share one definition of what an image name is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "InvalidReferenceError",
    "Reference",
    "parse",
]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
DOCKER_HUB_REGISTRY = "registry-1.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
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

# Digest algorithms registered by go-digest, with the length of their lower-case hex.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


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
    if not _TAG_RE.match(tag):
        raise InvalidReferenceError(f"invalid tag {tag!r}")


def _check_digest(digest: str) -> str:
    algorithm, sep, encoded = digest.partition(":")
    if not sep:
        raise InvalidReferenceError(f"invalid digest {digest!r}: expected algorithm:hex")
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise InvalidReferenceError(
            f"unsupported digest algorithm {algorithm!r} (use sha256, sha384 or sha512)"
        )
    if len(encoded) != expected or not re.fullmatch(r"[a-f0-9]+", encoded):
        raise InvalidReferenceError(
            f"invalid {algorithm} digest: expected {expected} lower-case hexadecimal characters"
        )
    return digest


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
    if _IDENTIFIER_RE.match(value):
        raise InvalidReferenceError(
            "a 64-character hexadecimal string is an image ID, not a repository name"
        )
    match = _REFERENCE_RE.match(value)
    if match is None:
        raise InvalidReferenceError(_explain_mismatch(value))
    name, tag, digest = match.group(1), match.group(2), match.group(3)
    domain, path = _split_domain(name)
    if not _ANCHORED_NAME_RE.match(f"{domain}/{path}"):
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
    if repo != repo.lower() and _REFERENCE_RE.match(_lower_repository(value, len(repo))):
        return "repository name must be lowercase"
    if "@" in value and not re.search(
        r"@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:", value
    ):
        return "invalid digest: expected @algorithm:hex, e.g. @sha256:<64 hex characters>"
    if colon > last_slash and colon >= 0:
        tag = name_part[colon + 1 :]
        if len(tag) > TAG_LENGTH_MAX:
            return f"tag must not be more than {TAG_LENGTH_MAX} characters"
        if not _TAG_RE.match(tag):
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
