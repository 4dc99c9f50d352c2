"""Dataclass records as the JSON objects the API and the state files spell in camelCase."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["camel_case", "camel_json", "from_camel_json"]

R = TypeVar("R", bound="DataclassInstance")


def camel_case(name: str) -> str:
    """``python_version`` → ``pythonVersion``."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_json(record: DataclassInstance) -> dict[str, Any]:
    """Every field of ``record``, in order, under its camelCase name.

    Values are kept as they are: unlike :func:`dataclasses.asdict` nothing is copied or
    converted, so a field holding a list or dict is the record's own (as a hand-written
    ``to_json`` returns it).
    """
    return {camel_case(field.name): getattr(record, field.name) for field in fields(record)}


def from_camel_json(kind: type[R], document: dict[str, Any]) -> R:
    """:func:`camel_json`'s form read back: a ``kind`` from the document's value of every
    field (KeyError when one is missing; other keys are ignored)."""
    return kind(**{field.name: document[camel_case(field.name)] for field in fields(kind)})
