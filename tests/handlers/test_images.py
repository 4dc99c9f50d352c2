"""Every route of /runtime-images/ and its errors, through a real server (pytest-jupyter)."""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from runtime_images.handlers.images import MAX_IMPORT_ITEMS
from runtime_images.store import LOCK_FILE_NAME

from ..support import VALID_IMAGE, Fetch, rest, write_instance

# Server configuration for the tests whose name starts with a key.
CONFIG_BY_TEST = {
    "test_a_held_lock": {"RuntimeImageStore": {"lock_timeout": 0.3}},
    "test_an_import_body_over_the_cap": {"RuntimeImages": {"max_import_bytes": 4096}},
}


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    for prefix, config in CONFIG_BY_TEST.items():
        if request.node.name.startswith(prefix):
            return {**jp_server_config, **config}
    return jp_server_config


call = rest


def image(display_name: str = "My Image 1", **metadata: Any) -> dict[str, Any]:
    return {
        **VALID_IMAGE,
        "display_name": display_name,
        "metadata": {**VALID_IMAGE["metadata"], **metadata},
    }


@pytest.fixture
def raw_fetch(http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str]) -> Fetch:
    """Fetch a path exactly as given (no escaping), to send hostile URLs."""

    async def fetch(path: str, method: str = "GET", body: bytes | None = None) -> Any:
        try:
            response = await http_server_client.fetch(
                jp_base_url + path,
                method=method,
                body=body,
                headers=jp_auth_header,
                allow_nonstandard_methods=True,
            )
        except HTTPClientError as error:
            response = error.response
        return response

    return fetch


async def test_create_get_list(jp_fetch: Fetch, jp_base_url: str) -> None:
    status, headers, created = await call(jp_fetch, "POST", "images", body=image())
    assert status == 201
    assert headers["Location"] == f"{jp_base_url}runtime-images/images/my_image_1"
    assert created == {
        "name": "my_image_1",
        "origin": "user",
        "local": False,
        "warnings": [],
        **image(),
    }
    etag = headers["ETag"]

    status, headers, fetched = await call(jp_fetch, "GET", "images", "my_image_1")
    assert (status, headers["ETag"], fetched) == (200, etag, created)

    status, _, listed = await call(jp_fetch, "GET", "images")
    assert status == 200
    assert created in listed["runtime-images"]
    assert "invalid" not in listed


async def test_a_get_response_can_be_sent_back_unchanged(jp_fetch: Fetch) -> None:
    _, _, created = await call(jp_fetch, "POST", "images", body=image(image_name="ubuntu"))
    assert created["warnings"] and "no tag" in created["warnings"][0]
    status, _, replaced = await call(jp_fetch, "PUT", "images", "my_image_1", body=created)
    assert status == 200 and replaced == created


async def test_list_is_sorted_and_includes_factory_images(jp_fetch: Fetch) -> None:
    await call(jp_fetch, "POST", "images", body=image("aaa first"))
    _, _, listed = await call(jp_fetch, "GET", "images")
    displays = [i["display_name"] for i in listed["runtime-images"]]
    assert displays == sorted(displays, key=str.casefold)
    assert displays[0] == "aaa first"
    origins = {i["name"]: i["origin"] for i in listed["runtime-images"]}
    assert origins["tensorflow_2x_py3"] == "factory"
    assert origins["aaa_first"] == "user"


async def test_list_etag_allows_cheap_polling(jp_fetch: Fetch) -> None:
    _, headers, _ = await call(jp_fetch, "GET", "images")
    status, _, body = await call(
        jp_fetch, "GET", "images", headers={"If-None-Match": headers["ETag"]}
    )
    assert (status, body) == (304, None)
    await call(jp_fetch, "POST", "images", body=image())
    status, _, body = await call(
        jp_fetch, "GET", "images", headers={"If-None-Match": headers["ETag"]}
    )
    assert status == 200 and body["runtime-images"]


