from __future__ import annotations

from typing import Any

import pytest

from runtime_images.reference import REFERENCE_PATTERN
from runtime_images.validation import load_schema, validate_for_write, validate_stored


def doc(**metadata: Any) -> dict[str, Any]:
    return {
        "schema_name": "runtime-image",
        "display_name": "X",
        "metadata": {"image_name": "quay.io/a/b:1", **metadata},
    }


def paths(errors: list[Any]) -> list[str]:
    return [e.path for e in errors]


def test_schema_pattern_is_the_reference_grammar() -> None:
    image_name = load_schema()["properties"]["metadata"]["properties"]["image_name"]
    assert image_name["pattern"] == REFERENCE_PATTERN


@pytest.mark.parametrize(
    "image_name",
    [
        "jdoe/my-image:1.0.0",
        "quay.io/jdoe/my-image:1.0.0",
        "localhost:5000/foo/bar:v1",
        "tensorflow/tensorflow@sha256:" + "7c" * 32,
        "registry.example.com:8443/team/img:2.0@sha256:" + "ab" * 32,
        "ubuntu",
    ],
)
def test_valid_image_names(image_name: str) -> None:
    assert validate_for_write(doc(image_name=image_name)) == []


@pytest.mark.parametrize(
    ("image_name", "message"),
    [
        (" ", "spaces"),
        ("not a valid image !!", "spaces"),
        ("Jdoe/Img:1", "lowercase"),
        ("img@sha256:123", "digest"),
        ("img:" + "x" * 129, "128"),
        ("", "must not be empty"),
    ],
)
def test_invalid_image_names_say_why(image_name: str, message: str) -> None:
    errors = validate_for_write(doc(image_name=image_name))
    assert paths(errors) == ["metadata.image_name"]
    assert message in errors[0].message


def test_all_errors_are_reported_with_their_paths() -> None:
    document = doc(tags=[1, True, "a", "a", " b"], pull_secret="A_b", pull_policy="Sometimes")
    document["extra"] = 1
    assert paths(validate_for_write(document)) == [
        "extra",
        "metadata.pull_policy",
        "metadata.pull_secret",
        "metadata.tags",
        "metadata.tags.0",
        "metadata.tags.1",
        "metadata.tags.4",
    ]


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        ({"image_name": "quay.io/a/b:1\n"}, "metadata.image_name"),
        ({"pull_secret": "abc\n"}, "metadata.pull_secret"),
        ({"tags": ["gpu\n"]}, "metadata.tags.0"),
        ({"tags": ["\n"]}, "metadata.tags.0"),
        ({"tags": ["\u3000"]}, "metadata.tags.0"),
        ({"tags": ["a\x00b"]}, "metadata.tags.0"),
    ],
)
def test_a_trailing_newline_or_blank_text_is_refused(metadata: dict[str, Any], path: str) -> None:
    """Python's ``$`` matches before a final newline: every anchored rule must still refuse
    it, as JSON Schema's (ECMAScript) patterns do in the browser."""
    assert paths(validate_for_write(doc(**metadata))) == [path]


def test_tags_may_hold_inner_spaces() -> None:
    assert validate_for_write(doc(tags=["needs gpu", "日本語"])) == []


def test_one_character_pull_secret_is_valid() -> None:
    # Elyra rejects the valid Kubernetes name "a" (B8).
    assert validate_for_write(doc(pull_secret="a")) == []
    assert paths(validate_for_write(doc(pull_secret="a" * 254))) == ["metadata.pull_secret"]


def test_required_fields_are_named() -> None:
    errors = validate_for_write({"metadata": {}})
    assert paths(errors) == ["display_name", "metadata.image_name", "schema_name"]


def test_unknown_metadata_keys_are_allowed() -> None:
    assert validate_for_write(doc(custom_key={"x": 1})) == []


def test_stored_documents_may_carry_unknown_top_level_keys() -> None:
    document = doc()
    document["resource"] = "/somewhere/x.json"
    assert validate_stored(document) == []
    assert paths(validate_for_write(document)) == ["resource"]


def test_non_objects_are_rejected() -> None:
    assert paths(validate_for_write([1])) == [""]
    assert paths(validate_stored("x")) == [""]
