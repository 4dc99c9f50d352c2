"""The findings in the image's other documents: CycloneDX ``vulnerabilities`` for the SBOM,
and ``vulnerabilities: {fixed, introduced}`` for the diff of two images.

Both take inspection documents (:mod:`runtime_images.contents`) and answer None when no
database is configured, so the SBOM and the diff stay what they are without one. Blocking
(the index, the cache): call them in a thread.
"""

from __future__ import annotations

from typing import Any

from .database import VulnerabilityDatabase
from .errors import VulnerabilityDatabaseMissing
from .matcher import OSV_URL
from .scan import report_of_document

__all__ = ["cyclonedx_vulnerabilities", "diff_vulnerabilities", "sbom_with_vulnerabilities"]

_METHODS = {"CVSS:4.0": "CVSSv4", "CVSS:3.1": "CVSSv31", "CVSS:3.0": "CVSSv3"}
_SOURCE = {"name": "OSV", "url": "https://osv.dev"}


def _method(vector: str | None) -> str:
    if not vector:
        return "other"
    return _METHODS.get(vector.split("/", 1)[0], "CVSSv2")


def _package_key(package: dict[str, Any]) -> tuple[str, str, str, str]:
    return (package["ecosystem"], package["environment"], package["name"], package["version"])


def _finding_key(finding: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        finding["ecosystem"],
        finding["environment"],
        finding["package"],
        finding["installed_version"],
    )


def cyclonedx_vulnerabilities(
    document: dict[str, Any], report: dict[str, Any]
) -> list[dict[str, Any]]:
    """CycloneDX 1.6 ``vulnerabilities``: one per record, affecting the components (the
    ``package-N`` bom-refs of the SBOM, N the package's index in the document)."""
    refs = {_package_key(p): f"package-{n}" for n, p in enumerate(document.get("packages") or [])}
    by_id: dict[str, dict[str, Any]] = {}
    for finding in report["findings"]:
        ref = refs.get(_finding_key(finding))
        entry = by_id.get(finding["id"])
        if entry is None:
            severity = finding["severity"]
            rating: dict[str, Any] = {
                "source": _SOURCE,
                "severity": "unknown" if severity["level"] == "unknown" else severity["level"],
                "method": _method(finding.get("cvss_vector")),
            }
            if severity["score"] is not None:
                rating["score"] = severity["score"]
            if finding.get("cvss_vector"):
                rating["vector"] = finding["cvss_vector"]
            entry = {
                "bom-ref": f"vulnerability-{len(by_id)}",
                "id": finding["id"],
                "source": {**_SOURCE, "url": OSV_URL + finding["id"]},
                "references": [
                    {"id": alias, "source": {"name": "OSV", "url": OSV_URL + alias}}
                    for alias in finding["aliases"]
                ],
                "ratings": [rating],
                "description": finding["summary"],
                "affects": [],
            }
            by_id[finding["id"]] = entry
        if ref is not None:
            entry["affects"].append(
                {
                    "ref": ref,
                    "versions": [{"version": finding["installed_version"], "status": "affected"}],
                }
            )
        if finding["fixed_version"]:
            fix = f"Upgrade {finding['package']} to {finding['fixed_version']} or later."
            recommendation = entry.get("recommendation")
            if not recommendation:
                entry["recommendation"] = fix
            elif fix not in recommendation:
                entry["recommendation"] = f"{recommendation} {fix}"
    return list(by_id.values())


def _report(database: VulnerabilityDatabase, document: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return report_of_document(database, document)
    except VulnerabilityDatabaseMissing:
        return None


def sbom_with_vulnerabilities(
    database: VulnerabilityDatabase, document: dict[str, Any], bom: dict[str, Any]
) -> dict[str, Any]:
    """A CycloneDX BOM of ``document`` with its findings (the BOM as is when no database
    is configured, or when it is not CycloneDX)."""
    if bom.get("bomFormat") != "CycloneDX":
        return bom
    report = _report(database, document)
    if report is None:
        return bom
    return {**bom, "vulnerabilities": cyclonedx_vulnerabilities(document, report)}


def diff_vulnerabilities(
    database: VulnerabilityDatabase, a: dict[str, Any], b: dict[str, Any]
) -> dict[str, Any] | None:
    """``{fixed, introduced}``: the findings of image ``a`` that ``b`` no longer has and
    those ``b`` has that ``a`` had not (a finding is a record on a package in an
    environment); None without a database."""
    report_a, report_b = _report(database, a), _report(database, b)
    if report_a is None or report_b is None:
        return None

    def key(finding: dict[str, Any]) -> tuple[str, str, str, str]:
        return (finding["id"], finding["ecosystem"], finding["environment"], finding["package"])

    keys_a = {key(f) for f in report_a["findings"]}
    keys_b = {key(f) for f in report_b["findings"]}
    return {
        "fixed": [f for f in report_a["findings"] if key(f) not in keys_b],
        "introduced": [f for f in report_b["findings"] if key(f) not in keys_a],
    }
