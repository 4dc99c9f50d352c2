"""``vulns``: known vulnerabilities of an image from the offline OSV database, and
``vulns --update-db`` to download that database."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..error_codes import EXIT_NOT_DONE, EXIT_OK, EXIT_REFUSED
from .common import (
    Verb,
    draw_bar,
    image_target,
    layer_progress,
    print_json,
    run_with_registry,
    table,
    target_image,
)
from .inspection import contents_reader, vulnerability_database

LEVELS = ("critical", "high", "medium", "low")


def _update(args: argparse.Namespace) -> int:
    from ..vulns.update import update_database

    database = vulnerability_database()
    tty = sys.stderr.isatty()

    def progress(ecosystem: str, done: int, total: int | None) -> None:
        if tty:
            sys.stderr.write(f"\r{ecosystem}: ")
            draw_bar(done, total or done, sys.stderr)

    updated = update_database(database, args.ecosystem, progress=progress if tty else None)
    if tty:
        sys.stderr.write("\r\033[K")
    info = database.describe()
    if args.json:
        print_json({"updated": [u.to_json() for u in updated], "database": info})
        return EXIT_OK
    for archive in updated:
        resumed = f", resumed at {archive.resumed_from} bytes" if archive.resumed_from else ""
        print(f"{archive.ecosystem}: {archive.size / 1e6:.1f} MB{resumed}")
    print(f"Database {info['path']}: version {info['version']}, {info['records']} records.")
    return EXIT_OK


def _lines(report: dict[str, Any]) -> list[str]:
    rows = []
    for f in report["findings"]:
        score = f["severity"]["score"]
        rows.append(
            [
                f["severity"]["level"].upper(),
                f"{score:.1f}" if score is not None else "",
                f["id"],
                f["package"],
                f["installed_version"],
                f["fixed_version"] or "(none)",
                f["environment"],
                "" if f["layer"] is None else str(f["layer"]),
            ]
        )
    image = report["image"]
    lines = [f"{image.get('reference')} ({image.get('digest')})"]
    if rows:
        headers = ["Severity", "Score", "ID", "Package", "Installed", "Fixed", "Env", "Layer"]
        lines.append(table(rows, headers))
    counts = report["counts"]
    summary = ", ".join(f"{counts[level]} {level}" for level in (*LEVELS, "unknown"))
    shown = len(report["findings"])
    lines.append(
        f"{report['total']} known vulnerabilit{'y' if report['total'] == 1 else 'ies'} "
        f"({summary}); {shown} shown. Database {report['database']['version']} "
        f"({report['database']['records']} records)."
    )
    return lines


def cmd_vulns(args: argparse.Namespace) -> int:
    """Exit 0 when done; 1 with ``--fail-on`` when a finding shown is at or above it."""
    from ..vulns.scan import scan_image, select
    from ..vulns.severity import at_least

    if args.update_db == bool(args.image or args.name):
        print(
            "Error: name an image (IMAGE or --name N), or give --update-db (not both)",
            file=sys.stderr,
        )
        return EXIT_NOT_DONE
    if args.update_db:
        return _update(args)
    image = target_image(args)
    database = vulnerability_database()
    reader = contents_reader()
    report = run_with_registry(
        lambda c: scan_image(
            reader, database, c, image, platform=args.platform, progress=layer_progress()
        )
    )
    report = select(report, args.severity, args.fixable)
    if args.json:
        print_json(report)
    else:
        print("\n".join(_lines(report)))
        for note in report.get("notes") or []:
            print(f"Note: {note}", file=sys.stderr)
    if args.fail_on and any(
        at_least(f["severity"]["level"], args.fail_on) for f in report["findings"]
    ):
        return EXIT_REFUSED
    return EXIT_OK


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    sub = verb(
        "vulns",
        "Known vulnerabilities of an image's packages, from the offline OSV database "
        "(VulnerabilityDatabase.path). Exit 0: done; 1: a finding at or above --fail-on; "
        "2: the image or the database could not be read.",
        cmd_vulns,
    )
    image_target(sub, "A runtime image whose image to check.", required=False)
    sub.add_argument("--platform", help="os/arch[/variant] of a multi-arch image.")
    sub.add_argument(
        "--severity", choices=LEVELS, help="Show only findings at or above this severity."
    )
    sub.add_argument("--fixable", action="store_true", help="Show only findings with a fix.")
    sub.add_argument(
        "--fail-on",
        choices=LEVELS,
        help="Exit 1 when a finding shown is at or above this severity.",
    )
    sub.add_argument("--json", action="store_true", help="Print the report as JSON.")
    sub.add_argument(
        "--update-db",
        action="store_true",
        help="Download OSV's archives into the database (needs the network) and index them.",
    )
    sub.add_argument(
        "--ecosystem",
        action="append",
        help="With --update-db: an OSV ecosystem to download, such as Debian:12 or PyPI "
        "(repeatable; default: VulnerabilityDatabase.update_ecosystems).",
    )
