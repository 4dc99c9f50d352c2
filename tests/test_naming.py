from __future__ import annotations

import pytest

from runtime_images.naming import derive_name, is_safe_file_name, is_valid_name, numbered


@pytest.mark.parametrize(
    ("display_name", "expected"),
    [
        # Elyra's observed derivations (elyra.md §1), with accents folded instead of dropped.
        ('1 teste "rápido"', "a_1_teste_rapido"),
        ("PyTorch 2.5.1 (with GPU support)", "pytorch_251_with_gpu_support"),
        ("-lead", "a_-lead"),
        ("trail-", "trail-_0"),
        ("Ünïcode", "unicode"),
        ("My Image 1", "my_image_1"),
    ],
)
def test_derive_name_follows_elyra(display_name: str, expected: str) -> None:
    assert derive_name(display_name) == expected


@pytest.mark.parametrize("display_name", ["日本語", "!!!", "   ", "-", "_"])
def test_derive_name_never_fails_on_unusable_display_names(display_name: str) -> None:
    name = derive_name(display_name)
    assert is_valid_name(name)
    assert name.startswith("runtime_image_")
    assert derive_name(display_name) == name  # stable
    assert derive_name(display_name + "?") != name


def test_derived_names_are_bounded_and_valid() -> None:
    name = derive_name("x" * 1000 + "-")
    assert is_valid_name(name)
    assert is_valid_name(numbered(name, 12345))


@pytest.mark.parametrize("name", ["ab,", "Ab", "a b", "1a", "a-", "", "a" * 201, "ab\n"])
def test_invalid_names(name: str) -> None:
    assert not is_valid_name(name)


@pytest.mark.parametrize("name", ["a", "ab", "a_b-c1", "tensorflow_2x_py3"])
def test_valid_names(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize(
    "name", ["..", "../x", "a/b", ".hidden", "a\x00b", "", "a\nb", "ab\n", "é" * 126, "日" * 84]
)
def test_unsafe_file_names(name: str) -> None:
    assert not is_safe_file_name(name)


def test_names_read_from_disk_need_not_follow_the_rule() -> None:
    assert is_safe_file_name("Hand-Made")
