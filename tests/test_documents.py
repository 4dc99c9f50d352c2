"""The strict JSON/YAML boundary: what Python's json and PyYAML accept and the product must not."""

from __future__ import annotations

import json
import time

import pytest

from runtime_images.documents import (
    InvalidDocument,
    Limits,
    check_value,
    dumps,
    loads_json,
    loads_json_or_yaml,
    parse_count,
)
from runtime_images.errors import PayloadTooLargeError

BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def refused(text: str | bytes, yaml: bool = False) -> InvalidDocument:
    with pytest.raises(InvalidDocument) as info:
        if yaml:
            assert isinstance(text, str)
            loads_json_or_yaml(text)
        else:
            loads_json(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"x": NaN}', "NaN is not a JSON value"),
        ('{"x": -Infinity}', "-Infinity is not a JSON value"),
        ('{"x": 1e999}', "out of range"),  # Python's json gives inf
        ('{"x": 1' + "0" * 4400 + "}", "more than 32 digits"),
        ('{"x": "\\ud800"}', "lone surrogate"),
        ('{"\\udfff": 1}', "lone surrogate"),
        ("[" * 100 + "]" * 100, "nested deeper than 64 levels"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),  # RecursionError
        (b"\xff\xfe{}", "not UTF-8"),
        ("{'a': 1}", "not valid JSON"),
    ],
)
def test_json_that_is_not_plain_data_is_refused(text: str, problem: str) -> None:
    error = refused(text)
    assert problem in str(error)
    assert error.errors and problem in error.errors[0].message


def test_the_error_names_where_in_the_document() -> None:
    error = refused('{"metadata": {"tags": ["ok", "\\ud83d"]}}')
    assert error.errors[0].path == "metadata.tags.1"


def test_plain_json_round_trips() -> None:
    document = {"a": [1, 2.5, -3, True, None, "é\u2603"], "b": {"c": "x" * 1000}}
    assert loads_json(json.dumps(document)) == document
    assert json.loads(dumps(document)) == document


def test_the_billion_laughs_is_refused_quickly_without_expanding() -> None:
    started = time.monotonic()
    error = refused(BILLION_LAUGHS, yaml=True)
    assert "values (aliases expanded)" in str(error)
    assert time.monotonic() - started < 1.0


def test_aliases_beyond_the_budget_are_refused() -> None:
    text = "a: &x [1]\nb: [" + ", ".join(["*x"] * 101) + "]"
    assert "more than 100 YAML aliases" in str(refused(text, yaml=True))
    # A few aliases, as hand-written resources use them, are fine.
    assert loads_json_or_yaml("a: &x [1]\nb: *x") == {"a": [1], "b": [1]}


def test_a_recursive_alias_is_refused() -> None:
    assert "refers to itself" in str(refused("&a [*a]", yaml=True))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x: .inf", "finite"),
        ("x: .nan", "finite"),
        ("x: !!binary aGVsbG8=", "bytes is not JSON data"),
        ("x: !!set {a, b}", "not JSON data"),
        ("x: 0x" + "f" * 200, "more than 32 digits"),
        ("{1: a}", "keys must be strings"),
        ("x: " + "[" * 2000 + "]" * 2000, "nested deeper"),
        ("a: [unclosed", "neither JSON nor YAML"),
    ],
)
def test_yaml_that_is_not_plain_data_is_refused(text: str, problem: str) -> None:
    assert problem in str(refused(text, yaml=True))


def test_yaml_dates_stay_the_strings_they_were_written_as() -> None:
    value = loads_json_or_yaml("created: 2024-01-01T00:00:00Z\nday: 2024-01-02")
    assert value == {"created": "2024-01-01T00:00:00Z", "day": "2024-01-02"}


def test_json_breaking_a_rule_is_not_reread_as_yaml() -> None:
    # YAML would take 1e999 for the string "1e999".
    assert "out of range" in str(refused('{"x": 1e999}', yaml=True))


def test_limits_are_configurable() -> None:
    with pytest.raises(InvalidDocument, match="more than 5 values"):
        check_value(list(range(10)), limits=Limits(max_nodes=5))
    check_value(list(range(4)), limits=Limits(max_nodes=5))


def test_dumps_never_writes_nan() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"x": float("nan")})


def test_payload_too_large_names_the_setting() -> None:
    from runtime_images.documents import check_size

    with pytest.raises(PayloadTooLargeError, match=r"Some\.setting"):
        check_size(b"x" * 11, 10, "The thing", "Some.setting")
    check_size(b"x" * 10, 10, "The thing", "Some.setting")


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("0", 0),
        ("1000", 1000),
        (b"12288", 12288),
        ("9" * 18, 10**18 - 1),
        ("9" * 19, None),  # more digits than asked for
        ("9" * 5000, None),  # int() would refuse it (4,300 digits at most)
        ("²", None),  # str.isdigit() says yes, int() refuses
        ("١٢", None),  # Arabic-Indic digits: int() reads them, no file format writes them
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1_000", None),
    ],
)
def test_a_count_in_hostile_text_is_ascii_digits_or_none(
    text: str | bytes, count: int | None
) -> None:
    assert parse_count(text) == count
