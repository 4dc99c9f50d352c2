"""``python -m runtime_images.cli``: the ``jupyter runtime-images`` command."""

import sys

from . import main

sys.exit(main())
