"""Minimal OpenAPI v3 documents (``/openapi/v3`` and ``/openapi/v3/<group-version>``).

kubectl 1.34 reads them before ``apply``: it sends ``fieldValidation=Strict`` only when the PATCH
operation of the kind declares that parameter, and otherwise insists on downloading a schema to
validate on the client. ``app.py`` serves these documents built from the ``resources.Registry``;
custom kinds carry their CRD schema, built-in kinds an open object schema.
"""

from __future__ import annotations

import hashlib
import json

from .resources import Registry, ResourceType

_QUERY_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "force")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_id(rt: ResourceType) -> str:
    reversed_group = ".".join(reversed(rt.group.split("."))) if rt.group else "io.k8s.api.core"
    return f"{reversed_group}.{rt.version}.{rt.kind}"


def group_version_document(registry: Registry, group: str, version: str) -> dict:
    paths, schemas = {}, {}
    for rt in registry.all():
        if (rt.group, rt.version) != (group, version):
            continue
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        ref = {"$ref": f"#/components/schemas/{_schema_id(rt)}"}
        response = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
        parameters = [{"name": p, "in": "query", "schema": {"type": "string"}} for p in _QUERY_PARAMETERS]
        operation = {"x-kubernetes-group-version-kind": gvk, "responses": response}
        scope = "namespaces/{namespace}/" if rt.namespaced else ""
        paths[f"/{_gv_path(group, version)}/{scope}{rt.plural}/{{name}}"] = {
            "get": operation,
            "put": {**operation, "parameters": parameters},
            "patch": {**operation, "parameters": parameters},
        }
        schema = rt.schema.openapi if rt.schema else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        schemas[_schema_id(rt)] = {**schema, "x-kubernetes-group-version-kind": [gvk]}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.34.0"}, "paths": paths,
            "components": {"schemas": schemas}}


def root_document(registry: Registry) -> dict:
    paths = {}
    for group, version in sorted({(rt.group, rt.version) for rt in registry.all()}):
        digest = hashlib.sha256(json.dumps(group_version_document(registry, group, version),
                                           sort_keys=True).encode()).hexdigest()[:32].upper()
        paths[_gv_path(group, version)] = {"serverRelativeURL": f"/openapi/v3/{_gv_path(group, version)}?hash={digest}"}
    return {"paths": paths}
