"""Instance names: the rule they follow and their derivation from display names."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata

NAME_MAX_LENGTH = 200
NAME_MAX_BYTES = 255 - len(".json")  # a file name, <name>.json, on Linux and macOS
NAME_PATTERN = re.compile(r"^[a-z]([a-z0-9_-]*[a-z0-9])?$")
"""Elyra's rule without its stray comma (Elyra bug B1 accepted ``ab,``)."""

_FALLBACK_PREFIX = "runtime_image"


def is_valid_name(name: str) -> bool:
    return len(name) <= NAME_MAX_LENGTH and NAME_PATTERN.fullmatch(name) is not None


def is_safe_file_name(name: str) -> bool:
    """Whether ``name`` can be used as ``<name>.json`` inside the store directory.

    Names read from disk need not follow :data:`NAME_PATTERN` (Elyra lists ``Hand-Made``),
    but a name from a request must never leave the directory or hide as a dot file.
    """
    return (
        0 < len(name) <= NAME_MAX_LENGTH
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
        and name.isprintable()
        and len(os.fsencode(name)) <= NAME_MAX_BYTES  # the file system's limit is in bytes
    )


def derive_name(display_name: str) -> str:
    """A valid name for ``display_name``, following Elyra's normalisation where it can.

    Elyra lower-cases, turns whitespace runs into ``_``, drops other characters outside
    ``[a-z0-9_-]``, prefixes ``a_`` when the first character is not a letter and suffixes
    ``_0`` when the last is not alphanumeric. Accents are folded first (``Ünïcode`` gives
    ``unicode``, not Elyra's ``ncode``). Where nothing usable remains (``日本語``, ``!!!``,
    Elyra's HTTP 500) the name is ``runtime_image_<hash>``, stable for the same input.
    """
    folded = unicodedata.normalize("NFKD", display_name)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    name = re.sub(r"\s+", "_", folded.strip())
    name = re.sub(r"[^a-z0-9_-]", "", name)
    if not re.search(r"[a-z0-9]", name):
        digest = hashlib.sha256(display_name.encode("utf-8")).hexdigest()[:8]
        return f"{_FALLBACK_PREFIX}_{digest}"
    if not name[0].isalpha():
        name = "a_" + name
    name = name[: NAME_MAX_LENGTH - 2]
    if not name[-1].isalnum():
        name += "_0"
    return name


def numbered(name: str, number: int) -> str:
    """``name`` with a numeric suffix, still within the length limit."""
    suffix = f"_{number}"
    return name[: NAME_MAX_LENGTH - len(suffix)] + suffix
