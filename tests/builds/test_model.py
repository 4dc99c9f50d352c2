"""The CustomNBImage resource: the seed's examples are accepted, bad ones name the field."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml

from runtime_images.builds import model
from runtime_images.errors import ValidationFailedError
from runtime_images.fields import FieldError
from runtime_images.schemas import schema_path

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
        # The schema has these per-buildType rules too; each is reported once.
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


# -- the schema file and model.py agree on the per-buildType rules -------------------------

SCHEMA_FILE = schema_path("custom-nb-image.json")
ENVIRONMENT = {"osName": "ubi", "osVersion": "8", "pythonVersion": "3.8"}
MUTUALLY_EXCLUSIVE = (
    "spec.builderImage",
    "builderImage and runtimeEnvironment are mutually exclusive",
)
BASE_REQUIRED = ("spec", "builderImage or runtimeEnvironment is required")
INCOMPLETE = ("spec.runtimeEnvironment", "needs osName, osVersion and pythonVersion")
URL_REQUIRED = ("spec.repositoryUrl", "'repositoryUrl' is required")


def plain_schema_validator() -> Any:
    """The schema file as any JSON Schema tool reads it: its own draft, no format checker."""
    schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


# Each bad spec (as submitted: aliases not resolved) with the error model.py gives for it.
BAD_BUILD_TYPE_SPECS = [
    pytest.param(
        {"buildType": "PackageList", "packageVersions": ["x"]}, BASE_REQUIRED, id="neither"
    ),
    pytest.param(
        {"buildType": "PackageList", "packageVersions": ["x"], "runtimeEnvironment": {}},
        BASE_REQUIRED,
        id="neither-empty-environment",
    ),
    pytest.param(
        {
            "buildType": "PackageList",
            "packageVersions": ["x"],
            "builderImage": "a/b:1",
            "runtimeEnvironment": ENVIRONMENT,
        },
        MUTUALLY_EXCLUSIVE,
        id="both",
    ),
    pytest.param(
        {
            "buildType": "PackageList",
            "packageVersions": ["x"],
            "baseImage": "a/b:1",
            "runtimeEnvironment": ENVIRONMENT,
        },
        MUTUALLY_EXCLUSIVE,
        id="both-alias-baseImage",
    ),
    pytest.param(
        {
            "buildType": "PackageList",
            "packageVersions": ["x"],
            "builderImage": "a/b:1",
            "baseImage": "a/b:1",
            "runtimeEnvironment": ENVIRONMENT,
        },
        MUTUALLY_EXCLUSIVE,
        id="both-builderImage-and-alias",
    ),
    *(
        pytest.param(
            {
                "buildType": "PackageList",
                "packageVersions": ["x"],
                "runtimeEnvironment": without(ENVIRONMENT, key),
            },
            INCOMPLETE,
            id=f"environment-without-{key}",
        )
        for key in ENVIRONMENT
    ),
    *(
        pytest.param(
            {
                "buildType": "PackageList",
                "packageVersions": ["x"],
                "runtimeEnvironment": {**ENVIRONMENT, key: ""},
            },
            INCOMPLETE,
            id=f"environment-empty-{key}",
        )
        for key in ENVIRONMENT
    ),
    pytest.param({"buildType": "GitRepository"}, URL_REQUIRED, id="git-without-url"),
    pytest.param(
        {"buildType": "GitRepository", "gitRef": "main", "builderImage": "a/b:1"},
        URL_REQUIRED,
        id="git-without-url-with-ref-and-builder",
    ),
    pytest.param(
        {"buildType": "GitRepository", "repository": ""},
        URL_REQUIRED,
        id="git-empty-alias-repository",
    ),
    pytest.param(
        {"buildType": "GitRepository", "repositoryUrl": ""},
        URL_REQUIRED,
        id="git-empty-repositoryUrl",
    ),
]

GOOD_BUILD_TYPE_SPECS = [
    pytest.param({"buildType": "ImageImport", "fromImage": "a/b:1"}, id="import"),
    pytest.param(
        {"buildType": "PackageList", "packageVersions": ["x"], "builderImage": "a/b:1"},
        id="packages-builderImage",
    ),
    pytest.param(
        {"buildType": "PackageList", "packageVersions": ["x"], "baseImage": "a/b:1"},
        id="packages-alias-baseImage",
    ),
    pytest.param(
        {
            "buildType": "PackageList",
            "packageVersions": ["x"],
            "builderImage": "a/b:1",
            "baseImage": "a/b:1",
        },
        id="packages-builderImage-and-same-alias",
    ),
    pytest.param(
        {"buildType": "PackageList", "packageVersions": ["x"], "runtimeEnvironment": ENVIRONMENT},
        id="packages-runtimeEnvironment",
    ),
    pytest.param(
        # model.py counts an empty runtimeEnvironment as not given; so does the schema.
        {
            "buildType": "PackageList",
            "packageVersions": ["x"],
            "builderImage": "a/b:1",
            "runtimeEnvironment": {},
        },
        id="packages-builderImage-empty-environment",
    ),
    pytest.param(
        {"buildType": "GitRepository", "repositoryUrl": "https://example.com/a/b.git"},
        id="git-repositoryUrl",
    ),
    pytest.param(
        {"buildType": "GitRepository", "repository": "https://example.com/a/b.git"},
        id="git-alias-repository",
    ),
    pytest.param(
        {
            "buildType": "GitRepository",
            "repository": "git@example.com:a/b.git",
            "gitRef": "main",
            "baseImage": "a/b:1",
        },
        id="git-alias-repository-ref-and-alias-baseImage",
    ),
]


@pytest.mark.parametrize(("spec", "python_error"), BAD_BUILD_TYPE_SPECS)
def test_the_schema_and_model_reject_the_same_bad_specs(
    spec: dict[str, Any], python_error: tuple[str, str]
) -> None:
    document = resource(**copy.deepcopy(spec))
    schema_errors = list(plain_schema_validator().iter_errors(copy.deepcopy(document)))
    assert schema_errors, "the schema accepts it"
    # Every schema error names a field of the spec (not just "spec").
    for error in schema_errors:
        path = list(error.absolute_path)
        if error.validator == "required":
            path.append(error.message.split("'")[1])
        assert path[:1] == ["spec"] and len(path) >= 2, error
    with pytest.raises(ValidationFailedError) as caught:
        model.normalize(document)
    # model.py's own error, naming the field, is unchanged.
    assert FieldError(*python_error) in caught.value.errors


@pytest.mark.parametrize("spec", GOOD_BUILD_TYPE_SPECS)
def test_the_schema_and_model_accept_the_same_good_specs(spec: dict[str, Any]) -> None:
    document = resource(**copy.deepcopy(spec))
    assert [e.message for e in plain_schema_validator().iter_errors(document)] == []
    normalized = model.normalize(copy.deepcopy(document))
    assert "baseImage" not in normalized["spec"]
    assert "repository" not in normalized["spec"]


def test_the_schema_names_the_field_for_each_rule() -> None:
    """The schema's errors, as normalize reports them, point at the field to fix."""

    def schema_paths(**spec: Any) -> set[str]:
        return {e.path for e in model._errors(resource(**spec))}

    assert schema_paths(buildType="PackageList", packageVersions=["x"]) == {"spec.builderImage"}
    assert schema_paths(
        buildType="PackageList",
        packageVersions=["x"],
        baseImage="a/b:1",
        runtimeEnvironment=ENVIRONMENT,
    ) == {"spec.baseImage"}
    assert schema_paths(
        buildType="PackageList",
        packageVersions=["x"],
        runtimeEnvironment=without(ENVIRONMENT, "pythonVersion"),
    ) == {"spec.runtimeEnvironment.pythonVersion"}
    assert schema_paths(buildType="GitRepository") == {"spec.repositoryUrl"}
    # The rules do not apply without a buildType (that error is enough).
    assert "spec.builderImage" not in schema_paths(packageVersions=["x"])
    assert "spec.repositoryUrl" not in schema_paths(gitRef="main")


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


