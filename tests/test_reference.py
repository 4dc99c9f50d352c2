"""Image references against the distribution/reference grammar (image-specs.md §5)."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from runtime_images.reference import (
    REFERENCE_PATTERN,
    InvalidReferenceError,
    Reference,
    normalise_mirrors,
    parse,
    rewrite_for_mirror,
    unpinned_warning,
)

path_components = st.from_regex(r"\A[a-z0-9]{1,8}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,8}){0,3}\Z")
plain_components = st.from_regex(r"\A[a-z0-9]{1,8}(?:(?:_|__|-{1,3})[a-z0-9]{1,8}){0,3}\Z")
hosts = st.one_of(
    st.sampled_from(
        ["localhost", "quay.io", "127.0.0.1", "[::1]", "[fe80::1]", "my-registry.example.com"]
    ),
    st.from_regex(r"\A[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?\.[a-z]{2,6}\Z"),
)
ports = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
tags = st.one_of(st.none(), st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}\Z"))
digests = st.one_of(st.none(), st.from_regex(r"\A[a-f0-9]{64}\Z").map(lambda h: f"sha256:{h}"))


@st.composite
def references(draw: st.DrawFn) -> tuple[str, str | None, str, str | None, str | None]:
    """A valid reference string with its expected (domain or None, path, tag, digest)."""
    with_domain = draw(st.booleans())
    first = draw(path_components if with_domain else plain_components)
    rest = draw(st.lists(path_components, max_size=3))
    path = "/".join([first, *rest])
    domain = draw(hosts) + draw(ports) if with_domain else None
    tag, digest = draw(tags), draw(digests)
    text = (f"{domain}/" if domain else "") + path
    text += (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return text, domain, path, tag, digest


@given(references())
@example(("localhost:5000/foo/bar:v1", "localhost:5000", "foo/bar", "v1", None))
def test_valid_references_parse_and_round_trip(
    case: tuple[str, str | None, str, str | None, str | None],
) -> None:
    text, domain, path, tag, digest = case
    assume(not re.fullmatch(r"[a-f0-9]{64}", text))
    ref = parse(text)
    assert (ref.tag, ref.digest) == (tag, digest)
    if domain is not None and domain != "index.docker.io":
        assert (ref.domain, ref.path) == (domain, path)
    elif domain is None:
        assert ref.domain == "docker.io"
        assert ref.path == (path if "/" in path else f"library/{path}")
    assert parse(str(ref)) == ref
    assert parse(ref.familiar()) == ref
    assert re.match(REFERENCE_PATTERN, str(ref), re.ASCII)


@given(references(), st.sampled_from(list(" !$%^&*()+=[]{}|;'\"<>?,\\\t")), st.data())
def test_a_foreign_character_is_rejected(
    case: tuple[str, str | None, str, str | None, str | None], bad: str, data: st.DataObject
) -> None:
    text = case[0]
    position = data.draw(st.integers(0, len(text)))
    with pytest.raises(InvalidReferenceError):
        parse(text[:position] + bad + text[position:])


@given(references())
def test_upper_case_repository_is_rejected_with_a_clear_message(
    case: tuple[str, str | None, str, str | None, str | None],
) -> None:
    text, domain, path, _tag, _digest = case
    assume(any(c.isalpha() for c in path))
    upper = (
        (f"{domain}/" if domain else "")
        + path.upper()
        + text[len(domain or "") + len(path) + bool(domain) :]
    )
    if domain is None and "/" in path:
        # An upper-case first component is read as a registry host, as docker does.
        upper = "example.com/" + upper
    with pytest.raises(InvalidReferenceError, match="must be lowercase"):
        parse(upper)


@given(st.text(max_size=80))
def test_arbitrary_text_either_parses_or_raises_invalid_reference(text: str) -> None:
    try:
        ref = parse(text)
    except InvalidReferenceError as error:
        assert str(error)
    else:
        assert isinstance(ref, Reference)
        assert re.match(REFERENCE_PATTERN, text, re.ASCII)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be empty"),
        (" ubuntu", "spaces"),
        ("ubuntu:" + "a" * 129, "128"),
        ("ubuntu:-bad", "invalid tag"),
        ("ubuntu@sha256:abc", "digest"),
        ("ubuntu@md5:" + "a" * 32, "unsupported digest algorithm"),
        ("ubuntu@sha256:" + "A" * 64, "lower-case"),
        ("a" * 64, "image ID"),
        ("foo//bar", "invalid reference format"),
        ("foo/bar/", "invalid reference format"),
        ("-foo/bar", "invalid reference format"),
        ("docker.io/" + "/".join(["a" * 50] * 6), "255"),
    ],
)
def test_invalid_references_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidReferenceError, match=message):
        parse(text)


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "familiar"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", None, "ubuntu"),
        ("acme/data-sci-py:2.0", "docker.io", "acme/data-sci-py", "2.0", "acme/data-sci-py:2.0"),
        (
            "localhost:5000/foo/bar:v1",
            "localhost:5000",
            "foo/bar",
            "v1",
            "localhost:5000/foo/bar:v1",
        ),
        ("index.docker.io/library/ubuntu", "docker.io", "library/ubuntu", None, "ubuntu"),
        ("docker.io/ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", "ubuntu:22.04"),
        ("localhost/foo", "localhost", "foo", None, "localhost/foo"),
        ("Example.com/foo", "Example.com", "foo", None, "Example.com/foo"),
        ("quay.io/org/img:1", "quay.io", "org/img", "1", "quay.io/org/img:1"),
    ],
)
def test_normalisation_examples(
    text: str, domain: str, path: str, tag: str | None, familiar: str
) -> None:
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag) == (domain, path, tag)
    assert ref.familiar() == familiar
    assert ref.for_pull() == (tag or "latest")


MIRRORS = normalise_mirrors(
    {
        "docker.io": "mirror.local:5000/dockerhub",
        "index.docker.io/library": "mirror.local:5000/official",
        "quay.io/org": "127.0.0.1:5001",
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu:22.04", "mirror.local:5000/official/ubuntu:22.04"),
        ("acme/tool", "mirror.local:5000/dockerhub/acme/tool"),
        ("quay.io/org/img@sha256:" + "a" * 64, "127.0.0.1:5001/img@sha256:" + "a" * 64),
        ("quay.io/organisation/img", "quay.io/organisation/img"),
        ("ghcr.io/x/y:1", "ghcr.io/x/y:1"),
    ],
)
def test_mirror_rewriting_longest_prefix_on_component_boundaries(text: str, expected: str) -> None:
    assert str(rewrite_for_mirror(parse(text), MIRRORS)) == expected


def test_quay_org_repository_itself_maps_to_mirror_root_is_refused() -> None:
    # "quay.io/org" as a whole repository would become a bare host: refuse, do not guess.
    rules = normalise_mirrors({"quay.io/org": "127.0.0.1:5001"})
    with pytest.raises(InvalidReferenceError, match="invalid repository"):
        rewrite_for_mirror(Reference("quay.io", "org"), rules)


@pytest.mark.parametrize(
    "rules",
    [{"library": "mirror.local"}, {"docker.io": "mirror"}, {"docker.io": "mirror.local/UP"}],
)
def test_bad_mirror_rules_are_refused(rules: dict[str, str]) -> None:
    with pytest.raises(InvalidReferenceError, match="mirror"):
        normalise_mirrors(rules)


@pytest.mark.parametrize(
    ("text", "warns"),
    [
        ("ubuntu", True),
        ("ubuntu:latest", True),
        ("ubuntu:22.04", False),
        ("ubuntu@sha256:" + "a" * 64, False),
        ("ubuntu:latest@sha256:" + "a" * 64, False),
    ],
)
def test_unpinned_warning(text: str, warns: bool) -> None:
    warning = unpinned_warning(text)
    assert (warning is not None) == warns
    if warning:
        assert "ubuntu" in warning and "digest" in warning
