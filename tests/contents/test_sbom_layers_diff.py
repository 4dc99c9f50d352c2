"""SBOMs validated by the formats' own libraries, layer statistics, diffs and the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.json import json_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from runtime_images.contents.cache import ContentsCache
from runtime_images.contents.compare import diff_documents, layers_document
from runtime_images.contents.sbom import UnknownFormat, make_sbom
from tests.contents.support import ContentsOf, push, read
from tests.fixtures import images, oci
from tests.fixtures import packages as fixtures
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def environments_document(contents_of: ContentsOf) -> dict[str, object]:
    _before, after = fixtures.debian_with_removal()
    image = fixtures.python_environments()
    # One image with every kind: dpkg (with declared licences), conda and Python.
    layers = [*after.layers, *image.layers[1:]]
    return contents_of(oci.make_image(layers))


def test_cyclonedx_is_valid_and_describes_the_image(
    environments_document: dict[str, object],
) -> None:
    document = environments_document
    bom = make_sbom(document, "cyclonedx-json")
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom))
    assert errors is None, errors
    subject = bom["metadata"]["component"]
    image = document["image"]
    assert isinstance(image, dict)
    assert subject["type"] == "container" and subject["version"] == image["digest"]
    assert subject["purl"].startswith("pkg:oci/")
    assert len(bom["components"]) == len(document["packages"])  # type: ignore[arg-type]
    libc = next(c for c in bom["components"] if c["name"] == "libc6")
    assert libc["licenses"] == [{"license": {"name": "LGPL-2.1+"}}]
    properties = {p["name"]: p["value"] for p in libc["properties"]}
    assert properties["runtime-images:layer"] == "1"
    assert properties["runtime-images:environment"] == "/"


def test_spdx_is_valid_and_describes_the_image(
    environments_document: dict[str, object], tmp_path: Path
) -> None:
    document = environments_document
    sbom = make_sbom(document, "spdx-json")
    path = tmp_path / "image.spdx.json"
    path.write_text(json.dumps(sbom))
    parsed = json_parser.parse_from_file(str(path))
    assert validate_full_spdx_document(parsed, "SPDX-2.3") == []
    assert len(parsed.packages) == len(document["packages"]) + 1  # type: ignore[arg-type]
    purls = {ref.locator for p in parsed.packages for ref in p.external_references}
    assert "pkg:pypi/requests@2.31.0" in purls
    declared = {p.name: str(p.license_declared) for p in parsed.packages}
    assert declared["libc6"].startswith("LicenseRef-")
    extracted = {info.license_id: info.extracted_text for info in parsed.extracted_licensing_info}
    assert extracted[declared["libc6"]] == "LGPL-2.1+"


def test_an_unknown_sbom_format_names_the_field(environments_document: dict[str, object]) -> None:
    with pytest.raises(UnknownFormat) as raised:
        make_sbom(environments_document, "swid")
    assert raised.value.errors[0].path == "format"


def test_wasted_bytes_are_counted_once_per_dead_copy(contents_of: ContentsOf) -> None:
    """A file written three times wastes the two copies under the live one (dive counts the
    live one too); a deleted file wastes its one copy, charged to the layer that holds it."""
    image = oci.make_image(
        [
            fixtures.layer_of({"data/x": 1000, "data/y": 500, "data/z": 10}),
            fixtures.layer_of({"data/x": 2000}),
            fixtures.layer_of({"data/x": 3000, "data/y": None}),
        ]
    )
    document = contents_of(image)
    answer = layers_document(document)
    layers = answer["layers"]
    assert [layer["wasted_bytes"] for layer in layers] == [1500, 2000, 0]
    assert answer["total"]["wasted_bytes"] == 3500
    assert [(x["added"], x["changed"], x["removed"]) for x in layers] == [
        (3, 0, 0),
        (0, 1, 0),
        (0, 1, 1),
    ]
    assert layers[0]["largest_files"][0] == {"path": "/data/x", "size": 1000}
    assert layers[0]["largest_dirs"][0] == {"path": "/data", "size": 1510}
    assert layers[2]["uncompressed_size"] > 3000
    assert [x["created_by"] for x in layers] == ["tests/fixtures/oci.py"] * 3
    assert sum(x["compressed_size"] for x in layers) == answer["total"]["compressed"]


def test_diff_of_two_builds_shows_exactly_the_changed_packages(contents_of: ContentsOf) -> None:
    base = images.base_layer()
    a_image = oci.make_image(
        [base, images.python_packages_layer({"attrs": "23.1.0", "six": "1.16.0"})],
        oci.ImageConfig(user="1000", env=["A=1", "PATH=/usr/bin"]),
    )
    b_image = oci.make_image(
        [base, images.python_packages_layer({"attrs": "24.2.0", "idna": "3.7"})],
        oci.ImageConfig(user="1001", env=["A=2", "PATH=/usr/bin"]),
    )
    a = contents_of(a_image, "a")
    b = contents_of(b_image, "b")
    answer = diff_documents(a, b, ["elyra"])
    packages = answer["packages"]
    assert [(p["name"], p["version"]) for p in packages["added"]] == [("idna", "3.7")]
    assert [(p["name"], p["version"]) for p in packages["removed"]] == [("six", "1.16.0")]
    assert packages["changed"] == [
        {
            "ecosystem": "pypi",
            "environment": "/usr/local",
            "name": "attrs",
            "architecture": None,
            "a": "23.1.0",
            "b": "24.2.0",
        }
    ]
    assert answer["config"] == [
        {"field": "user", "a": "1000", "b": "1001"},
        {"field": "env.A", "a": "1", "b": "2"},
    ]
    shared = [layer for layer in answer["size"]["layers"] if layer["shared"]]
    assert [(x["a"], x["b"]) for x in shared] == [(0, 0)]
    assert len(answer["size"]["layers"]) == 3
    assert answer["checks"][0]["profile"] == "elyra" and answer["checks"][0]["a"]
    itself = diff_documents(a, a, ["elyra"])
    assert itself["packages"] == {"added": [], "removed": [], "changed": []}
    assert itself["config"] == [] and all(x["shared"] for x in itself["size"]["layers"])


def test_the_cache_reads_a_digest_once(
    logged_registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    image = images.odh_ok()
    ref = push(logged_registry, repo_name, image)
    other_tag = push(logged_registry, repo_name, image, "other")
    first = read(ref, tmp_path / "cache")
    blob_reads = [r.target for r in logged_registry.requests() if "/blobs/sha256:" in r.target]
    assert blob_reads
    second = read(other_tag, tmp_path / "cache")
    later = [r.target for r in logged_registry.requests() if "/blobs/sha256:" in r.target]
    # The second reading fetched the config (to resolve) but no layer.
    layer_digests = {layer.blob.digest for layer in image.layers}
    new = later[len(blob_reads) :]
    assert not any(digest in request for request in new for digest in layer_digests), new
    assert second["image"]["reference"] == other_tag and first["image"]["reference"] == ref
    assert second["packages"] == first["packages"]
    files = list((tmp_path / "cache").iterdir())
    assert [f.name for f in files] == [
        f"{first['image']['digest'].replace(':', '-')}-linux-amd64.json"
    ]


def test_a_corrupt_or_foreign_cache_file_is_a_miss(
    registry: RegistryServer, repo_name: str, isolated_home: Path, tmp_path: Path
) -> None:
    ref = push(registry, repo_name, images.odh_ok())
    first = read(ref, tmp_path / "cache")
    cache = ContentsCache(tmp_path / "cache", 1 << 30)
    digest = first["image"]["digest"]
    path = cache.path(digest, "linux/amd64")
    path.write_text("{not json")
    assert cache.get(digest, "linux/amd64") is None
    # Another image's document under this digest's name is not served for it either.
    path.write_text(
        json.dumps({**first, "image": {**first["image"], "digest": "sha256:" + "0" * 64}})
    )
    assert cache.get(digest, "linux/amd64") is None
    again = read(ref, tmp_path / "cache")
    assert again["packages"] == first["packages"]
    assert cache.get(digest, "linux/amd64") is not None  # rewritten


def test_the_cache_keeps_to_its_byte_budget(tmp_path: Path) -> None:
    cache = ContentsCache(tmp_path, 3000)
    document = {"image": {"digest": ""}, "padding": "x" * 1000}
    for number in range(5):
        digest = f"sha256:{number:064d}"
        cache.put(digest, "linux/amd64", {**document, "image": {"digest": digest}})
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == 2 and kept[-1].startswith("sha256-" + "0" * 63 + "4")
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= 3000
    too_big = {"image": {"digest": "sha256:" + "9" * 64}, "padding": "x" * 5000}
    cache.put("sha256:" + "9" * 64, "linux/amd64", too_big)
    assert cache.get("sha256:" + "9" * 64, "linux/amd64") is None
