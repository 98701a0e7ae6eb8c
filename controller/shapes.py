"""The shape of the Network and Cluster fields the controller reads, checked before anything reads them.

Called by `pipeline.build_inputs` (the Network) and by `offline`, `reconciler` and `diff` (the Cluster), after
`files` (CLI) or the API server (controller) produced JSON data. A Network or Shoot with a wrong type at
any level the controller or a mapping file reads (`spec: "garbage"`, `kubernetes: []`,
`workers: "x"`, `lastOperation: "x"`) becomes a `ConfigurationError` with the field path instead of a
Python exception deep inside a transform. Strings copied into chart values are held to the formats
that cannot break a rendered manifest (CIDRs, versions, printable ASCII). Unknown fields are left
alone: these are other components' objects.
"""

from __future__ import annotations

import jsonschema

from controller.errors import ConfigurationError, FieldError
from controller.mapping.decode import field_path

_STRING = {"type": "string", "pattern": r"^[\x20-\x7e]*\Z"}
_OPTIONAL_STRING = {**_STRING, "type": ["string", "null"]}
_CIDR = {"type": "string", "pattern": r"^[0-9A-Fa-f.:]+/[0-9]{1,3}\Z"}
_BOOL = {"type": "boolean"}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_BOOL_MAP = {"type": "object", "additionalProperties": _BOOL}
_CONDITIONS = {"type": "array", "items": {"type": "object", "properties": {"type": _STRING, "status": _STRING,
                                                                             "reason": _STRING}}}
_OBJECT_META = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "annotations": _STRING_MAP,
                   "labels": _STRING_MAP, "generation": {"type": "integer"},
                   "finalizers": {"type": "array", "items": {"type": "string"}},
                   "deletionTimestamp": {"type": ["string", "null"]}, "uid": {"type": "string"},
                   "resourceVersion": {"type": "string"}},
}

NETWORK_SCHEMA = {
    "type": "object",
    "required": ["metadata", "spec"],
    "properties": {
        "metadata": _OBJECT_META,
        "spec": {
            "type": "object",
            "properties": {
                "type": {"type": "string"}, "podCIDR": _OPTIONAL_STRING, "serviceCIDR": _OPTIONAL_STRING,
                "ipFamilies": {"type": "array", "items": {"type": "string"}},
                "providerConfig": {"type": ["object", "null"]},
            },
        },
        "status": {"type": "object", "properties": {"lastOperation": {"type": ["object", "null"], "properties": {
            "type": {"type": "string"}, "state": {"type": "string"}}}}},
    },
}

SHOOT_SCHEMA = {
    "type": "object",
    "properties": {
        "metadata": _OBJECT_META,
        "spec": {
            "type": "object",
            "properties": {
                "kubernetes": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?\Z"},
                        "kubeProxy": {"type": "object", "properties": {"enabled": _BOOL, "mode": _STRING}},
                        "verticalPodAutoscaler": {"type": "object", "properties": {"enabled": _BOOL}},
                        "kubeAPIServer": {"type": "object", "properties": {"featureGates": _BOOL_MAP,
                                                                           "runtimeConfig": _BOOL_MAP}},
                    },
                },
                "networking": {"type": "object", "properties": {
                    "type": _STRING, "nodes": _CIDR, "pods": _CIDR, "services": _CIDR,
                    "ipFamilies": {"type": "array", "items": _STRING}}},
                "provider": {"type": "object", "properties": {"workers": {"type": "array", "items": {
                    "type": "object", "properties": {"name": _STRING, "minimum": {"type": "integer"},
                                                     "maximum": {"type": "integer"}}}}}},
                "systemComponents": {"type": "object", "properties": {
                    "nodeLocalDNS": {"type": "object", "properties": {"enabled": _BOOL}}}},
                "hibernation": {"type": "object", "properties": {"enabled": _BOOL}},
            },
        },
        "status": {
            "type": "object",
            "properties": {
                "lastOperation": {"type": "object", "properties": {"state": _STRING, "type": _STRING}},
                "isHibernated": _BOOL,
                "constraints": _CONDITIONS,
                "networking": {"type": "object", "properties": {
                    "nodes": {"type": "array", "items": _CIDR}, "pods": {"type": "array", "items": _CIDR},
                    "services": {"type": "array", "items": _CIDR}}},
                "advertisedAddresses": {"type": "array", "items": {
                    "type": "object", "properties": {"name": _STRING, "url": _STRING}}},
            },
        },
    },
}

CLUSTER_SCHEMA = {
    "type": "object",
    "properties": {"spec": {"type": "object", "properties": {"shoot": {"type": ["object", "null"],
                                                                       **SHOOT_SCHEMA}}}},
}


def _errors(schema: dict, obj, base: str) -> list[FieldError]:
    result = []
    for error in jsonschema.Draft202012Validator(schema).iter_errors(obj):
        path = field_path(base, error.absolute_path).lstrip(".") or "<root>"
        kind, shown = "Invalid", isinstance(error.instance, (str, int, float, bool))
        if error.validator == "type":
            expected = error.validator_value
            detail = f"must be of type {' or '.join(expected) if isinstance(expected, list) else expected}"
        elif error.validator == "pattern":
            detail = "must be printable ASCII" if error.validator_value == _STRING["pattern"] else "invalid format"
        elif error.validator == "required":
            kind, shown, detail = "Required", False, "field is required"
            path = field_path(base, [*error.absolute_path, error.message.split("'")[1]]).lstrip(".")
        else:
            detail = error.message
        result.append(FieldError(path, kind, detail, error.instance) if shown else FieldError(path, kind, detail))
    return sorted(result, key=lambda e: e.path)


def network_errors(network) -> list[FieldError]:
    """Wrong types in the Network, with paths as in the object (`spec.podCIDR`)."""
    return _errors(NETWORK_SCHEMA, network, "")


def check_cluster(cluster) -> None:
    """A ConfigurationError (paths below `cluster.`) if the Cluster's shoot has a wrong type anywhere
    the controller reads."""
    errors = _errors(CLUSTER_SCHEMA, cluster, "cluster")
    if errors:
        raise ConfigurationError(errors)
