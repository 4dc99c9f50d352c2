"""The export-to verb: runtime images in another platform's format (ODH, JupyterHub,
Kubeflow, pre-pullers, Elyra)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..error_codes import EXIT_OK
from .common import Verb, load_config, open_store, run_with_registry

FORMAT_NAMES = (
    "odh-imagestream",
    "odh-runtime-imagestream",
    "kubespawner",
    "kubeflow",
    "prepuller",
    "elyra",
)
"""The formats (runtime_images.exports.FORMATS, not imported so --help stays fast; a test
keeps the two the same)."""


def cmd_export_to(args: argparse.Namespace) -> int:
    from ..exports import ImageExporter
    from ..fileio import atomic_write_bytes
    from ..inspect import ImageInspector

    config = load_config()
    exporter = ImageExporter(config=config)
    inspector = ImageInspector(config=config)
    entries = open_store().listing().instances
    result = run_with_registry(
        lambda client: exporter.export(
            entries,
            args.format,
            registry=client,
            inspector=inspector,
            names=args.name or (),
            tags=args.tag or (),
            style=args.style,
            creator=args.creator,
            platform=args.platform,
        )
    )
    for warning in result.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    if args.output and result.format == "elyra" and Path(args.output).is_dir():
        files = json.loads(result.text)
        for filename, document in files.items():
            data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
            atomic_write_bytes(Path(args.output) / filename, data, mode=0o644)
        print(f"Wrote {len(files)} runtime image files to {args.output}", file=sys.stderr)
    elif args.output:
        atomic_write_bytes(Path(args.output), result.text.encode("utf-8"), mode=0o644)
        print(
            f"Wrote {len(result.images)} runtime images ({result.format}) to {args.output}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(result.text)
    return EXIT_OK


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    sub = verb(
        "export-to",
        "Write runtime images (all, named, or with tags) in another platform's format, "
        "pinned by digest, with the contents read from the images.",
        cmd_export_to,
    )
    sub.add_argument("format", choices=FORMAT_NAMES, help="The format to write.")
    sub.add_argument("--name", action="append", help="A runtime image to export (repeatable).")
    sub.add_argument("--tag", action="append", help="Export the images with this tag (repeatable).")
    sub.add_argument(
        "--style",
        help="A variant: kubespawner 'profiles' (default) or 'choice' (one profile with an "
        "image choice); prepuller 'z2jh' (default) or 'list' (one reference per line).",
    )
    sub.add_argument(
        "--creator", help="The creator written in ODH ImageStreams (c.ImageExporter.creator)."
    )
    sub.add_argument(
        "--platform",
        help="os/arch[/variant] whose contents the ODH annotations describe "
        "(default: RegistryClient.platform).",
    )
    sub.add_argument(
        "-o",
        "--output",
        help="Write to this file instead of stdout (for elyra, a directory gets one file "
        "per image).",
    )
