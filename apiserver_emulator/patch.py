"""The three PATCH flavours of kube-apiserver, applied to plain JSON documents.

``rest.py`` picks one by Content-Type. Errors follow the real server: a malformed patch document is
400 BadRequest, a patch that cannot be applied (including a failing JSON-patch ``test``) is 422.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError, bad_request

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

# patchMergeKey of the lists the built-in types we serve declare with patchStrategy=merge.
# A value of None means "merge as a set of primitives".
_MERGE_KEYS = {"finalizers": None, "ownerReferences": "uid"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unprocessable(message: str) -> ApiError:
    return ApiError(422, message, "Invalid")


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _unprocessable(f"JSON pointer {path!r} does not start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    for part in parts:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise _unprocessable(f"doc is missing path: {path!r}")
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise _unprocessable("cannot remove the document root")
    parent, last = _walk(doc, parts[:-1], path), parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise _unprocessable(f"unable to remove nonexistent key {last!r}: missing value")


def _add(doc: Any, path: str, value: Any, replace: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _walk(doc, parts[:-1], path), parts[-1]
    if isinstance(parent, dict):
        parent[last] = value  # replacing a missing member adds it, as the real server's json-patch does
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise _unprocessable(f"index out of bounds in path {path!r}")
    else:
        raise _unprocessable(f"doc is missing path: {path!r}")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 (add, remove, replace, move, copy, test) on a copy of ``target``; an operation that
    does not apply is 422 with the real server's generic words (it drops the detail)."""
    try:
        return _json_patch(target, operations)
    except ApiError as error:
        if error.code != 422:
            raise
        raise ApiError(422, "the server rejected our request due to an error in our request", "Invalid",
                       details={}) from None


def _json_patch(target: Any, operations: Any) -> Any:
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise bad_request("error decoding patch: json: cannot unmarshal object into Go value of type "
                          "[]handlers.jsonPatchOp")
    doc = copy.deepcopy(target)
    for op in operations:
        kind, path = op.get("op"), op.get("path")
        if not isinstance(path, str):
            raise _unprocessable(f"operation {kind!r} is missing the 'path' member")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise _unprocessable(f"operation {kind!r} on {path!r} is missing the 'value' member")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]), replace=False)
        elif kind == "replace":
            doc = _add(doc, path, copy.deepcopy(op["value"]), replace=True)
        elif kind == "remove":
            _remove(doc, path)
        elif kind in ("move", "copy"):
            source = op.get("from", "")
            value = _remove(doc, source) if kind == "move" else copy.deepcopy(_walk(doc, _pointer(source), source))
            doc = _add(doc, path, value, replace=False)
        elif kind == "test":
            try:
                actual = _walk(doc, _pointer(path), path)
            except ApiError:
                actual = None
            if actual != op["value"]:
                raise _unprocessable(f"testing value {path} failed: test failed")
        else:
            raise _unprocessable(f"Unexpected kind: {kind}")
    return doc


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge for untyped documents: maps merge (null deletes, ``$patch: replace|delete``),
    ``finalizers`` merge as sets, ``ownerReferences`` by uid, other lists are replaced;
    ``$setElementOrder``/``$retainKeys`` directives are accepted and ignored,
    ``$deleteFromPrimitiveList/<key>`` removes values."""
    if not isinstance(patch, dict):
        raise bad_request("strategic merge patch must be a JSON object")
    return _smp_map(target if isinstance(target, dict) else {}, patch)


def _smp_map(target: dict, patch: dict) -> dict | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = dict(target)
    for key, value in patch.items():
        if key == "$patch" or key == "$retainKeys" or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name) or [] if v not in value]
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result.get(key) if isinstance(result.get(key), dict) else {}, value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and key in _MERGE_KEYS and isinstance(result.get(key), list):
            result[key] = _smp_list(result[key], value, _MERGE_KEYS[key])
        else:
            result[key] = copy.deepcopy(value)
    return result


def _smp_list(current: list, patch: list, merge_key: str | None) -> list:
    """Merge like the real server orders it: the patch's items first (in patch order), then the
    items only the server had (in their order)."""
    if merge_key is None:
        return list(dict.fromkeys(patch)) + [v for v in current if v not in patch]
    existing = {c.get(merge_key): c for c in current}
    patched, keys = [], set()
    for item in patch:
        key = item.get(merge_key)
        keys.add(key)
        if item.get("$patch") != "delete":
            patched.append(_smp_map(existing[key], item) if key in existing else copy.deepcopy(item))
    return patched + [c for c in current if c.get(merge_key) not in keys]
