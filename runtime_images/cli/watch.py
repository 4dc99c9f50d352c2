"""The watch verbs: ``outdated`` (what moved, like ``pip list --outdated``) and ``repin``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..error_codes import EXIT_OK, EXIT_REFUSED
from .common import (
    CommandError,
    Verb,
    load_config,
    open_store,
    print_json,
    run_with_registry,
    table,
)

PACKAGE_KEYS = ("added", "removed", "changed")

if TYPE_CHECKING:
    from ..registry import RegistryClient
    from ..watch import TagWatcher


def _watcher(client: RegistryClient | None = None) -> TagWatcher:
    """A watcher on the server's store, builds and state (it announces nothing: the
    server's event bus does that, once per move, when it checks)."""
    from pathlib import Path

    from ..builds.store import BuildStore
    from ..builds.wiring import builds_directory
    from ..registry import RegistryClient
    from ..store import RuntimeImageStore
    from ..watch import TagWatcher

    config = load_config()
    builds = BuildStore(Path(builds_directory(config)))
    return TagWatcher(
        RuntimeImageStore(config=config),
        client or RegistryClient(config=config),
        builds=builds.list,
        config=config,
    )


def _short(digest: str | None) -> str:
    return digest.split(":", 1)[-1][:12] if digest else "-"


def _summary_text(summary: dict[str, Any] | None) -> str:
    """``+2 -1 ~3 packages; 4 fixed, 0 new vulnerabilities`` (the summary holds counts)."""
    if not summary:
        return "-"
    packages = summary.get("packages") or {}
    parts = ["+{} -{} ~{} packages".format(*(packages.get(k, 0) for k in PACKAGE_KEYS))]
    vulnerabilities = summary.get("vulnerabilities")
    if isinstance(vulnerabilities, dict):
        fixed, introduced = vulnerabilities.get("fixed", 0), vulnerabilities.get("introduced", 0)
        parts.append(f"{fixed} fixed, {introduced} new vulnerabilities")
    return "; ".join(parts)


def cmd_outdated(args: argparse.Namespace) -> int:
    if args.check:
        report = run_with_registry(lambda client: _watcher(client).check())
    else:
        report = _watcher().updates()
    updates = report["updates"]
    if args.json:
        print_json(report)
    elif not updates:
        checked = report.get("checkedAt") or "never (run with --check)"
        print(f"Everything is up to date (last checked: {checked}).")
    else:
        rows = [
            [
                u["name"],
                "build base" if u["kind"] == "build-base" else "image",
                u["reference"],
                _short(u["pinned"]),
                _short(u["current"]),
                u.get("since") or "-",
                _summary_text(u.get("summary")),
            ]
            for u in updates
        ]
        headers = ["Name", "Kind", "Reference", "Pinned", "Now", "Since", "Change"]
        print(table(rows, headers))
    return EXIT_REFUSED if updates else EXIT_OK


def cmd_repin(args: argparse.Namespace) -> int:
    from ..reference import parse
    from ..watch import repin

    store = open_store()
    if args.all:
        names = []
        for entry in store.listing().instances:
            reference = parse(str(((entry.document or {}).get("metadata") or {})["image_name"]))
            if reference.digest and reference.tag:
                names.append(entry.name)
    elif args.name:
        names = [args.name]
    else:
        raise CommandError("Give a runtime image NAME or --all.")

    async def work(client: RegistryClient) -> list[dict[str, Any]]:
        return [(await repin(store, client, n, dry_run=args.dry_run)).to_json() for n in names]

    results = run_with_registry(work)
    if args.json:
        print_json(results)
        return EXIT_OK
    for result in results:
        name = result["image"]["name"]
        if not result["changed"]:
            print(f"{name}: up to date ({result['from']})")
            continue
        verb = "would move" if args.dry_run else "moved"
        print(f"{name}: {verb} {result['from']} -> {result['to']}")
        for kernel in result["kernelspecs"]:
            print(f"  kernelspec {kernel}: {verb} too")
    return EXIT_OK


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    sub = verb(
        "outdated",
        "List runtime images (and build bases) whose tag points at another digest than the "
        "one they use, as the last watch saw it. Exit 0: none; 1: some are outdated.",
        cmd_outdated,
    )
    sub.add_argument("--json", action="store_true", help="Print the report as JSON.")
    sub.add_argument(
        "--check", action="store_true", help="Resolve every tag now instead of the last watch."
    )
    sub = verb(
        "repin",
        "Move a pinned runtime image to the digest its tag has now, with the kernelspecs "
        "made from it.",
        cmd_repin,
    )
    target = sub.add_mutually_exclusive_group(required=True)
    target.add_argument("name", nargs="?", help="The runtime image.")
    target.add_argument("--all", action="store_true", help="Every pinned runtime image.")
    sub.add_argument(
        "--dry-run", action="store_true", help="Say what would change; change nothing."
    )
    sub.add_argument("--json", action="store_true", help="Print the results as JSON.")
