"""Two inspection documents side by side: packages, config, sizes and checks (``diff``),
and one document's layers (``layers``).

Packages are matched by ecosystem, environment, canonical name and architecture, so a
package moved to another environment is one removal and one addition, and the same name
in two environments never hides a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..inspect.report import canonical_name

__all__ = ["diff_documents", "layers_document"]

_CONFIG_FIELDS = ("user", "entrypoint", "cmd", "working_dir", "exposed_ports")
_KEYED_FIELDS = ("env", "labels")


def _key(package: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        package["ecosystem"],
        package["environment"],
        canonical_name(package["name"]),
        package.get("architecture") or "",
    )


def _packages(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, Any]:
    in_a = {_key(p): p for p in a}
    in_b = {_key(p): p for p in b}
    changed = []
    for key in sorted(in_a.keys() & in_b.keys()):
        old, new = in_a[key], in_b[key]
        if old["version"] != new["version"]:
            changed.append(
                {
                    "ecosystem": key[0],
                    "environment": key[1],
                    "name": new["name"],
                    "architecture": new.get("architecture"),
                    "a": old["version"],
                    "b": new["version"],
                }
            )
    return {
        "added": [in_b[key] for key in sorted(in_b.keys() - in_a.keys())],
        "removed": [in_a[key] for key in sorted(in_a.keys() - in_b.keys())],
        "changed": changed,
    }


def _config(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for field in _CONFIG_FIELDS:
        if a.get(field) != b.get(field):
            changes.append({"field": field, "a": a.get(field), "b": b.get(field)})
    for field in _KEYED_FIELDS:
        old, new = a.get(field) or {}, b.get(field) or {}
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                changes.append({"field": f"{field}.{key}", "a": old.get(key), "b": new.get(key)})
    return changes


def _layers(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    index_a = {layer["digest"]: layer for layer in a["layer_details"]}
    index_b = {layer["digest"]: layer for layer in b["layer_details"]}
    rows = []
    for digest in dict.fromkeys([*index_a, *index_b]):
        left, right = index_a.get(digest), index_b.get(digest)
        layer = left or right
        assert layer is not None
        rows.append(
            {
                "digest": digest,
                "a": left["index"] if left else None,
                "b": right["index"] if right else None,
                "size": layer["compressed_size"],
                "uncompressed_size": layer.get("uncompressed_size"),
                "shared": left is not None and right is not None,
            }
        )
    return rows


def diff_documents(a: dict[str, Any], b: dict[str, Any], profiles: Iterable[str]) -> dict[str, Any]:
    """What changed from image ``a`` to image ``b``; ``checks`` of the named profiles."""
    checks = []
    for profile in profiles:
        checks.append(
            {
                "profile": profile,
                "a": [c for c in a["checks"] if c["profile"] == profile],
                "b": [c for c in b["checks"] if c["profile"] == profile],
            }
        )
    return {
        "a": a["image"],
        "b": b["image"],
        "packages": _packages(a["packages"], b["packages"]),
        "config": _config(a["config"], b["config"]),
        "size": {"a": a["size"], "b": b["size"], "layers": _layers(a, b)},
        "checks": checks,
    }


def layers_document(document: dict[str, Any]) -> dict[str, Any]:
    """The ``layers`` answer: each layer's statistics and the totals."""
    layers = document["layer_details"]
    return {
        "image": document["image"],
        "layers": layers,
        "total": {
            "compressed": document["size"]["compressed"],
            "uncompressed": document["size"]["uncompressed"],
            "wasted_bytes": sum(layer.get("wasted_bytes", 0) for layer in layers),
        },
    }
