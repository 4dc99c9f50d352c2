"""Block-style YAML for the export documents, written directly.

PyYAML (with libyaml's emitter) spends most of an export of a thousand ImageStreams in
its Python representer and in escaping the long JSON annotations: about 5 s for 12 MB,
against well under a second here. The documents are built by this package (mappings with
string keys, lists, strings, booleans, integers, None — no aliases, no custom tags), so the
writer needs only those. Strings that could read as anything but themselves (numbers,
booleans, null, anything with YAML syntax) are written as double-quoted scalars using
JSON's escapes, which YAML's double-quoted style shares; characters YAML may not carry
unescaped (or reads as line breaks) are escaped (``\\u`` or ``\\U``). Tests parse the output back with PyYAML,
including generated hostile strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["dump", "dump_all"]

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")
_RESERVED = frozenset(
    ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
)  # YAML 1.1 booleans and null (PyYAML resolves them, any letter case)
_NOT_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
"""Non-printable for YAML, or a line break in YAML 1.1 (NEL, LS, PS): escaped."""
_encode = json.encoder.encode_basestring


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def scalar(value: str) -> str:
    """A string as a plain scalar when it cannot be misread, else double-quoted."""
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    quoted: str = _encode(value)
    if quoted.isascii() and "\x7f" not in quoted:  # the common case, checked in C
        return quoted
    return _NOT_PRINTABLE.sub(_escape, quoted)


def _inline(value: Any) -> str | None:
    """The one-line form of a scalar or an empty collection; None for a collection."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return scalar(value)
    if isinstance(value, Mapping):
        return None if value else "{}"
    if isinstance(value, Sequence):
        return None if value else "[]"
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _write(value: Any, indent: str, out: list[str]) -> None:
    """Append the lines of a non-empty mapping or sequence at ``indent``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("mapping keys must be strings")
            inline = _inline(item)
            if inline is not None:
                out.append(f"{indent}{scalar(key)}: {inline}\n")
            else:
                out.append(f"{indent}{scalar(key)}:\n")
                _write(item, indent + "  ", out)
        return
    for item in value:
        inline = _inline(item)
        if inline is not None:
            out.append(f"{indent}- {inline}\n")
            continue
        start = len(out)
        _write(item, indent + "  ", out)
        # The first line of the item goes on the dash's line.
        out[start] = f"{indent}- {out[start][len(indent) + 2 :]}"


def dump(document: Any) -> str:
    inline = _inline(document)
    if inline is not None:
        return inline + "\n"
    out: list[str] = []
    _write(document, "", out)
    return "".join(out)


def dump_all(documents: Iterable[Any]) -> str:
    return "".join(f"---\n{dump(document)}" for document in documents)
