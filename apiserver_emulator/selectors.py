"""Label and field selectors (the ``labelSelector`` / ``fieldSelector`` query parameters).

``app.py`` parses them once per list/watch request; ``rest.py`` filters lists and watch events.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from .errors import bad_request

Predicate = Callable[[dict], bool]

_REQUIREMENT = re.compile(
    r"""^\s*(?:
        (?P<not>!)\s*(?P<absent>[\w./-]+)
      | (?P<setkey>[\w./-]+)\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\)
      | (?P<key>[\w./-]+)\s*(?P<op>==|!=|=|>|<)\s*(?P<value>[\w.-]*)
      | (?P<exists>[\w./-]+)
    )\s*$""",
    re.VERBOSE,
)


def _split(selector: str) -> list[str]:
    """Split on commas that are not inside ``(...)`` of set-based requirements."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _label_requirement(text: str) -> Callable[[dict], bool]:
    match = _REQUIREMENT.match(text)
    if not match:
        raise bad_request(f"unable to parse requirement: {text!r}")
    g = match.groupdict()
    if g["absent"]:
        return lambda labels: g["absent"] not in labels
    if g["exists"]:
        return lambda labels: g["exists"] in labels
    if g["setkey"]:
        key, values = g["setkey"], {v.strip() for v in g["values"].split(",") if v.strip()}
        if g["setop"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    key, op, value = g["key"], g["op"], g["value"]
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if op == "!=":
        return lambda labels: labels.get(key) != value
    try:
        bound = int(value)
    except ValueError:
        raise bad_request(f"unable to parse requirement: {text!r}: for 'gt', 'lt' operators, "
                          "exactly one value is required and it must be an integer") from None
    greater = op == ">"

    def compare(labels: dict) -> bool:
        try:
            actual = int(labels[key])
        except (KeyError, ValueError):
            return False
        return actual > bound if greater else actual < bound

    return compare


def label_selector(selector: str | None) -> Predicate:
    if not selector:
        return lambda obj: True
    requirements = [_label_requirement(part) for part in _split(selector)]
    return lambda obj: all(r(obj["metadata"].get("labels") or {}) for r in requirements)


def _field_value(obj: dict, path: str) -> str:
    value = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_selector(selector: str | None, supported: Iterable[str] | None = None) -> Predicate:
    """``metadata.name=x,metadata.namespace!=y`` over dotted paths of the object; only the field labels
    the resource supports (``None``: the metav1 default, metadata.name and metadata.namespace), 400
    BadRequest otherwise with the real server's words."""
    if not selector:
        return lambda obj: True
    terms = []
    for part in _split(selector):
        match = re.match(r"^\s*([\w.-]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not match:
            raise bad_request(f"invalid field selector: {part!r}")
        label = match.group(1)
        if supported is None and label not in ("metadata.name", "metadata.namespace"):
            raise bad_request(f'"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"')
        if supported is not None and label not in supported:
            raise bad_request(f"field label not supported: {label}")
        terms.append((match.group(1), match.group(2) == "!=", match.group(3)))
    return lambda obj: all((_field_value(obj, path) == value) != negate for path, negate, value in terms)
