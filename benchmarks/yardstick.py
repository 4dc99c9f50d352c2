"""The skopeo yardstick the image benchmarks measure themselves against: a workspace whose
credential files are its own, the time of a ``skopeo`` command, our side's result from a
fresh interpreter, and the summary of the rounds (medians, peak RSS) with the targets."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def skopeo_workspace(bench: str) -> tuple[str, dict[str, str]]:
    """A temp dir and an environment whose credential files are in it, for a benchmark that
    compares with skopeo against a local registry (it exits when either tool is missing)."""
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        sys.exit(f"{bench} needs docker-registry and skopeo (scripts/dev.sh test installs them)")
    work = tempfile.mkdtemp(prefix=bench.replace("_", "-") + "-")
    env = {
        **os.environ,
        "HOME": work,
        "DOCKER_CONFIG": work,
        "REGISTRY_AUTH_FILE": os.path.join(work, "auth.json"),
    }
    return work, env


def skopeo_seconds(env: dict[str, str], *args: str) -> float:
    """How long ``skopeo ARGS`` takes (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(["skopeo", *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def skopeo_copy_seconds(ref: str, work: str, env: dict[str, str]) -> float:
    """How long ``skopeo copy`` of ``ref`` to a directory in ``work`` takes: the yardstick
    of the benchmarks that read a whole image (the copy is removed after)."""
    target = os.path.join(work, "skopeo-out")
    shutil.rmtree(target, ignore_errors=True)
    elapsed = skopeo_seconds(
        env, "copy", "--src-tls-verify=false", f"docker://{ref}", f"dir:{target}"
    )
    shutil.rmtree(target, ignore_errors=True)
    return elapsed


def child_result(script: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter (so its time and peak RSS are its own) from the
    repository root, and return what it printed: one JSON object."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def rounds_against_skopeo(
    repeat: int, ours: Callable[[int], Mapping[str, Any]], ref: str, work: str, env: dict[str, str]
) -> tuple[list[Mapping[str, Any]], list[float]]:
    """``repeat`` rounds, each ``ours(round)`` (a fresh child process's result) and then the
    yardstick's copy of ``ref``: our results and skopeo's seconds, for :func:`rounds_summary`."""
    results: list[Mapping[str, Any]] = []
    theirs: list[float] = []
    for round_ in range(repeat):
        results.append(ours(round_))
        theirs.append(skopeo_copy_seconds(ref, work, env))
    return results, theirs


def rounds_summary(
    ours: Sequence[Mapping[str, Any]], theirs: Sequence[float]
) -> tuple[float, float, float]:
    """Our median seconds, skopeo's, and our peak RSS in MB, from the rounds' results (each
    of ours a child process's ``seconds`` and ``max_rss_mb``)."""
    return (
        statistics.median(float(r["seconds"]) for r in ours),
        statistics.median(theirs),
        max(float(r["max_rss_mb"]) for r in ours),
    )


def print_targets(
    what: str, ratio: float, ratio_target: float, rss: float, rss_target: int
) -> None:
    """The two numbers an image benchmark is judged by, each beside its target."""
    print(f"ratio {what} / skopeo: {ratio:.2f}x (target <= {ratio_target}x)")
    print(f"peak RSS of {what}: {rss:.0f} MB (target < {rss_target} MB)")
