"""The store on real directories: layering, validation, durability and the index."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from runtime_images.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    ReadOnlyError,
    ValidationFailedError,
)
from runtime_images.store import PACKAGED_FACTORY_DIR, RuntimeImageStore, merge_patch

from .support import VALID_IMAGE, store_dir, write_instance

ELYRA_FACTORY_NAMES = {
    "anaconda-py311": ("Anaconda Python 3.11", "continuumio/anaconda3:2024.02-1"),
    "anaconda-py312": ("Anaconda Python 3.12", "continuumio/anaconda3:2024.10-1"),
    "pandas": ("Pandas 2.3.2", "amancevice/pandas:jupyter-2.3.2"),
    "pytorch-devel": (
        "PyTorch 2.5.1 (with GPU support)",
        "pytorch/pytorch:2.5.1-cuda12.1-cudnn9-devel",
    ),
    "pytorch-runtime": (
        "PyTorch 2.5.1 (with GPU support)",
        "pytorch/pytorch:2.5.1-cuda12.1-cudnn9-runtime",
    ),
    "r": ("R Script 4.3.1", "quay.io/jupyter/r-notebook:python-3.11"),
    "tensorflow_2x_py3": ("Tensorflow 2.19.0", "tensorflow/tensorflow:2.19.0"),
    "tensorflow_2x_gpu_py3": ("Tensorflow 2.19.0 with GPU", "tensorflow/tensorflow:2.19.0-gpu"),
}


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    return {level: tmp_path / level for level in ("user", "shared", "factory")}


@pytest.fixture
def store(dirs: dict[str, Path]) -> RuntimeImageStore:
    return RuntimeImageStore(
        data_dir=str(dirs["user"]),
        shared_data_dirs=[str(dirs["shared"])],
        factory_data_dirs=[str(dirs["factory"])],
    )


def image(display_name: str = "My Image 1", **metadata: Any) -> dict[str, Any]:
    return {
        "display_name": display_name,
        "schema_name": "runtime-image",
        "metadata": {"image_name": "quay.io/jdoe/img:1.0", **metadata},
    }


def names(store: RuntimeImageStore) -> list[str]:
    return [e.name for e in store.listing().instances]


def test_packaged_factory_images_are_elyras_eight(tmp_path: Path) -> None:
    store = RuntimeImageStore(
        data_dir=str(tmp_path), shared_data_dirs=[], factory_data_dirs=[PACKAGED_FACTORY_DIR]
    )
    listing = store.listing()
    assert listing.invalid == []
    found = {
        e.name: (e.display_name, e.to_api()["metadata"]["image_name"]) for e in listing.instances
    }
    assert found == ELYRA_FACTORY_NAMES
    assert {e.layer.origin for e in listing.instances} == {"factory"}


def test_create_writes_elyras_file_format(store: RuntimeImageStore, dirs: dict[str, Path]) -> None:
    entry = store.create({**image(), "metadata": {**image()["metadata"], "custom": 1}})
    assert entry.name == "my_image_1"
    path = store_dir(dirs["user"]) / "my_image_1.json"
    assert entry.path == path
    on_disk = json.loads(path.read_text())
    assert list(on_disk) == ["display_name", "metadata", "schema_name"]
    assert on_disk["metadata"] == {"image_name": "quay.io/jdoe/img:1.0", "custom": 1}
    assert path.stat().st_mode & 0o777 == 0o600
    assert entry.to_api() == {
        "name": "my_image_1",
        "origin": "user",
        "local": False,
        "warnings": [],
        **on_disk,
    }


@pytest.mark.parametrize(
    ("image_name", "warned"),
    [
        ("ubuntu", True),
        ("quay.io/a/b:latest", True),
        ("quay.io/a/b:1.0", False),
        ("quay.io/a/b@sha256:" + "a" * 64, False),
        ("quay.io/a/b:latest@sha256:" + "a" * 64, False),
    ],
)
def test_unpinned_references_carry_a_warning(
    store: RuntimeImageStore, image_name: str, warned: bool
) -> None:
    entry = store.create({"display_name": "W", "metadata": {"image_name": image_name}})
    warnings = entry.to_api()["warnings"]
    assert bool(warnings) == warned
    if warned:
        assert "pin it to a digest" in warnings[0]


def test_files_written_by_elyra_are_read(store: RuntimeImageStore, dirs: dict[str, Path]) -> None:
    # Exactly what elyra-metadata 4.1.1 writes (elyra.md §2), plus an Elyra-only file name.
    write_instance(
        store_dir(dirs["user"]),
        "Hand-Made",
        {
            "display_name": "My Image 1",
            "metadata": {
                "image_name": "jdoe/img:1.0",
                "tags": ["a", "b"],
                "pull_policy": "IfNotPresent",
            },
            "schema_name": "runtime-image",
        },
    )
    entry = store.get("Hand-Made")
    assert entry.to_api()["metadata"]["pull_policy"] == "IfNotPresent"


def test_name_taken_at_any_level_is_a_conflict(
    store: RuntimeImageStore, dirs: dict[str, Path]
) -> None:
    write_instance(store_dir(dirs["factory"]), "my_image_1", image())
    with pytest.raises(AlreadyExistsError):
        store.create(image())
    with pytest.raises(AlreadyExistsError):
        store.create({**image("Other"), "name": "my_image_1"})


def test_validation_errors_name_every_field(store: RuntimeImageStore) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        store.create({"display_name": "x", "metadata": {"image_name": "Bad Image", "tags": [1]}})
    assert [e.path for e in caught.value.errors] == ["metadata.image_name", "metadata.tags.0"]
    with pytest.raises(ValidationFailedError) as caught:
        store.create({**image(), "name": "Bad,Name"})
    assert [e.path for e in caught.value.errors] == ["name"]
    assert names(store) == []


def test_unusable_display_name_gets_a_generated_name(store: RuntimeImageStore) -> None:
    entry = store.create(image("日本語"))
    assert entry.name.startswith("runtime_image_")
    assert entry.display_name == "日本語"


def test_precedence_user_over_shared_over_factory(
    store: RuntimeImageStore, dirs: dict[str, Path]
) -> None:
    write_instance(store_dir(dirs["factory"]), "same", image("Factory"))
    write_instance(store_dir(dirs["shared"]), "same", image("Shared"))
    assert store.get("same").display_name == "Shared"
    assert store.get("same").layer.origin == "shared"
    write_instance(store_dir(dirs["user"]), "same", image("User"))
    assert store.get("same").display_name == "User"
    assert [e.display_name for e in store.listing().instances] == ["User"]


def test_updating_a_factory_image_writes_a_user_copy_and_delete_restores_it(
    store: RuntimeImageStore, dirs: dict[str, Path]
) -> None:
    factory_file = write_instance(store_dir(dirs["factory"]), "fact", image("Factory"))
    before = factory_file.read_bytes()
    updated = store.patch("fact", {"metadata": {"description": "mine"}})
    assert updated.layer.origin == "user"
    assert factory_file.read_bytes() == before
    assert store.get("fact").to_api()["metadata"]["description"] == "mine"
    uncovered = store.delete("fact")
    assert uncovered is not None and uncovered.layer.origin == "factory"
    assert store.get("fact").display_name == "Factory"


@pytest.mark.parametrize("level", ["factory", "shared"])
def test_deleting_factory_or_shared_images_is_refused(
    store: RuntimeImageStore, dirs: dict[str, Path], level: str
) -> None:
    path = write_instance(store_dir(dirs[level]), "ro", image())
    with pytest.raises(ReadOnlyError):
        store.delete("ro")
    assert path.exists()


def test_invalid_files_are_listed_with_a_reason(
    store: RuntimeImageStore, dirs: dict[str, Path]
) -> None:
    directory = store_dir(dirs["user"])
    store.create(image("Good"))
    write_instance(directory, "broken_json", "{not json")
    write_instance(directory, "bad_field", image("Bad", pull_policy="Sometimes"))
    write_instance(directory, "not_object", "[1, 2]")
    listing = store.listing()
    assert [e.name for e in listing.instances] == ["good"]
    invalid = {e.name: e for e in listing.invalid}
    assert set(invalid) == {"broken_json", "bad_field", "not_object"}
    assert "not valid JSON" in invalid["broken_json"].reason
    assert invalid["broken_json"].raw == "{not json"
    assert invalid["bad_field"].errors[0].path == "metadata.pull_policy"
    assert invalid["bad_field"].to_invalid_api()["document"]["display_name"] == "Bad"
    with pytest.raises(ValidationFailedError):
        store.get("bad_field")


def test_invalid_files_can_be_repaired_and_deleted(
    store: RuntimeImageStore, dirs: dict[str, Path]
) -> None:
    directory = store_dir(dirs["user"])
    write_instance(directory, "broken_json", "{not json")
    write_instance(directory, "bad_field", image("Bad", pull_policy="Sometimes"))
    repaired = store.replace("broken_json", image("Fixed"))
    assert repaired.valid and store.get("broken_json").display_name == "Fixed"
    with pytest.raises(ConflictError):
        write_instance(directory, "broken_json", "{not json")
        store.patch("broken_json", {"display_name": "x"})
    store.delete("broken_json")
    patched = store.patch("bad_field", {"metadata": {"pull_policy": "Always"}})
    assert patched.valid
    assert store.listing().invalid == []


def test_etag_and_if_match(store: RuntimeImageStore) -> None:
    created = store.create(image())
    assert store.get(created.name).etag == created.etag
    updated = store.replace(created.name, image("New"), if_match=created.etag)
    assert updated.etag != created.etag
    with pytest.raises(PreconditionFailedError):
        store.replace(created.name, image("Stale"), if_match=created.etag)
    with pytest.raises(PreconditionFailedError):
        store.patch(created.name, {"display_name": "Stale"}, if_match=created.etag)
    with pytest.raises(PreconditionFailedError):
        store.delete(created.name, if_match=created.etag)
    assert store.get(created.name).display_name == "New"
    store.patch(created.name, {"display_name": "Star"}, if_match="*")
    store.delete(created.name, if_match=f"W/{store.get(created.name).etag}")
    with pytest.raises(NotFoundError):
        store.get(created.name)


def test_renaming_through_replace_is_refused(store: RuntimeImageStore) -> None:
    store.create(image())
    with pytest.raises(ValidationFailedError) as caught:
        store.replace("my_image_1", {**image(), "name": "other"})
    assert caught.value.errors[0].path == "name"


def test_missing_and_unsafe_names_are_not_found(store: RuntimeImageStore) -> None:
    for name in ["nope", "../x", "..", "a/b", ".runtime-images", "a\x00b"]:
        with pytest.raises(NotFoundError):
            store.get(name)
        with pytest.raises(NotFoundError):
            store.delete(name)


def test_listing_is_sorted_by_display_name(store: RuntimeImageStore) -> None:
    for display in ["banana", "Apple", "cherry", "apple pie"]:
        store.create(image(display))
    assert [e.display_name for e in store.listing().instances] == [
        "Apple",
        "apple pie",
        "banana",
        "cherry",
    ]


def test_listing_rereads_only_changed_files(
    store: RuntimeImageStore, dirs: dict[str, Path]
) -> None:
    for number in range(5):
        store.create(image(f"Image {number}"))
    first = store.listing()
    assert store.listing() is first  # nothing changed: the same snapshot
    path = store_dir(dirs["user"]) / "image_3.json"
    data = json.loads(path.read_text())
    data["display_name"] = "Edited in an editor"
    path.write_text(json.dumps(data))  # in place, as an editor or the CLI would
    os.utime(path, ns=(1, 1))  # a different mtime even within the clock's granularity
    second = store.listing()
    assert second is not first and second.version != first.version
    unchanged = {e.name: e for e in first.instances}
    for entry in second.instances:
        if entry.name == "image_3":
            assert entry.display_name == "Edited in an editor"
        else:
            assert entry is unchanged[entry.name]  # not re-read
    path.unlink()
    assert "image_3" not in [e.name for e in store.listing().instances]


def test_duplicate_names_copies_and_numbers_them(store: RuntimeImageStore) -> None:
    source = store.create(image(pull_secret="s", tags=["x"]))
    first = store.duplicate(source.name)
    second = store.duplicate(source.name)
    assert (first.name, first.display_name) == ("my_image_1_copy", "My Image 1 (copy)")
    assert (second.name, second.display_name) == ("my_image_1_copy_2", "My Image 1 (copy 2)")
    assert first.to_api()["metadata"] == source.to_api()["metadata"]


def test_import_reports_each_item_and_never_copies_identical_factory_images(
    store: RuntimeImageStore, dirs: dict[str, Path]
) -> None:
    write_instance(store_dir(dirs["factory"]), "fact", image("Factory"))
    store.create({**image("Mine"), "name": "mine"})
    results = store.import_instances(
        [
            {**image("Factory"), "name": "fact"},  # identical to the factory image
            {**image("Mine changed"), "name": "mine"},  # exists, differs
            {**image("New one")},  # name derived
            {"display_name": "Broken", "metadata": {"image_name": "Nope Nope"}},
            "not an object",
        ]
    )
    assert [(r.name, r.status) for r in results] == [
        ("fact", "unchanged"),
        ("mine", "skipped"),
        ("new_one", "created"),
        ("broken", "failed"),
        ("item 5", "failed"),
    ]
    assert results[3].errors[0].path == "metadata.image_name"
    assert not (store_dir(dirs["user"]) / "fact.json").exists()
    overwritten = store.import_instances([{**image("Mine changed"), "name": "mine"}], True)
    assert overwritten[0].status == "updated"
    assert store.get("mine").display_name == "Mine changed"


def test_oversized_files_are_invalid_without_being_read(
    store: RuntimeImageStore, dirs: dict[str, Path]
) -> None:
    store.max_file_bytes = 100
    write_instance(store_dir(dirs["user"]), "huge", image(description="x" * 200))
    (entry,) = store.listing().invalid
    assert "larger than 100 bytes" in entry.reason


def test_merge_patch_rfc7396() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert merge_patch({"a": [1]}, {"a": [2]}) == {"a": [2]}
    assert merge_patch({"a": 1}, {"b": {"c": None}}) == {"a": 1, "b": {}}
    assert merge_patch(target, ["x"]) == ["x"]


def test_elyra_fixture_constant_is_valid(store: RuntimeImageStore) -> None:
    assert store.create(dict(VALID_IMAGE)).valid
