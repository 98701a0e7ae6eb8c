"""Structural schemas of CRD versions: pruning, defaulting and validation of custom objects.

``resources.py`` builds one :class:`StructuralSchema` per served CRD version; ``rest.py`` calls
:meth:`StructuralSchema.admit` on every create/update of a custom object, in the order of the real
server: prune unknown fields, apply defaults, validate.
"""

from __future__ import annotations

import copy
import json
import re

import jsonschema

from .errors import ApiError, invalid

# Keywords that mean the same in OpenAPI v3 structural schemas and JSON Schema draft 4.
_PASSTHROUGH = ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
                "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems",
                "minProperties", "maxProperties")
_ALWAYS_KEPT = ("apiVersion", "kind", "metadata")


def to_json_schema(schema: dict) -> dict:
    """Translate the structural subset; ``format``, descriptions and CEL rules are not enforced."""
    out: dict = {}
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    elif kind:
        out["type"] = [kind, "null"] if schema.get("nullable") else kind
    if "enum" in schema:
        out["enum"] = list(schema["enum"]) + ([None] if schema.get("nullable") else [])
    for key in _PASSTHROUGH:
        if key in schema:
            out[key] = schema[key]
    if "properties" in schema:
        out["properties"] = {k: to_json_schema(v) for k, v in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        out["items"] = to_json_schema(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(schema["additionalProperties"])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            out[key] = [to_json_schema(s) for s in schema[key]]
    if "not" in schema:
        out["not"] = to_json_schema(schema["not"])
    return out


def _field(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _cause(error: jsonschema.ValidationError, status_only: bool = False) -> dict:
    where = _field(error.absolute_path)
    # writes to /status are validated against the status schema: messages name paths below it
    named = where.removeprefix("status.") if status_only else where
    if error.validator == "required":
        missing = re.match(r"'(.*)' is a required property", error.message)
        name = missing.group(1) if missing else "?"
        return {"reason": "FieldValueRequired", "message": "Required value",
                "field": f"{where}.{name}" if where else name}
    if error.validator == "enum":
        allowed = ", ".join(f'"{v}"' for v in error.validator_value)
        return {"reason": "FieldValueNotSupported",
                "message": f'Unsupported value: "{error.instance}": supported values: {allowed}', "field": where}
    if error.validator == "type":
        actual = _json_type(error.instance)
        expected = error.validator_value[0] if isinstance(error.validator_value, list) else error.validator_value
        return {"reason": "FieldValueTypeInvalid",
                "message": f'Invalid value: "{actual}": {named} in body must be of type {expected}: "{actual}"',
                "field": where}
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {error.message}", "field": where}


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def _order(error: jsonschema.ValidationError) -> list:
    """kube-openapi's order: an object's properties (depth first) before its missing required fields."""
    key = [(0, f"{p:08}" if isinstance(p, int) else p) for p in error.absolute_path]
    if error.validator == "required":
        missing = re.match(r"'(.*)' is a required property", error.message)
        required = list(error.validator_value)
        key.append((1, required.index(missing.group(1)) if missing and missing.group(1) in required else 0))
    return key


_BLOCKING = ("FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany",
             "FieldValueTypeInvalid")
_CEL_NOT_CHECKED = {"reason": "FieldValueInvalid", "field": "<nil>",
                    "message": "Invalid value: null: some validation rules were not checked because the object was "
                               "invalid; correct the existing errors to complete validation"}


class StructuralSchema:
    """The openAPIV3Schema of one CRD version, compiled once."""

    def __init__(self, openapi: dict):
        self.openapi = openapi
        self.has_rules = "x-kubernetes-validations" in json.dumps(openapi)
        """CEL rules are not evaluated, but their presence changes the answer to invalid objects."""
        translated = to_json_schema(openapi)
        translated.setdefault("properties", {})["metadata"] = {"type": "object"}
        self._validator = jsonschema.Draft4Validator(translated)

    def not_checked(self) -> list[dict]:
        """The cause the real server adds when blocking errors keep it from evaluating CEL rules."""
        return [dict(_CEL_NOT_CHECKED)] if self.has_rules else []

    def admit(self, obj: dict, kind: str, group: str, strict: bool = False, status_only: bool = False) -> None:
        """Prune and default ``obj`` in place, then validate it (422 Invalid with causes)."""
        pruned: list[str] = []
        for key in list(obj):
            if key in _ALWAYS_KEPT:
                continue
            properties = self.openapi.get("properties", {})
            if key in properties:
                obj[key] = _prune(obj[key], properties[key], key, pruned)
            elif not self.openapi.get("x-kubernetes-preserve-unknown-fields"):
                pruned.append(key)
                del obj[key]
        _apply_defaults_at(obj, self.openapi)
        if strict and pruned:
            version = str(obj.get("apiVersion", "")).rpartition("/")[2]
            raise ApiError(400, f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding '
                                "error: " + ", ".join(f'unknown field "{p}"' for p in sorted(pruned)))
        causes = [_cause(e, status_only) for e in sorted(self._validator.iter_errors(obj), key=_order)]
        if self.has_rules and any(c["reason"] in _BLOCKING for c in causes):
            causes.append(dict(_CEL_NOT_CHECKED))
        if causes:
            raise invalid(kind, group, obj.get("metadata", {}).get("name", ""), causes)


def _apply_defaults_at(obj: dict, schema: dict) -> None:
    for key, sub in schema.get("properties", {}).items():
        if key not in obj and "default" in sub and key not in _ALWAYS_KEPT:
            obj[key] = copy.deepcopy(sub["default"])


def _prune(value, schema: dict, path: str, pruned: list[str]):
    """Drop fields the schema does not declare (unless preserve-unknown-fields); apply defaults."""
    if isinstance(value, dict):
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        embedded = schema.get("x-kubernetes-embedded-resource", False)
        for key in list(value):
            if key in properties:
                value[key] = _prune(value[key], properties[key], f"{path}.{key}", pruned)
            elif isinstance(extra, dict):
                value[key] = _prune(value[key], extra, f"{path}.{key}", pruned)
            elif not (preserve or extra is True or (embedded and key in _ALWAYS_KEPT)):
                pruned.append(f"{path}.{key}")
                del value[key]
        _apply_defaults_at(value, schema)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        value = [_prune(item, schema["items"], f"{path}[{i}]", pruned) for i, item in enumerate(value)]
    return value
