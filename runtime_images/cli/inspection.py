"""The verbs that read images from their registries: pin, inspect and validate."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ..error_codes import EXIT_OK, EXIT_REFUSED
from .common import (
    Verb,
    image_target,
    layer_progress,
    load_config,
    print_json,
    run_with_registry,
    stored_image,
    table,
    target_image,
)

if TYPE_CHECKING:
    from ..contents import ContentsReader
    from ..inspect import ImageReport, PlatformValidation
    from ..vulns import VulnerabilityDatabase


def contents_reader() -> ContentsReader:
    """The reader (and its cache) the server uses, configured from the same files."""
    from ..contents import ContentsReader
    from ..inspect import ImageInspector

    config = load_config()
    return ContentsReader(config=config, inspector=ImageInspector(config=config))


def read_contents(args: argparse.Namespace, image: str) -> dict[str, Any]:
    """The contents document of ``image`` for ``--platform`` (read once per manifest digest,
    then cached), with a progress bar on a terminal."""
    reader = contents_reader()
    return run_with_registry(
        lambda c: reader.read(c, image, platform=args.platform, progress=layer_progress())
    )


def vulnerability_database() -> VulnerabilityDatabase:
    """The offline OSV database the server uses, configured from the same files."""
    from ..vulns import VulnerabilityDatabase

    return VulnerabilityDatabase(config=load_config())


def cmd_pin(args: argparse.Namespace) -> int:
    if args.name:
        store, entry, image = stored_image(args.name)
        pinned = run_with_registry(lambda client: client.pin(image))
        # If-Match: an edit made while the registry answered is not overwritten.
        store.patch(args.name, {"metadata": {"image_name": pinned.familiar()}}, entry.etag)
        store.record_history(args.name, pinned.familiar(), "pinned")
        print(f"Runtime image '{args.name}' pinned: {pinned.familiar()}")
    else:
        print(run_with_registry(lambda client: client.pin(args.image)).familiar())
    return EXIT_OK


def _inspect_lines(report: ImageReport) -> list[str]:
    config = report.config
    py = report.python
    lines = [
        f"Image:         {report.reference}",
        f"Digest:        {report.digest}",
        f"Platform:      {report.platform}",
        f"OS:            {report.os.pretty_name if report.os else 'unknown'}",
        "Python:        "
        + (f"{py.path} ({py.version or 'version unknown'})" if py else "none on PATH")
        + (", pip installed" if report.pip else ", no pip"),
        f"User:          {config.user or '(root)'}",
        f"Working dir:   {config.working_dir or '/'}",
        f"Entrypoint:    {json.dumps(config.entrypoint)}",
        f"Cmd:           {json.dumps(config.cmd)}",
        f"Exposed ports: {', '.join(config.exposed_ports) or 'none'}",
        f"PATH:          {':'.join(config.path)}",
        (
            f"Layers:        {report.layers} ({report.compressed_size / 1e6:.1f} MB), "
            f"{report.files} files"
        ),
        "Users:         "
        + ", ".join(
            f"{u.name} ({u.uid}:{u.gid})"
            for u in report.users
            if u.uid == 0 or 1000 <= u.uid < 65534
        ),
        f"Python packages ({len(report.distributions)}):",
    ]
    lines += [f"  {d.name} {d.version}" for d in report.distributions]
    return lines


def _package_lines(document: dict[str, Any]) -> list[str]:
    counts: dict[tuple[str, str], int] = {}
    for package in document["packages"]:
        key = (package["ecosystem"], package["environment"])
        counts[key] = counts.get(key, 0) + 1
    lines = [f"Packages ({len(document['packages'])}):"]
    lines += [f"  {eco:6} {env}: {n}" for (eco, env), n in sorted(counts.items())]
    for database in document["databases"]:
        if not database["read"]:
            lines.append(f"  not read: {database['path']} ({database['reason']})")
    return lines


def _platforms_table(result: PlatformValidation) -> str:
    rows = [
        [
            p["platform"],
            p["digest"],
            f"{p['size'] / 1e6:.1f} MB",
            "ok" if p["ok"] else f"{sum(c['result'] == 'fail' for c in p['checks'])} failed",
        ]
        for p in result.to_json()["platforms"]
    ]
    return f"{result.reference} ({result.digest})\n" + table(
        rows, ["Platform", "Digest", "Size", "Checks"]
    )


def _all_platforms(args: argparse.Namespace, image: str, profiles: list[str] | None) -> int:
    """``--platform all``: the checks of every platform; exit 1 when one fails."""
    from ..inspect import ImageInspector

    inspector = ImageInspector(config=load_config())
    result = run_with_registry(lambda c: inspector.validate_platforms(c, image, profiles))
    if args.json:
        print_json(result.to_json())
    else:
        print(_platforms_table(result))
    return EXIT_OK if result.ok else EXIT_REFUSED


def cmd_inspect(args: argparse.Namespace) -> int:
    from ..inspect import ImageReport

    image = target_image(args)
    if args.platform == "all":
        return _all_platforms(args, image, None)
    document = read_contents(args, image)
    if args.json:
        print_json(document)
    else:
        report = ImageReport.from_json(document)
        print("\n".join([*_inspect_lines(report), *_package_lines(document)]))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 when no check fails, 1 when one does, 2 when the image cannot be checked."""
    from ..vulns.profile import vulnerability_profile

    image = target_image(args)
    if args.platform == "all":
        return _all_platforms(args, image, args.profile)
    reader = contents_reader()
    vulnerabilities = vulnerability_profile(vulnerability_database())
    result = run_with_registry(
        lambda c: reader.validate(
            c,
            image,
            args.profile,
            platform=args.platform,
            progress=layer_progress(),
            document_checks=vulnerabilities,
        )
    )
    if args.json:
        print_json(result.to_json())
    else:
        rows = [[c.profile, c.id, c.result.upper(), c.message] for c in result.checks]
        print(f"{image} ({result.report.digest})")
        print(table(rows, ["Profile", "Check", "Result", "Message"]))
        failed = len(result.failures)
        print(
            f"{failed} check{'s' if failed != 1 else ''} failed." if failed else "No check failed."
        )
    return EXIT_OK if result.ok else EXIT_REFUSED


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    sub = verb(
        "pin", "Resolve a tag to the digest its registry serves (repo:tag@sha256:…).", cmd_pin
    )
    image_target(
        sub,
        "A runtime image whose image_name to pin and store.",
        "An image reference to pin (printed).",
    )

    sub = verb("inspect", "Show an image's OS, Python, packages, users and config.", cmd_inspect)
    image_target(sub, "A runtime image whose image to inspect.")
    sub.add_argument("--json", action="store_true", help="Print the report as JSON.")
    sub.add_argument(
        "--platform",
        help="os/arch[/variant] of a multi-arch image; 'all': every platform's digest, size "
        "and checks (the default profiles; exit 1 when one fails).",
    )

    sub = verb(
        "validate",
        "Check an image against requirement profiles. Exit 0: no check failed; 1: a check "
        "failed; 2: the image could not be checked.",
        cmd_validate,
    )
    image_target(sub, "A runtime image whose image to check.", "The image reference to check.")
    sub.add_argument(
        "--profile",
        action="append",
        help="elyra, kubeflow, odh-notebook, gateway-kernel or vulnerabilities (repeatable; "
        "default: "
        "ImageInspector.default_profiles).",
    )
    sub.add_argument("--json", action="store_true", help="Print the result as JSON.")
    sub.add_argument(
        "--platform",
        help="os/arch[/variant] of a multi-arch image; 'all': every platform it offers.",
    )
