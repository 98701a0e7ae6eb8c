"""The resource registry: built-in kinds, CRD-defined kinds, and the discovery documents.

``Emulator`` loads CRD YAML files into a :class:`Registry`; ``app.py`` resolves every URL against it
and serves discovery from it; ``rest.py`` reads the per-resource behaviour flags.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import yaml

from .errors import ApiError, bad_request
from .schema import StructuralSchema
from .tables import AGE, NAME, Column, printer_column

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_VERBS = ["get", "patch", "update"]


@dataclass(eq=False)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status_subresource: bool = False
    custom: bool = False
    """CRD-backed: tracks generation, validates against ``schema``, refuses unconditional updates and
    strategic merge patches, and answers deletes with the object (like apiextensions-apiserver)."""
    schema: StructuralSchema | None = None
    columns: tuple[Column, ...] = (NAME, AGE)
    prepare: Callable[[dict, dict | None], None] | None = None
    """Type-specific defaulting on create (old is None) and update, e.g. Secret stringData."""
    field_labels: tuple[str, ...] | None = None
    """What ``fieldSelector`` may name when the kind declares its own (CRDs: metadata and the version's
    ``selectableFields``); None = the metav1 default (metadata.name, metadata.namespace)."""
    validate: Callable[[dict], list[dict]] | None = None
    """Type-specific validation after defaulting: the causes of a 422 Invalid (empty when valid)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    shared_storage: tuple[str, str] | None = None
    """Storage of another group's resource this one serves too (events.k8s.io Events are core Events)."""

    @property
    def storage_key(self) -> tuple[str, str]:
        """All served versions of a resource share one storage."""
        return self.shared_storage or (self.group, self.plural)

    def discovery(self) -> list[dict]:
        entry = {"name": self.plural, "singularName": self.singular, "namespaced": self.namespaced,
                 "kind": self.kind, "verbs": VERBS}
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.status_subresource:
            entries.append({"name": f"{self.plural}/status", "singularName": "", "namespaced": self.namespaced,
                            "kind": self.kind, "verbs": SUBRESOURCE_VERBS})
        return entries


_BASE64 = re.compile(r"[A-Za-z0-9+/]")
_GO_JSON_TYPES = {bool: "bool", int: "number", float: "number", list: "array", dict: "object"}


def _undecodable(kind: str, why: str) -> ApiError:
    return bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: {why}')


def _check_strings(kind: str, field: str, values) -> None:
    for value in (values or {}).values():
        if value is not None and not isinstance(value, str):
            raise _undecodable(kind, f"json: cannot unmarshal {_GO_JSON_TYPES.get(type(value), 'value')} into Go "
                                     f"struct field {kind}.{field} of type string")


def _check_base64(kind: str, field: str, values) -> None:
    """[]byte fields: base64 strings, as Go's decoder reads them."""
    _check_strings(kind, field, values)
    for value in (values or {}).values():
        text = (value or "").rstrip("=")
        bad = next((i for i, char in enumerate(text) if not _BASE64.match(char)), None)
        if bad is None and len(text) % 4 == 1:
            bad = len(text) - 1
        if bad is not None:
            raise _undecodable(kind, f"illegal base64 data at input byte {bad}")


def _prepare_configmap(obj: dict, old: dict | None) -> None:
    _check_strings("ConfigMap", "data", obj.get("data"))
    _check_base64("ConfigMap", "binaryData", obj.get("binaryData"))


def _prepare_secret(obj: dict, old: dict | None) -> None:
    _check_base64("Secret", "data", obj.get("data"))
    _check_strings("Secret", "stringData", obj.get("stringData"))
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {}) or {}
        obj["data"] = data
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    obj.setdefault("type", old.get("type", "Opaque") if old else "Opaque")


def _validate_secret(obj: dict) -> list[dict]:
    required = {"kubernetes.io/tls": ("tls.crt", "tls.key")}.get(obj.get("type"), ())
    return [{"reason": "FieldValueRequired", "message": "Required value", "field": f"data[{key}]"}
            for key in required if key not in (obj.get("data") or {})]


