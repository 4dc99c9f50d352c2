"""The one digest parser: the OCI grammar, registered algorithms, exact encodings."""

from __future__ import annotations

import hashlib

import pytest

from runtime_images.digest import InvalidDigestError, compute_digest, parse_digest

SHA256 = hashlib.sha256(b"x").hexdigest()
SHA512 = hashlib.sha512(b"x").hexdigest()


@pytest.mark.parametrize(
    "value",
    [
        f"sha256:{SHA256}",
        f"sha512:{SHA512}",
        f"sha384:{hashlib.sha384(b'x').hexdigest()}",
    ],
)
def test_valid_digests_parse_to_their_parts(value: str) -> None:
    digest = parse_digest(value)
    assert str(digest) == value
    assert digest.algorithm == value.split(":")[0] and digest.encoded == value.split(":")[1]
    assert f"{digest.algorithm}:{digest.hasher().hexdigest()}" == compute_digest(
        b"", digest.algorithm
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("sha256:../../../../etc/passwd", "is not a digest"),
        ("sha256:" + SHA256[:-2] + "/.", "is not a digest"),
        ("../sha256:" + SHA256, "is not a digest"),
        ("sha256:" + SHA256.upper(), "expected 64 lower-case hexadecimal"),
        ("sha256:" + SHA256[:-1], "expected 64 lower-case hexadecimal"),
        ("sha256:" + SHA256 + "0", "expected 64 lower-case hexadecimal"),
        ("sha512:" + SHA256, "expected 128 lower-case hexadecimal"),
        ("sha256:" + "g" * 64, "expected 64 lower-case hexadecimal"),
        ("md5:" + "a" * 32, "unsupported digest algorithm 'md5'"),
        ("blake3:" + "a" * 64, "unsupported digest algorithm 'blake3'"),
        ("SHA256:" + SHA256, "is not a digest"),
        (SHA256, "is not a digest"),
        ("", "is not a digest"),
        ("sha256:" + "a" * 10_000, "is not a digest"),
        ("sha256:" + SHA256 + "\n", "is not a digest"),
    ],
)
def test_invalid_digests_are_refused_saying_why(value: str, message: str) -> None:
    with pytest.raises(InvalidDigestError, match=message) as info:
        parse_digest(value)
    assert len(str(info.value)) < 300, "a hostile value is never echoed whole"


@pytest.mark.parametrize("value", [None, 7, b"sha256:" + SHA256.encode(), ["sha256:x"]])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidDigestError, match="must be a string"):
        parse_digest(value)
