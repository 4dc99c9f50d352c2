"""The exports' YAML writer: what PyYAML reads back is what was written, for any string."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime_images.exports.yamltext import dump, dump_all, scalar

# Strings the YAML 1.1 resolver or the syntax would misread if written plain.
TRICKY = [
    "",
    "true",
    "No",
    "ON",
    "null",
    "~",
    "12",
    "3.11",
    "1e3",
    ".inf",
    "0x1F",
    "1:20",
    "2024-01-01",
    "- item",
    "key: value",
    "# comment",
    "[1, 2]",
    '{"a": 1}',
    "a #b",
    "&anchor",
    "*alias",
    "!tag",
    "|",
    ">",
    "@",
    "`",
    "%YAML",
    "---",
    "...",
    " leading",
    "trailing ",
    "line\nbreak",
    "tab\there",
    'quote"s and \\ back',
    "é ü 中文 😀",
    "\x00\x07\x1b\x7f\x85\x9f\u2028\ufeff\ufffe",
    "\ud83d",  # a lone surrogate
    "registry.example.com:5000/team/img:1.0@sha256:" + "a" * 64,
]

documents = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_strings_read_back_as_themselves(text: str) -> None:
    document = {text: [text, {text: text}], "k": text}
    assert yaml.safe_load(dump(document)) == document


@given(documents)
@settings(max_examples=300, deadline=None)
def test_any_document_reads_back(document: Any) -> None:
    assert yaml.safe_load(dump(document)) == document


def test_many_documents_and_readable_kubernetes_keys() -> None:
    text = dump_all([{"kind": "ImageStream", "spec": {"tags": [{"name": "1.0"}]}}, {"a": []}])
    assert list(yaml.safe_load_all(text)) == [
        {"kind": "ImageStream", "spec": {"tags": [{"name": "1.0"}]}},
        {"a": []},
    ]
    assert "kind: ImageStream\n" in text and 'name: "1.0"' in text
    assert scalar("opendatahub.io/notebook-image") == "opendatahub.io/notebook-image"
