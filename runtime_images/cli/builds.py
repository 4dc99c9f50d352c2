"""The build verbs: submit (build, import-image), follow, list, read the log, cancel, retry
and delete — through the running Jupyter server when there is one, else in this process."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ..error_codes import EXIT_OK, EXIT_REFUSED
from .common import (
    CommandError,
    Verb,
    draw_bar,
    find_server,
    load_config,
    open_store,
    print_json,
    table,
)

T = TypeVar("T")


def _submit(document: object, args: argparse.Namespace, engine: str | None = None) -> int:
    """Submit a CustomNBImage: to a running server, else build it in this process."""
    server = find_server()
    if server is not None:
        name = server.build(document, engine=engine)["metadata"]["name"]
        print(f"{name}: submitted to {server.base_url}")
        if not wait_flag(args):
            return EXIT_OK
        return _follow(name, lambda: server.get_build(name))
    return _build_here(document, args, engine)


def _with_local_controller(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(controller)`` with a build controller in this process (no server runs),
    ready to run only what ``work`` gives it — not the other builds of the directory."""
    import asyncio

    from ..builds.wiring import make_build_controller
    from ..inspect import ImageInspector
    from ..registry import RegistryClient

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

        if not wait_flag(args):
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
            draw_bar(progress["bytesDone"], progress["bytesTotal"], sys.stdout)
        if status.get("phase") in ("Ready", "Failed"):
            if tty:
                print()
            return EXIT_OK if status["phase"] == "Ready" else EXIT_REFUSED
        time.sleep(0.3)


def wait_flag(args: argparse.Namespace) -> bool:
    return sys.stdout.isatty() if args.wait is None else bool(args.wait)


def cmd_build(args: argparse.Namespace) -> int:
    from ..builds.model import parse_text

    try:
        text = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {args.file}: {error.strerror}") from None
    return _submit(_with_default_annotations(parse_text(text)), args, args.engine)


def _with_default_annotations(document: Any) -> Any:
    """Fill in the creator (the user running the command) and the description (the
    display name) when the resource leaves them out; the display name must be given."""
    import getpass

    from ..builds.model import ANNOTATION_CREATOR, ANNOTATION_DESC, ANNOTATION_NAME

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
    from ..client import image_import_resource

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
    from ..builds.store import BuildStore
    from ..builds.wiring import builds_directory

    return BuildStore(Path(builds_directory(load_config())))


def cmd_builds(args: argparse.Namespace) -> int:
    builds = _build_store().list()
    if args.json:
        print_json(builds)
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
    print(table(rows, ["Name", "Type", "Phase", "Engine", "Created", "Message"]))
    return EXIT_OK


def cmd_build_log(args: argparse.Namespace) -> int:
    print(_build_store().read_log(args.name), end="")
    return EXIT_OK


def cmd_build_cancel(args: argparse.Namespace) -> int:
    _on_server_or_here(args.name, "cancel_build", "cancel")
    print(f"{args.name}: cancelled.")
    return EXIT_OK


def _on_server_or_here(name: str, client_method: str, controller_method: str) -> None:
    """Do something to a build through the running server, else in this process."""
    server = find_server()
    if server is not None:
        getattr(server, client_method)(name)
    else:
        _with_local_controller(lambda controller: getattr(controller, controller_method)(name))


def cmd_build_retry(args: argparse.Namespace) -> int:
    name = args.name
    server = find_server()
    if server is not None:
        server.retry_build(name)
        print(f"{name}: retrying on {server.base_url}")
        return _follow(name, lambda: server.get_build(name)) if wait_flag(args) else EXIT_OK

    async def work(controller: Any) -> int:
        import asyncio

        from ..builds import model

        wait = wait_flag(args)
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
    _on_server_or_here(args.name, "delete_build", "delete")
    print(f"{args.name}: deleted (the runtime image it configured, if any, is kept).")
    return EXIT_OK


def add_wait_options(parser: argparse.ArgumentParser) -> None:
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


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    engine_help = (
        "The engine to run it: embedded (in the server, no daemon) or buildah (buildah bud, "
        "when installed); default: the configured one (BuildController.engine)."
    )

    sub = verb(
        "build", "Submit a CustomNBImage (JSON or YAML) to import or build an image.", cmd_build
    )
    sub.add_argument("-f", "--file", required=True, help="The resource file ('-' for stdin).")
    sub.add_argument("--engine", help=engine_help)
    add_wait_options(sub)

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
    add_wait_options(sub)

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
    add_wait_options(sub)
    sub = verb(
        "build-delete",
        "Cancel a build if it runs, and delete it with its log (its runtime image stays).",
        cmd_build_delete,
    )
    sub.add_argument("name", help="The build's name.")
