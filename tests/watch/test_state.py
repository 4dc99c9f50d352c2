"""The watch's state file and the image histories: two processes on one data directory lose
nothing, and hostile files are read within bounds, their bad entries dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runtime_images import history
from runtime_images.watch.state import MAX_DIGESTS_PER_TAG, WatchState

DIGEST = "sha256:" + "1" * 64

WRITER = """
import sys
from pathlib import Path
from runtime_images import history
from runtime_images.watch.state import TagRecord, WatchState

directory, who = Path(sys.argv[1]), sys.argv[2]


def observe(state, reference, digest):
    state.tags.setdefault(reference, TagRecord()).observe(digest, "2026-01-01T00:00:00Z")


for number in range(40):
    digest = "sha256:" + format(number, "064x")
    WatchState.update(directory / "watch", lambda s: observe(s, f"{who}/{number}:1", digest))
    history.record(directory, "shared", f"r/{who}:{number}@{digest}", "pinned")
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), who]) for who in ("a", "b")
    ]
    for process in processes:
        assert process.wait(timeout=60) == 0
    state = WatchState.load(tmp_path / "watch")
    assert len(state.tags) == 80
    entries = history.read(tmp_path, "shared")
    assert len(entries) == 80
    assert {e["reference"].split(":")[0] for e in entries} == {"r/a", "r/b"}


def test_a_hostile_state_file_is_read_within_bounds(tmp_path: Path) -> None:
    directory = tmp_path / "watch"
    directory.mkdir()
    path = WatchState.path(directory)
    for garbage in (b"", b"not json", b"[1, 2]", b"[" * 100_000, b'{"tags": 5}'):
        path.write_bytes(garbage)
        assert WatchState.load(directory).tags == {}
    seen = {f"sha256:{n:064x}": "2026-01-01T00:00:00Z" for n in range(500)}
    path.write_text(
        json.dumps(
            {
                "tags": {
                    "good/x:1": {"current": DIGEST, "firstSeen": {DIGEST: "t", "../evil": "t"}},
                    "many/x:1": {"current": "nonsense", "firstSeen": seen},
                    "bad": "not an object",
                },
                "notified": {"runtime-image/x": "sha256:short", "runtime-image/y": DIGEST},
                "summaries": {"a..b": [1, 2], "c..d": None},
            }
        )
    )
    state = WatchState.load(directory)
    assert set(state.tags) == {"good/x:1", "many/x:1"}
    assert state.tags["good/x:1"].first_seen == {DIGEST: "t"}
    assert state.tags["many/x:1"].current is None
    assert len(state.tags["many/x:1"].first_seen) == MAX_DIGESTS_PER_TAG
    assert state.notified == {"runtime-image/y": DIGEST}
    assert state.summaries == {"c..d": None}


def test_a_hostile_history_file_is_read_within_bounds(tmp_path: Path) -> None:
    history.record(tmp_path, "img", f"r/x:1@{DIGEST}", "created")
    path = history.history_dir(tmp_path) / "img.jsonl"
    with open(path, "ab") as handle:
        handle.write(b"garbage\n[1]\n" + b"{" * 50_000 + b"\n")
        handle.write(b'{"reference": "r", "at": "t", "reason": "stolen"}\n')
        handle.write(b'{"reference": "r", "at": "t", "reason": "pinned", "digest": "../x"}\n')
    entries = history.read(tmp_path, "img")
    assert [(e["reason"], e["digest"]) for e in entries] == [("created", DIGEST), ("pinned", None)]
    # A file far over the read bound: only its end is read, at most MAX_ENTRIES entries
    line = json.dumps({"reference": "r/x:1", "at": "t", "reason": "pinned"}) + "\n"
    path.write_text(line * 40_000)
    assert path.stat().st_size > history.MAX_READ_BYTES
    assert len(history.read(tmp_path, "img")) == history.MAX_ENTRIES
    assert history.read(tmp_path, "../etc/passwd") == []
