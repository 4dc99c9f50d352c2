"""The vulnerability feature's errors, answered by the one error table
(:mod:`runtime_images.error_codes`) through their base classes and ``code``."""

from __future__ import annotations

from ..errors import ConflictError, UpstreamError

__all__ = ["VulnerabilityDatabaseMissing", "VulnerabilityDatabaseUnavailable"]


class VulnerabilityDatabaseMissing(ConflictError):
    """No vulnerability database is configured or it holds no records (a 409, exit 1):
    the message says how to get one."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"No vulnerability database at {path}. Run 'jupyter runtime-images vulns "
            "--update-db' on a machine that reaches osv.dev's bucket, or copy OSV records "
            "(*.json) or per-ecosystem all.zip archives there "
            "(c.VulnerabilityDatabase.path names another directory).",
            code="VulnerabilityDatabaseMissing",
        )


class VulnerabilityDatabaseUnavailable(UpstreamError):
    """The database could not be downloaded (offline, refused, corrupt): nothing changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="VulnerabilityDatabaseUnavailable")