async def test_include_invalid_lists_broken_files_with_reasons(
    jp_fetch: Fetch, user_dir: Path
) -> None:
    write_instance(user_dir, "broken", "{oops")
    write_instance(user_dir, "bad_policy", image("Bad", pull_policy="Sometimes"))
    _, _, listed = await call(jp_fetch, "GET", "images")
    assert {"broken", "bad_policy"}.isdisjoint(i["name"] for i in listed["runtime-images"])
    _, _, listed = await call(jp_fetch, "GET", "images", params={"include_invalid": "true"})
    invalid = {i["name"]: i for i in listed["invalid"]}
    assert invalid["broken"]["raw"] == "{oops"
    assert invalid["broken"]["document"] is None
    assert invalid["bad_policy"]["errors"] == [
        {"path": "metadata.pull_policy", "message": "must be one of: Always, IfNotPresent, Never"}
    ]
    assert invalid["bad_policy"]["document"]["display_name"] == "Bad"
    status, _, error = await call(jp_fetch, "GET", "images", params={"include_invalid": "maybe"})
    assert status == 400 and error["errors"][0]["path"] == "include_invalid"


async def test_invalid_files_are_repaired_with_put_and_deleted(
    jp_fetch: Fetch, user_dir: Path
) -> None:
    write_instance(user_dir, "broken", "{oops")
    write_instance(user_dir, "bad_policy", image("Bad", pull_policy="Sometimes"))
    status, _, error = await call(jp_fetch, "GET", "images", "bad_policy")
    assert status == 400 and error["errors"][0]["path"] == "metadata.pull_policy"
    status, _, repaired = await call(jp_fetch, "PUT", "images", "broken", body=image("Fixed"))
    assert status == 200 and repaired["display_name"] == "Fixed"
    status, _, _ = await call(jp_fetch, "DELETE", "images", "bad_policy")
    assert status == 204
    _, _, listed = await call(jp_fetch, "GET", "images", params={"include_invalid": "true"})
    assert listed["invalid"] == []


async def test_validation_errors_name_fields(jp_fetch: Fetch) -> None:
    bad = {"display_name": "", "metadata": {"image_name": "Not Valid!!", "tags": ["a", "a"]}}
    status, _, error = await call(jp_fetch, "POST", "images", body=bad)
    assert status == 400
    assert error["reason"] == "Bad Request"
    assert [e["path"] for e in error["errors"]] == [
        "display_name",
        "metadata.image_name",
        "metadata.tags",
    ]
    assert "metadata.image_name" in error["message"]


async def test_unknown_top_level_fields_are_refused_not_dropped(jp_fetch: Fetch) -> None:
    status, _, error = await call(jp_fetch, "POST", "images", body={**image(), "color": "red"})
    assert status == 400 and error["errors"] == [
        {"path": "color", "message": "is not a runtime image field"}
    ]


async def test_unknown_metadata_fields_are_kept(jp_fetch: Fetch, user_dir: Path) -> None:
    status, _, created = await call(jp_fetch, "POST", "images", body=image(extra={"k": 1}))
    assert status == 201 and created["metadata"]["extra"] == {"k": 1}
    assert json.loads((user_dir / "my_image_1.json").read_text())["metadata"]["extra"] == {"k": 1}


async def test_conflict_on_taken_name(jp_fetch: Fetch) -> None:
    await call(jp_fetch, "POST", "images", body=image())
    status, _, error = await call(jp_fetch, "POST", "images", body=image())
    assert status == 409 and "my_image_1" in error["message"]
    status, _, _ = await call(jp_fetch, "POST", "images", body={**image(), "name": "pandas"})
    assert status == 409


async def test_unusable_display_names_get_a_safe_name(jp_fetch: Fetch) -> None:
    for display in ["日本語", "!!!"]:
        status, _, created = await call(jp_fetch, "POST", "images", body=image(display))
        assert status == 201 and created["name"].startswith("runtime_image_")
        assert created["display_name"] == display


