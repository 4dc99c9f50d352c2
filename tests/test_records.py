"""camel_json: a record's fields under the API's camelCase names, values untouched."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from runtime_images.records import camel_case, camel_json, from_camel_json


@dataclass
class _Record:
    name: str
    python_version: str | None = None
    first_seen: dict[str, str] = field(default_factory=dict)


def test_names_are_camel_case() -> None:
    assert camel_case("name") == "name"
    assert camel_case("python_version") == "pythonVersion"
    assert camel_case("install_project_now") == "installProjectNow"


def test_every_field_in_order_with_the_records_own_values() -> None:
    record = _Record("a", "3.12", {"sha256:1": "2026-01-01"})
    document = camel_json(record)
    assert list(document) == ["name", "pythonVersion", "firstSeen"]
    assert document == {"name": "a", "pythonVersion": "3.12", "firstSeen": record.first_seen}
    assert document["firstSeen"] is record.first_seen  # not a copy, as asdict would make


def test_read_back_from_its_json() -> None:
    record = _Record("a", None, {"sha256:1": "2026-01-01"})
    assert from_camel_json(_Record, {**camel_json(record), "other": 1}) == record
    with pytest.raises(KeyError):
        from_camel_json(_Record, {"name": "a"})
