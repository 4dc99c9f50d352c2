"""``jupyter runtime-images``: manage runtime images from a terminal, with no server running.

The verbs and options are those of Elyra's ``elyra-metadata … runtime-images`` (a leading
``runtime-images`` argument is accepted), so the commands people already have keep working.
argparse is used rather than a traitlets ``Application`` because each verb needs its own
complete ``--help`` (Elyra's omits the schema options, bug B14) and positional arguments;
configuration still comes from the traitlets files the server reads
(``jupyter_server_config`` and ``jupyter_runtime_images_config`` on the Jupyter config path).

Exit codes: 0 success; 1 the operation failed (the message says why; for ``import``, at
least one file was not imported); 2 the command line is invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from traitlets.config import Config

    from .inspect import ImageReport
    from .registry import RegistryClient
    from .store import Entry, RuntimeImageStore

T = TypeVar("T")

SCHEMASPACE_ALIASES = ("runtime-images", "119c9740-d73f-48c6-a97a-599d3acaf41d")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

PROPERTY_OPTIONS: list[tuple[str, str]] = [
    ("display_name", "A user-friendly name (required unless --json or --file gives one)."),
    ("description", "Description of the runtime image."),
    ("image_name", "The image: [registry[:port]/]repository[:tag][@sha256:digest]."),
    ("pull_policy", "Always, IfNotPresent or Never."),
    ("pull_secret", "Name of the Kubernetes secret with the registry credentials."),
    ("tags", "Comma-separated tags, e.g. 'gpu,pytorch'."),
]


class CommandError(Exception):
    """A failure to report on stderr with exit code 1 (no traceback)."""


def load_config() -> Config:
    """The traitlets configuration the Jupyter server would read, from the same files."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import (
        ConfigFileNotFound,
        JSONFileConfigLoader,
        PyFileConfigLoader,
    )

    config = Config()
    # jupyter_config_path() is highest priority first: load in reverse so the user's wins.
    for directory in reversed([*jupyter_config_path(), str(Path.cwd())]):
        for base in ("jupyter_server_config", "jupyter_runtime_images_config"):
            for loader in (
                PyFileConfigLoader(f"{base}.py", path=directory),
                JSONFileConfigLoader(f"{base}.json", path=directory),
            ):
                try:
                    config.merge(loader.load_config())
                except ConfigFileNotFound:
                    continue
    return config


def open_store() -> RuntimeImageStore:
    from .store import RuntimeImageStore

    return RuntimeImageStore(config=load_config())


# -- helpers -------------------------------------------------------------------------------


def _print_json(payload: Any) -> None:
    print(json.dumps(payload, indent=2, ensure_ascii=False))


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _read_json_source(args: argparse.Namespace) -> dict[str, Any]:
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
    from .documents import loads_json

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


# -- verbs ---------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    listing = open_store().listing()
    invalid = listing.invalid if args.include_invalid else []
    if args.json:
        payload = [e.to_api() for e in listing.instances]
        payload += [{**e.to_invalid_api(), "invalid": True} for e in invalid]
        _print_json(payload)
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
    print(_table(rows, ["Name", "Display name", "Image", "Origin"]))
    return EXIT_OK


def cmd_create(args: argparse.Namespace) -> int:
    base = _read_json_source(args)
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
    patch = _body_from_options(args, base=_read_json_source(args))
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
    from .fileio import atomic_write_bytes

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
    from .documents import loads_json
    from .errors import ValidationFailedError

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
    print(_table(rows, ["Name", "Result", "Message", "File"]))
    if failed:
        print(f"{failed} of {len(files)} files were not imported.", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _stored_image(name: str) -> tuple[RuntimeImageStore, Entry, str]:
    store = open_store()
    entry = store.get(name)
    image = ((entry.document or {}).get("metadata") or {}).get("image_name")
    return store, entry, str(image)


def _run_with_registry(work: Callable[[RegistryClient], Awaitable[T]]) -> T:
    """Run ``work`` with a RegistryClient configured from the server's config files."""
    import asyncio

    from .registry import RegistryClient

    async def run() -> T:
        async with RegistryClient(config=load_config()) as client:
            return await work(client)

    return asyncio.run(run())


def cmd_pin(args: argparse.Namespace) -> int:
    if args.name:
        store, entry, image = _stored_image(args.name)
        pinned = _run_with_registry(lambda client: client.pin(image))
        # If-Match: an edit made while the registry answered is not overwritten.
        store.patch(args.name, {"metadata": {"image_name": pinned.familiar()}}, entry.etag)
        print(f"Runtime image '{args.name}' pinned: {pinned.familiar()}")
    else:
        print(_run_with_registry(lambda client: client.pin(args.image)).familiar())
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


def _draw_bar(done: int, total: int, stream: Any) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    stream.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done / 1e6:.1f}/{total / 1e6:.1f} MB"
    )
    stream.flush()


