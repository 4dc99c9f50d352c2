"""Run pip so that it can only install wheels: it refuses to build anything.

``--only-binary=:all:`` keeps pip from choosing source distributions on an index, but not
from building a direct reference (``name @ file:///…``, a ``git+`` URL, a local directory),
whether it is given on the command line or is the dependency of a wheel: a wheel whose
``Requires-Dist`` names a local directory makes pip run that directory's ``setup.py`` on
the host. pip has no option that refuses every build, so this runs pip's own entry point
with the one step that starts a build backend — preparing a source distribution's
metadata — replaced by a refusal carrying :data:`MARKER`, which the embedded engine turns
into the reason ``RequiresBuild``. When this pip does not have that step where expected,
pip is not run at all (fail closed).

Usage: ``python -m runtime_images.builds.pip_wheels_only install …`` (pip's arguments).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

MARKER = "runtime-images: requires a build:"
NOT_SUPPORTED = 3


def main(argv: list[str]) -> int:
    try:
        sdist = importlib.import_module("pip._internal.distributions.sdist")
        exceptions = importlib.import_module("pip._internal.exceptions")
        pip_main = importlib.import_module("pip._internal.cli.main").main
        source_distribution = sdist.SourceDistribution
        getattr(source_distribution, "prepare_distribution_metadata")  # noqa: B009
    except (ImportError, AttributeError) as error:
        print(
            f"{MARKER} this version of pip cannot be told to refuse builds ({error}); "
            "install a pip this product supports",
            file=sys.stderr,
        )
        return NOT_SUPPORTED

    def refuse(self: Any, *args: Any, **kwargs: Any) -> None:
        raise exceptions.InstallationError(f"{MARKER} {self.req}")

    source_distribution.prepare_distribution_metadata = refuse
    return int(pip_main(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
