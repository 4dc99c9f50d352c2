"""The CustomNBImage resource: the seed's examples are accepted, bad ones name the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from runtime_images.builds import model
from runtime_images.errors import ValidationFailedError

SEED_IMPORT = """
apiVersion: meteor.zone/v1alpha1
kind: CustomNBImage
metadata:
  name: s2i-minimal-py38-notebook
  annotations:
    opendatahub.io/notebook-image-name: s2i-minimal-py38-notebook
    opendatahub.io/notebook-image-desc: minimal notebook image for python 3.8
    opendatahub.io/notebook-image-creator: goern
spec:
  buildType: ImageImport
  fromImage: quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2
"""

ANNOTATIONS = {
    "opendatahub.io/notebook-image-name": "Sample",
    "opendatahub.io/notebook-image-desc": "A sample",
    "opendatahub.io/notebook-image-creator": "goern",
}


def resource(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "meteor.zone/v1alpha1",
        "kind": "CustomNBImage",
        "metadata": {"name": "ubi8-py38-sample-3", "annotations": dict(ANNOTATIONS)},
        "spec": spec,
    }


def error_paths(document: Any) -> list[str]:
    with pytest.raises(ValidationFailedError) as caught:
        model.normalize(document)
    return [e.path for e in caught.value.errors]


def test_the_seed_import_example_is_accepted_as_yaml() -> None:
    normalized = model.normalize(model.parse_text(SEED_IMPORT))
    assert normalized["spec"]["fromImage"].endswith(":v0.2.2")
    assert normalized["metadata"]["generation"] == 1
    assert "creationTimestamp" in normalized["metadata"]


def test_the_seed_package_list_examples_are_accepted() -> None:
    runtime = resource(
        buildType="PackageList",
        runtimeEnvironment={"osName": "ubi", "osVersion": "8", "pythonVersion": "3.8"},
        packageVersions=["pandas", "boto3>=1.24.0"],
    )
    assert model.normalize(runtime)["spec"]["packageVersions"] == ["pandas", "boto3>=1.24.0"]
    builder = resource(
        buildType="PackageList",
        builderImage="quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2",
        packageVersions=["pandas"],
    )
    model.normalize(builder)


def test_the_seed_git_repository_example_is_accepted() -> None:
    git = resource(
        buildType="GitRepository",
        repositoryUrl="https://github.com/AICoE/elyra-aidevsecops-tutorial",
        gitRef="master",
    )
    assert model.normalize(git)["spec"]["gitRef"] == "master"


def test_operator_field_names_are_aliases() -> None:
    normalized = model.normalize(
        resource(buildType="PackageList", baseImage="quay.io/a/b:1", packageVersions=["x"])
    )
    assert normalized["spec"]["builderImage"] == "quay.io/a/b:1"
    assert "baseImage" not in normalized["spec"]
    normalized = model.normalize(resource(buildType="GitRepository", repository="https://x/y.git"))
    assert normalized["spec"]["repositoryUrl"] == "https://x/y.git"
    assert error_paths(
        resource(
            buildType="PackageList", baseImage="a/b:1", builderImage="a/b:2", packageVersions=["x"]
        )
    ) == ["spec.baseImage"]


@pytest.mark.parametrize(
    ("spec", "paths"),
    [
        ({"buildType": "ImageImport"}, ["spec.fromImage"]),
        ({"buildType": "ImageImport", "fromImage": "Not An Image"}, ["spec.fromImage"]),
        ({"buildType": "Magic"}, ["spec.buildType"]),
        ({"buildType": "PackageList", "builderImage": "a/b:1"}, ["spec.packageVersions"]),
        (
            {"buildType": "PackageList", "builderImage": "a/b:1", "packageVersions": []},
            ["spec.packageVersions"],
        ),
        ({"buildType": "PackageList", "packageVersions": ["x"]}, ["spec"]),
        (
            {
                "buildType": "PackageList",
                "packageVersions": ["x"],
                "builderImage": "a/b:1",
                "runtimeEnvironment": {"osName": "ubi", "osVersion": "8", "pythonVersion": "3.8"},
            },
            ["spec.builderImage"],
        ),
        (
            {
                "buildType": "PackageList",
                "packageVersions": ["x"],
                "runtimeEnvironment": {"osName": "ubi"},
            },
            ["spec.runtimeEnvironment"],
        ),
        ({"buildType": "GitRepository"}, ["spec.repositoryUrl"]),
        ({"buildType": "GitRepository", "repositoryUrl": "not a url"}, ["spec.repositoryUrl"]),
        (
            {"buildType": "ImageImport", "fromImage": "a/b:1", "packageVersions": ["x"]},
            ["spec.packageVersions"],
        ),
        (
            {"buildType": "ImageImport", "fromImage": "a/b:1", "imagePullSecret": {"name": "Bad_"}},
            ["spec.imagePullSecret.name"],
        ),
        (
            {"buildType": "ImageImport", "fromImage": "a/b:1", "profiles": ["nope"]},
            ["spec.profiles.0"],
        ),
        ({"buildType": "ImageImport", "fromImage": "a/b:1", "surprise": 1}, ["spec"]),
    ],
)
def test_bad_specs_name_the_field(spec: dict[str, Any], paths: list[str]) -> None:
    assert error_paths(resource(**spec)) == paths


def test_annotations_are_required_and_names_checked() -> None:
    document = resource(buildType="ImageImport", fromImage="a/b:1")
    document["metadata"]["annotations"].pop("opendatahub.io/notebook-image-creator")
    document["metadata"]["name"] = "Bad_Name"
    assert error_paths(document) == [
        "metadata.annotations.opendatahub.io/notebook-image-creator",
        "metadata.name",
    ]
    assert error_paths("text") == [""]
    assert error_paths({"kind": "Pod"}) == ["apiVersion", "kind", "metadata", "spec"]


def test_submitted_status_is_ignored() -> None:
    document = resource(buildType="ImageImport", fromImage="a/b:1")
    document["status"] = {"phase": "Ready"}
    assert "status" not in model.normalize(copy.deepcopy(document))


def test_conditions_keep_the_latest_last_and_transition_times() -> None:
    document = model.normalize(resource(buildType="ImageImport", fromImage="a/b:1"))
    model.set_condition(document, "Importing", "Unknown", "InProgress", "resolving")
    model.set_condition(document, "Validating", "Unknown", "InProgress", "reading")
    first = document["status"]["conditions"][0]["lastTransitionTime"]
    model.set_condition(document, "Importing", "Unknown", "InProgress", "still resolving")
    assert document["status"]["conditions"][-1]["message"] == "still resolving"
    assert document["status"]["conditions"][-1]["lastTransitionTime"] == first
    assert model.latest_condition(document)["type"] == "Importing"
    assert [c["type"] for c in document["status"]["conditions"]] == ["Validating", "Importing"]
    assert all(c["observedGeneration"] == 1 for c in document["status"]["conditions"])


def test_invalid_yaml_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailedError):
        model.parse_text("a: [unclosed")
    assert yaml.safe_load(SEED_IMPORT)["kind"] == "CustomNBImage"
