"""Declarative mutations of shoot objects: the `shootWebhook.mutations` of a mapping file.

Pure; called by the `/shoot` handler of the controller's webhook server. A mutation names a kind and a
name prefix; its edits work on dotted paths whose list steps may select items by name
(`spec.template.spec.containers[name=node-cache].args`). Edits (one per entry, see
values-mapping/README.md): `remove`, `regexReplace` (Python `re.sub` syntax), `removePrefixes` +
`append` on string lists, `replaceItemsContaining`. A path that does not exist is left alone.
Objects being deleted are never changed.
"""

from __future__ import annotations

import copy
import re
from typing import Iterator

_STEP = re.compile(r"^(?P<key>[^\[\]]+)(\[name=(?P<name>[^\]]+)\])?$")


def _parents(node, steps: list[str], create: bool = False) -> Iterator[dict]:
    """The maps holding the last step of the path (several when a list step matches several items)."""
    if not steps:
        yield node
        return
    match = _STEP.match(steps[0])
    if not match or not isinstance(node, dict):
        return
    key, name = match.group("key"), match.group("name")
    if key not in node and create and name is None:
        node[key] = {}
    child = node.get(key)
    if name is None:
        yield from _parents(child, steps[1:], create)
    elif isinstance(child, list):
        for item in child:
            if isinstance(item, dict) and item.get("name") == name:
                yield from _parents(item, steps[1:], create)


def apply_edit(obj: dict, edit: dict) -> None:
    *steps, last = edit["path"].split(".")
    replace = edit.get("regexReplace")
    for parent in list(_parents(obj, steps, create=bool(replace and "default" in replace))):
        if not isinstance(parent, dict):
            continue
        if edit.get("remove"):
            parent.pop(last, None)
        elif replace:
            value = parent.get(last, replace.get("default"))
            if isinstance(value, str):
                parent[last] = re.sub(replace["pattern"], replace["replacement"], value)
        elif "removePrefixes" in edit or "append" in edit:
            items = parent.get(last) or []
            if isinstance(items, list):
                prefixes = tuple(edit.get("removePrefixes", ()))
                kept = [i for i in items if not (isinstance(i, str) and prefixes and i.startswith(prefixes))]
                parent[last] = kept + list(edit.get("append", ()))
        elif "replaceItemsContaining" in edit:
            items, rule = parent.get(last), edit["replaceItemsContaining"]
            if isinstance(items, list):
                parent[last] = [rule["with"] if isinstance(i, str) and rule["substring"] in i else i for i in items]


def mutate(mutations: list[dict], obj: dict) -> dict:
    """The object after every mutation whose kind and name prefix match it."""
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return obj
    result = copy.deepcopy(obj)
    for mutation in mutations:
        if obj.get("kind") == mutation["kind"] and str(meta.get("name", "")).startswith(mutation["namePrefix"]):
            for edit in mutation["edits"]:
                apply_edit(result, edit)
    return result
