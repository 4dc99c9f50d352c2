"""``GET inspect | sbom | layers | diff`` of a real server and the CLI verbs, on images of a
real registry: the same documents either way, field errors for bad queries, never a 500."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.contents.support import push
from tests.fixtures import images
from tests.fixtures import packages as fixtures
from tests.fixtures.registry import RegistryServer
from tests.support import RunningServer, run_cli

pytestmark = pytest.mark.timeout(300)


def get(server: RunningServer, route: str, **query: str) -> tuple[int, dict[str, str], Any]:
    return server.request("GET", f"/runtime-images/{route}?{urllib.parse.urlencode(query)}")


def test_inspect_route_and_cli_give_the_same_document(
    registry: RegistryServer, repo_name: str, env: dict[str, str], running_server: RunningServer
) -> None:
    ref = push(registry, repo_name, fixtures.python_environments())
    status, _, document = get(running_server, "inspect", image=ref)
    assert status == 200, document
    cli = run_cli(env, "inspect", "--json", ref)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == document
    assert {"image", "packages", "environments", "databases", "size", "accelerators"} <= set(
        document
    )
    status, _, created = running_server.request(
        "POST",
        "/runtime-images/images",
        {"display_name": "Envs", "metadata": {"image_name": ref}},
    )
    assert status == 201, created
    status, _, by_name = get(running_server, "inspect", name=created["name"])
    assert status == 200 and by_name == document
    text = run_cli(env, "inspect", ref)
    assert "conda  /opt/conda: 2" in text.stdout and text.returncode == 0


def test_sbom_layers_and_diff_routes_and_verbs(
    registry: RegistryServer,
    repo_name: str,
    env: dict[str, str],
    running_server: RunningServer,
    tmp_path: Path,
) -> None:
    before, after = fixtures.debian_with_removal()
    a, b = push(registry, repo_name, before, "a"), push(registry, repo_name, after, "b")
    status, headers, bom = get(running_server, "sbom", image=a, format="cyclonedx-json")
    assert status == 200, bom
    assert headers["Content-Type"] == "application/vnd.cyclonedx+json"
    assert headers["Content-Disposition"].startswith('attachment; filename="sha256-')
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom)) is None
    out = tmp_path / "a.spdx.json"
    cli = run_cli(env, "sbom", a, "--format", "spdx-json", "-o", str(out))
    assert cli.returncode == 0, cli.stderr
    spdx = json.loads(out.read_text())
    status, _, from_route = get(running_server, "sbom", image=a, format="spdx-json")
    assert status == 200
    assert [p["name"] for p in spdx["packages"]] == [p["name"] for p in from_route["packages"]]

    status, _, layers = get(running_server, "layers", image=b)
    assert status == 200 and len(layers["layers"]) == 3
    assert layers["layers"][1]["wasted_bytes"] >= 5000  # libgone's library, deleted later
    cli = run_cli(env, "layers", "--json", b)
    assert cli.returncode == 0 and json.loads(cli.stdout) == layers
    assert "wasted" in run_cli(env, "layers", b).stdout

    status, _, diff = get(running_server, "diff", a=a, b=b)
    assert status == 200, diff
    assert [p["name"] for p in diff["packages"]["added"]] == ["newpkg"]
    assert {p["name"] for p in diff["packages"]["removed"]} == {"libgone", "pip"}
    cli = run_cli(env, "diff", "--json", a, b)
    assert cli.returncode == 0 and json.loads(cli.stdout) == diff
    assert "+ deb / newpkg 2.0-1" in run_cli(env, "diff", a, b).stdout


def test_bad_queries_name_the_field(
    registry: RegistryServer, repo_name: str, running_server: RunningServer
) -> None:
    ref = push(registry, repo_name, images.elyra_ok())
    cases: list[tuple[str, dict[str, str], int, str]] = [
        ("inspect", {}, 400, "image"),
        ("inspect", {"image": ref, "name": "x"}, 400, "image"),
        ("inspect", {"image": "Not A Reference"}, 400, "image"),
        ("inspect", {"image": " "}, 400, "image"),
        ("inspect", {"image": "x" * 2000}, 400, "image"),
        ("sbom", {"image": ref, "format": "swid"}, 400, "format"),
        ("diff", {"a": ref}, 400, "b"),
        ("diff", {"a": "no spaces allowed", "b": ref}, 400, "a"),
        ("diff", {"a": ref, "b": ref, "profile": "nope"}, 400, "profiles"),
        ("layers", {"image": ref, "platform": "linux"}, 400, "platform"),
        ("layers", {"image": ref, "platform": "G\u00d9~\x1bq/x"}, 400, "platform"),
    ]
    for route, query, code, field in cases:
        status, _, answer = get(running_server, route, **query)
        assert status == code, (route, query, answer)
        assert [e["path"] for e in answer["errors"]] == [field], (route, query, answer)
    status, _, answer = get(running_server, "inspect", name="no-such-image")
    assert status == 404, answer
    missing = f"{registry.host}/{repo_name}:missing"
    status, _, answer = get(running_server, "layers", image=missing)
    assert 400 <= status < 500 and answer["code"] == "ImageNotFound", answer
