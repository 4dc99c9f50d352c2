"""The one strict boundary for JSON and YAML that comes from outside the server.

Request bodies, files the CLI reads, instance and build files on disk, and the JSON a
registry sends all pass through here. Python's ``json`` accepts ``NaN`` and ``Infinity``
(and turns ``1e999`` into ``inf``), lone surrogates such as ``"\\ud800"`` (which no UTF-8
encoder writes back), integers of thousands of digits, and nesting until
``RecursionError``; PyYAML expands aliases without limit (a few hundred bytes describe a
billion nodes), builds cycles from recursive aliases, and produces dates, bytes and sets.

A document accepted here is plain JSON data — objects with string keys, arrays, strings,
finite numbers, booleans and null — within :class:`Limits`, so it can be stored, copied,
walked and written back as standard JSON. Every refusal names the place in the document
(``errors[].path``) and the limit it broke.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import PayloadTooLargeError, ValidationFailedError
from .fields import FieldError

__all__ = [
    "DEFAULT_LIMITS",
    "InvalidDocument",
    "Limits",
    "check_size",
    "dumps",
    "loads_json",
    "loads_json_or_yaml",
    "parse_count",
]

_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """How large a document may be, beyond its size in bytes.

    ``max_nodes`` counts values as if every YAML alias were written out in full (what
    serialising the document would produce); ``max_yaml_aliases`` bounds the aliases
    themselves, which hand-written resources rarely need more than a few of.
    """

    max_depth: int = 64
    max_integer_digits: int = 32
    max_nodes: int = 1_000_000
    max_yaml_aliases: int = 100


DEFAULT_LIMITS = Limits()


class InvalidDocument(ValidationFailedError, ValueError):
    """A document that is not plain JSON data within the limits; ``errors`` say where."""

    def __init__(self, what: str, problem: str, path: str = "") -> None:
        where = f" at {path}" if path else ""
        super().__init__([FieldError(path, problem)], f"{what} is not acceptable{where}: {problem}")


class _Refused(Exception):
    """Raised inside the JSON hooks; turned into :class:`InvalidDocument`."""


def loads_json(data: bytes | str, what: str = "the body", limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse strict JSON (UTF-8 when bytes); :class:`InvalidDocument` on anything else."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise InvalidDocument(what, f"it is not UTF-8 text ({error.reason})") from None
    try:
        value = _parse_json(text, what, limits)
    except _NotJson as error:
        raise InvalidDocument(what, f"it is not valid JSON: {error}") from None
    check_value(value, what, limits)
    return value


def loads_json_or_yaml(
    text: str, what: str = "the document", limits: Limits = DEFAULT_LIMITS
) -> Any:
    """Parse JSON, or YAML when the text is not JSON (as ``kubectl`` accepts either).

    Text that is JSON but breaks a rule here is refused, not re-read as YAML (YAML would
    take ``1e999`` for a string).
    """
    try:
        value = _parse_json(text, what, limits)
    except _NotJson:
        value = _parse_yaml(text, what, limits)
    check_value(value, what, limits)
    return value


def dumps(value: Any, *, indent: int | None = None) -> str:
    """Standard JSON text (never ``NaN``; non-ASCII kept as is)."""
    return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False)


def parse_count(text: str | bytes, max_digits: int = 18) -> int | None:
    """A non-negative decimal integer written in hostile text (a header, a UID in
    /etc/passwd, a size in a package database), or None. Not ``text.isdigit()``: it also
    accepts "²" and other digits ``int()`` refuses, and ``int()`` refuses more than 4,300
    digits; both would raise where a missing value is the answer."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def check_size(data: bytes, limit: int, what: str, setting: str) -> None:
    """Refuse to write ``data`` when it is over ``limit`` bytes (the ``setting`` raises it)."""
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"{what} would be {len(data)} bytes, over the limit of {limit} bytes ({setting})."
        )


# -- JSON --------------------------------------------------------------------------------


class _NotJson(Exception):
    """The text is not JSON syntax at all (the caller may try YAML)."""

    def __init__(self, error: json.JSONDecodeError) -> None:
        super().__init__(str(error))
        self.error = error


def _parse_json(text: str, what: str, limits: Limits) -> Any:
    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > limits.max_integer_digits:
            raise _Refused(f"an integer has more than {limits.max_integer_digits} digits")
        return int(digits)

    def parse_float(literal: str) -> float:
        number = float(literal)
        if not math.isfinite(number):
            raise _Refused(f"the number {literal[:40]} is out of range")
        return number

    def parse_constant(name: str) -> None:
        raise _Refused(f"{name} is not a JSON value")

    try:
        return json.loads(
            text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant
        )
    except _Refused as error:
        raise InvalidDocument(what, str(error)) from None
    except RecursionError:
        raise InvalidDocument(what, _too_deep(limits)) from None
    except json.JSONDecodeError as error:
        raise _NotJson(error) from None


