"""The runtime image verbs, Elyra's: list, create, update, remove, duplicate, export and
import (``elyra-metadata … runtime-images`` commands work with ``jupyter runtime-images``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..error_codes import EXIT_OK, EXIT_REFUSED
from .common import CommandError, Verb, open_store, print_json, table

if TYPE_CHECKING:
    from ..store import Entry

PROPERTY_OPTIONS: list[tuple[str, str]] = [
    ("display_name", "A user-friendly name (required unless --json or --file gives one)."),
    ("description", "Description of the runtime image."),
    ("image_name", "The image: [registry[:port]/]repository[:tag][@sha256:digest]."),
    ("pull_policy", "Always, IfNotPresent or Never."),
    ("pull_secret", "Name of the Kubernetes secret with the registry credentials."),
    ("tags", "Comma-separated tags, e.g. 'gpu,pytorch'."),
]


def read_json_source(args: argparse.Namespace) -> dict[str, Any]:
    """The instance given by ``--json`` or ``--file``; a bare metadata stanza is accepted."""
    text: str | bytes | None = None
    if args.json is not None:
        text = args.json
    elif args.file is not None:
        try:
            text = Path(args.file).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {args.file}: {error.strerror}") from None
    if text is None:
        return {}
    from ..documents import loads_json

    value = loads_json(text, "--json" if args.json is not None else str(args.file))
    if not isinstance(value, dict):
        raise CommandError("The JSON must be an object.")
    if "metadata" not in value and "image_name" in value:
        value = {"metadata": value}
    return value


def _body_from_options(args: argparse.Namespace, *, base: dict[str, Any]) -> dict[str, Any]:
    body = dict(base)
    metadata = dict(body.get("metadata") or {})
    if args.display_name is not None:
        body["display_name"] = args.display_name
    if args.schema_name is not None:
        body["schema_name"] = args.schema_name
    for key, _ in PROPERTY_OPTIONS[1:]:
        value = getattr(args, key)
        if value is None:
            continue
        if key == "tags":
            value = [tag.strip() for tag in value.split(",") if tag.strip()]
        metadata[key] = value
    if metadata or "metadata" in body:
        body["metadata"] = metadata
    return body


def _describe_write(entry: Entry) -> str:
    return f"Runtime image '{entry.name}' has been written to: {entry.path}"


def cmd_list(args: argparse.Namespace) -> int:
    listing = open_store().listing()
    invalid = listing.invalid if args.include_invalid else []
    if args.json:
        payload = [e.to_api() for e in listing.instances]
        payload += [{**e.to_invalid_api(), "invalid": True} for e in invalid]
        print_json(payload)
        return EXIT_OK
    if not listing.instances and not invalid:
        print("No runtime images found.")
        return EXIT_OK
    rows = [
        [
            e.name,
            e.display_name,
            str((e.document or {}).get("metadata", {}).get("image_name")),
            e.layer.origin,
        ]
        for e in listing.instances
    ]
    rows += [[e.name, f"**INVALID** ({e.reason})", "", e.layer.origin] for e in invalid]
    print(table(rows, ["Name", "Display name", "Image", "Origin"]))
    return EXIT_OK


def cmd_create(args: argparse.Namespace) -> int:
    base = read_json_source(args)
    body = _body_from_options(args, base=base)
    name = args.name or base.get("name")
    if name is None and args.file is not None and args.json is None:
        name = Path(args.file).stem
    if name is not None:
        body["name"] = name
    if "display_name" not in body:
        raise CommandError("--display_name is required (or give it in --json / --file).")
    if "image_name" not in body.get("metadata", {}):
        raise CommandError("--image_name is required (or give it in --json / --file).")
    print(_describe_write(open_store().create(body)))
    return EXIT_OK


def cmd_update(args: argparse.Namespace) -> int:
    patch = _body_from_options(args, base=read_json_source(args))
    patch.pop("name", None)
    if not patch:
        raise CommandError("Nothing to update: give at least one property option.")
    print(_describe_write(open_store().patch(args.name, patch)))
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    store = open_store()
    entry = store.get_entry(args.name)
    uncovered = store.delete(args.name)
    print(f"Runtime image '{args.name}' removed from {entry.path}.")
    if uncovered is not None:
        print(f"The {uncovered.layer.origin} image '{args.name}' is visible again.")
    return EXIT_OK


def cmd_duplicate(args: argparse.Namespace) -> int:
    print(_describe_write(open_store().duplicate(args.name)))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from ..fileio import atomic_write_bytes

    store = open_store()
    listing = store.listing()
    target = Path(args.directory) / "runtime-images"
    target.mkdir(parents=True, exist_ok=True)
    if args.clean:
        for old in target.glob("*.json"):
            old.unlink()
    entries = listing.instances + (listing.invalid if args.include_invalid else [])
    exported = 0
    for entry in entries:
        if entry.valid:
            data = (json.dumps(entry.to_file(), indent=2, ensure_ascii=False) + "\n").encode()
        else:
            original = _original_bytes(entry, store.max_file_bytes)
            if isinstance(original, str):
                print(f"Warning: {entry.name} not exported: {original}", file=sys.stderr)
                continue
            data = original
        atomic_write_bytes(target / f"{entry.name}.json", data, mode=0o644)
        exported += 1
    print(f"Exported {exported} runtime images to {target}")
    return EXIT_OK


def _original_bytes(entry: Entry, max_bytes: int) -> bytes | str:
    """An invalid file's bytes as they are on disk, or why they cannot be exported.

    The store keeps no text of oversized or unreadable files (and re-serializes, or cuts
    short, what it keeps of the others), so the file itself is read, up to ``max_bytes``.
    """
    try:
        with entry.path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        return f"the file cannot be read: {error.strerror}"
    if len(data) > max_bytes:
        return f"the file is larger than {max_bytes} bytes"
    return data


def cmd_import(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    if not directory.is_dir():
        raise CommandError(f"{directory} is not a directory.")
    files = sorted((directory / "runtime-images").glob("*.json")) + sorted(directory.glob("*.json"))
    if not files:
        raise CommandError(f"No runtime image files (*.json) found in {directory}.")
    from ..documents import loads_json
    from ..errors import ValidationFailedError

    store = open_store()
    rows: list[list[str]] = []
    failed = 0
    for path in files:
        try:
            item = loads_json(path.read_bytes(), "the file")
        except (OSError, ValidationFailedError) as error:
            rows.append([path.stem, "failed", str(error), str(path)])
            failed += 1
            continue
        if isinstance(item, dict):
            item = {**item, "name": path.stem}
            item.pop("resource", None)  # Elyra's exports carry their machine path
            item.pop("origin", None)
        result = store.import_instances([item], overwrite=args.overwrite)[0]
        failed += result.status == "failed"
        rows.append([path.stem, result.status, result.message, str(path)])
    print(table(rows, ["Name", "Result", "Message", "File"]))
    if failed:
        print(f"{failed} of {len(files)} files were not imported.", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def add_property_options(parser: argparse.ArgumentParser) -> None:
    for key, help_text in PROPERTY_OPTIONS:
        parser.add_argument(f"--{key}", f"--{key.replace('_', '-')}", dest=key, help=help_text)
    parser.add_argument("--schema_name", "--schema-name", help="Always 'runtime-image'.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--json", help="The instance (or its metadata stanza) as JSON text.")
    source.add_argument("--file", help="A JSON file holding the instance (or its metadata).")


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    sub = verb("list", "List runtime images, sorted by display name.", cmd_list)
    sub.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    sub.add_argument(
        "--include-invalid",
        "--include_invalid",
        action="store_true",
        help="Also list invalid files, with the reason.",
    )

    sub = verb("create", "Create a runtime image.", cmd_create)
    sub.add_argument("--name", help="The name (derived from the display name when absent).")
    add_property_options(sub)

    sub = verb("update", "Change properties of a runtime image (merged).", cmd_update)
    sub.add_argument("--name", required=True, help="The runtime image to update.")
    add_property_options(sub)

    sub = verb("remove", "Remove a user runtime image.", cmd_remove)
    sub.add_argument("--name", required=True, help="The runtime image to remove.")

    sub = verb("duplicate", "Copy a runtime image as '<display name> (copy)'.", cmd_duplicate)
    sub.add_argument("--name", required=True, help="The runtime image to copy.")

    sub = verb("export", "Write every runtime image to DIRECTORY/runtime-images/.", cmd_export)
    sub.add_argument("--directory", required=True, help="Where to export.")
    sub.add_argument(
        "--include-invalid",
        "--include_invalid",
        action="store_true",
        help="Also export invalid files as they are.",
    )
    sub.add_argument(
        "--clean",
        action="store_true",
        help="Empty DIRECTORY/runtime-images/ of *.json files first.",
    )

    sub = verb("import", "Import DIRECTORY/runtime-images/*.json and DIRECTORY/*.json.", cmd_import)
    sub.add_argument("--directory", required=True, help="Where to import from.")
    sub.add_argument(
        "--overwrite",
        action="store_true",
        help="Replace runtime images that exist with a different content.",
    )
