"""SBOMs of an inspection document: CycloneDX 1.6 JSON and SPDX 2.3 JSON.

The image (its reference and manifest digest, as a ``pkg:oci`` purl) is the described
subject; each package is one component with its purl, licences as declared, and where it
came from (layer, environment, database) as properties (CycloneDX) or a comment (SPDX).
The documents are written as plain dictionaries: both formats are small, and their
libraries (cyclonedx-python-lib, spdx-tools) are heavier than what is written here — the
tests validate every document with them against the formats' schemas.

SPDX licence expressions must use SPDX identifiers; what a package declares often is not
one (Debian's ``GPL-2+``), so each declared licence is a ``LicenseRef-`` with the declared
text as its extracted text, never a guessed identifier.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from packageurl import PackageURL

from ..errors import ValidationFailedError
from ..fields import FieldError
from ..reference import parse

__all__ = ["FORMATS", "UnknownFormat", "cyclonedx", "image_purl", "make_sbom", "spdx"]

FORMATS = {
    "cyclonedx-json": ("application/vnd.cyclonedx+json", "cdx.json"),
    "spdx-json": ("application/spdx+json", "spdx.json"),
}
"""SBOM format -> (media type, file name extension)."""

_TOOL = "jupyter-runtime-images"


def _tool_version() -> str:
    try:
        return version(_TOOL)
    except PackageNotFoundError:  # pragma: no cover - a checkout that is not installed
        return "0"


_SPDX_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


class UnknownFormat(ValidationFailedError):
    """An SBOM format that is not one of :data:`FORMATS` (the field ``format``)."""

    def __init__(self, message: str) -> None:
        super().__init__([FieldError("format", message)], message)


def image_purl(document: dict[str, Any]) -> str:
    """``pkg:oci/<name>@<digest>?repository_url=<registry>/<repository>`` of the image."""
    image = document["image"]
    ref = parse(image["reference"])
    qualifiers = {"repository_url": f"{ref.domain}/{ref.path}"}
    if image.get("platform"):
        qualifiers["arch"] = str(image["platform"]).split("/")[1]
    return PackageURL(
        type="oci", name=ref.path.rsplit("/", 1)[-1], version=image["digest"], qualifiers=qualifiers
    ).to_string()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _origin(package: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [
        ("ecosystem", package["ecosystem"]),
        ("environment", package["environment"]),
        ("database", package["database"]),
    ]
    if package.get("layer") is not None:
        pairs.append(("layer", str(package["layer"])))
    if package.get("installed_size") is not None:
        pairs.append(("installed_size", str(package["installed_size"])))
    if package.get("source"):
        pairs.append(("source", package["source"]))
    if package.get("architecture"):
        pairs.append(("architecture", package["architecture"]))
    return pairs


def cyclonedx(document: dict[str, Any]) -> dict[str, Any]:
    """A CycloneDX 1.6 BOM of the image."""
    image = document["image"]
    components = []
    for index, package in enumerate(document["packages"]):
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": f"package-{index}",
            "name": package["name"],
            "version": package["version"],
            "purl": package["purl"],
            "properties": [
                {"name": f"runtime-images:{key}", "value": value} for key, value in _origin(package)
            ],
        }
        if package["licenses"]:
            component["licenses"] = [{"license": {"name": name}} for name in package["licenses"]]
        components.append(component)
    subject = {
        "type": "container",
        "bom-ref": "image",
        "name": image["reference"],
        "version": image["digest"],
        "purl": image_purl(document),
        "hashes": [{"alg": "SHA-256", "content": image["digest"].partition(":")[2]}],
        "properties": [{"name": "runtime-images:platform", "value": image["platform"]}],
    }
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": _now(),
            "tools": {
                "components": [{"type": "application", "name": _TOOL, "version": _tool_version()}]
            },
            "component": subject,
        },
        "components": components,
        "dependencies": [
            {"ref": "image", "dependsOn": [c["bom-ref"] for c in components]},
            *({"ref": c["bom-ref"]} for c in components),
        ],
    }


def _license_ref(name: str, refs: dict[str, str]) -> str:
    found = refs.get(name)
    if found is None:
        slug = _SPDX_ID_UNSAFE.sub("-", name).strip("-")[:60] or "declared"
        found = f"LicenseRef-{len(refs)}-{slug}"
        refs[name] = found
    return found


def spdx(document: dict[str, Any]) -> dict[str, Any]:
    """An SPDX 2.3 document of the image."""
    image = document["image"]
    digest = image["digest"]
    refs: dict[str, str] = {}
    packages: list[dict[str, Any]] = [
        {
            "SPDXID": "SPDXRef-Image",
            "name": image["reference"],
            "versionInfo": digest,
            "downloadLocation": "NOASSERTION",
            "primaryPackagePurpose": "CONTAINER",
            "filesAnalyzed": False,
            "checksums": [{"algorithm": "SHA256", "checksumValue": digest.partition(":")[2]}],
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": image_purl(document),
                }
            ],
        }
    ]
    relationships = [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-Image",
        }
    ]
    for index, package in enumerate(document["packages"]):
        spdx_id = f"SPDXRef-Package-{index}"
        declared = " AND ".join(_license_ref(name, refs) for name in package["licenses"])
        packages.append(
            {
                "SPDXID": spdx_id,
                "name": package["name"],
                "versionInfo": package["version"],
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": declared or "NOASSERTION",
                "copyrightText": "NOASSERTION",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": package["purl"],
                    }
                ],
                "comment": "; ".join(f"{key}: {value}" for key, value in _origin(package)),
            }
        )
        relationships.append(
            {
                "spdxElementId": "SPDXRef-Image",
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": spdx_id,
            }
        )
    result: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": image["reference"],
        "documentNamespace": (
            f"https://jupyter.org/runtime-images/spdx/{digest.partition(':')[2]}/{uuid.uuid4()}"
        ),
        "creationInfo": {"created": _now(), "creators": [f"Tool: {_TOOL}-{_tool_version()}"]},
        "documentDescribes": ["SPDXRef-Image"],
        "packages": packages,
        "relationships": relationships,
    }
    if refs:
        result["hasExtractedLicensingInfos"] = [
            {"licenseId": ref, "extractedText": name, "name": name} for name, ref in refs.items()
        ]
    return result


def make_sbom(document: dict[str, Any], format: str) -> dict[str, Any]:
    """The SBOM of ``format`` (a key of :data:`FORMATS`)."""
    if format == "cyclonedx-json":
        return cyclonedx(document)
    if format == "spdx-json":
        return spdx(document)
    raise UnknownFormat(f"unknown SBOM format {format!r}; known: {', '.join(FORMATS)}")