def _validate_event(obj: dict) -> list[dict]:
    """The event's object must be in the event's namespace (core/v1 involvedObject, events.k8s.io/v1
    regarding; the real server names the field involvedObject for both)."""
    regarding = obj.get("involvedObject") if obj["apiVersion"] == "v1" else obj.get("regarding")
    namespace = (regarding or {}).get("namespace", "")
    if namespace != obj["metadata"].get("namespace"):
        return [{"reason": "FieldValueInvalid", "field": "involvedObject.namespace",
                 "message": f"Invalid value: {json.dumps(namespace)}: does not match event.namespace"}]
    return []


# core/v1 Event field -> events.k8s.io/v1 Event field (the rest is named alike)
_EVENT_FIELD_NAMES = {"involvedObject": "regarding", "message": "note", "source": "deprecatedSource",
                      "firstTimestamp": "deprecatedFirstTimestamp", "lastTimestamp": "deprecatedLastTimestamp",
                      "count": "deprecatedCount", "reportingComponent": "reportingController"}


def convert(obj: dict, api_version: str) -> dict:
    """``obj`` as ``api_version`` serves it: the apiVersion, and Event fields between core/v1 and
    events.k8s.io/v1 (one storage, two APIs, as in kube-apiserver)."""
    converted = {**obj, "apiVersion": api_version}
    if obj.get("kind") == "Event" and {obj.get("apiVersion"), api_version} == {"v1", "events.k8s.io/v1"}:
        names = _EVENT_FIELD_NAMES if api_version == "events.k8s.io/v1" else \
            {v: k for k, v in _EVENT_FIELD_NAMES.items()}
        converted = {names.get(key, key): value for key, value in converted.items()}
    return converted


def _prepare_namespace(obj: dict, old: dict | None) -> None:
    meta = obj["metadata"]
    meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    if old is None:
        obj["status"] = {"phase": "Active"}


def _count(*keys: str) -> Callable[[dict], int]:
    return lambda o: sum(len(o.get(k) or {}) for k in keys)


_META = ("metadata.name", "metadata.namespace")
_EVENT_FIELDS = (*_META, *(f"involvedObject.{f}" for f in ("kind", "namespace", "name", "uid", "apiVersion",
                                                            "resourceVersion", "fieldPath")),
                 "reason", "reportingComponent", "source", "type")


