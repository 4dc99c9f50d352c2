"""``jupyter runtime-images`` as a user runs it: real subprocesses on temporary dirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .support import RunningServer, run_cli, store_dir, write_instance


def listed(env: dict[str, str], *extra: str) -> list[dict[str, Any]]:
    result = run_cli(env, "list", "--json", *extra)
    assert result.returncode == 0, result.stderr
    items: list[dict[str, Any]] = json.loads(result.stdout)
    return items


def listed_item(env: dict[str, str], name: str) -> dict[str, Any]:
    """The one image ``list --json`` shows under ``name``."""
    (item,) = [i for i in listed(env) if i["name"] == name]
    return item


@pytest.fixture
def user_store(isolated_env: dict[str, str]) -> Path:
    return store_dir(Path(isolated_env["JUPYTER_DATA_DIR"]))


def test_the_seed_documents_elyra_commands_work(
    isolated_env: dict[str, str], user_store: Path
) -> None:
    # The commands of the seed document, with `jupyter runtime-images` for `elyra-metadata`.
    created = run_cli(
        isolated_env,
        "create",
        "runtime-images",
        "--name",
        "my_image_name",
        "--display_name",
        "My runtime image",
        "--description",
        "My custom runtime container image",
        "--image_name",
        "jdoe/my-image:1.0.0",
    )
    assert created.returncode == 0, created.stderr
    assert "my_image_name" in created.stdout
    assert json.loads((user_store / "my_image_name.json").read_text()) == {
        "display_name": "My runtime image",
        "metadata": {
            "description": "My custom runtime container image",
            "image_name": "jdoe/my-image:1.0.0",
        },
        "schema_name": "runtime-image",
    }
    updated = run_cli(
        isolated_env,
        "update",
        "runtime-images",
        "--name",
        "my_image_name",
        "--display_name",
        "My runtime image",
        "--description",
        "My other custom runtime container image",
        "--image_name",
        "jdoe/my-other-image:1.0.1",
    )
    assert updated.returncode == 0, updated.stderr
    item = listed_item(isolated_env, "my_image_name")
    assert item["metadata"]["image_name"] == "jdoe/my-other-image:1.0.1"

    table = run_cli(isolated_env, "list", "runtime-images")
    assert table.returncode == 0 and "my_image_name" in table.stdout and "factory" in table.stdout

    removed = run_cli(isolated_env, "remove", "runtime-images", "--name", "my_image_name")
    assert removed.returncode == 0, removed.stderr
    assert not (user_store / "my_image_name.json").exists()


def test_leading_schemaspace_and_equals_forms(isolated_env: dict[str, str]) -> None:
    result = run_cli(
        isolated_env,
        "runtime-images",
        "create",
        "--display_name=Eq Form",
        "--image_name=quay.io/a/b:1",
        "--tags=gpu, cuda",
        "--pull_policy=Always",
    )
    assert result.returncode == 0, result.stderr
    item = listed_item(isolated_env, "eq_form")
    assert item["metadata"]["tags"] == ["gpu", "cuda"]


def test_create_from_json_and_file(isolated_env: dict[str, str], tmp_path: Path) -> None:
    stanza = json.dumps({"image_name": "quay.io/a/b:2", "description": "from json"})
    result = run_cli(
        isolated_env, "create", "--name", "from_json", "--display_name", "J", "--json", stanza
    )
    assert result.returncode == 0, result.stderr
    source = tmp_path / "from_file.json"
    source.write_text(
        json.dumps(
            {
                "display_name": "F",
                "schema_name": "runtime-image",
                "metadata": {"image_name": "quay.io/a/b:3"},
            }
        )
    )
    result = run_cli(isolated_env, "create", "--file", str(source))
    assert result.returncode == 0, result.stderr
    names = {i["name"]: i for i in listed(isolated_env)}
    assert names["from_json"]["metadata"]["description"] == "from json"
    assert names["from_file"]["display_name"] == "F"


def test_user_errors_exit_1_without_tracebacks(isolated_env: dict[str, str]) -> None:
    cases = [
        ("create", "--display_name", "X", "--image_name", "Not Valid"),
        ("create", "--display_name", "X"),
        ("remove", "--name", "pandas"),  # a factory image: Elyra prints a traceback (B10)
        ("remove", "--name", "missing"),
        ("update", "--name", "missing", "--description", "d"),
        ("create", "--name", "pandas", "--display_name", "P", "--image_name", "a/b:1"),
        ("create", "--display_name", "X", "--json", "{broken"),
    ]
    for args in cases:
        result = run_cli(isolated_env, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("Error: "), (args, result.stderr)
    invalid = run_cli(isolated_env, "create", "--display_name", "X", "--image_name", "Not Valid")
    assert "metadata.image_name" in invalid.stderr


def test_usage_errors_exit_2(isolated_env: dict[str, str]) -> None:
    assert run_cli(isolated_env, "frobnicate").returncode == 2
    assert run_cli(isolated_env, "remove").returncode == 2
    assert run_cli(isolated_env, "create", "--unknown-option", "x").returncode == 2


def test_create_help_lists_every_property_option(isolated_env: dict[str, str]) -> None:
    result = run_cli(isolated_env, "create", "--help")
    assert result.returncode == 0
    for option in [
        "--display_name",
        "--description",
        "--image_name",
        "--pull_policy",
        "--pull_secret",
        "--tags",
        "--json",
        "--file",
        "--name",
    ]:
        assert option in result.stdout  # Elyra's help omits them (B14)


def test_list_include_invalid_and_duplicate(isolated_env: dict[str, str], user_store: Path) -> None:
    write_instance(user_store, "broken", "{nope")
    assert "broken" not in [i["name"] for i in listed(isolated_env)]
    items = {i["name"]: i for i in listed(isolated_env, "--include-invalid")}
    assert items["broken"]["invalid"] is True and "not valid JSON" in items["broken"]["reason"]
    table = run_cli(isolated_env, "list", "--include-invalid").stdout
    assert "**INVALID**" in table
    result = run_cli(isolated_env, "duplicate", "--name", "pandas")
    assert result.returncode == 0, result.stderr
    assert "pandas_232_copy" in [i["name"] for i in listed(isolated_env)]


def test_export_then_import_round_trips(
    isolated_env: dict[str, str], tmp_path: Path, user_store: Path
) -> None:
    run_cli(isolated_env, "create", "--display_name", "Mine", "--image_name", "quay.io/me/x:1")
    export_dir = tmp_path / "export"
    result = run_cli(isolated_env, "export", "--directory", str(export_dir))
    assert result.returncode == 0, result.stderr
    exported = export_dir / "runtime-images" / "mine.json"
    content = json.loads(exported.read_text())
    assert set(content) == {"display_name", "metadata", "schema_name"}  # no machine paths
    assert str(tmp_path) not in exported.read_text()

    (user_store / "mine.json").unlink()
    result = run_cli(isolated_env, "import", "--directory", str(export_dir))
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout and "unchanged" in result.stdout
    assert (user_store / "mine.json").exists()
    assert not (user_store / "pandas.json").exists()  # factory images are not copied (B13)

    # Elyra's layout (files directly in the directory) imports too, reporting per file.
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "good.json").write_text(exported.read_text().replace("Mine", "Good"))
    (flat / "bad.json").write_text("{ not json")
    (flat / "worse.json").write_text(json.dumps({"display_name": "W", "metadata": {}}))
    result = run_cli(isolated_env, "import", "--directory", str(flat))
    assert result.returncode == 1
    assert "2 of 3 files were not imported" in result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert "created" in lines["good"] and "failed" in lines["bad"] and "failed" in lines["worse"]

    result = run_cli(isolated_env, "export", "--directory", str(export_dir), "--clean")
    assert result.returncode == 0


def test_export_clean_removes_old_files_that_are_not_exported(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    run_cli(isolated_env, "create", "--display_name", "Mine", "--image_name", "quay.io/me/x:1")
    target = tmp_path / "export" / "runtime-images"
    target.mkdir(parents=True)
    (target / "gone_image.json").write_text('{"display_name": "Gone"}')
    (target / "mine.json").write_text("stale content")
    (target / "notes.txt").write_text("not an export")

    result = run_cli(isolated_env, "export", "--directory", str(tmp_path / "export"), "--clean")
    assert result.returncode == 0, result.stderr
    assert not (target / "gone_image.json").exists()
    assert json.loads((target / "mine.json").read_text())["display_name"] == "Mine"
    assert (target / "pandas.json").exists()  # factory images are exported too
    assert (target / "notes.txt").read_text() == "not an export"  # only *.json is cleaned


def test_export_without_clean_keeps_old_files(isolated_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "export" / "runtime-images"
    target.mkdir(parents=True)
    (target / "gone_image.json").write_text('{"display_name": "Gone"}')
    result = run_cli(isolated_env, "export", "--directory", str(tmp_path / "export"))
    assert result.returncode == 0, result.stderr
    assert (target / "gone_image.json").read_text() == '{"display_name": "Gone"}'
    assert (target / "pandas.json").exists()


MALFORMED = b'{"display_name": "Broken", \xff  oops'
# Schema-invalid: an unknown top-level key and a bad pull policy, formatted unusually.
SCHEMA_INVALID = (
    b'{"color": "red",\n "schema_name": "runtime-image", "display_name": "Bad",'
    b' "metadata": {"image_name": "a/b:1", "pull_policy": "Sometimes"}}'
)


def test_export_include_invalid_writes_invalid_files_as_they_are(
    isolated_env: dict[str, str], tmp_path: Path, user_store: Path
) -> None:
    user_store.mkdir(parents=True)
    (user_store / "broken.json").write_bytes(MALFORMED)
    (user_store / "bad_policy.json").write_bytes(SCHEMA_INVALID)
    big_broken = b"{" + b"x" * 100_000  # malformed and larger than the text the store keeps
    (user_store / "big_broken.json").write_bytes(big_broken)

    plain = tmp_path / "plain"
    result = run_cli(isolated_env, "export", "--directory", str(plain))
    assert result.returncode == 0, result.stderr
    exported = {p.name for p in (plain / "runtime-images").iterdir()}
    assert "pandas.json" in exported
    assert {"broken.json", "bad_policy.json", "big_broken.json"}.isdisjoint(exported)

    full = tmp_path / "full"
    result = run_cli(isolated_env, "export", "--directory", str(full), "--include-invalid")
    assert result.returncode == 0, result.stderr
    target = full / "runtime-images"
    assert (target / "broken.json").read_bytes() == MALFORMED
    assert (target / "bad_policy.json").read_bytes() == SCHEMA_INVALID
    assert (target / "big_broken.json").read_bytes() == big_broken
    assert (target / "pandas.json").exists()
    assert "Warning" not in result.stderr


def test_export_include_invalid_skips_oversized_files_with_a_warning(
    isolated_env: dict[str, str], tmp_path: Path, user_store: Path
) -> None:
    user_store.mkdir(parents=True)
    # Over the store's 1 MiB max_file_bytes: listed invalid with no text kept.
    (user_store / "huge.json").write_bytes(b"[" + b" " * (1024 * 1024) + b"]")
    (user_store / "broken.json").write_bytes(MALFORMED)
    items = {i["name"]: i for i in listed(isolated_env, "--include-invalid")}
    assert "larger than" in items["huge"]["reason"]

    result = run_cli(
        isolated_env, "export", "--directory", str(tmp_path / "out"), "--include-invalid"
    )
    assert result.returncode == 0, result.stderr
    target = tmp_path / "out" / "runtime-images"
    assert not (target / "huge.json").exists()  # not an empty file
    assert "huge" in result.stderr and "not exported" in result.stderr
    assert "larger than" in result.stderr
    assert (target / "broken.json").read_bytes() == MALFORMED
    count = len(list(target.glob("*.json")))
    assert f"Exported {count} runtime images" in result.stdout


def test_import_overwrite(isolated_env: dict[str, str], tmp_path: Path) -> None:
    run_cli(isolated_env, "create", "--name", "x", "--display_name", "Old", "--image_name", "a/b:1")
    directory = tmp_path / "in"
    directory.mkdir()
    (directory / "x.json").write_text(
        json.dumps(
            {
                "display_name": "New",
                "schema_name": "runtime-image",
                "metadata": {"image_name": "a/b:2"},
            }
        )
    )
    assert "skipped" in run_cli(isolated_env, "import", "--directory", str(directory)).stdout
    result = run_cli(isolated_env, "import", "--directory", str(directory), "--overwrite")
    assert "updated" in result.stdout
    assert listed_item(isolated_env, "x")["display_name"] == "New"


def test_cli_and_server_share_configuration_and_store(
    isolated_env: dict[str, str], tmp_path: Path, running_server: RunningServer
) -> None:
    # The shared directory is set only in the configuration file both of them read.
    write_instance(
        store_dir(tmp_path / "shared"),
        "team_image",
        {
            "display_name": "Team image",
            "schema_name": "runtime-image",
            "metadata": {"image_name": "quay.io/team/img:1"},
        },
    )
    status, _, served = running_server.request("GET", "/runtime-images/images/team_image")
    assert status == 200 and served["origin"] == "shared"
    assert listed_item(isolated_env, "team_image")["origin"] == "shared"

    run_cli(
        isolated_env,
        "create",
        "--name",
        "cli_made",
        "--display_name",
        "CLI",
        "--image_name",
        "quay.io/cli/img:1",
    )
    status, _, served = running_server.request("GET", "/runtime-images/images")
    assert "cli_made" in [i["name"] for i in served["runtime-images"]]  # no restart needed


@pytest.mark.parametrize(
    ("option", "content", "problem"),
    [
        ("--json", '{"display_name": "X", "metadata": {"image_name": "a/b:1", "x": NaN}}', "NaN"),
        ("--json", '{"display_name": "\\ud800", "metadata": {"image_name": "a/b:1"}}', "surrogate"),
        ("--file", b"\xff\xfe not text", "not UTF-8"),
        ("--file", "[" * 5000 + "]" * 5000, "nested deeper than 64 levels"),
    ],
)
def test_a_hostile_document_is_one_line_of_error_not_a_traceback(
    isolated_env: dict[str, str],
    user_store: Path,
    tmp_path: Path,
    option: str,
    content: str | bytes,
    problem: str,
) -> None:
    if option == "--file":
        path = tmp_path / "image.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        content = str(path)
    result = run_cli(isolated_env, "create", "--name", "x", option, str(content))
    assert result.returncode == 1
    assert problem in result.stderr
    assert "Traceback" not in result.stderr
    assert not (user_store / "x.json").exists()


def test_an_alias_bomb_build_file_is_refused_at_once(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    from .test_documents import BILLION_LAUGHS

    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS)
    result = run_cli(isolated_env, "build", "-f", str(path), "--no-wait")
    assert result.returncode == 1, result.stdout
    assert "aliases expanded" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_reader_that_goes_away_is_not_an_error(isolated_env: dict[str, str]) -> None:
    """``jupyter runtime-images list --json | head`` printed "Error: Broken pipe: None"."""
    from .support import JUPYTER

    process = subprocess.Popen(
        [JUPYTER, "runtime-images", "list", "--json"],
        env=isolated_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the command writes
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 0
    assert stderr == ""


def test_the_command_line_parses_without_importing_what_verbs_use() -> None:
    """Start-up stays light: parsing a command imports no image, registry or HTTP package
    (a verb imports what it needs when it runs); the sbom verb's format choices are the
    SBOM writer's own."""
    heavy = (
        "runtime_images.contents",
        "runtime_images.inspect",
        "runtime_images.registry",
        "runtime_images.vulns",
        "runtime_images.exports",
        "httpx",
        "traitlets",
        "jsonschema",
    )
    code = (
        "import sys; from runtime_images.cli import build_parser; build_parser(); "
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"

    from runtime_images.cli.contents import SBOM_FORMATS
    from runtime_images.contents.sbom import FORMATS

    assert list(SBOM_FORMATS) == list(FORMATS)
