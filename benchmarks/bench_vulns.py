"""Vulnerability matching benchmark: an image of 400+ packages against 100,000+ records.

Run with ``./scripts/dev.sh bench`` (or ``.venv/bin/python benchmarks/bench_vulns.py``).
It writes a database of generated OSV records as ``all.zip`` archives (Debian:12, Debian:11
and PyPI, most for packages the image does not have, a few hundred for ones it has, with
realistic ranges and CVSS vectors), then measures in a fresh process:

- building the index (once per database version),
- the first match in a new process (the index opened from disk),
- a warm match (the same process again, as the server does for every request),
- peak memory (ru_maxrss of the measuring process).

Target (2-core machine): warm match < 1 s.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime_images.contents.model import Package
from runtime_images.vulns import VulnerabilityDatabase, match_packages

VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
    "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N",
    None,
]


def image_packages(deb: int, pypi: int) -> list[Package]:
    def package(ecosystem: str, name: str, version: str, env: str, source: str | None) -> Package:
        return Package(
            ecosystem,
            name,
            version,
            "amd64",
            source,
            [],
            0,
            None,
            f"pkg:{ecosystem}/{name}",
            env,
            "-",
        )

    packages = [
        package(
            "deb",
            f"libdeb{n}",
            f"1.{n % 9}.{n % 5}-{n % 3 + 1}+deb12u{n % 4}",
            "/",
            f"srcdeb{n // 3}",
        )
        for n in range(deb)
    ]
    packages += [
        package("pypi", f"py-dist-{n}", f"{n % 7}.{n % 11}.{n % 3}", "/opt/venv", None)
        for n in range(pypi)
    ]
    return packages


def record(number: int, ecosystem: str, name: str, rng: random.Random) -> dict[str, Any]:
    if ecosystem == "PyPI":
        fixed = f"{rng.randint(0, 8)}.{rng.randint(0, 12)}.{rng.randint(0, 3)}"
    else:
        fixed = f"1.{rng.randint(0, 9)}.{rng.randint(0, 5)}-{rng.randint(1, 3)}+deb12u{rng.randint(0, 6)}"
    doc: dict[str, Any] = {
        "id": f"BENCH-{number:07d}",
        "modified": "2026-01-01T00:00:00Z",
        "aliases": [f"CVE-2026-{number:07d}"],
        "summary": f"{name}: generated vulnerability {number}",
        "details": "A generated record. " * 20,
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }
    vector = VECTORS[number % len(VECTORS)]
    if vector:
        doc["severity"] = [{"type": "CVSS_V3", "score": vector}]
    return doc


def write_database(root: Path, records: int, hits: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    archives = {
        eco: zipfile.ZipFile(root / eco / "all.zip", "w", zipfile.ZIP_DEFLATED)
        for eco in ("Debian:12", "Debian:11", "PyPI")
        if (root / eco).mkdir(parents=True) is None
    }
    for number in range(records):
        if number < hits:  # records for packages the image has
            eco = "PyPI" if number % 3 == 0 else "Debian:12"
            name = (
                f"py-dist-{rng.randint(0, 149)}" if eco == "PyPI" else f"srcdeb{rng.randint(0, 99)}"
            )
        else:
            eco = ("Debian:12", "Debian:11", "PyPI")[number % 3]
            name = f"other-{eco[:2].lower()}-{number % 20000}"
        archives[eco].writestr(
            f"BENCH-{number:07d}.json", json.dumps(record(number, eco, name, rng))
        )
    for archive in archives.values():
        archive.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--hits", type=int, default=600, help="records for the image's packages")
    parser.add_argument("--rounds", type=int, default=5)
    args, _ = parser.parse_known_args()
    packages = image_packages(300, 150)
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "db"
        started = time.perf_counter()
        write_database(root, args.records, args.hits)
        size = sum(p.stat().st_size for p in root.rglob("all.zip"))
        print(
            f"database: {args.records} records, {size / 1e6:.1f} MB of all.zip, written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        before = peak_mb()
        database = VulnerabilityDatabase(path=str(root))
        started = time.perf_counter()
        index = database.index()
        build = time.perf_counter() - started
        index_mb = index.path.stat().st_size / 1e6
        print(
            f"index build: {build:.1f} s ({index.info.records} records, {index_mb:.1f} MB on disk), "
            f"peak RSS {peak_mb():.0f} MB (before {before:.0f} MB)"
        )
        # A new process's first match: a fresh database object opens the index from disk.
        started = time.perf_counter()
        fresh = VulnerabilityDatabase(path=str(root))
        _index, result = fresh.match(packages, "debian", "12")
        first = time.perf_counter() - started
        print(
            f"first match (index opened, stat of the database): {first * 1000:.0f} ms, "
            f"{len(result.findings)} findings over {len(packages)} packages"
        )
        warm = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            _index, result = fresh.match(packages, "debian", "12")
            warm.append(time.perf_counter() - started)
        only_match = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            match_packages(index, packages, "debian", "12")
            only_match.append(time.perf_counter() - started)
        print(
            f"warm match: median {statistics.median(warm) * 1000:.0f} ms "
            f"(max {max(warm) * 1000:.0f} ms; the match alone {statistics.median(only_match) * 1000:.0f} ms); "
            f"target < 1000 ms"
        )
        print(f"peak RSS of the whole run: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
