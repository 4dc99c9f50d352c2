"""The merged filesystem: whiteouts, opaque dirs, hard links and symlinks across layers."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime_images.inspect import FileSystem
from runtime_images.inspect.stream import open_layer_file
from tests.fixtures import images, oci


def merged(*layers: oci.Layer) -> FileSystem:
    fs = FileSystem()
    for layer in layers:
        assert layer.blob.data is not None
        fs.apply_layer(io.BytesIO(gzip.decompress(layer.blob.data)))
    return fs


def test_layered_image_semantics() -> None:
    image = images.layered_fs_image()
    fs = merged(*image.layers)
    # Opaque directory: the lower layer's content is gone, this layer's stays.
    assert sorted(fs.listdir("/opt/app")) == ["new.txt"]
    # Whiteouts delete files and whole directories; a later layer may re-create them.
    assert fs.lookup("/etc/removed.conf") is None
    assert sorted(fs.listdir("/var/cache")) == ["b"]
    # Written through the /bin -> usr/bin symlink: lands in usr/bin.
    assert fs.realpath("/bin/via-symlink") == "/usr/bin/via-symlink"
    assert fs.lookup("/usr/bin/via-symlink") is not None
    # Hard link shares the target's node (mode, content).
    tool, alias = fs.lookup("/usr/bin/tool"), fs.lookup("/usr/bin/tool-alias")
    assert tool is alias and tool is not None and tool.is_executable
    assert fs.read("/bin/tool") == b"#!/usr/bin/env python3\nprint('tool')\n"
    # Absolute symlink chain into a later layer.
    assert fs.realpath("/bin/python3") == "/usr/local/bin/python3.12"
    assert fs.lookup("/bin/python3") is not None


def test_a_copy_takes_more_layers_and_leaves_the_original_as_it_was() -> None:
    image = images.layered_fs_image()
    original = merged(*image.layers)
    before = sorted(path for path, _ in original.walk())
    copy = original.copy()
    # Hard links stay one node in the copy, and it is not the original's node.
    alias, tool = copy.lookup("/usr/bin/tool-alias"), copy.lookup("/usr/bin/tool")
    assert alias is not None and alias is tool
    assert alias is not original.lookup("/usr/bin/tool")
    more = oci.LayerBuilder().whiteout("usr/bin/tool").file("etc/added", "new").build()
    assert more.blob.data is not None
    copy.apply_layer(io.BytesIO(gzip.decompress(more.blob.data)))
    assert copy.lookup("/etc/added") is not None and copy.lookup("/usr/bin/tool") is None
    assert sorted(path for path, _ in original.walk()) == before
    assert original.lookup("/etc/added") is None and original.lookup("/usr/bin/tool") is not None


def test_the_json_form_reads_back_the_same_tree() -> None:
    original = merged(*images.layered_fs_image().layers)
    back = FileSystem.from_json(json.loads(json.dumps(original.to_json())))

    def entries(fs: FileSystem) -> list[tuple[Any, ...]]:
        return [
            (path, n.kind, n.mode, n.uid, n.gid, n.size, n.target, n.content, n.layer)
            for path, n in fs.walk()
        ]

    assert entries(back) == entries(original)
    assert (back.layers, back.entries) == (original.layers, original.entries)
    assert back.lookup("/usr/bin/tool-alias") is back.lookup("/usr/bin/tool")  # a hard link
    assert back.read("/bin/tool") == b"#!/usr/bin/env python3\nprint('tool')\n"


@pytest.mark.parametrize("data", [{}, {"version": 0}, {"version": 1, "root": [1, 2]}, []])
def test_other_json_is_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        FileSystem.from_json(data)


@pytest.mark.parametrize("chunk", [1, 7, 512, 1 << 20])
def test_layer_files_read_gzip_members_and_plain_tar_in_any_chunking(
    tmp_path: Path, chunk: int
) -> None:
    """Reads through chunk boundaries, inflate slices and concatenated gzip members."""
    image = images.layered_fs_image()
    layer = image.layers[0]
    assert layer.blob.data is not None
    tar = gzip.decompress(layer.blob.data)
    half = len(tar) // 2
    blobs = {
        "gzip": layer.blob.data,
        "members": gzip.compress(tar[:half]) + gzip.compress(tar[half:]),
        "tar": tar,
    }
    for kind, data in blobs.items():
        path = tmp_path / kind
        path.write_bytes(data)
        with open_layer_file(path, chunk) as stream:
            assert _read_all(stream) == tar, kind


def _read_all(stream: io.RawIOBase) -> bytes:
    out = b""
    while data := stream.read(1000):
        out += data
    return out


def test_opaque_marker_before_and_after_entries_of_its_layer() -> None:
    lower = oci.LayerBuilder().dir("d").file("d/old", "1").dir("d/sub").file("d/sub/x", "x").build()
    after = oci.LayerBuilder().dir("d").file("d/new", "2").file("d/sub/y", "y").opaque("d").build()
    before = oci.LayerBuilder().opaque("d").file("d/new", "2").file("d/sub/y", "y").build()
    for upper in (after, before):
        fs = merged(lower, upper)
        assert sorted(fs.listdir("/d")) == ["new", "sub"]
        assert sorted(fs.listdir("/d/sub")) == ["y"]


def test_symlink_loops_and_escapes_are_contained() -> None:
    layer = (
        oci.LayerBuilder()
        .symlink("a", "b")
        .symlink("b", "a")
        .symlink("up", "../../../etc")
        .dir("etc")
        .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        .build()
    )
    fs = merged(layer)
    assert fs.lookup("/a") is None
    assert fs.read("/up/passwd") == b"root:x:0:0::/root:/bin/sh\n"


def test_only_small_needed_files_keep_content() -> None:
    layer = (
        oci.LayerBuilder()
        .dir("etc")
        .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        .file("etc/big.conf", "x" * 10_000)
        .dir("usr")
        .dir("usr/bin")
        .executable("usr/bin/script", "#!/bin/bash\n" + "echo hi\n" * 1000)
        .build()
    )
    fs = merged(layer)
    assert fs.read("/etc/big.conf") is None
    script = fs.read("/usr/bin/script")
    assert script is not None and script.startswith(b"#!/bin/bash") and len(script) == 128
    node = fs.lookup("/usr/bin/script")
    assert node is not None and node.size == len("#!/bin/bash\n" + "echo hi\n" * 1000)


# -- model-based: random layers against a dictionary model of OCI layer semantics ---------

NAMES = ("a", "b", "c")
paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map(tuple)
ops = st.tuples(st.sampled_from(["dir", "file", "wh", "opq"]), paths)


def model_apply(
    state: dict[tuple[str, ...], str], layer: list[tuple[str, tuple[str, ...]]]
) -> None:
    touched: set[tuple[str, ...]] = set()

    def remove_tree(path: tuple[str, ...]) -> None:
        for key in [k for k in state if k[: len(path)] == path]:
            del state[key]

    def make_parents(path: tuple[str, ...]) -> None:
        for n in range(1, len(path)):
            parent = path[:n]
            if state.get(parent) != "dir":
                state[parent] = "dir"  # a file in the way is replaced
            touched.add(parent)

    for kind, path in layer:
        if kind == "wh":
            if all(state.get(path[:n]) == "dir" for n in range(1, len(path))):
                remove_tree(path)
            continue
        make_parents(path)
        touched.add(path)
        if kind == "dir":
            if state.get(path) != "dir":
                remove_tree(path)
                state[path] = "dir"
        elif kind == "file":
            remove_tree(path)
            state[path] = "file"
        else:  # opaque directory: lower content below it disappears
            if state.get(path) != "dir":
                remove_tree(path)
                state[path] = "dir"
            for key in [k for k in state if k[: len(path)] == path and k != path]:
                if key not in touched:
                    del state[key]


def well_formed(layer: list[tuple[str, tuple[str, ...]]]) -> bool:
    """The image spec's constraints within one layer: no path twice, no whiteout of (or
    under) something the same layer creates, no entries under a file it creates."""
    seen = [p for _, p in layer]
    if len(set(seen)) != len(seen):
        return False
    removed = [p for k, p in layer if k == "wh"]
    created = [p for k, p in layer if k != "wh"]
    files = [p for k, p in layer if k == "file"]
    for r in removed:
        if any(c[: len(r)] == r or r[: len(c)] == c for c in created):
            return False
    return not any(c[: len(f)] == f and c != f for f in files for c in seen)


def build_layer(layer: list[tuple[str, tuple[str, ...]]]) -> oci.Layer:
    builder = oci.LayerBuilder()
    for kind, path in layer:
        name = "/".join(path)
        if kind == "dir":
            builder.dir(name)
        elif kind == "file":
            builder.file(name, "x")
        elif kind == "wh":
            builder.whiteout(name)
        else:
            builder.opaque(name)
    return builder.build()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(ops, max_size=6).filter(well_formed), min_size=1, max_size=4))
def test_random_layers_match_the_model(layers: list[list[tuple[str, tuple[str, ...]]]]) -> None:
    state: dict[tuple[str, ...], str] = {}
    for layer in layers:
        model_apply(state, layer)
    fs = merged(*(build_layer(layer) for layer in layers))
    actual = {
        tuple(path.strip("/").split("/")): ("dir" if node.is_dir else "file")
        for path, node in fs.walk("/")
    }
    assert actual == state