def _layer_progress() -> Callable[[int, int], None] | None:
    """A progress bar of the layer bytes read, on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        _draw_bar(done, total, sys.stderr)
        if done >= total:
            sys.stderr.write("\r\033[K")

    return show


def cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect import inspect_image

    progress = _layer_progress()
    image = _stored_image(args.name)[2] if args.name else args.image
    view = _run_with_registry(
        lambda c: inspect_image(c, image, platform=args.platform, progress=progress)
    )
    if args.json:
        _print_json(view.report.to_json())
    else:
        print("\n".join(_inspect_lines(view.report)))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 when no check fails, 1 when one does, 2 when the image cannot be checked."""
    from .inspect import ImageInspector, UnknownProfile
    from .reference import InvalidReferenceError
    from .registry import RegistryError

    try:
        image = _stored_image(args.name)[2] if args.name else args.image
        inspector = ImageInspector(config=load_config())
        result = _run_with_registry(
            lambda c: inspector.validate(
                c, image, args.profile, platform=args.platform, progress=_layer_progress()
            )
        )
    except (RegistryError, InvalidReferenceError, UnknownProfile) as error:
        print(f"Error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        _print_json(result.to_json())
    else:
        rows = [[c.profile, c.id, c.result.upper(), c.message] for c in result.checks]
        print(f"{image} ({result.report.digest})")
        print(_table(rows, ["Profile", "Check", "Result", "Message"]))
        failed = len(result.failures)
        print(
            f"{failed} check{'s' if failed != 1 else ''} failed." if failed else "No check failed."
        )
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_kernelspec(args: argparse.Namespace) -> int:
    from .kernelspec import install_kernelspec, parse_options

    options: dict[str, Any] = {"provisioner": args.provisioner, "replace": args.replace}
    for key in ("kernel_name", "display_name", "language", "prefix", "port_range"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.user:
        options["user"] = True
    if args.sys_prefix:
        options["sys_prefix"] = True
    if args.launch_timeout is not None:
        options["launch_timeout"] = args.launch_timeout
    if args.prefix is not None:
        options["prefix"] = str(Path(args.prefix).absolute())
    for key in ("authorized_users", "unauthorized_users"):
        if getattr(args, key):
            options[key] = getattr(args, key)
    installed = install_kernelspec(open_store(), args.name, parse_options(options))
    print(f"Kernelspec '{installed.kernel_name}' installed in {installed.resource_dir}")
    return EXIT_OK


# -- builds --------------------------------------------------------------------------------


def _find_server() -> Any:
    """A running Jupyter server with this extension (it then runs the build), or None."""
    from .client import ClientError, RuntimeImages

    try:
        client = RuntimeImages(timeout=10)
        client.builds()
    except (ClientError, OSError):
        return None
    return client


def _submit(document: object, args: argparse.Namespace, engine: str | None = None) -> int:
    """Submit a CustomNBImage: to a running server, else build it in this process."""
    server = _find_server()
    if server is not None:
        name = server.build(document, engine=engine)["metadata"]["name"]
        print(f"{name}: submitted to {server.base_url}")
        if not _wait_flag(args):
            return EXIT_OK
        return _follow(name, lambda: server.get_build(name))
    return _build_here(document, args, engine)


def _with_local_controller(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(controller)`` with a build controller in this process (no server runs),
    ready to run only what ``work`` gives it — not the other builds of the directory."""
    import asyncio

    from .builds.wiring import make_build_controller
    from .inspect import ImageInspector
    from .registry import RegistryClient

    config = load_config()

    async def run() -> T:
        async with RegistryClient(config=config) as client:
            controller = make_build_controller(
                None, open_store(), client, ImageInspector(config=config), config=config
            )
            await controller.start(watch=False)
            try:
                return await work(controller)
            finally:
                await controller.stop()

    return asyncio.run(run())


def _not_waiting(name: str, args: argparse.Namespace) -> str:
    """What happens to a build saved while no server runs, and how to run it now."""
    why = (
        "you asked not to wait (--no-wait)"
        if args.wait is False
        else "this command is not on a terminal, so it does not wait"
    )
    return (
        f"{name}: saved as Pending. No Jupyter server is running and {why}: it runs when a "
        "Jupyter server starts on this data directory. To run it now, in this process, "
        f"run: jupyter runtime-images build-retry {name} --wait"
    )


def _build_here(document: object, args: argparse.Namespace, engine: str | None = None) -> int:
    async def work(controller: Any) -> int:
        import asyncio

        if not _wait_flag(args):
            resource = controller.new_resource(
                document, engine, message="Waiting for a Jupyter server to run it."
            )
            controller.resources.create(resource)
            print(_not_waiting(resource["metadata"]["name"], args))
            return EXIT_OK
        name = (await controller.submit(document, engine))["metadata"]["name"]
        print(f"{name}: building in this process (no Jupyter server is running)")
        return await asyncio.to_thread(_follow, name, lambda: controller.get(name))

    return _with_local_controller(work)


def _follow(name: str, fetch: Callable[[], dict[str, Any]]) -> int:
    """Print each new condition (and a progress bar on a terminal) until the build ends."""
    import time

    shown: tuple[str, str] | None = None
    tty = sys.stdout.isatty()
    while True:
        build = fetch()
        status = build.get("status") or {}
        conditions = status.get("conditions") or [{}]
        latest = conditions[-1]
        key = (latest.get("type", ""), latest.get("message", ""))
        if key != shown:
            if tty:
                print("\r\033[K", end="")
            print(
                f"{status.get('phase', 'Pending'):<9} {latest.get('type', '')}: "
                f"{latest.get('message', '')}"
            )
            shown = key
        progress = status.get("progress") or {}
        if tty and progress.get("bytesTotal"):
            _draw_bar(progress["bytesDone"], progress["bytesTotal"], sys.stdout)
        if status.get("phase") in ("Ready", "Failed"):
            if tty:
                print()
            return EXIT_OK if status["phase"] == "Ready" else EXIT_FAILED
        time.sleep(0.3)


def _wait_flag(args: argparse.Namespace) -> bool:
    return sys.stdout.isatty() if args.wait is None else bool(args.wait)


def cmd_build(args: argparse.Namespace) -> int:
    from .builds.model import parse_text

    try:
        text = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {args.file}: {error.strerror}") from None
    return _submit(_with_default_annotations(parse_text(text)), args, args.engine)


def _with_default_annotations(document: Any) -> Any:
    """Fill in the creator (the user running the command) and the description (the
    display name) when the resource leaves them out; the display name must be given."""
    import getpass

    from .builds.model import ANNOTATION_CREATOR, ANNOTATION_DESC, ANNOTATION_NAME

    metadata = document.get("metadata") if isinstance(document, dict) else None
    if not isinstance(metadata, dict):
        return document
    annotations = metadata.setdefault("annotations", {})
    if not isinstance(annotations, dict) or not isinstance(annotations.get(ANNOTATION_NAME), str):
        return document  # the validation names what is missing
    filled = []
    if ANNOTATION_DESC not in annotations:
        annotations[ANNOTATION_DESC] = annotations[ANNOTATION_NAME]
        filled.append(f"{ANNOTATION_DESC} (the display name)")
    if ANNOTATION_CREATOR not in annotations:
        annotations[ANNOTATION_CREATOR] = getpass.getuser()
        filled.append(f"{ANNOTATION_CREATOR} ({annotations[ANNOTATION_CREATOR]})")
    if filled:
        print(f"Filled in {' and '.join(filled)}.")
    return document


def cmd_import_image(args: argparse.Namespace) -> int:
    from .client import image_import_resource

    document = image_import_resource(
        args.image,
        args.display_name,
        name=args.name,
        description=args.description or "",
        creator=args.creator,
        profiles=args.profile,
    )
    return _submit(document, args, args.engine)


def _build_store() -> Any:
    from .builds.store import BuildStore
    from .builds.wiring import builds_directory

    return BuildStore(Path(builds_directory(load_config())))


def cmd_builds(args: argparse.Namespace) -> int:
    builds = _build_store().list()
    if args.json:
        _print_json(builds)
        return EXIT_OK
    if not builds:
        print("No builds.")
        return EXIT_OK
    rows = []
    for build in builds:
        status = build.get("status") or {}
        latest = (status.get("conditions") or [{}])[-1]
        rows.append(
            [
                build["metadata"]["name"],
                build["spec"]["buildType"],
                status.get("phase", ""),
                status.get("engine", ""),
                build["metadata"].get("creationTimestamp", ""),
                latest.get("message", ""),
            ]
        )
    print(_table(rows, ["Name", "Type", "Phase", "Engine", "Created", "Message"]))
    return EXIT_OK


def cmd_build_log(args: argparse.Namespace) -> int:
    print(_build_store().read_log(args.name), end="")
    return EXIT_OK


def cmd_build_cancel(args: argparse.Namespace) -> int:
    name = args.name
    server = _find_server()
    if server is not None:
        server.cancel_build(name)
    else:
        _with_local_controller(lambda controller: controller.cancel(name))
    print(f"{name}: cancelled.")
    return EXIT_OK


def cmd_build_retry(args: argparse.Namespace) -> int:
    name = args.name
    server = _find_server()
    if server is not None:
        server.retry_build(name)
        print(f"{name}: retrying on {server.base_url}")
        return _follow(name, lambda: server.get_build(name)) if _wait_flag(args) else EXIT_OK

    async def work(controller: Any) -> int:
        import asyncio

        from .builds import model

        wait = _wait_flag(args)
        if model.phase_of(controller.get(name)) in model.ACTIVE_PHASES:
            # Saved Pending (or left Building) with no server to run it: run it here.
            holder = controller.claims.holder(name)
            if holder is not None:
                raise CommandError(
                    f"The build {name!r} is being run by process {holder.pid} on {holder.host}."
                )
            if wait:
                controller.resume(name)
        else:
            await controller.retry(name, run=wait)
        if not wait:
            print(_not_waiting(name, args))
            return EXIT_OK
        print(f"{name}: building again in this process (no Jupyter server is running)")
        return await asyncio.to_thread(_follow, name, lambda: controller.get(name))

    return _with_local_controller(work)


def cmd_build_delete(args: argparse.Namespace) -> int:
    name = args.name
    server = _find_server()
    if server is not None:
        server.delete_build(name)
    else:
        _with_local_controller(lambda controller: controller.delete(name))
    print(f"{name}: deleted (the runtime image it configured, if any, is kept).")
    return EXIT_OK


# -- parser --------------------------------------------------------------------------------


def _add_property_options(parser: argparse.ArgumentParser) -> None:
    for key, help_text in PROPERTY_OPTIONS:
        parser.add_argument(f"--{key}", f"--{key.replace('_', '-')}", dest=key, help=help_text)
    parser.add_argument("--schema_name", "--schema-name", help="Always 'runtime-image'.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--json", help="The instance (or its metadata stanza) as JSON text.")
    source.add_argument("--file", help="A JSON file holding the instance (or its metadata).")


def _add_wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        dest="wait",
        action="store_true",
        default=None,
        help="Follow the build until it is Ready or Failed (the default on a terminal).",
    )
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="Print the build's name and return at once.",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter runtime-images",
        description="Manage runtime image configurations (Elyra-compatible).",
        epilog="Exit codes: 0 success, 1 the operation failed, 2 invalid command line.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    def verb(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

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
    _add_property_options(sub)

    sub = verb("update", "Change properties of a runtime image (merged).", cmd_update)
    sub.add_argument("--name", required=True, help="The runtime image to update.")
    _add_property_options(sub)

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
    sub = verb(
        "pin", "Resolve a tag to the digest its registry serves (repo:tag@sha256:…).", cmd_pin
    )
    target = sub.add_mutually_exclusive_group(required=True)
    target.add_argument("image", nargs="?", help="An image reference to pin (printed).")
    target.add_argument("--name", help="A runtime image whose image_name to pin and store.")

    sub = verb("inspect", "Show an image's OS, Python, packages, users and config.", cmd_inspect)
    target = sub.add_mutually_exclusive_group(required=True)
    target.add_argument("image", nargs="?", help="The image reference.")
    target.add_argument("--name", help="A runtime image whose image to inspect.")
    sub.add_argument("--json", action="store_true", help="Print the report as JSON.")
    sub.add_argument("--platform", help="os/arch[/variant] of a multi-arch image.")

    sub = verb(
        "validate",
        "Check an image against requirement profiles. Exit 0: no check failed; 1: a check "
        "failed; 2: the image could not be checked.",
        cmd_validate,
    )
    target = sub.add_mutually_exclusive_group(required=True)
    target.add_argument("image", nargs="?", help="The image reference to check.")
    target.add_argument("--name", help="A runtime image whose image to check.")
    sub.add_argument(
        "--profile",
        action="append",
        help="elyra, kubeflow, odh-notebook or gateway-kernel (repeatable; default: "
        "ImageInspector.default_profiles).",
    )
    sub.add_argument("--json", action="store_true", help="Print the result as JSON.")
    sub.add_argument("--platform", help="os/arch[/variant] of a multi-arch image.")

    engine_help = (
        "The engine to run it: embedded (in the server, no daemon) or buildah (buildah bud, "
        "when installed); default: the configured one (BuildController.engine)."
    )

    sub = verb(
        "kernelspec",
        "Install a kernelspec that launches kernels in the runtime image (Gateway "
        "Provisioners' format; needs `pip install gateway-provisioners`).",
        cmd_kernelspec,
    )
    sub.add_argument("--name", required=True, help="The runtime image.")
    sub.add_argument(
        "--provisioner", required=True, choices=["kubernetes", "docker"], help="Where kernels run."
    )
    sub.add_argument(
        "--kernel-name",
        "--kernel_name",
        dest="kernel_name",
        help="Kernelspec directory name (default: k8s_<name> or docker_<name>).",
    )
    sub.add_argument(
        "--display-name",
        "--display_name",
        dest="display_name",
        help="Default: '<display name> on Kubernetes' or '<display name> on Docker'.",
    )
    sub.add_argument(
        "--language", type=str.lower, choices=["python", "r", "scala"], help="Default: python."
    )
    where = sub.add_mutually_exclusive_group()
    where.add_argument(
        "--user", action="store_true", help="Install in the user's Jupyter data dir (default)."
    )
    where.add_argument("--prefix", help="Install in PREFIX/share/jupyter/kernels/.")
    where.add_argument(
        "--sys-prefix",
        "--sys_prefix",
        dest="sys_prefix",
        action="store_true",
        help="Install in sys.prefix/share/jupyter/kernels/.",
    )
    sub.add_argument("--replace", action="store_true", help="Replace an existing kernelspec.")
    sub.add_argument(
        "--launch-timeout",
        "--launch_timeout",
        dest="launch_timeout",
        type=int,
        help="Seconds to wait for the kernel to start (default 30).",
    )
    sub.add_argument(
        "--port-range",
        "--port_range",
        dest="port_range",
        help="LOWER..UPPER ports the kernel may use (default 0..0, any).",
    )
    sub.add_argument(
        "--authorized-users",
        "--authorized_users",
        dest="authorized_users",
        action="append",
        help="Only these users may launch the kernel (repeatable).",
    )
    sub.add_argument(
        "--unauthorized-users",
        "--unauthorized_users",
        dest="unauthorized_users",
        action="append",
        help="These users may not launch the kernel (repeatable; default: root).",
    )

    sub = verb(
        "build", "Submit a CustomNBImage (JSON or YAML) to import or build an image.", cmd_build
    )
    sub.add_argument("-f", "--file", required=True, help="The resource file ('-' for stdin).")
    sub.add_argument("--engine", help=engine_help)
    _add_wait_options(sub)

    sub = verb("import-image", "Import an existing image (an ImageImport build).", cmd_import_image)
    sub.add_argument("image", help="The image reference, e.g. quay.io/org/image:1.0.")
    sub.add_argument(
        "--display-name",
        "--display_name",
        required=True,
        help="Display name of the runtime image it creates.",
    )
    sub.add_argument("--description", help="Description of the runtime image.")
    sub.add_argument("--name", help="Name of the build and runtime image (derived if absent).")
    sub.add_argument("--creator", help="Who asked for it (default: the current user).")
    sub.add_argument(
        "--profile",
        action="append",
        help="Requirement profile to check (repeatable; default: configured).",
    )
    sub.add_argument("--engine", help=engine_help)
    _add_wait_options(sub)

    sub = verb("builds", "List builds with their phase and latest message.", cmd_builds)
    sub.add_argument("--json", action="store_true", help="Print the resources as JSON.")

    sub = verb("build-log", "Print a build's log.", cmd_build_log)
    sub.add_argument("name", help="The build's name.")
    sub = verb(
        "build-cancel", "Stop a Pending or Building build (it ends Failed).", cmd_build_cancel
    )
    sub.add_argument("name", help="The build's name.")
    sub = verb("build-retry", "Run an ended build again.", cmd_build_retry)
    sub.add_argument("name", help="The build's name.")
    _add_wait_options(sub)
    sub = verb(
        "build-delete",
        "Cancel a build if it runs, and delete it with its log (its runtime image stays).",
        cmd_build_delete,
    )
    sub.add_argument("name", help="The build's name.")
    return parser


def _strip_schemaspace(argv: list[str]) -> list[str]:
    """Drop Elyra's schemaspace argument, before or after the verb."""
    positions = [i for i, arg in enumerate(argv[:2]) if arg.lower() in SCHEMASPACE_ALIASES]
    return [arg for i, arg in enumerate(argv) if i not in positions]


def _fail(message: str) -> NoReturn:
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_FAILED)


def main(argv: Sequence[str] | None = None) -> int:
    # jsonschema imports rfc3987_syntax (about 1 s of grammar building) for the "iri"
    # format, which no runtime image schema uses; keep the CLI fast without it.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    args = build_parser().parse_args(
        _strip_schemaspace(list(sys.argv[1:] if argv is None else argv))
    )

    from .errors import RuntimeImagesError, ValidationFailedError
    from .fileio import LockTimeoutError
    from .reference import InvalidReferenceError

    try:
        status: int = args.handler(args)
    except BrokenPipeError:
        # The reader went away (`… | head`): what it wanted was written. Point stdout at
        # /dev/null so the interpreter's final flush does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ValidationFailedError as error:
        lines = "\n".join(f"  {e.path or '(document)'}: {e.message}" for e in error.errors)
        _fail(f"{error}\n{lines}" if lines else str(error))
    except (CommandError, RuntimeImagesError, LockTimeoutError, InvalidReferenceError) as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{error.strerror}: {error.filename}")
    except Exception as error:
        if _is_user_facing(error):
            _fail(str(error))
        raise
    return status


def _is_user_facing(error: Exception) -> bool:
    """Registry and client errors carry messages for people; they are only imported (and so
    can only be raised) by the verbs that talk to registries or servers."""
    registry = sys.modules.get("runtime_images.registry")
    client = sys.modules.get("runtime_images.client")
    return (registry is not None and isinstance(error, registry.RegistryError)) or (
        client is not None and isinstance(error, client.ClientError)
    )


if __name__ == "__main__":
    sys.exit(main())
