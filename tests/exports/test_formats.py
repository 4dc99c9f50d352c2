"""Every export format, parsed and read the way its consuming platform reads it, from real
images in a real registry.

Each ``read_*`` function below follows the consuming platform's own code (named in its
docstring): what it reads, and how; the tests assert on what those readers return.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime_images.cli.exports import FORMAT_NAMES
from runtime_images.errors import NotFoundError, ValidationFailedError
from runtime_images.exports import FORMATS, MAX_SELECTORS
from runtime_images.reference import parse
from runtime_images.validation import validate_for_write
from tests.exports.catalogue import Catalogue, make_catalogue
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.timeout(90)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.fixture
def catalogue(
    registry: RegistryServer, repo_name: str, tmp_path: Path, isolated_home: Path
) -> Catalogue:
    return make_catalogue(registry, repo_name, tmp_path)


def _json_array(text: str | None) -> list[Any]:
    """The dashboard's ``jsonParsePackage``: JSON.parse, [] on any failure."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return []
    return value or []


def read_odh_workbench_images(text: str) -> list[dict[str, Any]]:
    """opendatahub-io/odh-dashboard ``backend/src/routes/api/images/imageUtils.ts``:
    ``mapImageStreamToBYONImage`` (BYON list, label ``app.kubernetes.io/created-by=byon``)
    and ``processImageInfo`` (the spawner: ``order`` is ``+annotation || 100``; tags from
    ``spec.tags`` with ``getTagContent``; ``recommended`` JSON-parsed)."""
    seen = []
    for stream in yaml.safe_load_all(text):
        meta = stream["metadata"]
        annotations, labels = meta.get("annotations") or {}, meta.get("labels") or {}
        tag = stream["spec"]["tags"][0]
        tag_annotations = tag.get("annotations") or {}
        order = annotations.get("opendatahub.io/notebook-image-order")
        seen.append(
            {
                "kind": (stream["apiVersion"], stream["kind"]),
                "name": meta["name"],
                "byon": labels.get("app.kubernetes.io/created-by") == "byon",
                "visible": labels.get("opendatahub.io/notebook-image") == "true",
                "display_name": annotations.get("opendatahub.io/notebook-image-name")
                or meta["name"],
                "description": annotations.get("opendatahub.io/notebook-image-desc") or "",
                "url": annotations.get("opendatahub.io/notebook-image-url"),
                "provider": annotations.get("opendatahub.io/notebook-image-creator"),
                "order": int(order) if order and order.isdigit() else 100,
                "accelerators": _json_array(
                    annotations.get("opendatahub.io/recommended-accelerators")
                ),
                "tag": tag["name"],
                "from": tag["from"],
                "software": _json_array(tag_annotations.get("opendatahub.io/notebook-software")),
                "packages": _json_array(
                    tag_annotations.get("opendatahub.io/notebook-python-dependencies")
                ),
                "recommended": json.loads(
                    tag_annotations.get("opendatahub.io/workbench-image-recommended") or "false"
                ),
            }
        )
    return seen


def read_odh_runtime_images(text: str) -> dict[str, dict[str, Any]]:
    """opendatahub-io/kubeflow ``components/odh-notebook-controller/controllers/
    notebook_runtime.go`` ``SyncRuntimeImagesConfigMap``: ImageStreams labelled
    ``opendatahub.io/runtime-image: "true"`` with tags; per tag ``from.name`` (required),
    the first object of the ``runtime-image-metadata`` array with ``metadata.image_name``
    set to ``from.name``; its ``display_name`` becomes the ConfigMap key (formatKeyName)."""
    config_map: dict[str, dict[str, Any]] = {}
    for stream in yaml.safe_load_all(text):
        if stream["metadata"].get("labels", {}).get("opendatahub.io/runtime-image") != "true":
            continue
        for tag in stream["spec"]["tags"]:
            url = (tag.get("from") or {}).get("name")
            assert url, "a tag without from.name is skipped by the controller"
            raw = (tag.get("annotations") or {}).get("opendatahub.io/runtime-image-metadata")
            first = json.loads(raw or "[]")[0]
            first["metadata"]["image_name"] = url
            key = re.sub(
                r"-+", "-", re.sub(r"[^-._a-zA-Z0-9]+", "-", first["display_name"].lower())
            )
            config_map[key.strip("-") + ".json"] = first
    return config_map