def _builtins() -> list[ResourceType]:
    return [
        ResourceType("", "v1", "namespaces", "namespace", "Namespace", False, ("ns",), (), True,
                     columns=(NAME, Column("Status", "string", lambda o: o.get("status", {}).get("phase")), AGE),
                     prepare=_prepare_namespace, field_labels=("metadata.name", "status.phase")),
        ResourceType("", "v1", "secrets", "secret", "Secret", True,
                     columns=(NAME, Column("Type", "string", lambda o: o.get("type")),
                              Column("Data", "string", _count("data")), AGE),
                     prepare=_prepare_secret, validate=_validate_secret, field_labels=(*_META, "type")),
        ResourceType("", "v1", "configmaps", "configmap", "ConfigMap", True, ("cm",),
                     columns=(NAME, Column("Data", "string", _count("data", "binaryData")), AGE),
                     prepare=_prepare_configmap),
        ResourceType("", "v1", "events", "event", "Event", True, ("ev",), validate=_validate_event,
                     field_labels=_EVENT_FIELDS),
        ResourceType("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ("sa",)),
        ResourceType("coordination.k8s.io", "v1", "leases", "lease", "Lease", True,
                     columns=(NAME, Column("Holder", "string",
                                           lambda o: (o.get("spec") or {}).get("holderIdentity")), AGE)),
        ResourceType("events.k8s.io", "v1", "events", "event", "Event", True, ("ev",), validate=_validate_event,
                     field_labels=_EVENT_FIELDS, shared_storage=("", "events")),
        # What the controller reads from a shoot (through its shoot access secret).
        ResourceType("", "v1", "nodes", "node", "Node", False, ("no",), (), True,
                     field_labels=("metadata.name", "spec.unschedulable")),
        ResourceType("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, ("ds",), (), True),
    ]


def crd_resource_types(crd: dict) -> list[ResourceType]:
    """One ResourceType per served version of an ``apiextensions.k8s.io/v1`` CRD document."""
    spec, names = crd["spec"], crd["spec"]["names"]
    types = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        openapi = (version.get("schema") or {}).get("openAPIV3Schema")
        printer = version.get("additionalPrinterColumns") or []
        types.append(ResourceType(
            group=spec["group"], version=version["name"], plural=names["plural"],
            singular=names.get("singular", names["kind"].lower()), kind=names["kind"],
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames", ())), categories=tuple(names.get("categories", ())),
            status_subresource="status" in (version.get("subresources") or {}),
            custom=True,
            schema=StructuralSchema(openapi) if openapi else None,
            columns=(NAME, *map(printer_column, printer)) if printer else (NAME, AGE),
            field_labels=(*_META, *(f["jsonPath"].lstrip(".") for f in version.get("selectableFields") or [])),
        ))
    return types


def read_yaml_documents(paths: Iterable[str | Path]) -> list[dict]:
    """All YAML documents of the given files and directories (``*.yaml``/``*.yml``/``*.json``, sorted)."""
    documents = []
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json")) if path.is_dir() else [path]
        for file in files:
            documents.extend(d for d in yaml.safe_load_all(file.read_text()) if isinstance(d, dict))
    return documents


@dataclass
class Registry:
    _by_group_version: dict[tuple[str, str], dict[str, ResourceType]] = field(default_factory=dict)
    _group_versions: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def with_builtins(cls) -> "Registry":
        registry = cls()
        for resource_type in _builtins():
            registry.add(resource_type)
        return registry

    def add(self, resource_type: ResourceType) -> None:
        gv = (resource_type.group, resource_type.version)
        self._by_group_version.setdefault(gv, {})[resource_type.plural] = resource_type
        versions = self._group_versions.setdefault(resource_type.group, [])
        if resource_type.version not in versions:
            versions.append(resource_type.version)

    def load_crds(self, paths: Iterable[str | Path]) -> None:
        for document in read_yaml_documents(paths):
            if document.get("kind") == "CustomResourceDefinition":
                for resource_type in crd_resource_types(document):
                    self.add(resource_type)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_group_version.get((group, version), {}).get(plural)

    def all(self) -> list[ResourceType]:
        return [rt for resources in self._by_group_version.values() for rt in resources.values()]

    def has_group_version(self, group: str, version: str) -> bool:
        return (group, version) in self._by_group_version

    def find(self, api_version: str, kind_or_plural: str) -> ResourceType | None:
        """By apiVersion and Kind, plural or singular name (used by the Python API and seeding)."""
        group, _, version = api_version.rpartition("/")
        for resource_type in self._by_group_version.get((group, version), {}).values():
            if kind_or_plural in (resource_type.kind, resource_type.plural, resource_type.singular):
                return resource_type
        return None

    # --- discovery documents ---

    def api_versions(self, server_address: str) -> dict:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}

    def resource_list(self, group: str, version: str) -> dict:
        resources = [entry for rt in self._by_group_version[(group, version)].values() for entry in rt.discovery()]
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version, "resources": resources}

    def api_group(self, group: str) -> dict | None:
        versions = self._group_versions.get(group)
        if not group or not versions:
            return None
        listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": listed,
                "preferredVersion": listed[0]}

    def api_group_list(self) -> dict:
        groups = [self.api_group(group) for group in self._group_versions if group]
        for group in groups:
            del group["kind"], group["apiVersion"]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
