"""Decoding of ``application/vnd.kubernetes.protobuf`` request bodies into JSON-shaped objects.

client-go's generated clients send built-in kinds as protobuf with no fallback (``kubectl create
namespace|configmap|secret|serviceaccount`` do), so ``app.py`` decodes the bodies of the built-in
kinds a real server would accept that way. Only the kinds and fields listed in ``_MESSAGES`` are
known (field numbers from k8s.io/api and k8s.io/apimachinery ``generated.proto``); unknown fields
are skipped, as proto3 decoders do. Responses are always JSON (the clients accept it).
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone

from .errors import bad_request

MAGIC = b"k8s\x00"

# message name -> {field number: (JSON name, type)}; type is a scalar name, a message name,
# "[]<type>" for repeated fields, or "map:<value type>" for map<string, value>.
_MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "rawbytes"), 3: ("contentEncoding", "string"),
                4: ("contentType", "string")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "Time": {1: ("seconds", "int"), 2: ("nanos", "int")},
    "ObjectMeta": {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
                   4: ("selfLink", "string"), 5: ("uid", "string"), 6: ("resourceVersion", "string"),
                   7: ("generation", "int"), 8: ("creationTimestamp", "Time"), 9: ("deletionTimestamp", "Time"),
                   10: ("deletionGracePeriodSeconds", "int"), 11: ("labels", "map:string"),
                   12: ("annotations", "map:string"), 13: ("ownerReferences", "[]OwnerReference"),
                   14: ("finalizers", "[]string")},
    "OwnerReference": {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                       5: ("apiVersion", "string"), 6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "ObjectReference": {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
                        4: ("uid", "string"), 5: ("apiVersion", "string"), 6: ("resourceVersion", "string"),
                        7: ("fieldPath", "string")},
    "LocalObjectReference": {1: ("name", "string")},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:string"), 3: ("binaryData", "map:bytes"),
                  4: ("immutable", "bool")},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:bytes"), 3: ("type", "string"),
               4: ("stringData", "map:string"), 5: ("immutable", "bool")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec"), 3: ("status", "NamespaceStatus")},
    "NamespaceSpec": {1: ("finalizers", "[]string")},
    "NamespaceStatus": {1: ("phase", "string")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 2: ("secrets", "[]ObjectReference"),
                       3: ("imagePullSecrets", "[]LocalObjectReference"), 4: ("automountServiceAccountToken", "bool")},
}
KINDS = ("ConfigMap", "Secret", "Namespace", "ServiceAccount")
"""The top-level kinds decodable from protobuf."""


class _Malformed(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise _Malformed("unexpected EOF")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes):
    """(field number, wire type, value) of every field; length-delimited values are bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise _Malformed("unexpected EOF")
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise _Malformed(f"illegal wireType {wire}")
        yield number, wire, value


def _scalar(kind: str, value):
    if kind == "string":
        return value.decode()
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "rawbytes":
        return value
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    return _message(kind, value)


def _time(message: dict) -> str | None:
    if not message.get("seconds"):
        return None  # the zero time: unset
    moment = datetime.fromtimestamp(message["seconds"], timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _message(name: str, data: bytes) -> dict | str | None:
    """gogo-protobuf writes every non-pointer field, empty or not; like Go's JSON (omitempty), empty
    strings, the zero time and empty messages are left out."""
    schema, out = _MESSAGES[name], {}
    for number, _, value in _fields(data):
        if number not in schema:
            continue
        field, kind = schema[number]
        if kind.startswith("map:"):
            entry = {n: v for n, _, v in _fields(value)}
            key = entry.get(1, b"").decode()
            out.setdefault(field, {})[key] = _scalar(kind[4:], entry.get(2, b""))
        elif kind.startswith("[]"):
            out.setdefault(field, []).append(_scalar(kind[2:], value))
        else:
            decoded = _scalar(kind, value)
            if decoded not in ("", None, {}) or kind == "rawbytes":
                out[field] = decoded
    return _time(out) if name == "Time" else out


def decode(raw: bytes, kind: str) -> dict:
    """The object of a protobuf request body for ``kind``; 400 BadRequest like the real server when it
    cannot be decoded."""
    try:
        if not raw.startswith(MAGIC):
            raise _Malformed("missing the k8s protobuf envelope")
        envelope = _message("Unknown", raw[len(MAGIC):])
        type_meta = envelope.get("typeMeta", {})
        obj = _message(kind, envelope.get("raw", b""))
    except (_Malformed, UnicodeDecodeError, KeyError) as error:
        raise bad_request(f"the object provided is unrecognized (must be of type {kind}): proto: {error} "
                          f"({raw[:32].hex()})") from None
    return {**({"apiVersion": type_meta["apiVersion"]} if type_meta.get("apiVersion") else {}),
            **({"kind": type_meta["kind"]} if type_meta.get("kind") else {}), **obj}

