"""The verbs that read what is inside images: sbom, layers and diff (inspect and validate
are in :mod:`.inspection`). All of them read an image once per manifest digest (the
content-addressed cache of :class:`~runtime_images.contents.ContentsReader`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..error_codes import EXIT_OK
from .common import Verb, image_target, print_json, run_with_registry, table, target_image
from .inspection import contents_reader, read_contents, vulnerability_database


def _size(count: int | None) -> str:
    return "" if count is None else f"{count / 1e6:.1f} MB"


def cmd_sbom(args: argparse.Namespace) -> int:
    from ..contents.sbom import make_sbom
    from ..vulns.sbom import sbom_with_vulnerabilities

    image = target_image(args)
    document = read_contents(args, image)
    sbom = sbom_with_vulnerabilities(
        vulnerability_database(), document, make_sbom(document, args.format)
    )
    text = json.dumps(sbom, indent=2, ensure_ascii=False)
    if args.output and args.output != "-":
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        print(f"{args.format} SBOM of {image}: {args.output}", file=sys.stderr)
    else:
        print(text)
    return EXIT_OK


def cmd_layers(args: argparse.Namespace) -> int:
    from ..contents.compare import layers_document

    image = target_image(args)
    document = read_contents(args, image)
    answer = layers_document(document)
    if args.json:
        print_json(answer)
        return EXIT_OK
    rows = [
        [
            str(layer["index"]),
            _size(layer["compressed_size"]),
            _size(layer.get("uncompressed_size")),
            f"+{layer.get('added', 0)} ~{layer.get('changed', 0)} -{layer.get('removed', 0)}",
            _size(layer.get("wasted_bytes")),
            (layer.get("created_by") or "")[:60],
        ]
        for layer in answer["layers"]
    ]
    print(table(rows, ["Layer", "Compressed", "Size", "Files", "Wasted", "Created by"]))
    total = answer["total"]
    print(
        f"Total: {_size(total['compressed'])} compressed, {_size(total['uncompressed'])}, "
        f"{_size(total['wasted_bytes'])} wasted (bytes a later layer overwrote or deleted)"
    )
    return EXIT_OK


def _diff_lines(answer: dict[str, Any]) -> list[str]:
    packages = answer["packages"]
    lines = [f"A: {answer['a']['reference']} ({answer['a']['digest']})"]
    lines.append(f"B: {answer['b']['reference']} ({answer['b']['digest']})")
    for sign, side in (("+", "added"), ("-", "removed")):
        for package in packages[side]:
            lines.append(
                f"{sign} {package['ecosystem']} {package['environment']} {package['name']} "
                f"{package['version']}"
            )
    for change in packages["changed"]:
        lines.append(
            f"~ {change['ecosystem']} {change['environment']} {change['name']} "
            f"{change['a']} -> {change['b']}"
        )
    for change in answer["config"]:
        lines.append(
            f"config {change['field']}: {json.dumps(change['a'])} -> {json.dumps(change['b'])}"
        )
    size = answer["size"]
    lines.append(
        f"size: {_size(size['a']['compressed'])} -> {_size(size['b']['compressed'])} "
        f"compressed; {sum(1 for layer in size['layers'] if layer['shared'])} "
        "shared layers"
    )
    for group in answer["checks"]:
        results_a = {c["id"]: c["result"] for c in group["a"]}
        for check in group["b"]:
            before = results_a.get(check["id"])
            if before != check["result"]:
                lines.append(
                    f"check {group['profile']}/{check['id']}: {before} -> {check['result']}"
                )
    return lines


def cmd_diff(args: argparse.Namespace) -> int:
    from ..contents.compare import diff_documents
    from ..vulns.sbom import diff_vulnerabilities

    reader = contents_reader()
    profiles = reader.inspector.profile_names(args.profile)

    async def both(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        a = await reader.read(client, args.a, platform=args.platform)
        b = await reader.read(client, args.b, platform=args.platform)
        return a, b

    a, b = run_with_registry(both)
    answer = diff_documents(a, b, profiles)
    changes = diff_vulnerabilities(vulnerability_database(), a, b)
    if changes is not None:
        answer["vulnerabilities"] = changes
    if args.json:
        print_json(answer)
    else:
        print("\n".join(_diff_lines(answer)))
    return EXIT_OK


def _image_arguments(sub: argparse.ArgumentParser) -> None:
    image_target(sub, "A runtime image whose image to read.")
    sub.add_argument("--platform", help="os/arch[/variant] of a multi-arch image.")


SBOM_FORMATS = ("cyclonedx-json", "spdx-json")
"""The keys of ``contents.sbom.FORMATS``, spelled here: importing that package for the
choices cost every command ~110 ms of start-up (tests/test_cli.py checks they agree)."""


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    sub = verb("sbom", "Write an SBOM (CycloneDX 1.6 or SPDX 2.3 JSON) of an image.", cmd_sbom)
    _image_arguments(sub)
    sub.add_argument("--format", choices=SBOM_FORMATS, default="cyclonedx-json")
    sub.add_argument("-o", "--output", help="Write to this file (default: standard output).")

    sub = verb(
        "layers",
        "Show an image's layers: sizes, files added/changed/removed, the command that made "
        "each, the largest files and directories, and wasted bytes.",
        cmd_layers,
    )
    _image_arguments(sub)
    sub.add_argument("--json", action="store_true", help="Print the layers as JSON.")

    sub = verb(
        "diff",
        "Compare two images: packages, config, sizes and the checks of the profiles.",
        cmd_diff,
    )
    sub.add_argument("a", help="The first image reference.")
    sub.add_argument("b", help="The second image reference.")
    sub.add_argument("--json", action="store_true", help="Print the difference as JSON.")
    sub.add_argument("--platform", help="os/arch[/variant] of multi-arch images.")
    sub.add_argument(
        "--profile",
        action="append",
        help="Profiles whose checks to compare (repeatable; default: "
        "ImageInspector.default_profiles).",
    )
