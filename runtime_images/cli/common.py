"""What the verbs share: the configuration and store the server reads, output helpers,
and the registry client and running server the verbs that need them use."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from traitlets.config import Config

    from ..registry import RegistryClient
    from ..store import Entry, RuntimeImageStore

T = TypeVar("T")

Handler = Callable[["argparse.Namespace"], int]
Verb = Callable[[str, str, Handler], "argparse.ArgumentParser"]
"""Adds a verb to the command line: ``verb(name, help, handler)`` gives its parser."""


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
    from ..store import RuntimeImageStore

    return RuntimeImageStore(config=load_config())


def print_json(payload: Any) -> None:
    print(json.dumps(payload, indent=2, ensure_ascii=False))


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def stored_image(name: str) -> tuple[RuntimeImageStore, Entry, str]:
    store = open_store()
    entry = store.get(name)
    image = ((entry.document or {}).get("metadata") or {}).get("image_name")
    return store, entry, str(image)


def target_image(args: argparse.Namespace) -> str:
    """The image a verb reads: the IMAGE argument, or the image of the runtime image
    ``--name`` names."""
    return stored_image(args.name)[2] if args.name else str(args.image)


def image_target(
    sub: argparse.ArgumentParser,
    name_help: str,
    image_help: str = "The image reference.",
    *,
    required: bool = True,
) -> None:
    """The IMAGE argument and ``--name`` (one or the other) of a verb that reads an image."""
    target = sub.add_mutually_exclusive_group(required=required)
    target.add_argument("image", nargs="?", help=image_help)
    target.add_argument("--name", help=name_help)


def run_with_registry(work: Callable[[RegistryClient], Awaitable[T]]) -> T:
    """Run ``work`` with a RegistryClient configured from the server's config files."""
    import asyncio

    from ..registry import RegistryClient

    async def run() -> T:
        async with RegistryClient(config=load_config()) as client:
            return await work(client)

    return asyncio.run(run())


def draw_bar(done: int, total: int, stream: Any) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    stream.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done / 1e6:.1f}/{total / 1e6:.1f} MB"
    )
    stream.flush()


def layer_progress() -> Callable[[int, int], None] | None:
    """A progress bar of the bytes done (layers read, blobs published), on stderr when it
    is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        draw_bar(done, total, sys.stderr)
        if done >= total:
            sys.stderr.write("\r\033[K")

    return show


def find_server() -> Any:
    """A running Jupyter server with this extension (it then runs the build), or None."""
    from ..client import ClientError, RuntimeImages

    try:
        client = RuntimeImages(timeout=10)
        client.builds()
    except (ClientError, OSError):
        return None
    return client