def _too_deep(limits: Limits) -> str:
    return f"it is nested deeper than {limits.max_depth} levels"


# -- YAML --------------------------------------------------------------------------------


def _parse_yaml(text: str, what: str, limits: Limits) -> Any:
    import yaml

    loader = _yaml_loader_class()(text)
    loader.alias_budget = limits.max_yaml_aliases
    try:
        return loader.get_single_data()
    except _Refused as error:
        raise InvalidDocument(what, str(error)) from None
    except RecursionError:
        raise InvalidDocument(what, _too_deep(limits)) from None
    except (yaml.YAMLError, ValueError) as error:  # ValueError: e.g. int() of a huge literal
        raise InvalidDocument(what, f"it is neither JSON nor YAML: {error}") from None
    finally:
        loader.dispose()


_LOADER: type[Any] | None = None


def _yaml_loader_class() -> type[Any]:
    """PyYAML's pure-Python safe loader (its RecursionError is catchable, unlike a C stack
    overflow in libyaml's composer), counting aliases and keeping dates as strings."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    class StrictLoader(yaml.SafeLoader):
        alias_budget = 0
        aliases_seen = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases_seen += 1
                if self.aliases_seen > self.alias_budget:
                    raise _Refused(f"it uses more than {self.alias_budget} YAML aliases")
            return super().compose_node(parent, index)

    # A timestamp stays the string it was written as (JSON has no date type).
    StrictLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _LOADER = StrictLoader
    return _LOADER


# -- the walk ----------------------------------------------------------------------------


def check_value(value: Any, what: str = "the document", limits: Limits = DEFAULT_LIMITS) -> None:
    """Check a parsed value is plain JSON data within ``limits`` (iteratively: no recursion).

    Shared subtrees (YAML aliases) are checked once but counted every time they occur, so
    ``max_nodes`` bounds the document as it would be written out; a cycle is refused.
    """
    sizes: dict[int, int] = {}  # id -> expanded node count, once a container is done
    on_path: set[int] = set()
    # (value, path, depth, children pushed?) — containers are visited twice, before and
    # after their children, so their expanded size can be summed.
    stack: list[tuple[Any, str, int, bool]] = [(value, "", 0, False)]
    while stack:
        node, path, depth, done = stack.pop()
        if isinstance(node, dict | list):
            identity = id(node)
            if done:
                on_path.discard(identity)
                children = node.values() if isinstance(node, dict) else node
                total = 1 + sum(_size_of(child, sizes) for child in children)
                if total > limits.max_nodes:
                    raise InvalidDocument(
                        what, f"it has more than {limits.max_nodes} values (aliases expanded)"
                    )
                sizes[identity] = total
                continue
            if identity in sizes:
                continue  # a shared subtree, already checked
            if identity in on_path:
                raise InvalidDocument(what, "it refers to itself (a recursive alias)", path)
            if depth >= limits.max_depth:
                raise InvalidDocument(what, _too_deep(limits), path)
            on_path.add(identity)
            stack.append((node, path, depth, True))
            if isinstance(node, dict):
                for key in node:
                    if not isinstance(key, str):
                        raise InvalidDocument(what, "object keys must be strings", path)
                    if _SURROGATE.search(key):
                        raise InvalidDocument(what, _SURROGATE_PROBLEM, path)
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                child_path = f"{path}.{key}" if path else str(key)
                stack.append((child, child_path, depth + 1, False))
            continue
        _check_scalar(node, path, what, limits)


_SURROGATE_PROBLEM = "a string contains a lone surrogate (\\ud800-\\udfff), which is not text"


def _size_of(child: Any, sizes: dict[int, int]) -> int:
    return sizes[id(child)] if isinstance(child, dict | list) else 1


def _check_scalar(node: Any, path: str, what: str, limits: Limits) -> None:
    if node is None or isinstance(node, bool):
        return
    if isinstance(node, str):
        if _SURROGATE.search(node):
            raise InvalidDocument(what, _SURROGATE_PROBLEM, path)
        return
    if isinstance(node, int):
        if abs(node) >= 10**limits.max_integer_digits:
            raise InvalidDocument(
                what, f"an integer has more than {limits.max_integer_digits} digits", path
            )
        return
    if isinstance(node, float):
        if not math.isfinite(node):
            raise InvalidDocument(what, "numbers must be finite (no NaN or Infinity)", path)
        return
    raise InvalidDocument(
        what,
        f"a {type(node).__name__} is not JSON data (strings, numbers, booleans, null, lists "
        "and objects only)",
        path,
    )
