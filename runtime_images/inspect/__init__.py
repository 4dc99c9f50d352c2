"""Static image inspection: a merged filesystem view streamed from the registry, a report
of the software in it, and requirement profiles (elyra, kubeflow, odh-notebook,
gateway-kernel) — no container runtime, nothing extracted to disk.
"""

from __future__ import annotations

from .accelerators import Accelerator, detect_accelerators
from .errors import InvalidLayer, LimitExceeded, UnsupportedLayer
from .filesystem import FileSystem, Limits, Node
from .inspector import (
    ALL_PLATFORMS,
    ImageInspector,
    PlatformValidation,
    Progress,
    Validation,
    image_platforms,
    inspect_image,
    inspect_resolved,
)
from .profiles import (
    DOCUMENT_PROFILES,
    PROFILES,
    CheckResult,
    UnknownProfile,
    check_profile_names,
    known_profiles,
    run_profiles,
)
from .report import (
    Distribution,
    ImageConfigSummary,
    ImageReport,
    ImageView,
    OsInfo,
    PythonInstall,
    User,
)

__all__ = [
    "ALL_PLATFORMS",
    "DOCUMENT_PROFILES",
    "PROFILES",
    "Accelerator",
    "CheckResult",
    "Distribution",
    "FileSystem",
    "ImageConfigSummary",
    "ImageInspector",
    "ImageReport",
    "ImageView",
    "InvalidLayer",
    "LimitExceeded",
    "Limits",
    "Node",
    "OsInfo",
    "PlatformValidation",
    "Progress",
    "PythonInstall",
    "UnknownProfile",
    "UnsupportedLayer",
    "User",
    "Validation",
    "check_profile_names",
    "detect_accelerators",
    "image_platforms",
    "inspect_image",
    "inspect_resolved",
    "known_profiles",
    "run_profiles",
]
