"""Every string field of both mapping files' providerConfig schemas (and the Shoot strings that reach
chart values), rendered with hostile payloads: every Unicode line break, `---`, `{{ }}`, quotes, NUL,
non-BMP. Each variant either fails before helm with an error at that field's path, or renders the same
object set as a harmless value of the field, with every other field unchanged (a changed field must
hold the payload itself)."""

from __future__ import annotations

import asyncio
import copy
import json

import pytest
import yaml

from controller import pipeline, shapes
from controller import shoot as shoots
from controller.config import ControllerConfig
from controller.errors import ConfigurationError
from controller.mapping import load_mappings
from controller.render import Renderer
from tests.helpers import EXAMPLE, ROOT

MAPPINGS = load_mappings(ROOT / "values-mapping")
CLUSTER = yaml.safe_load((EXAMPLE / "cluster.yaml").read_text())
PAYLOADS = ["\u0085", "\u2028", "\u2029", "\r", "\n", "\v", "\f", "\r\n", "\x00", "\t", "\x1b", "\U0001F600",
            "\n---\n", "---", "{{ .Release.Name }}", "{{", '"', "'", "\\", "#", ": x", "\n  injected: true"]
# A harmless value of each named format (the base of the variants).
FORMAT_BASE = {"cidr": "10.0.0.0/8", "cidr-or-usepodcidr": "192.168.0.0/16",
               "calico-ip-autodetection-method": "interface=eth0", "non-negative-int-string": "1440",
               "positive-quantity": "100m", "ip-or-dns1123-subdomain": "api.example.com", "linux-device": "eth0",
               "go-duration": "15s"}
# Shoot strings the mapping files copy into chart values.
SHOOT_FIELDS = {("spec", "kubernetes", "version"): "1.32.0", ("spec", "networking", "nodes"): "10.250.0.0/16",
                ("spec", "networking", "pods"): "10.244.0.0/16", ("spec", "kubernetes", "kubeProxy", "mode"): "IPTables",
                ("status", "advertisedAddresses", 0, "url"): "https://api.bar.foo.local.gardener.cloud",
                ("status", "networking", "nodes", 0): "10.250.0.0/16"}


def resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def base_value(schema: dict, root: dict):
    schema = resolve(schema, root)
    if "enum" in schema:
        return next((v for v in schema["enum"] if v), schema["enum"][0])
    if "format" in schema:
        return FORMAT_BASE[schema["format"]]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "object" in kinds:
        return {name: base_value(schema["properties"][name], root) for name in schema.get("required", [])}
    return {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": []}[kinds[0]]


def string_fields(schema: dict, root: dict, path: tuple = ()):
    """(path, harmless value, parent documents to create) of every string a providerConfig can hold."""
    schema = resolve(schema, root)
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "object" in kinds:
        for name, sub in (schema.get("properties") or {}).items():
            yield from string_fields(sub, root, (*path, name))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name in (schema.get("propertyNames") or {}).get("enum") or ["x"]:
                yield from string_fields(extra, root, (*path, name))
    elif "array" in kinds:
        yield from string_fields(schema.get("items") or {}, root, (*path, 0))
    elif "string" in kinds:
        yield path, base_value(schema, root)


def put(doc, path: tuple, value, schema: dict, root: dict) -> None:
    """Set `path`, creating parents with their required fields."""
    node, sub = doc, schema
    for index, key in enumerate(path[:-1]):
        sub = resolve(sub, root)
        sub = (sub.get("properties") or {}).get(key) or sub.get("additionalProperties") or sub.get("items") or {}
        if isinstance(key, int):
            continue
        child = [None] if isinstance(path[index + 1], int) else base_value(sub, root)
        node = node.setdefault(key, child)
    if isinstance(path[-1], int):
        node[:] = [value]
    else:
        node[path[-1]] = value


def field_path(base: str, path: tuple) -> str:
    return base + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def variants(value: str, payload: str) -> list[str]:
    result = [value + payload, payload + value, value[:1] + payload + value[1:]]
    if "/" in value:
        result.append(f"fe80::%{payload}/64")
    return result


def leaves(obj, path=()):
    if isinstance(obj, dict):
        for key, child in obj.items():
            yield from leaves(child, (*path, key))
    elif isinstance(obj, list):
        for index, child in enumerate(obj):
            yield from leaves(child, (*path, index))
    else:
        yield path, obj


def by_identity(objects: list[dict]) -> dict:
    return {(o.get("apiVersion"), o.get("kind"), (o.get("metadata") or {}).get("namespace"),
             (o.get("metadata") or {}).get("name")): dict(leaves(o)) for o in objects}


@pytest.fixture(scope="module")
def renderer():
    return Renderer()


def dual_stack(cluster: dict) -> dict:
    cluster = copy.deepcopy(cluster)
    cluster["spec"]["shoot"]["spec"]["networking"]["ipFamilies"] = ["IPv4", "IPv6"]
    cluster["spec"]["shoot"]["status"]["networking"]["pods"].append("fd00:10:244::/56")
    return cluster


def render(renderer, kind: str, provider: dict, cluster: dict):
    """The rendered shoot objects, or the ConfigurationError (raised before helm or by helm). A
    providerConfig with an `ipv6` block gets a dual-stack Network and shoot."""
    mapping = MAPPINGS[kind]
    network = yaml.safe_load((EXAMPLE / "network-calico.yaml").read_text())
    network["spec"].update(type=kind, providerConfig={"apiVersion": mapping.provider_api_version,
                                                      "kind": mapping.provider_kind, **provider})
    if "ipv6" in provider:
        network["spec"]["ipFamilies"] = ["IPv4", "IPv6"]
        cluster = dual_stack(cluster)
    shapes.check_cluster(cluster)
    desired = asyncio.run(pipeline.desired_state(renderer, mapping, network, shoots.shoot_of(cluster),
                                                 ControllerConfig()))
    return list(yaml.safe_load_all(desired.rendered.manifest_text()))


def assert_only_the_field_changed(base: list[dict], hostile: list[dict], payload: str, where: str) -> None:
    before, after = by_identity([o for o in base if o]), by_identity([o for o in hostile if o])
    assert set(after) == set(before), f"{where}: object set changed: {set(after) ^ set(before)}"
    escaped = json.dumps(payload)[1:-1]
    for identity, fields in after.items():
        for path, value in fields.items():
            if before[identity].get(path) == value or any(str(p).startswith("checksum/") for p in path):
                continue
            assert isinstance(value, str) and (payload in value or escaped in value), \
                f"{where}: {identity[1]} {identity[3]} {path} changed to {value!r} (payload {payload!r})"
        assert set(fields) == set(before[identity]), f"{where}: fields of {identity[1]} {identity[3]} changed"


CASES = [(kind, path, value) for kind in sorted(MAPPINGS)
         for path, value in string_fields(MAPPINGS[kind].schema, MAPPINGS[kind].schema)]


def test_every_string_field_is_covered():
    covered = {(kind, field_path("", path)) for kind, path, _ in CASES}
    assert {("calico", ".ipam.cidr"), ("calico", ".vethMTU"), ("calico", ".ipv4.autoDetectionMethod"),
            ("calico", ".autoScaling.resources.node.cpu"), ("cilium", ".devices[0]"),
            ("cilium", ".kubeproxy.k8sServiceHost"), ("cilium", ".l2Announcements.leaseDuration")} <= covered
    assert len(covered) >= 25


@pytest.mark.parametrize("kind, path, value", CASES, ids=[f"{k}{field_path('', p)}" for k, p, _ in CASES])
def test_hostile_provider_config_strings(renderer, kind, path, value):
    schema = MAPPINGS[kind].schema
    base_doc: dict = {}
    put(base_doc, path, value, schema, schema)
    base = render(renderer, kind, base_doc, CLUSTER)
    where = field_path("spec.providerConfig", path)
    rendered = 0
    for payload in PAYLOADS:
        for variant in variants(value, payload):
            doc = copy.deepcopy(base_doc)
            put(doc, path, variant, schema, schema)
            try:
                hostile = render(renderer, kind, doc, CLUSTER)
            except ConfigurationError as exc:
                assert any(line.startswith(where) for line in exc.lines), (variant, exc.lines)
                continue
            rendered += 1
            assert_only_the_field_changed(base, hostile, payload, f"{where}={variant!r}")
    assert not any(ch in "\x00\u0085\u2028\u2029\r\n\v\f" for ch in json.dumps(base))


@pytest.mark.parametrize("path, value", SHOOT_FIELDS.items(), ids=[field_path("shoot", p) for p in SHOOT_FIELDS])
@pytest.mark.parametrize("kind", sorted(MAPPINGS))
def test_hostile_shoot_strings(renderer, kind, path, value):
    base = render(renderer, kind, {}, CLUSTER)
    where = field_path("cluster.spec.shoot", path)
    for payload in PAYLOADS:
        for variant in variants(value, payload):
            cluster = copy.deepcopy(CLUSTER)
            node = cluster["spec"]["shoot"]
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = variant
            try:
                hostile = render(renderer, kind, {}, cluster)
            except ConfigurationError as exc:
                assert any(line.startswith(where) for line in exc.lines), (variant, exc.lines)
                continue
            assert_only_the_field_changed(base, hostile, payload, f"{where}={variant!r}")