def read_kubespawner_profiles(text: str) -> list[dict[str, Any]]:
    """jupyterhub/kubespawner ``KubeSpawner._load_profile``/``_get_profile``: a profile's
    ``kubespawner_override``, updated by the chosen option's ``kubespawner_override``
    (``profile_options[*].choices[*]``); the default profile is the one with
    ``default: true`` (else the first); z2jh passes ``singleuser.profileList`` through."""
    profiles = yaml.safe_load(text)["singleuser"]["profileList"]
    spawned = []
    for profile in profiles:
        override = dict(profile.get("kubespawner_override") or {})
        for option in (profile.get("profile_options") or {}).values():
            for slug, choice in option["choices"].items():
                spawned.append(
                    {
                        "profile": profile["slug"],
                        "choice": slug,
                        "display_name": choice["display_name"],
                        "default": bool(profile.get("default")) and bool(choice.get("default")),
                        **override,
                        **choice.get("kubespawner_override", {}),
                    }
                )
        if not profile.get("profile_options"):
            spawned.append(
                {
                    "profile": profile["slug"],
                    "display_name": profile["display_name"],
                    "default": bool(profile.get("default")),
                    **override,
                }
            )
    return spawned


def read_kubeflow_images(text: str) -> dict[str, Any]:
    """kubeflow/kubeflow ``components/crud-web-apps/jupyter/backend/apps/common/utils.py``
    ``load_spawner_ui_config``: ``config_dict["spawnerFormDefaults"]``, whose
    ``image``/``imageGroupOne``/``imageGroupTwo`` give the form's ``value`` and
    ``options``."""
    defaults: dict[str, Any] = yaml.safe_load(text)["spawnerFormDefaults"]
    return defaults


def read_z2jh_prepuller(text: str) -> dict[str, str]:
    """jupyterhub/zero-to-jupyterhub-k8s ``templates/image-puller/_helpers-daemonset.tpl``:
    one init container ``image-pull-{{ $k }}`` with ``image: {{ $v.name }}:{{ $v.tag }}``
    per ``prePuller.extraImages`` entry."""
    extra = yaml.safe_load(text)["prePuller"]["extraImages"]
    return {f"image-pull-{key}": f"{value['name']}:{value['tag']}" for key, value in extra.items()}


def test_odh_imagestream_is_what_the_dashboard_lists(catalogue: Catalogue) -> None:
    result = catalogue.export("odh-imagestream", names=["odh_workbench", "elyra-runtime"])
    assert (result.media_type, result.extension) == ("application/yaml", "yaml")
    listed = {image["display_name"]: image for image in read_odh_workbench_images(result.text)}
    odh = listed["ODH Workbench"]
    assert odh["kind"] == ("image.openshift.io/v1", "ImageStream")
    assert odh["byon"] and odh["visible"]
    assert odh["name"] == "odh-workbench" and DNS_LABEL.match(odh["name"])
    assert odh["description"] == "JupyterLab for ODH"
    pinned = f"{catalogue.odh}:2024.1@{catalogue.odh_digest}"
    assert odh["url"] == pinned
    assert odh["tag"] == "2024.1"
    assert odh["from"] == {"kind": "DockerImage", "name": pinned}
    assert odh["provider"] == "jupyter-runtime-images"
    assert odh["accelerators"] == []
    assert {"name": "Python", "version": "3.11"} in odh["software"]
    assert {"name": "Debian GNU/Linux", "version": "12"} in odh["software"]
    packages = {p["name"]: p for p in odh["packages"]}
    assert packages["jupyterlab"] == {"name": "jupyterlab", "version": "4.2.5", "visible": True}
    assert packages["jupyterhub"]["version"] == "4.1.6"
    assert "jupyterlab" not in {p["name"] for p in listed["Elyra runtime"]["packages"]}
    assert [odh["order"], listed["Elyra runtime"]["order"]] == [2, 1]  # the store's order
    assert odh["recommended"] is False


def test_odh_imagestream_creator_is_an_option(catalogue: Catalogue) -> None:
    result = catalogue.export("odh-imagestream", names=["elyra-runtime"], creator="Data team")
    assert read_odh_workbench_images(result.text)[0]["provider"] == "Data team"


def test_odh_runtime_imagestream_is_what_the_notebook_controller_mounts(
    catalogue: Catalogue,
) -> None:
    result = catalogue.export("odh-runtime-imagestream", tags=["pipelines"])
    config_map = read_odh_runtime_images(result.text)
    assert list(config_map) == ["elyra-runtime.json"]
    runtime = config_map["elyra-runtime.json"]
    assert runtime["schema_name"] == "runtime-image"
    assert runtime["display_name"] == "Elyra runtime"
    metadata = runtime["metadata"]
    assert metadata["image_name"] == f"{catalogue.elyra}:1.0@{catalogue.elyra_digest}"
    assert metadata["pull_policy"] == "Always" and metadata["tags"] == ["pipelines"]
    assert metadata["team"] == "kept"  # Elyra's unknown keys travel
    assert result.warnings == [
        (
            "skipped built-here: localhost/built:latest@"
            f"{catalogue.elyra_digest} is kept on this machine only; publish it to a "
            "registry to export it."
        )
    ]


