"""The RFC 6902 JSON Patch that turns one JSON document into another.

Pure; called by `admission.shoots` (Shoot mutations) and `webhooks.edits` (shoot objects) to answer an
AdmissionReview. Maps are diffed key by key (add / remove / replace), lists and scalars are replaced
whole, which is what controller-runtime's `PatchResponseFromRaw` amounts to for our small edits.
"""

from __future__ import annotations

from typing import Any


def _pointer(parts: list[str]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def diff(old: Any, new: Any, _parts: list[str] | None = None) -> list[dict]:
    parts = _parts or []
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[dict] = []
        for key in old:
            if key not in new:
                ops.append({"op": "remove", "path": _pointer([*parts, key])})
        for key, value in new.items():
            if key not in old:
                ops.append({"op": "add", "path": _pointer([*parts, key]), "value": value})
            else:
                ops.extend(diff(old[key], value, [*parts, key]))
        return ops
    if _same(old, new):
        return []
    return [{"op": "replace", "path": _pointer(parts), "value": new}]
