"""Hypothesis strategies for the hardening tests: documents generated from a mapping file's
providerConfig JSON Schema (mostly valid, with the formats' good and bad values), and type confusion
(any node of a document replaced by a value of another type, a huge integer, deep nesting, hostile
text). hypothesis-jsonschema would be the library for the first part, but its 0.23 release does not
run with current hypothesis, so the few schema keywords the mapping files use are read here.
"""

from __future__ import annotations

import copy

from hypothesis import strategies as st

# Values of every named format the mapping files use: good ones and near misses.
FORMAT_SAMPLES = {
    "cidr": ["10.0.0.0/8", "fd00::/64", "10.0.0.0", "fe80::%eth0/64", "10.0.0.0/33"],
    "cidr-or-usepodcidr": ["usePodCIDR", "usepodcidr", "192.168.0.0/16", "fe80::%\u0085/64", "x/8"],
    "calico-ip-autodetection-method": ["first-found", "interface=eth.*", "cidr=10.0.0.0/8", "can-reach=8.8.8.8",
                                       "skip-interface=[", "can-reach=", "kubernetes-internal-ip=x"],
    "non-negative-int-string": ["1440", "0", "-1", "99999999999999999999", "9223372036854775807", "1e3"],
    "positive-quantity": ["100m", "128Mi", "0", "1e1000000", "0.5", "-1", "1Xi"],
    "ip-or-dns1123-subdomain": ["10.0.0.1", "api.example.com", "Bad_Host", "fe80::1%eth0", "a" * 300],
    "linux-device": ["eth0", "bond0.100", "a" * 16, "eth/0", "eth 0", ""],
    "go-duration": ["15s", "1m30s", "300ms", "0", "15", "1d"],
}
HOSTILE = ["\u0085", "\u2028", "\u2029", "\r", "\n", "\v", "\f", "\x00", "\n---\n", "{{ .Values }}", '"', "'",
           "\U0001F600", "\ud800"]


def text() -> st.SearchStrategy:
    return st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE),
                     st.builds(lambda a, b: a + b, st.sampled_from(["eth0", "10.0.0.0/8", "Always"]),
                               st.sampled_from(HOSTILE)))


TEXT = text()


def _nest(depth: int):
    value: object = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def json_values() -> st.SearchStrategy:
    """Any JSON value, including the awkward ones: int64 edges, huge integers, deep nesting, hostile text.
    (Flat on purpose: st.recursive costs more time per case than the code under test.)"""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([2 ** 63, -(2 ** 63) - 1, 10 ** 30]),
                        st.floats(allow_nan=False, allow_infinity=False), TEXT)
    deep = st.integers(min_value=1, max_value=80).map(_nest)
    return st.one_of(scalars, deep, st.lists(scalars, max_size=3), st.dictionaries(TEXT, scalars, max_size=3))


JSON_VALUES = json_values()  # built once: building strategies costs more than drawing from them


def from_schema(schema: dict, root: dict | None = None) -> st.SearchStrategy:
    """Documents shaped by `schema` (properties, enums, formats, ranges, $ref, allOf); `if`/`then`,
    `required` and `propertyNames` are ignored on purpose, so part of the output is invalid."""
    root = root or schema
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return from_schema(target, root)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "allOf" in schema:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            merged.update({k: v for k, v in part.items() if k not in ("x-message",)})
        return from_schema(merged, root)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of(*(from_schema({**schema, "type": k}, root) for k in kind))
    if "format" in schema:
        return st.one_of(st.sampled_from(FORMAT_SAMPLES[schema["format"]]), TEXT)
    if kind == "object":
        properties = schema.get("properties") or {}
        fixed = st.fixed_dictionaries({}, optional={k: from_schema(v, root) for k, v in properties.items()})
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            names = (schema.get("propertyNames") or {}).get("enum") or ["cpu", "memory"]
            return st.dictionaries(st.sampled_from(names), from_schema(extra, root), max_size=2)
        return fixed
    if kind == "array":
        return st.lists(from_schema(schema.get("items") or {}, root), max_size=3)
    if kind == "string":
        return TEXT
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum", -(2 ** 40)) - 1,
                           max_value=schema.get("maximum", 2 ** 40) + 1)
    if kind == "number":
        return st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
    if kind == "boolean":
        return st.booleans()
    return JSON_VALUES


def paths(doc, prefix=()) -> list[tuple]:
    """Every node of a document (as a key path)."""
    result = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            result += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            result += paths(value, (*prefix, index))
    return result


@st.composite
def confused(draw, doc: dict, count: int = 3) -> dict:
    """`doc` with up to `count` of its nodes replaced by other JSON values (never the root itself)."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(min_value=1, max_value=count))):
        candidates = [p for p in paths(doc) if p]
        if not candidates:
            break
        path = candidates[draw(st.integers(min_value=0, max_value=len(candidates) - 1))]
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = draw(JSON_VALUES)
    return doc
