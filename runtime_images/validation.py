"""Validation of runtime image documents against ``schemas/runtime-image.json``.

jsonschema does the structural work; this module adds the checks a regular expression
cannot express well (the image reference grammar, with its own error messages) and turns
every error into a :class:`FieldError` naming the field, so callers report *all* problems
at once (Elyra reports only the first, without a path).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from . import reference
from .fields import FieldError
from .schemas import schema_path

SCHEMA_NAME = "runtime-image"
STORED_KEYS = ("display_name", "metadata", "schema_name")
"""The top-level keys of an instance file (Elyra's format); ``name`` is the file name."""

API_READ_ONLY_KEYS = ("name", "origin", "local", "warnings")
"""Keys the API adds to an instance; accepted in request bodies and not stored."""


@cache
def load_schema(name: str = SCHEMA_NAME) -> dict[str, Any]:
    """Return a JSON Schema shipped in ``runtime_images/schemas``."""
    text = schema_path(f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _format_checker() -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("image-reference", raises=reference.InvalidReferenceError)
    def _is_reference(value: object) -> bool:
        if isinstance(value, str):
            reference.parse(value)
        return True

    return checker


@cache
def compiled_validator(name: str = SCHEMA_NAME) -> Any:
    """A jsonschema validator for a shipped schema, with the ``image-reference`` format."""
    import jsonschema

    return jsonschema.Draft7Validator(load_schema(name), format_checker=_format_checker())


_FRIENDLY_PATTERN_MESSAGES = {
    "name": "must start with a lower-case letter and contain only lower-case letters, "
    "digits, '-' and '_', ending with a letter or digit",
    "display_name": "must not be blank",
    "metadata.pull_secret": "must be a Kubernetes secret name (DNS-1123 subdomain): "
    "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
    "metadata.tags": "tags must not be blank or start or end with spaces",
    "metadata.name": "must be a DNS-1123 label starting with a letter: lower-case letters, "
    "digits and '-', at most 63 characters",
    "spec.imagePullSecret.name": "must be a Kubernetes secret name (DNS-1123 subdomain)",
}


def _path_of(error: Any) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def _message_of(error: Any, path: str) -> str:
    validator = error.validator
    if validator == "format" and error.cause is not None:
        return str(error.cause)
    if validator == "pattern":
        key = "metadata.tags" if path.startswith("metadata.tags.") else path
        return _FRIENDLY_PATTERN_MESSAGES.get(key, "has an invalid format")
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"'{missing}' is required"
    if validator == "type":
        return f"must be of type {error.validator_value}"
    if validator == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        return f"must be one of: {options}"
    if validator == "const":
        return f"must be {error.validator_value!r}"
    if validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed", "unknown field")
    if validator == "minItems" and error.validator_value == 1:
        return "must not be empty"
    if validator == "uniqueItems":
        return "must not contain duplicates"
    if validator == "minLength" and error.validator_value == 1:
        return "must not be empty"
    if validator == "maxLength":
        return f"must be at most {error.validator_value} characters"
    if validator == "maxItems":
        return f"must have at most {error.validator_value} items"
    return str(error.message)


def schema_errors(document: object) -> list[FieldError]:
    """Every problem the runtime-image schema finds in ``document``, each naming its field."""
    return json_schema_errors(compiled_validator(SCHEMA_NAME), document)


def json_schema_errors(validator: Any, document: object) -> list[FieldError]:
    """Every problem ``validator`` finds in ``document``, each naming its field."""
    found: list[tuple[str, str, str]] = []  # (path, keyword, message)
    for error in validator.iter_errors(document):
        path = _path_of(error)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = f"{path}.{missing}" if path and missing else (missing or path)
        found.append((path, str(error.validator), _message_of(error, path)))
    # An empty or badly formatted value also fails its format and pattern: say it once,
    # with the most specific message.
    precedence = ("minLength", "format", "pattern")
    best: dict[str, int] = {}
    for path, keyword, _ in found:
        if keyword in precedence:
            best[path] = min(best.get(path, 99), precedence.index(keyword))
    return _unique_sorted(
        FieldError(path, message)
        for path, keyword, message in found
        if keyword not in precedence or precedence.index(keyword) == best[path]
    )


def _unique_sorted(errors: Iterable[FieldError]) -> list[FieldError]:
    return sorted(set(errors), key=lambda e: (e.path, e.message))


def validate_stored(document: object) -> list[FieldError]:
    """Check a document read from disk: the schema only (files may carry extra keys)."""
    if not isinstance(document, Mapping):
        return [FieldError("", "the file must contain a JSON object")]
    return schema_errors(document)


def validate_for_write(document: object) -> list[FieldError]:
    """Check a document about to be written: the schema plus no unknown top-level keys.

    Unknown *metadata* keys are kept (Elyra does too); an unknown top-level key would be
    dropped by Elyra's file format, so it is refused rather than silently lost.
    """
    if not isinstance(document, Mapping):
        return [FieldError("", "the body must be a JSON object")]
    errors = schema_errors(document)
    allowed = set(STORED_KEYS) | set(API_READ_ONLY_KEYS)
    errors.extend(
        FieldError(str(key), "is not a runtime image field")
        for key in document
        if key not in allowed
    )
    return _unique_sorted(errors)
