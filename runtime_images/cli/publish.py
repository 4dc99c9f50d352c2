"""The ``publish`` verb: copy an image out of this machine (or its registry) to a registry,
an archive or a container engine's storage, and optionally repoint its runtime image."""

from __future__ import annotations

import argparse

from ..error_codes import EXIT_OK
from .common import CommandError, Verb, layer_progress, load_config, open_store, run_with_registry


def cmd_publish(args: argparse.Namespace) -> int:
    from ..errors import NotFoundError, ValidationFailedError
    from ..publish import ImagePublisher, PublishRequest
    from ..reference import InvalidReferenceError, parse
    from ..watch import move_image

    request = PublishRequest.parse({"to": args.to, "repoint": args.repoint})
    store = open_store()
    try:  # a runtime image's name, else (not a name, or none such) an image reference
        entry = store.get_entry(args.source)
    except (NotFoundError, ValidationFailedError):
        entry = None
    if entry is not None and not entry.valid:
        entry = store.get(args.source)  # raises, saying why the file is invalid
    if entry is not None:
        source = str(((entry.document or {}).get("metadata") or {}).get("image_name"))
    else:
        try:
            source = parse(args.source).familiar()
        except InvalidReferenceError:
            raise CommandError(
                f"{args.source!r} is neither a runtime image nor an image reference"
            ) from None
        if request.repoint:
            raise CommandError("--repoint needs a runtime image name, not an image reference")
    publisher = ImagePublisher(config=load_config())
    published = run_with_registry(
        lambda client: publisher.publish(client, source, request.to, layer_progress())
    )
    print(f"Published {published.source} as {published.image} ({published.digest})")
    if request.repoint and entry is not None:
        _, kernelspecs = move_image(store, entry.name, published.image, "published", entry.etag)
        print(f"Runtime image '{entry.name}' now points at {published.image}")
        for kernelspec in kernelspecs:
            print(f"Kernelspec '{kernelspec}' now launches {published.image}")
    return EXIT_OK


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    sub = verb(
        "publish",
        "Copy an image (a runtime image's, or a reference) to a registry, an oci-archive "
        "file, podman/buildah storage or a Docker daemon, keeping its digest.",
        cmd_publish,
    )
    sub.add_argument(
        "source", metavar="NAME|REF", help="A runtime image name or an image reference."
    )
    sub.add_argument(
        "--to",
        required=True,
        metavar="DEST",
        help="docker://host[:port]/repo[:tag], oci-archive:FILE, containers-storage:repo:tag "
        "or docker-daemon:repo:tag.",
    )
    sub.add_argument(
        "--repoint",
        action="store_true",
        help="Point the runtime image at the published, pinned reference (docker:// only).",
    )
