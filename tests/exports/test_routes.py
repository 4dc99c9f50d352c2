"""``GET export`` and ``GET export/{format}`` through a real Jupyter server and registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures import images
from tests.fixtures.registry import RegistryServer
from tests.support import create_image, rest, server_config

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return server_config(jp_server_config, tmp_path)


async def test_export_lists_the_formats_beside_the_bundle(jp_fetch: Any) -> None:
    status, _, body = await rest(jp_fetch, "GET", "export")
    assert status == 200
    assert "runtime-images" in body  # POST import still reads the same bundle
    formats = {f["format"]: f for f in body["formats"]}
    assert formats["kubespawner"]["mediaType"] == "application/yaml"
    assert formats["kubespawner"]["extension"] == "yaml"
    assert formats["kubespawner"]["title"]


async def test_export_a_format(
    jp_fetch: Any, registry: RegistryServer, repo_name: str, isolated_home: Path
) -> None:
    with registry.pusher() as pusher:
        digest = pusher.push_image(repo_name, "3", images.odh_ok())
    image = f"{registry.host}/{repo_name}:3"
    await create_image(jp_fetch, "Lab", image, name="lab", tags=["team-a"])
    await create_image(jp_fetch, "Other", f"{image}@{digest}", name="other", tags=["team-b"])
    status, headers, text = await rest(
        jp_fetch, "GET", "export", "odh-imagestream", params={"tag": "team-a"}
    )
    assert status == 200, text
    assert headers["Content-Type"] == "application/yaml; charset=utf-8"
    assert "Content-Disposition" not in headers
    (stream,) = yaml.safe_load_all(text)
    tag = stream["spec"]["tags"][0]
    assert tag["from"]["name"] == f"{registry.host}/{repo_name}:3@{digest}"
    dependencies = json.loads(tag["annotations"]["opendatahub.io/notebook-python-dependencies"])
    assert {"name": "jupyterlab", "version": "4.2.5", "visible": True} in dependencies

    status, headers, files = await rest(
        jp_fetch, "GET", "export", "elyra", params={"name": "other", "download": "true"}
    )
    assert status == 200
    assert headers["Content-Disposition"] == 'attachment; filename="runtime-images-elyra.json"'
    assert list(files) == ["other.json"]


async def test_export_errors_name_the_field(jp_fetch: Any) -> None:
    cases = [
        (("export", "helm"), {}, 404, "format"),
        (("export", "kubeflow"), {"name": "missing"}, 404, "name"),
        (("export", "kubeflow"), {"tag": "missing"}, 404, "tag"),
        (("export", "kubeflow"), {"style": "choice"}, 400, "style"),
        (("export", "kubeflow"), {"platform": "amd64"}, 400, "platform"),
        (("export", "kubeflow"), {"download": "yes"}, 400, "download"),
    ]
    for parts, params, expected, field in cases:
        status, _, body = await rest(jp_fetch, "GET", *parts, params=params)
        assert status == expected, (parts, params, body)
        assert [e["path"] for e in body["errors"]] == [field], body
    status, _, body = await rest(
        jp_fetch, "GET", "export", "kubeflow", params={"style": ["a", "b"]}
    )
    assert status == 400 and body["errors"][0]["path"] == "style"
