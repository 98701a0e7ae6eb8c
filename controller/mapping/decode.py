"""Strict decoding of `spec.providerConfig` against the mapping file's `NetworkConfig` schema.

Called by `pipeline` before any rule runs. Mirrors the Go extensions' strict codec: wrong
apiVersion/kind and unknown fields are errors; every problem becomes a `FieldError` with a
Kubernetes-style path below `spec.providerConfig`, all of them reported at once.
"""

from __future__ import annotations

import jsonschema

from controller.errors import ConfigurationError, FieldError
from controller.mapping.formats import CHECKER, PRINTABLE_ASCII

PROVIDER_CONFIG_PATH = "spec.providerConfig"


def field_path(base: str, parts) -> str:
    path = base
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _field_errors(error: jsonschema.ValidationError, base: str) -> list[FieldError]:
    path = field_path(base, error.absolute_path)
    if "propertyNames" in error.schema_path:  # the failing thing is a key of the object: name it
        path = field_path(base, [*error.absolute_path, error.instance])
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    kind = error.validator
    if kind == "additionalProperties":
        allowed = set((error.schema.get("properties") or {}).keys())
        return [FieldError(field_path(base, [*error.absolute_path, extra]), "UnknownField",
                           "not declared in the schema")
                for extra in sorted(set(error.instance) - allowed)]
    if kind in ("enum", "const"):
        options = error.validator_value if kind == "enum" else [error.validator_value]
        supported = ", ".join(f'"{o}"' if isinstance(o, str) else str(o) for o in options)
        return [FieldError(path, "NotSupported", custom or f"supported values: {supported}", error.instance)]
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return [FieldError(field_path(base, [*error.absolute_path, missing]), "Required", custom or "")]
    if kind == "type":
        return [FieldError(path, "Invalid", custom or f"must be of type {error.validator_value}", error.instance)]
    if kind == "format":
        detail = str(error.cause) if error.cause else f"must be a valid {error.validator_value}"
        return [FieldError(path, "Invalid", custom or detail, error.instance)]
    if kind in ("minimum", "exclusiveMinimum"):
        return [FieldError(path, "Invalid", custom or f"must be greater than or equal to {error.validator_value}",
                           error.instance)]
    if kind in ("maximum", "exclusiveMaximum"):
        return [FieldError(path, "Invalid", custom or f"must be less than or equal to {error.validator_value}",
                           error.instance)]
    return [FieldError(path, "Invalid", custom or error.message, error.instance)]


def _leaf_errors(error: jsonschema.ValidationError):
    """Descend into combinators (anyOf/allOf/if-then) so the field error names the real field."""
    if error.context and error.validator in ("allOf", "anyOf", "oneOf"):
        for sub in error.context:
            yield from _leaf_errors(sub)
    else:
        yield error


def decode_provider_config(network: dict, api_version: str, kind: str, schema: dict,
                           type_meta_required: bool) -> dict:
    """The providerConfig without apiVersion/kind, validated; `{}` when the Network has none."""
    raw = (network.get("spec") or {}).get("providerConfig")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigurationError(FieldError(PROVIDER_CONFIG_PATH, "Invalid", "must be an object", raw))
    errors = []
    for key, expected in (("apiVersion", api_version), ("kind", kind)):
        got = raw.get(key)
        if got is None and not type_meta_required:
            continue
        if got != expected:
            errors.append(FieldError(f"{PROVIDER_CONFIG_PATH}.{key}", "NotSupported" if got else "Required",
                                     f'supported values: "{expected}"', got) if got else
                          FieldError(f"{PROVIDER_CONFIG_PATH}.{key}", "Required", f'must be "{expected}"'))
    config = _drop_nulls({k: v for k, v in raw.items() if k not in ("apiVersion", "kind")})
    validator = jsonschema.Draft202012Validator(schema, format_checker=CHECKER)
    schema_errors = [field_error for error in validator.iter_errors(config) for leaf in _leaf_errors(error)
                     for field_error in _field_errors(leaf, PROVIDER_CONFIG_PATH)]
    # A string the schema already refuses keeps that (more precise) error only.
    schema_errors += [e for e in unprintable_strings(config, PROVIDER_CONFIG_PATH)
                      if e.path not in {s.path for s in schema_errors}]
    errors.extend(sorted(schema_errors, key=lambda e: e.path))
    if errors:
        raise ConfigurationError(_dedupe(errors))
    return config


def unprintable_strings(value, base: str) -> list[FieldError]:
    """A field error for every string (value or key) that is not printable ASCII: such a string could
    end a YAML line or a JSON string in a rendered manifest, or fail in helm without a field path."""
    errors, stack = [], [(base, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                child_path = field_path(path, [key])
                if isinstance(key, str) and not PRINTABLE_ASCII.match(key):
                    errors.append(FieldError(child_path, "Invalid", "field names must be printable ASCII"))
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((field_path(path, [index]), child) for index, child in enumerate(item))
        elif isinstance(item, str) and not PRINTABLE_ASCII.match(item):
            errors.append(FieldError(path, "Invalid", "must contain only printable ASCII characters", item))
    return errors


def _drop_nulls(value):
    """JSON null in a providerConfig means "not set", as for Go pointer fields."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _dedupe(errors: list[FieldError]) -> list[FieldError]:
    seen, result = set(), []
    for error in errors:
        if str(error) not in seen:
            seen.add(str(error))
            result.append(error)
    return result
