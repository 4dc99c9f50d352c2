"""Hostile request bodies and files get a 4xx naming the field, and leave every listing valid JSON.

Each body below was once accepted (stored as ``Infinity``, breaking ``GET images`` for
everyone), or answered with a 500. Answers are parsed with a JSON parser that refuses
``NaN``/``Infinity``, as a browser's ``JSON.parse`` does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ..support import VALID_IMAGE, Fetch, rest, write_instance
from ..test_documents import BILLION_LAUGHS

HOSTILE_VALUES = {
    "overflowing float": "1e999",
    "NaN": "NaN",
    "lone surrogate": '"\\ud800"',
    "nesting of 500": "[" * 500 + "]" * 500,
    "nesting of 5000": "[" * 5000 + "]" * 5000,
    "4,400-digit integer": "1" * 4400,
}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {
        **jp_server_config,
        "RuntimeImageStore": {"max_file_bytes": 4096},
        "BuildController": {"builds_dir": str(tmp_path / "builds")},
    }


async def send(fetch: Fetch, method: str, *parts: str, body: str | None = None, **kw: Any) -> Any:
    code, _, answer = await rest(fetch, method, *parts, body=body, **kw)
    return code, answer


def image_body(hostile: str) -> str:
    metadata = json.dumps(VALID_IMAGE["metadata"])[:-1] + f', "extra": {hostile}' + "}"
    return f'{{"display_name": "Hostile", "schema_name": "runtime-image", "metadata": {metadata}}}'


async def assert_listing_is_json(fetch: Fetch, expected: int) -> None:
    code, listing = await send(fetch, "GET", "images")
    assert code == 200
    assert len(listing["runtime-images"]) == expected


@pytest.mark.parametrize("kind", list(HOSTILE_VALUES))
async def test_a_hostile_value_is_refused_on_every_write(jp_fetch: Fetch, kind: str) -> None:
    before_code, before = await send(jp_fetch, "GET", "images")
    body = image_body(HOSTILE_VALUES[kind])
    code, answer = await send(jp_fetch, "POST", "images", body=body)
    assert code == 400, answer
    assert answer["errors"], answer
    code, _ = await send(jp_fetch, "POST", "images", body=json.dumps(VALID_IMAGE))
    assert code == 201
    for method in ("PUT", "PATCH"):
        code, answer = await send(jp_fetch, method, "images", "my_image_1", body=body)
        assert code == 400, (method, answer)
    code, answer = await send(jp_fetch, "POST", "import", body=f'{{"runtime-images": [{body}]}}')
    assert code == 400, answer
    await assert_listing_is_json(jp_fetch, len(before["runtime-images"]) + 1)
    assert before_code == 200


async def test_the_error_names_the_field(jp_fetch: Fetch) -> None:
    code, answer = await send(jp_fetch, "POST", "images", body=image_body('"\\udc00"'))
    assert code == 400
    assert answer["errors"] == [
        {
            "path": "metadata.extra",
            "message": "a string contains a lone surrogate (\\ud800-\\udfff), which is not text",
        }
    ]


async def test_a_patch_that_would_outgrow_the_file_limit_is_413_and_writes_nothing(
    jp_fetch: Fetch, jp_data_dir: Path
) -> None:
    await send(jp_fetch, "POST", "images", body=json.dumps(VALID_IMAGE))
    path = jp_data_dir / "metadata" / "runtime-images" / "my_image_1.json"
    before = path.read_bytes()
    patch = json.dumps({"metadata": {"description": "x" * 5000}})
    code, answer = await send(jp_fetch, "PATCH", "images", "my_image_1", body=patch)
    assert code == 413, answer
    assert "RuntimeImageStore.max_file_bytes" in answer["message"]
    assert path.read_bytes() == before
    code, _ = await send(jp_fetch, "GET", "images", "my_image_1")
    assert code == 200  # still valid, not "over max_file_bytes"


async def test_files_with_non_standard_json_are_listed_as_invalid(
    jp_fetch: Fetch, jp_data_dir: Path
) -> None:
    directory = jp_data_dir / "metadata" / "runtime-images"
    good = json.dumps(VALID_IMAGE)
    write_instance(directory, "infinite", good[:-1] + ', "x": Infinity}')
    write_instance(directory, "surrogate", good.replace("My Image 1", "\\ud800"))
    code, listing = await send(jp_fetch, "GET", "images", params={"include_invalid": "true"})
    assert code == 200
    reasons = {entry["name"]: entry["reason"] for entry in listing["invalid"]}
    assert "Infinity is not a JSON value" in reasons["infinite"]
    assert "lone surrogate" in reasons["surrogate"]


async def test_a_yaml_alias_bomb_build_is_refused_at_once(jp_fetch: Fetch, tmp_path: Path) -> None:
    started = time.monotonic()
    code, answer = await send(jp_fetch, "POST", "builds", body=BILLION_LAUGHS)
    assert code == 400, answer
    assert "aliases expanded" in answer["message"]
    assert time.monotonic() - started < 2
    assert not list((tmp_path / "builds").glob("*.json"))
    code, listing = await send(jp_fetch, "GET", "builds")
    assert (code, listing) == (200, {"builds": []})


@pytest.mark.parametrize("kind", ["NaN", "lone surrogate", "nesting of 5000"])
async def test_a_build_with_a_hostile_value_is_refused(jp_fetch: Fetch, kind: str) -> None:
    body = (
        '{"apiVersion": "meteor.zone/v1alpha1", "kind": "CustomNBImage", '
        f'"metadata": {{"name": "x", "labels": {{"a": {HOSTILE_VALUES[kind]}}}}}, '
        '"spec": {"buildType": "ImageImport", "fromImage": "quay.io/a/b:1"}}'
    )
    code, answer = await send(jp_fetch, "POST", "builds", body=body)
    assert code == 400, answer


async def test_a_build_file_with_nan_on_disk_does_not_break_the_listing(
    jp_fetch: Fetch, tmp_path: Path
) -> None:
    builds = tmp_path / "builds"
    builds.mkdir()
    (builds / "bad.json").write_text('{"metadata": {"name": "bad"}, "status": {"x": NaN}}')
    code, listing = await send(jp_fetch, "GET", "builds")
    assert (code, listing) == (200, {"builds": []})
    code, _ = await send(jp_fetch, "GET", "builds", "bad")
    assert code == 404
