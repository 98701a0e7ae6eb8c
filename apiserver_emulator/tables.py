"""Server-side printing: ``meta.k8s.io/v1`` Tables as requested by ``kubectl get``.

``resources.py`` declares the columns of each resource (built-in printers and the
``additionalPrinterColumns`` of CRDs); ``app.py`` renders lists, single objects and watch events
with :func:`table` when the client sends ``Accept: application/json;as=Table;...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

_NAME_DESCRIPTION = ("Name must be unique within a namespace. Is required when creating resources, "
                     "although some resources may allow a client to request the generation of an "
                     "appropriate name automatically.")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    value: Callable[[dict], Any]
    format: str = ""
    description: str = ""
    priority: int = 0

    def definition(self) -> dict:
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": self.description, "priority": self.priority}


def human_age(timestamp: str | None, now: datetime | None = None) -> str:
    """``duration.HumanDuration`` of kubectl: 45s, 3m20s, 15m, 5h10m, 30h, 3d4h, 12d."""
    if not timestamp:
        return "<unknown>"
    then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - then).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


NAME = Column("Name", "string", lambda o: o["metadata"]["name"], "name", _NAME_DESCRIPTION)
AGE = Column("Age", "string", lambda o: human_age(o["metadata"].get("creationTimestamp")), "",
             "CreationTimestamp is a timestamp representing the server time when this object was created.")

_STEP = re.compile(r"""\.([A-Za-z0-9_\-$]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.\-]+)\s*==\s*(?:"([^"]*)"|'([^']*)')\)\]""")


def compile_jsonpath(path: str) -> Callable[[dict], list]:
    """Compile the JSONPath subset used by printer columns: ``.a.b[0].c``, ``[*]``, ``[?(@.k=="v")]``."""
    steps, pos = [], 0
    text = path.strip().removeprefix("{").removesuffix("}").removeprefix("$")
    while pos < len(text):
        match = _STEP.match(text, pos)
        if not match:
            raise ValueError(f"unsupported JSONPath {path!r} at offset {pos}")
        steps.append(match.groups())
        pos = match.end()

    def evaluate(obj: dict) -> list:
        current = [obj]
        for field, index, filter_key, dq, sq in steps:
            found = []
            for value in current:
                if field is not None and isinstance(value, dict) and field in value:
                    found.append(value[field])
                elif index == "*" and isinstance(value, list):
                    found.extend(value)
                elif index is not None and index != "*" and isinstance(value, list) and int(index) < len(value):
                    found.append(value[int(index)])
                elif filter_key is not None and isinstance(value, list):
                    wanted = dq if dq is not None else sq
                    found.extend(item for item in value if _dig(item, filter_key) == wanted)
            current = found
        return current

    return evaluate


def _dig(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def printer_column(spec: dict) -> Column:
    """A Column from one CRD ``additionalPrinterColumns`` entry (date cells rendered as ages)."""
    evaluate = compile_jsonpath(spec["jsonPath"])
    kind = spec.get("type", "string")

    def value(obj: dict) -> Any:
        results = evaluate(obj)
        if not results or results[0] is None:
            return None
        return human_age(results[0]) if kind == "date" else results[0]

    return Column(spec["name"], kind, value, spec.get("format", ""), spec.get("description", ""),
                  spec.get("priority", 0))


def row_object(obj: dict, include: str) -> dict | None:
    """``includeObject``: Object (whole object), Metadata (default) or None."""
    if include == "Object":
        return obj
    if include == "None":
        return None
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def table(columns: tuple[Column, ...], objects: list[dict], list_meta: dict, include: str = "Metadata",
          with_definitions: bool = True) -> dict:
    rows = []
    for obj in objects:
        row = {"cells": [column.value(obj) for column in columns]}
        embedded = row_object(obj, include)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [c.definition() for c in columns] if with_definitions else None,
        "rows": rows,
    }
