"""A problem with one field of a document: the dotted path and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FieldError"]


@dataclass(frozen=True)
class FieldError:
    """One validation problem: the dotted path of the field and what is wrong with it."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def __getitem__(self, key: str) -> str:
        """``error["path"]``, ``error["message"]``: as in the JSON answers, for code that
        reads the client's errors like the REST API's."""
        if key not in ("path", "message"):
            raise KeyError(key)
        return str(getattr(self, key))