@pytest.mark.parametrize(
    ("value", "build_type", "expected"),
    [
        ("linux/amd64,linux/ppc64le", "ImageImport", "an import copies every platform"),
        ("", "PackageList", "comma-separated list of platforms"),
        ("linux/amd64,,linux/arm64", "PackageList", "comma-separated list of platforms"),
        ("windows/amd64", "PackageList", "'windows/amd64' is not a Linux platform"),
        ("linux/riscv64", "PackageList", "'linux/riscv64': packages are added for amd64"),
        ("linux/arm64/v7", "PackageList", "arm64 has no variant 'v7'"),
        ("linux/amd64, linux/amd64", "PackageList", "lists linux/amd64 more than once"),
        (",".join(["linux/amd64"] * 9), "PackageList", "at most 8 platforms, not 9"),
        ("x" * 300, "GitRepository", "is not a Linux platform"),
    ],
)
def test_the_platforms_annotation_is_checked_at_submit_naming_it(
    value: str, build_type: str, expected: str
) -> None:
    """Each platform of a multi-platform build must be one pip has Linux wheels for."""
    spec: dict[str, Any] = {
        "ImageImport": {"fromImage": "quay.io/org/img:1"},
        "PackageList": {"builderImage": "python:3.12", "packageVersions": ["six"]},
        "GitRepository": {"repositoryUrl": "https://github.com/org/repo"},
    }[build_type]
    document = resource(buildType=build_type, **spec)
    document["metadata"]["annotations"][model.ANNOTATION_PLATFORMS] = value
    with pytest.raises(ValidationFailedError) as caught:
        model.normalize(document)
    [error] = caught.value.errors
    assert error.path == f"metadata.annotations.{model.ANNOTATION_PLATFORMS}"
    assert expected in error.message


def test_the_platforms_of_a_multi_platform_build_are_kept_in_order() -> None:
    document = resource(
        buildType="PackageList", builderImage="python:3.12", packageVersions=["six"]
    )
    assert model.requested_platforms(model.normalize(document)) is None
    document["metadata"]["annotations"][model.ANNOTATION_PLATFORMS] = (
        " linux/arm64/v8 , linux/amd64,linux/s390x"
    )
    normalized = model.normalize(document)
    assert model.requested_platforms(normalized) == ["linux/arm64/v8", "linux/amd64", "linux/s390x"]
