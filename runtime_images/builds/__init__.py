"""CustomNBImage builds: imports of existing images, and builds from a package list or a
git repository, run by engines under one controller.

Where each thing lives:

- :mod:`.model` — the resource (validation, aliases) and its status (phase, conditions);
- :mod:`.store` — resources and logs on disk; :mod:`.claims` — which process runs a build;
- :mod:`.controller` — runs builds (``Pending → Building → Ready | Failed``), saves and
  emits every state change; :mod:`.engine` — the contract between it and the engines;
- :mod:`.outcome` — how any engine ends a build: checks recorded, failures explained, the
  image copied, the runtime image configured;
- the engines: :mod:`.embedded` (:mod:`.importer` for imports, :mod:`.layer_append` with
  :mod:`.base_image`, :mod:`.image_config`, :mod:`.layers`, :mod:`.packages` and
  :mod:`.repository` for builds, in the local OCI layout of :mod:`.oci`), :mod:`.buildah`,
  and :mod:`.kubernetes`; their settings in :mod:`.settings`;
- :mod:`.wiring` — makes a controller and its engines from configuration.
"""

from __future__ import annotations

from .controller import BuildController
from .wiring import builds_directory, make_build_controller

__all__ = ["BuildController", "builds_directory", "make_build_controller"]