async def test_put_replaces_and_honours_if_match(jp_fetch: Fetch) -> None:
    _, headers, _ = await call(jp_fetch, "POST", "images", body=image(description="old"))
    etag = headers["ETag"]
    status, headers2, replaced = await call(
        jp_fetch,
        "PUT",
        "images",
        "my_image_1",
        body=image("Renamed display"),
        headers={"If-Match": etag},
    )
    assert status == 200 and "description" not in replaced["metadata"]
    assert headers2["ETag"] != etag
    status, _, error = await call(
        jp_fetch, "PUT", "images", "my_image_1", body=image("Stale"), headers={"If-Match": etag}
    )
    assert status == 412 and "changed since you read it" in error["message"]
    status, _, _ = await call(jp_fetch, "PUT", "images", "missing", body=image())
    assert status == 404
    status, _, error = await call(
        jp_fetch, "PUT", "images", "my_image_1", body={**image(), "name": "other"}
    )
    assert status == 400 and error["errors"][0]["path"] == "name"


async def test_patch_merges(jp_fetch: Fetch) -> None:
    await call(jp_fetch, "POST", "images", body=image(description="d", pull_policy="Always"))
    status, _, patched = await call(
        jp_fetch,
        "PATCH",
        "images",
        "my_image_1",
        body={"metadata": {"description": None, "tags": ["x"]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert status == 200
    assert patched["metadata"] == {
        "image_name": "quay.io/jdoe/img:1.0",
        "tags": ["x"],
        "pull_policy": "Always",
    }
    status, _, error = await call(
        jp_fetch, "PATCH", "images", "my_image_1", body={"metadata": {"image_name": None}}
    )
    assert status == 400 and error["errors"][0]["path"] == "metadata.image_name"
    status, _, _ = await call(jp_fetch, "PATCH", "images", "my_image_1", body=[1])
    assert status == 400


async def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    jp_fetch: Fetch, user_dir: Path
) -> None:
    _, headers, _ = await call(jp_fetch, "POST", "images", body=image(description="v1"))
    stale = headers["ETag"]
    status, _, _ = await call(
        jp_fetch, "PATCH", "images", "my_image_1", body={"metadata": {"description": "v2"}}
    )
    assert status == 200
    before = (user_dir / "my_image_1.json").read_bytes()

    async def patch_v3(etag: str) -> tuple[int, Any, Any]:
        return await call(
            jp_fetch,
            "PATCH",
            "images",
            "my_image_1",
            body={"metadata": {"description": "v3"}},
            headers={"If-Match": etag},
        )

    status, _, error = await patch_v3(stale)
    assert status == 412 and "changed since you read it" in error["message"]
    assert (user_dir / "my_image_1.json").read_bytes() == before
    _, headers, fetched = await call(jp_fetch, "GET", "images", "my_image_1")
    assert fetched["metadata"]["description"] == "v2"
    status, _, patched = await patch_v3(headers["ETag"])
    assert status == 200 and patched["metadata"]["description"] == "v3"


async def test_patch_of_an_unknown_name_is_404(jp_fetch: Fetch, user_dir: Path) -> None:
    status, _, error = await call(
        jp_fetch, "PATCH", "images", "no_such_image", body={"display_name": "X"}
    )
    assert status == 404 and "no_such_image" in error["message"]
    assert not (user_dir / "no_such_image.json").exists()


async def test_a_held_lock_makes_writes_503(jp_fetch: Fetch, user_dir: Path) -> None:
    """Another writer (here a second open file description) holds the store's lock."""
    user_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(user_dir / LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        status, _, error = await call(jp_fetch, "POST", "images", body=image())
        assert status == 503
        assert error["reason"] == "Service Unavailable"
        assert "another writer holds" in error["message"]
        assert LOCK_FILE_NAME in error["message"] and "0.3 s" in error["message"]
        assert not (user_dir / "my_image_1.json").exists()
        status, _, _ = await call(jp_fetch, "DELETE", "images", "pandas")
        assert status == 503
    finally:
        os.close(fd)
    status, _, _ = await call(jp_fetch, "POST", "images", body=image())
    assert status == 201


async def test_patching_a_malformed_file_is_a_conflict(jp_fetch: Fetch, user_dir: Path) -> None:
    write_instance(user_dir, "broken", "{oops")
    status, _, error = await call(jp_fetch, "PATCH", "images", "broken", body={"a": 1})
    assert status == 409 and "PUT" in error["message"]


async def test_factory_images_are_read_only_but_can_be_overridden(
    jp_fetch: Fetch, user_dir: Path
) -> None:
    status, _, error = await call(jp_fetch, "DELETE", "images", "pandas")
    assert status == 403 and "factory" in error["message"]
    status, _, patched = await call(
        jp_fetch, "PATCH", "images", "pandas", body={"metadata": {"pull_policy": "Always"}}
    )
    assert status == 200 and patched["origin"] == "user"
    assert (user_dir / "pandas.json").exists()
    status, _, _ = await call(jp_fetch, "DELETE", "images", "pandas")
    assert status == 204
    _, _, restored = await call(jp_fetch, "GET", "images", "pandas")
    assert restored["origin"] == "factory" and "pull_policy" not in restored["metadata"]


async def test_shared_images_cannot_be_deleted(jp_fetch: Fetch, shared_dir: Path) -> None:
    write_instance(shared_dir, "team", image("Team image"))
    status, _, fetched = await call(jp_fetch, "GET", "images", "team")
    assert status == 200 and fetched["origin"] == "shared"
    status, _, _ = await call(jp_fetch, "DELETE", "images", "team")
    assert status == 403


async def test_delete(jp_fetch: Fetch) -> None:
    _, headers, _ = await call(jp_fetch, "POST", "images", body=image())
    status, _, _ = await call(
        jp_fetch, "DELETE", "images", "my_image_1", headers={"If-Match": '"stale"'}
    )
    assert status == 412
    status, _, body = await call(
        jp_fetch, "DELETE", "images", "my_image_1", headers={"If-Match": headers["ETag"]}
    )
    assert (status, body) == (204, None)
    status, _, _ = await call(jp_fetch, "DELETE", "images", "my_image_1")
    assert status == 404


async def test_duplicate(jp_fetch: Fetch, jp_base_url: str) -> None:
    await call(jp_fetch, "POST", "images", body=image(tags=["t"]))
    status, headers, copy = await call(
        jp_fetch, "POST", "images", "my_image_1", "duplicate", allow_nonstandard_methods=True
    )
    assert status == 201
    assert (copy["name"], copy["display_name"]) == ("my_image_1_copy", "My Image 1 (copy)")
    assert headers["Location"].endswith("/runtime-images/images/my_image_1_copy")
    status, _, _ = await call(
        jp_fetch, "POST", "images", "missing", "duplicate", allow_nonstandard_methods=True
    )
    assert status == 404


async def test_export_import_round_trip(jp_fetch: Fetch, user_dir: Path) -> None:
    await call(jp_fetch, "POST", "images", body=image("One"))
    await call(jp_fetch, "POST", "images", body=image("Two"))
    status, _, bundle = await call(jp_fetch, "GET", "export")
    assert status == 200
    exported = {i["name"]: i for i in bundle["runtime-images"]}
    assert set(exported) >= {"one", "two", "pandas"}
    assert set(exported["one"]) == {"name", "display_name", "metadata", "schema_name"}

    await call(jp_fetch, "DELETE", "images", "one")
    await call(jp_fetch, "PATCH", "images", "two", body={"display_name": "Two changed"})
    status, _, report = await call(jp_fetch, "POST", "import", body=bundle)
    assert status == 200
    results = {r["name"]: r["status"] for r in report["results"]}
    assert results["one"] == "created"
    assert results["two"] == "skipped"
    assert results["pandas"] == "unchanged"
    assert not (user_dir / "pandas.json").exists()  # no factory copies (Elyra's B13)

    _, _, report = await call(jp_fetch, "POST", "import", body=bundle, params={"overwrite": "true"})
    assert {r["name"]: r["status"] for r in report["results"]}["two"] == "updated"
    _, _, two = await call(jp_fetch, "GET", "images", "two")
    assert two["display_name"] == "Two"


async def test_import_reports_bad_items_and_rejects_bad_bundles(jp_fetch: Fetch) -> None:
    bundle = {"runtime-images": [image("Good"), {"display_name": "Bad", "metadata": {}}, 7]}
    status, _, report = await call(jp_fetch, "POST", "import", body=bundle)
    assert status == 200
    assert [r["status"] for r in report["results"]] == ["created", "failed", "failed"]
    assert report["results"][1]["errors"][0]["path"] == "metadata.image_name"
    for bad in [{"images": []}, "x", 3]:
        status, _, error = await call(jp_fetch, "POST", "import", body=json.dumps(bad))
        assert status == 400 and "export" in error["message"]


async def test_a_full_disk_makes_writes_507(
    jp_fetch: Fetch, user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(path: Path, data: bytes, mode: int = 0o600) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("runtime_images.store.atomic_write_bytes", disk_full)
    status, _, error = await call(jp_fetch, "POST", "images", body=image())
    assert status == 507 and "disk" in error["message"] and "full" in error["message"]
    assert not (user_dir / "my_image_1.json").exists()


async def test_an_import_body_over_the_cap_is_413(jp_fetch: Fetch, user_dir: Path) -> None:
    small = {"runtime-images": [{**image("Small"), "name": "small"}]}
    assert len(json.dumps(small)) < 4096
    status, _, report = await call(jp_fetch, "POST", "import", body=small)
    assert status == 200 and report["results"][0]["status"] == "created"

    padded = {"runtime-images": [{**image("Big", description="x" * 5000), "name": "big"}]}
    status, _, error = await call(jp_fetch, "POST", "import", body=padded)
    assert status == 413 and "larger than 4096 bytes" in error["message"]
    assert not (user_dir / "big.json").exists()


async def test_an_import_of_too_many_items_is_413(jp_fetch: Fetch, user_dir: Path) -> None:
    items: list[Any] = [7] * MAX_IMPORT_ITEMS
    items.append({**image("Last"), "name": "last"})
    status, _, error = await call(jp_fetch, "POST", "import", body={"runtime-images": items})
    assert status == 413 and f"at most {MAX_IMPORT_ITEMS} images" in error["message"]
    assert not (user_dir / "last.json").exists()  # nothing was imported

    status, _, report = await call(
        jp_fetch, "POST", "import", body={"runtime-images": items[-MAX_IMPORT_ITEMS:]}
    )
    assert status == 200 and len(report["results"]) == MAX_IMPORT_ITEMS
    assert report["results"][-1] == {"name": "last", "status": "created", "message": "created"}


async def test_schema_and_openapi(jp_fetch: Fetch) -> None:
    status, _, schema = await call(jp_fetch, "GET", "schema")
    assert status == 200 and schema["title"] == "Runtime Image"
    response = await jp_fetch("runtime-images", "openapi.yaml")
    assert response.headers["Content-Type"].startswith("application/yaml")
    assert b"/images/{name}/duplicate" in response.body


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"\xff\xfe\x00garbage",
        b'{"display_name": NaN, "metadata": {"image_name": "a"}}',
        b"[" * 100_000 + b"]" * 100_000,
        b"null",
        b'"string"',
        b"12",
        json.dumps({"display_name": 5, "metadata": "x"}).encode(),
        json.dumps({"display_name": "x", "metadata": {"image_name": ["a"]}}).encode(),
        json.dumps(
            {"display_name": "\u0000\ud7ff", "metadata": {"image_name": "a\u0000"}}
        ).encode(),
    ],
)
async def test_malformed_bodies_get_400(jp_fetch: Fetch, body: bytes) -> None:
    for method, parts in [
        ("POST", ["images"]),
        ("PUT", ["images", "pandas"]),
        ("PATCH", ["images", "pandas"]),
        ("POST", ["import"]),
    ]:
        status, _, error = await call(
            jp_fetch, method, *parts, body=body, allow_nonstandard_methods=True
        )
        assert status == 400, (method, parts, body[:30], error)
        assert error["message"]


async def test_huge_bodies_get_413(jp_fetch: Fetch) -> None:
    huge = image(description="x" * (2 * 1024 * 1024))
    status, _, error = await call(jp_fetch, "POST", "images", body=huge)
    assert status == 413 and "larger than" in error["message"]


@pytest.mark.parametrize(
    "path",
    [
        "runtime-images/images/..%2F..%2Fetc%2Fpasswd",
        "runtime-images/images/..%2Fsecret",
        "runtime-images/images/%2e%2e",
        "runtime-images/images/a%00b",
        "runtime-images/images/.runtime-images.lock",
        "runtime-images/images/%E6%97%A5%E6%9C%AC",
        "runtime-images/images/" + "a" * 5000,
        # Under the length limit in characters, over the file system's 255 bytes.
        "runtime-images/images/" + "%C3%A9" * 150,
        "runtime-images/images/" + "%E6%97%A5" * 100,
        "runtime-images/images/ab%0A",
    ],
)
async def test_hostile_names_are_not_found(raw_fetch: Fetch, path: str) -> None:
    for method in ("GET", "DELETE"):
        response = await raw_fetch(path, method=method)
        assert response.code == 404, (method, path, response.body)
    response = await raw_fetch(path, method="PUT", body=json.dumps(image()).encode())
    assert response.code == 404
    response = await raw_fetch(path, method="PATCH", body=b'{"display_name": "x"}')
    assert response.code == 404
    response = await raw_fetch(path + "/duplicate", method="POST", body=b"{}")
    assert response.code == 404


async def test_a_name_with_a_trailing_newline_is_refused(jp_fetch: Fetch, user_dir: Path) -> None:
    status, _, error = await call(jp_fetch, "POST", "images", body={**image(), "name": "ab\n"})
    assert status == 400 and [e["path"] for e in error["errors"]] == ["name"]
    assert list(user_dir.glob("ab*")) == []


async def test_unicode_names_from_disk_are_served(jp_fetch: Fetch, user_dir: Path) -> None:
    write_instance(user_dir, "日本", image("Japanese"))
    status, _, fetched = await call(jp_fetch, "GET", "images", "日本")
    assert status == 200 and fetched["name"] == "日本"


@pytest.mark.parametrize(
    ("method", "parts"),
    [
        ("GET", ["images"]),
        ("POST", ["images"]),
        ("GET", ["images", "pandas"]),
        ("PUT", ["images", "pandas"]),
        ("PATCH", ["images", "pandas"]),
        ("DELETE", ["images", "pandas"]),
        ("POST", ["images", "pandas", "duplicate"]),
        ("GET", ["export"]),
        ("POST", ["import"]),
        ("GET", ["schema"]),
        ("GET", ["openapi.yaml"]),
    ],
)
async def test_every_route_requires_authentication(
    jp_fetch: Fetch, method: str, parts: list[str]
) -> None:
    body = json.dumps(image()) if method in ("POST", "PUT", "PATCH") else None
    status, _, _ = await call(jp_fetch, method, *parts, body=body, headers={"Authorization": ""})
    assert status == 403


async def test_every_route_is_authorized(jp_fetch: Fetch, jp_serverapp: Any) -> None:
    """A user the authorizer refuses 'write' can read but not change anything."""

    from jupyter_server.auth.authorizer import Authorizer

    class ReadOnly(Authorizer):
        def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
            assert resource == "runtime_images"
            return action == "read"

    jp_serverapp.web_app.settings["authorizer"] = ReadOnly(parent=jp_serverapp)
    status, _, _ = await call(jp_fetch, "GET", "images")
    assert status == 200
    status, _, _ = await call(jp_fetch, "POST", "images", body=image())
    assert status == 403
    status, _, _ = await call(jp_fetch, "DELETE", "images", "pandas")
    assert status == 403