@pytest.mark.parametrize("style", ["profiles", "choice"])
def test_kubespawner_profiles_spawn_the_pinned_images(catalogue: Catalogue, style: str) -> None:
    result = catalogue.export("kubespawner", tags=["notebooks"], style=style)
    spawned = read_kubespawner_profiles(result.text)
    assert [s["display_name"] for s in spawned] == ["ODH Workbench", "R Studio"]
    assert [s["default"] for s in spawned] == [True, False]
    odh = spawned[0]
    assert odh["image"] == f"{catalogue.odh}:2024.1@{catalogue.odh_digest}"
    assert odh["image_pull_policy"] == "IfNotPresent"
    assert odh["image_pull_secrets"] == ["regcred"]
    assert spawned[1]["image"] == f"{catalogue.elyra}:1.0@{catalogue.elyra_digest}"
    slugs = [s.get("choice", s["profile"]) for s in spawned]
    assert slugs == ["odh-workbench", "rstudio"]
    if style == "choice":
        assert {s["profile"] for s in spawned} == {"runtime-images"}


def test_kubeflow_spawner_form_offers_the_pinned_images(catalogue: Catalogue) -> None:
    result = catalogue.export("kubeflow", names=["odh_workbench", "elyra-runtime", "rstudio"])
    defaults = read_kubeflow_images(result.text)
    pinned_odh = f"{catalogue.odh}:2024.1@{catalogue.odh_digest}"
    pinned_elyra = f"{catalogue.elyra}:1.0@{catalogue.elyra_digest}"
    # In the store's order (by display name); the first is the form's default.
    assert defaults["image"] == {"value": pinned_elyra, "options": [pinned_elyra, pinned_odh]}
    # The RStudio-tagged image is offered where Kubeflow serves RStudio-like apps.
    assert defaults["imageGroupTwo"] == {"value": pinned_elyra, "options": [pinned_elyra]}
    assert "imageGroupOne" not in defaults


def test_prepuller_pulls_each_image_once_by_digest(catalogue: Catalogue) -> None:
    result = catalogue.export("prepuller", tags=["notebooks", "pipelines"])
    containers = read_z2jh_prepuller(result.text)
    assert all(DNS_LABEL.match(name) and len(name) <= 63 for name in containers)
    pulled = sorted(parse(image).digest for image in containers.values())
    assert pulled == sorted([catalogue.odh_digest, catalogue.elyra_digest])
    assert f"{catalogue.odh}:2024.1@{catalogue.odh_digest}" in containers.values()
    listed = catalogue.export("prepuller", tags=["notebooks", "pipelines"], style="list")
    assert listed.media_type == "text/plain"
    assert listed.text.splitlines() == sorted(
        containers.values(), key=lambda image: listed.text.index(image)
    )
    assert len(listed.text.splitlines()) == 2


def test_elyra_files_are_valid_pinned_runtime_images(catalogue: Catalogue) -> None:
    result = catalogue.export("elyra", names=["odh_workbench"])
    files = json.loads(result.text)
    assert list(files) == ["odh_workbench.json"]
    document = files["odh_workbench.json"]
    assert validate_for_write(document) == []
    assert document["metadata"]["image_name"] == f"{catalogue.odh}:2024.1@{catalogue.odh_digest}"
    assert document["metadata"]["pull_secret"] == "regcred"


def test_every_format_is_listed_with_its_media_type() -> None:
    """The formats are the command line's (which spells them so that --help imports no
    exporter), in its order."""
    listed = {f["format"]: f for f in (fmt.to_json() for fmt in FORMATS.values())}
    assert list(listed) == list(FORMAT_NAMES)
    assert listed["elyra"]["mediaType"] == "application/json"
    assert [s["style"] for s in listed["prepuller"]["styles"]] == ["z2jh", "list"]


def test_a_selection_names_what_it_cannot_find(catalogue: Catalogue) -> None:
    with pytest.raises(NotFoundError) as missing:
        catalogue.export("kubeflow", names=["odh_workbench", "nope"])
    assert [e.path for e in missing.value.errors] == ["name"] and "'nope'" in str(missing.value)
    with pytest.raises(NotFoundError) as untagged:
        catalogue.export("kubeflow", tags=["notebooks", "gpu"])
    assert [e.path for e in untagged.value.errors] == ["tag"] and "'gpu'" in str(untagged.value)
    with pytest.raises(NotFoundError) as unknown:
        catalogue.export("helm", names=["odh_workbench"])
    assert [e.path for e in unknown.value.errors] == ["format"]
    with pytest.raises(ValidationFailedError) as style:
        catalogue.export("kubeflow", style="choice")
    assert [e.path for e in style.value.errors] == ["style"]


def test_a_named_local_image_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        catalogue.export("prepuller", names=["built-here"])
    assert [e.path for e in refused.value.errors] == ["name"]
    assert "publish it to a registry" in str(refused.value)


def test_too_many_selectors_are_refused_before_any_work(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        catalogue.export("prepuller", names=["x"] * (MAX_SELECTORS + 1))
    assert [e.path for e in refused.value.errors] == ["name"]
