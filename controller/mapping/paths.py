"""Dotted paths into the nested dicts the engine works on (`shoot.spec.networking.nodes`).

Used by `engine` (reading inputs, writing `values.*`/`vars.*`) and `loader` (checking roots).
"""

from __future__ import annotations

from typing import Any

MISSING = object()


def split(path: str) -> list[str]:
    return path.split(".")


def get(tree: dict, path: str, default: Any = MISSING) -> Any:
    """Value at `path`, or `default` (MISSING) when any step is absent or not a dict."""
    node: Any = tree
    for part in split(path):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def put(tree: dict, path: str, value: Any) -> None:
    """Set `path`, creating intermediate dicts (replacing non-dict intermediates)."""
    parts = split(path)
    node = tree
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value
