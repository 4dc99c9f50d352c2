"""``jupyter runtime-images``: manage runtime images from a terminal, with no server running.

The verbs and options are those of Elyra's ``elyra-metadata … runtime-images`` (a leading
``runtime-images`` argument is accepted), so the commands people already have keep working.
argparse is used rather than a traitlets ``Application`` because each verb needs its own
complete ``--help`` (Elyra's omits the schema options, bug B14) and positional arguments;
configuration still comes from the traitlets files the server reads
(``jupyter_server_config`` and ``jupyter_runtime_images_config`` on the Jupyter config path).

Each feature's verbs live in their module (:mod:`.images`, :mod:`.inspection`,
:mod:`.builds`, :mod:`.kernelspecs`), which imports what a verb needs only when it runs, so
a verb starts without the others' dependencies. Every failure is answered by the one error
table (:mod:`runtime_images.error_codes`): exit code 0 done; 1 refused (a rule broken, a
name taken or missing, checks failed); 2 could not be done (the command line, a registry,
a missing dependency).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import builds, images, inspection, kernelspecs, publish
from .common import CommandError, Handler

__all__ = ["build_parser", "main"]

SCHEMASPACE_ALIASES = ("runtime-images", "119c9740-d73f-48c6-a97a-599d3acaf41d")
EXIT_OK, EXIT_REFUSED, EXIT_NOT_DONE = 0, 1, 2  # runtime_images.error_codes' (not imported)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter runtime-images",
        description="Manage runtime images: configurations (Elyra-compatible), checks, builds.",
        epilog="Exit codes: 0 done; 1 refused or checks failed; 2 could not be done "
        "(command line, registry, missing dependency).",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    def verb(name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    for feature in (images, inspection, kernelspecs, builds, publish):
        feature.register(verb)
    return parser


def _strip_schemaspace(argv: list[str]) -> list[str]:
    """Drop Elyra's schemaspace argument, before or after the verb."""
    positions = [i for i, arg in enumerate(argv[:2]) if arg.lower() in SCHEMASPACE_ALIASES]
    return [arg for i, arg in enumerate(argv) if i not in positions]


def main(argv: Sequence[str] | None = None) -> int:
    # Imports nothing here uses, which cost a command more than its work: jsonschema's
    # rfc3987_syntax (about 1 s of grammar building, for the "iri" format no schema here
    # uses) and httpx's own command line (click and rich: 85 ms of a 140 ms import).
    for unused in ("rfc3987_syntax", "httpx._main"):
        sys.modules.setdefault(unused, None)  # type: ignore[arg-type]
    args = build_parser().parse_args(
        _strip_schemaspace(list(sys.argv[1:] if argv is None else argv))
    )
    try:
        status: int = args.handler(args)
    except BrokenPipeError:
        # The reader went away (`… | head`): what it wanted was written. Point stdout at
        # /dev/null so the interpreter's final flush does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except CommandError as error:
        return _fail(str(error), EXIT_REFUSED)
    except Exception as error:
        from ..error_codes import error_code

        answer = error_code(error)
        if answer is None:
            raise  # a bug: the traceback is what helps
        message = str(error) or answer.code
        if isinstance(error, OSError) and answer.code != "DiskFull":
            message = f"{error.strerror}: {error.filename}"
        lines = [f"  {e.path or '(document)'}: {e.message}" for e in answer.fields]
        if len(lines) == 1 and lines[0].endswith(message):
            lines = []
        return _fail("\n".join([message, *lines]), answer.exit_code)
    return status


def _fail(message: str, exit_code: int) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
