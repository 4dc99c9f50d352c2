"""Version order by each ecosystem's rules, with the cases that trip naive comparisons,
and the OSV range evaluation built on it."""

from __future__ import annotations

import pytest

from runtime_images.vulns.osv import Affected, Range
from runtime_images.vulns.ranges import evaluate
from runtime_images.vulns.versions import UnknownVersion, family_of, parse_version

ASCENDING = {
    "dpkg": [
        # ~ sorts before anything, even the end of the string; ~~ before ~.
        ["1.0~~rc1", "1.0~rc1", "1.0", "1.0-1~bpo12+1", "1.0-1", "1.0-1+deb12u1", "1.0+b1"],
        # The epoch wins over everything, and 0: is no epoch.
        ["2.38.1-5", "0:2.38.2-1", "1:1.0-1", "2:0.1-1"],
        # Letters sort before non-letters; digits compare as numbers.
        ["1.0a", "1.0+dfsg", "1.2", "1.10"],
        ["2.36-9", "2.36-9+deb12u1", "2.36-9+deb12u10", "2.36-10"],
    ],
    "rpm": [
        # Releases compare after versions; el9_2 is newer than el9.
        ["1.2.3-1.el9", "1.2.3-1.el9_2", "1.2.3-2.el9", "1.2.4-1.el9"],
        # ~ is a pre-release, ^ a post-release snapshot.
        ["1.0~rc1-1", "1.0-1", "1.0^20230101-1", "1.0.1-1"],
        ["3.0.7-24.el9", "1:3.0.1-1.el9", "2:1.0-1"],
        ["1.0a-1", "1.0.1-1", "1.10-1"],
    ],
    "apk": [
        ["1.2.3_alpha1", "1.2.3_beta1", "1.2.3_pre1", "1.2.3_rc1", "1.2.3", "1.2.3_p1"],
        ["1.2.3-r0", "1.2.3-r1", "1.2.3-r10", "1.2.4-r0"],
        ["1.2", "1.2a", "1.2.1", "1.10"],
    ],
    "pep440": [
        [
            "1.0.dev1",
            "1.0a1",
            "1.0a2.dev1",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0.post1.dev1",
            "1.0.post1",
        ],
        ["1.0", "1.0+local.1", "1.0.1"],
        ["2.0", "1!0.5"],  # the epoch
        ["1.0", "1.9", "1.10"],
    ],
}


@pytest.mark.parametrize(
    ("family", "versions"),
    [(family, chain) for family, chains in ASCENDING.items() for chain in chains],
)
def test_versions_sort_by_their_ecosystems_rules(family: str, versions: list[str]) -> None:
    keys = [parse_version(family, v) for v in versions]
    for lower, higher, a, b in zip(keys, keys[1:], versions, versions[1:], strict=False):
        assert lower < higher, f"{a} < {b} under {family}"


@pytest.mark.parametrize(
    ("family", "a", "b"),
    [
        ("dpkg", "0:1.0-1", "1.0-1"),
        ("rpm", "0:1.2-3.el9", "1.2-3.el9"),
        ("pep440", "1.0", "1.0.0"),
        ("pep440", "1.0RC1", "1.0rc1"),
    ],
)
def test_equal_spellings(family: str, a: str, b: str) -> None:
    assert parse_version(family, a) == parse_version(family, b)


def test_a_version_no_rule_reads_is_unknown() -> None:
    with pytest.raises(UnknownVersion):
        parse_version("pep440", "not a version")
    with pytest.raises(UnknownVersion):
        parse_version("dpkg", "not-a-number")


def test_ecosystems_pick_their_rules() -> None:
    assert family_of("Debian:12") == family_of("Ubuntu:22.04:LTS") == "dpkg"
    assert family_of("Alpine:v3.19") == "apk"
    assert family_of("Rocky Linux:9") == family_of("Red Hat:enterprise_linux:9::baseos") == "rpm"
    assert family_of("PyPI") == "pep440"
    assert family_of("PyPI", "SEMVER") == "semver"
    assert family_of("npm") is None


def affected(ecosystem: str, *events: tuple[str, str], versions: tuple[str, ...] = ()) -> Affected:
    return Affected(ecosystem, "pkg", (Range("ECOSYSTEM", tuple(events)),), versions)


def test_ranges_follow_the_osv_evaluation() -> None:
    rng = affected("Debian:12", ("introduced", "0"), ("fixed", "2.36-9+deb12u4"))
    assert evaluate(rng, "2.36-9+deb12u3").affected
    assert evaluate(rng, "2.36-9+deb12u3").fixed == "2.36-9+deb12u4"
    assert not evaluate(rng, "2.36-9+deb12u4").affected
    assert not evaluate(rng, "2.36-9+deb12u10").affected  # u10 > u4 numerically
    # ~ backports sort below the release they backport.
    assert evaluate(rng, "2.36-9+deb12u4~bpo1").affected

    # last_affected covers the version itself.
    last = affected("PyPI", ("introduced", "1.0"), ("last_affected", "1.4"))
    assert evaluate(last, "1.4").affected and not evaluate(last, "1.4.post1").affected
    assert not evaluate(last, "1.0rc1").affected
    assert evaluate(last, "1.4").fixed is None

    # Two introduced/fixed pairs: the fix offered is the one above the installed version.
    two = affected(
        "Alpine:v3.19",
        ("introduced", "1.0-r0"),
        ("fixed", "1.2-r0"),
        ("introduced", "2.0-r0"),
        ("fixed", "2.0_p1-r0"),
    )
    assert evaluate(two, "1.1-r3").fixed == "1.2-r0"
    assert not evaluate(two, "1.5-r0").affected
    assert evaluate(two, "2.0-r0").fixed == "2.0_p1-r0"

    # rpm epochs: 1:1.0 is newer than any epoch-less version.
    rpm = affected("Rocky Linux:9", ("introduced", "0"), ("fixed", "1:1.0-1.el9"))
    assert evaluate(rpm, "9.9-1.el9").affected
    assert not evaluate(rpm, "1:1.0-1.el9").affected

    # Listed versions are affected whatever the ranges say.
    listed = affected("PyPI", versions=("0.9",))
    assert evaluate(listed, "0.9").affected and not evaluate(listed, "1.0").affected
