"""Claims on builds: who holds one, when it lapses, and takeovers (real processes, real files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from runtime_images.builds.claims import ClaimRegistry, process_start
from runtime_images.fileio import file_lock


def registry(tmp_path: Path, owner: str) -> ClaimRegistry:
    return ClaimRegistry(tmp_path, lambda: file_lock(tmp_path / ".lock"), owner)


def test_a_claim_is_exclusive_until_released(tmp_path: Path) -> None:
    first, second = registry(tmp_path, "first"), registry(tmp_path, "second")
    assert first.claim("b", 30) == (True, None)
    ours, holder = second.claim("b", 30)
    assert not ours and holder is not None and holder.owner == "first"
    assert first.renew("b", 30)
    assert not second.renew("b", 30)
    first.release("b")
    assert second.claim("b", 30) == (True, None)


def test_the_claim_of_a_process_that_is_gone_lapses_at_once(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_start(child.pid)
    assert started is not None
    record = tmp_path / ".claims" / "b.json"
    record.parent.mkdir()
    claim = {
        "owner": "killed",
        "pid": child.pid,
        "started": started,
        "host": os.uname().nodename,
        "expires": time.time() + 3600,
    }
    record.write_text(json.dumps(claim))
    survivor = registry(tmp_path, "survivor")
    assert not survivor.lapsed("b")
    child.kill()
    child.wait()
    assert survivor.lapsed("b")
    ours, previous = survivor.claim("b", 30)
    assert ours and previous is not None and previous.pid == child.pid


def test_a_reused_process_id_does_not_keep_a_claim(tmp_path: Path) -> None:
    """Same pid, another start time: not the process that claimed."""
    record = tmp_path / ".claims" / "b.json"
    record.parent.mkdir()
    claim = {
        "owner": "old",
        "pid": os.getpid(),
        "started": "1",
        "host": os.uname().nodename,
        "expires": time.time() + 3600,
    }
    record.write_text(json.dumps(claim))
    assert registry(tmp_path, "new").lapsed("b")


def test_a_claim_from_another_host_holds_until_its_lease_ends(tmp_path: Path) -> None:
    record = tmp_path / ".claims" / "b.json"
    record.parent.mkdir()
    claim = {"owner": "far", "pid": 1, "started": "1", "host": "elsewhere", "expires": 0.0}
    claim["expires"] = time.time() + 3600
    record.write_text(json.dumps(claim))
    here = registry(tmp_path, "here")
    assert not here.lapsed("b")
    claim["expires"] = time.time() - 1
    record.write_text(json.dumps(claim))
    assert here.lapsed("b")


def test_a_damaged_claim_file_lapses(tmp_path: Path) -> None:
    record = tmp_path / ".claims" / "b.json"
    record.parent.mkdir()
    record.write_text('{"owner": NaN}')
    assert registry(tmp_path, "here").claim("b", 30)[0]
