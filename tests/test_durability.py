"""Concurrent writers and crashes: no acknowledged write lost, no file half-written.

Writers are real processes (forked, so they start in milliseconds) sharing one store
directory, as the Jupyter server, the CLI and a second server do.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from multiprocessing.connection import Connection
from pathlib import Path

from runtime_images.errors import PreconditionFailedError
from runtime_images.store import RuntimeImageStore

from .support import store_dir

FORK = multiprocessing.get_context("fork")


def make_store(base: Path) -> RuntimeImageStore:
    return RuntimeImageStore(data_dir=str(base), shared_data_dirs=[], factory_data_dirs=[])


def image(display_name: str, **metadata: object) -> dict[str, object]:
    return {
        "display_name": display_name,
        "schema_name": "runtime-image",
        "metadata": {"image_name": "quay.io/test/img:1", **metadata},
    }


def _writer(base: Path, worker: int, rounds: int, acks: Connection) -> None:
    store = make_store(base)
    for round_number in range(rounds):
        store.create(image(f"worker {worker} image {round_number}"))
        marker = f"w{worker}-r{round_number}"
        while True:  # the optimistic-concurrency loop a client runs
            current = store.get("shared")
            document = current.to_file()
            marks = [*document["metadata"].get("acks", []), marker]
            try:
                store.replace(
                    "shared",
                    {**document, "metadata": {**document["metadata"], "acks": marks}},
                    if_match=current.etag,
                )
                break
            except PreconditionFailedError:
                continue
        acks.send(marker)
    acks.close()


def test_eight_processes_lose_no_acknowledged_write(tmp_path: Path) -> None:
    workers, rounds = 8, 15
    make_store(tmp_path).create({**image("Shared"), "name": "shared"})
    receiver, sender = FORK.Pipe(duplex=False)
    processes = [
        FORK.Process(target=_writer, args=(tmp_path, worker, rounds, sender))
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    sender.close()
    acknowledged: list[str] = []
    while True:
        try:
            acknowledged.append(receiver.recv())
        except EOFError:
            break
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    assert len(acknowledged) == workers * rounds
    store = make_store(tmp_path)
    stored_acks = store.get("shared").to_file()["metadata"]["acks"]
    assert sorted(stored_acks) == sorted(acknowledged)  # every acknowledged update is there
    listing = store.listing()
    assert listing.invalid == []
    assert len(listing.instances) == 1 + workers * rounds
    for path in store_dir(tmp_path).glob("*.json"):
        json.loads(path.read_text())  # every file is complete JSON


def _version(number: int) -> dict[str, object]:
    # Large enough that a write takes a while, so kills land in the middle of writes.
    return image(f"version {number}", payload=f"{number:012d}" * 25_000)


def _endless_writer(base: Path, start: int) -> None:
    store = make_store(base)
    number = start
    while True:
        number += 1
        store.replace("victim", _version(number))
        store.create(image(f"new {number}"))


def test_writers_killed_at_random_points_leave_old_or_new_versions(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.create({**_version(0), "name": "victim"})
    directory = store_dir(tmp_path)
    rng = random.Random(1234)
    kills = 0
    last_seen = 0
    while kills < 120:
        process = FORK.Process(target=_endless_writer, args=(tmp_path, last_seen))
        process.start()
        time.sleep(rng.uniform(0.005, 0.05))
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        assert process.exitcode == -signal.SIGKILL
        kills += 1
        victim = json.loads((directory / "victim.json").read_text())
        number = int(victim["display_name"].split()[1])
        assert victim["metadata"]["payload"] == f"{number:012d}" * 25_000  # complete, consistent
        assert number >= last_seen  # never an older version than one already seen
        last_seen = number
        for path in directory.glob("*.json"):
            json.loads(path.read_text())
    listing = make_store(tmp_path).listing()
    assert listing.invalid == []  # leftover temporary files are never listed
    assert last_seen > 0  # the writers did write between kills
    removed = make_store(tmp_path).remove_stale_temp_files()
    assert removed > 0  # some kills landed in the middle of a write, as intended
    assert not list(directory.glob(".*.tmp"))
