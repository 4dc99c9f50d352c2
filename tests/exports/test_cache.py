"""The facts cache: an export of images already inspected reads no registry, and a
cache file is input like any other (too large or not facts: ignored and rewritten)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime_images.exports import FactsCache, ImageFacts, Package, Packages
from runtime_images.registry import RegistryUnavailable
from tests.exports.catalogue import make_catalogue
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.timeout(90)


def test_a_second_export_needs_no_registry(
    own_registry: RegistryServer, repo_name: str, tmp_path: Path, isolated_home: Path
) -> None:
    catalogue = make_catalogue(own_registry, repo_name, tmp_path)
    first = catalogue.export("odh-imagestream", names=["elyra-runtime"])
    assert len(list(catalogue.facts_dir.glob("sha256-*--linux-amd64.json"))) == 1
    own_registry.stop()
    # Pinned and inspected: the same document, with the registry gone.
    assert catalogue.export("odh-imagestream", names=["elyra-runtime"]).text == first.text
    # A tag still has to be pinned, and says why it cannot be.
    with pytest.raises(RegistryUnavailable):
        catalogue.export("odh-imagestream", names=["odh_workbench"])


def test_a_hostile_cache_file_is_ignored_and_rewritten(
    registry: RegistryServer, repo_name: str, tmp_path: Path, isolated_home: Path
) -> None:
    catalogue = make_catalogue(registry, repo_name, tmp_path)
    expected = catalogue.export("odh-imagestream", names=["elyra-runtime"]).text
    (path,) = catalogue.facts_dir.glob("*.json")
    good = path.read_bytes()
    for hostile in (
        b"[1, 2",  # not JSON
        b"[" * 100_000 + b"]" * 100_000,  # deeper than json's recursion limit
        b'{"digest": "sha256:00", "platform": "linux/amd64"}',  # another image's facts
        json.dumps({**json.loads(good), "software": [{"name": 1}]}).encode(),
        good[:-1] + b" " * (5 << 20) + b"}",  # over max_facts_bytes (4 MiB)
    ):
        path.write_bytes(hostile)
        assert catalogue.export("odh-imagestream", names=["elyra-runtime"]).text == expected
        assert path.read_bytes() == good


def test_facts_round_trip_and_odd_digests_are_not_files(tmp_path: Path) -> None:
    cache = FactsCache(tmp_path, max_bytes=1 << 20)
    facts = ImageFacts(
        "sha256:" + "a" * 64,
        "linux/arm64/v8",
        [Package("Python", "3.12")],
        Packages.of([Package("six", "1.16.0"), Package("Jupyter_Server", "2.14")]),
        [],
    )
    cache.put(facts)
    assert FactsCache(tmp_path).get(facts.digest, "linux/arm64/v8") == facts
    assert cache.path("sha256:../../etc/passwd", "linux/amd64") is None
    assert cache.get("sha256:../../etc/passwd", "linux/amd64") is None
