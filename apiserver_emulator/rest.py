"""API semantics of create, get, list, update, patch and delete (kube-apiserver's generic registry).

``app.py`` calls :class:`Rest` for every resource request and the ``Emulator`` Python API calls it
for seeding and direct reads. It enforces the metadata rules (server-owned fields, generation,
resourceVersion preconditions, finalizers and deletionTimestamp, namespace lifecycle), the status
subresource split, and custom-object schema admission, then writes through ``store.Store``.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import uuid
from datetime import datetime, timezone

from . import errors
from .errors import ApiError
from .patch import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, json_patch, merge_patch, strategic_merge_patch
from .resources import Registry, ResourceType, convert
from .selectors import Predicate
from .store import Store

_SERVER_OWNED = ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _without(obj: dict, *fields: str) -> dict:
    return {k: v for k, v in obj.items() if k not in fields}


_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _label_causes(labels: dict) -> list[dict]:
    """metadata.labels validation of the real server (each cause once; it reports some twice)."""
    causes = []

    def cause(value: str, why: str) -> None:
        causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                       "message": f"Invalid value: {json.dumps(value)}: {why}"})

    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if "/" in key and (not _LABEL_PREFIX.match(prefix) or len(prefix) > 253):
            cause(key, "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                       "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
                       "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]"
                       "([-a-z0-9]*[a-z0-9])?)*')")
        if not _LABEL_NAME.match(name) or len(name) > 63:
            cause(key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                       "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                       "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
        if not isinstance(value, str) or not _LABEL_VALUE.match(value) or len(value) > 63:
            cause(str(value), "a valid label must be an empty string or consist of alphanumeric characters, '-', "
                              "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
                              "or 'my_value',  or '12345', regex used for validation is "
                              "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
    return causes


class Rest:
    def __init__(self, registry: Registry, store: Store):
        self.registry = registry
        self.store = store
        self._namespaces = registry.lookup("", "v1", "namespaces")
        for name in INITIAL_NAMESPACES:
            self.create(self._namespaces, None, {"metadata": {"name": name}})

    # --- reads ---

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict:
        obj = self.store.get(rt.storage_key, namespace or "", name)
        if obj is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return self.served(rt, obj)

    def list(self, rt: ResourceType, namespace: str | None, matches: Predicate, limit: int = 0,
             continue_token: str | None = None) -> tuple[list[dict], dict]:
        """Items and ListMeta; ``continue`` tokens encode the last returned key."""
        objects = self.store.objects(rt.storage_key, namespace)
        if continue_token:
            try:
                after = tuple(json.loads(base64.urlsafe_b64decode(continue_token)))
            except ValueError:
                raise ApiError(400, "invalid continue token: continue key is not valid: illegal base64 data") \
                    from None
            objects = [o for o in objects if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after]
        items = []
        meta = {"resourceVersion": str(self.store.resource_version)}
        if rt.custom:
            meta["continue"] = ""  # unstructured lists carry the empty token
        for index, obj in enumerate(objects):
            if not matches(obj):
                continue
            if limit and len(items) == limit:
                last = items[-1]["metadata"]
                meta["continue"] = base64.urlsafe_b64encode(
                    json.dumps([last.get("namespace", ""), last["name"]]).encode()).decode()
                meta["remainingItemCount"] = sum(1 for o in objects[index:] if matches(o))
                break
            items.append(self.served(rt, obj))
        return items, meta

    # --- writes ---

    def create(self, rt: ResourceType, namespace: str | None, body: dict, dry_run: bool = False,
               strict: bool = False) -> dict:
        obj = self._typed(rt, body)
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            namespace = namespace or meta.get("namespace") or "default"
            if meta.get("namespace", namespace) != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            meta["namespace"] = namespace
            self._require_active_namespace(namespace, rt, meta.get("name", ""))
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            # a plain error of the storage layer: 500 without a reason
            raise ApiError(500, "resourceVersion should not be set on objects to be created", reason="")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = self._generate_name(rt, meta)
        self._validate_name(rt, meta)
        for key in _SERVER_OWNED:
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        if rt.custom:
            meta["generation"] = 1
        if rt.status_subresource:
            obj.pop("status", None)
        self._admit(rt, obj, None, strict)
        if self.store.get(rt.storage_key, meta.get("namespace", ""), meta["name"]) is not None:
            raise errors.already_exists(rt.plural, rt.group, meta["name"])
        if dry_run:
            return obj
        return self.served(rt, self.store.put(rt.storage_key, obj, None))

    def update(self, rt: ResourceType, namespace: str | None, name: str, body: dict, subresource: str | None = None,
               dry_run: bool = False, strict: bool = False) -> dict:
        old = self._stored(rt, namespace, name)
        new = self._typed(rt, body)
        meta = new.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the "
                                     f"URL ({name})")
        if rt.namespaced and meta.get("namespace", namespace) != namespace:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        if meta.get("uid") and meta["uid"] != old["metadata"]["uid"]:
            raise errors.conflict(rt.plural, rt.group, name, self._storage_error(rt, old, "UID in precondition: "
                                  f"{meta['uid']}, UID in object meta: {old['metadata']['uid']}"))
        if not meta.get("resourceVersion") and rt.custom:
            raise errors.invalid(rt.plural, rt.group, name, [{  # the resource, not the Kind, here
                "reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
                "message": "Invalid value: 0: must be specified for an update"}])
        return self._write(rt, old, new, subresource, dry_run, strict)

    def patch(self, rt: ResourceType, namespace: str | None, name: str, content_type: str, raw: bytes,
              subresource: str | None = None, dry_run: bool = False, strict: bool = False) -> dict:
        old = self._stored(rt, namespace, name)
        try:
            document = json.loads(raw or b"null")
        except ValueError as e:
            raise errors.bad_request(f"error decoding patch: {e}") from None
        if content_type == JSON_PATCH:
            patched = json_patch(old, document)
        elif content_type == MERGE_PATCH:
            if not isinstance(document, dict):
                raise errors.bad_request("error decoding patch: json: cannot unmarshal array into Go value of type "
                                         "map[string]interface {}")
            patched = merge_patch(old, document)
        elif content_type == STRATEGIC_MERGE_PATCH and not rt.custom:
            patched = strategic_merge_patch(old, document)
        else:
            # the real list names server-side apply, which the emulator does not do (README)
            accepted = [JSON_PATCH, MERGE_PATCH] + ([] if rt.custom else [STRATEGIC_MERGE_PATCH])
            raise ApiError(415, f"the body of the request was in an unknown format - accepted media types "
                                f"include: {', '.join(accepted)}, application/apply-patch+yaml")
        if not isinstance(patched, dict):
            raise ApiError(422, "the patched document is not an object")
        uid = (patched.get("metadata") or {}).get("uid")
        if uid != old["metadata"]["uid"]:
            raise self._immutable(rt, name, "uid", uid)
        return self._write(rt, old, copy.deepcopy(patched), subresource, dry_run, strict)

    def delete(self, rt: ResourceType, namespace: str | None, name: str, options: dict | None = None,
               dry_run: bool = False) -> tuple[dict, bool]:
        """Returns (object, deleted): objects with finalizers only get a deletionTimestamp."""
        old = self._stored(rt, namespace, name)
        preconditions = (options or {}).get("preconditions") or {}
        for field, actual in (("uid", old["metadata"]["uid"]),
                              ("resourceVersion", old["metadata"]["resourceVersion"])):
            wanted = preconditions.get(field)
            if wanted is not None and wanted != actual:
                label, why = ("UID", "deleted and then recreated") if field == "uid" else ("ResourceVersion", "modified")
                raise errors.conflict(rt.kind, rt.group, name, f"the {label} in the precondition ({wanted}) does not "
                                      f"match the {label} in record ({actual}). The object might have been {why}")
        if old["metadata"].get("finalizers") or rt is self._namespaces:
            if old["metadata"].get("deletionTimestamp"):
                return self.served(rt, old), False
            new = copy.deepcopy(old)
            new["metadata"]["deletionTimestamp"] = now()
            if rt is not self._namespaces:
                new["metadata"]["deletionGracePeriodSeconds"] = 0
            if new["metadata"].get("generation"):  # controllers must notice the deletion like a spec change
                new["metadata"]["generation"] += 1
            if rt is self._namespaces:
                new["status"] = {**(new.get("status") or {}), "phase": "Terminating"}
            if dry_run:
                return new, False
            self.store.put(rt.storage_key, new, old)
            if rt is self._namespaces:
                self._empty_namespace(name)
            return self.served(rt, self._current(rt, new) or new), False
        if dry_run:
            return old, True
        return self.served(rt, self._remove(rt, old)), True

    def delete_collection(self, rt: ResourceType, namespace: str | None, matches: Predicate,
                          options: dict | None = None, dry_run: bool = False) -> list[dict]:
        items, _ = self.list(rt, namespace, matches)
        return [self.delete(rt, namespace, o["metadata"]["name"], options, dry_run)[0] for o in items]

    # --- helpers ---

    def _stored(self, rt: ResourceType, namespace: str | None, name: str) -> dict:
        obj = self.store.get(rt.storage_key, namespace or "", name)
        if obj is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return self.served(rt, obj)  # writes work on the version they address

    def _current(self, rt: ResourceType, obj: dict) -> dict | None:
        meta = obj["metadata"]
        return self.store.get(rt.storage_key, meta.get("namespace", ""), meta["name"])

    def served(self, rt: ResourceType, obj: dict) -> dict:
        """Stored objects carry the apiVersion they were written with; serve the requested one."""
        return obj if obj.get("apiVersion") == rt.api_version else convert(obj, rt.api_version)

    def _typed(self, rt: ResourceType, body: dict) -> dict:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if api_version and api_version != rt.api_version:
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                     f"API version ({rt.api_version})")
        if kind and kind != rt.kind and rt.custom:
            raise errors.invalid(kind, rt.group, (body.get("metadata") or {}).get("name", ""), [{
                "reason": "FieldValueInvalid", "field": "kind", "message": f'Invalid value: "{kind}": must be {rt.kind}'}])
        if kind and kind != rt.kind:
            raise errors.bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")
        return {**body, "apiVersion": rt.api_version, "kind": rt.kind}

    def _generate_name(self, rt: ResourceType, meta: dict) -> str:
        while True:
            name = meta["generateName"] + "".join(random.choices(_GENERATE_ALPHABET, k=5))
            if self.store.get(rt.storage_key, meta.get("namespace", ""), name) is None:
                return name

    def _validate_name(self, rt: ResourceType, meta: dict) -> None:
        name = meta.get("name")
        if not name:
            causes = [{"reason": "FieldValueRequired", "field": "metadata.name",
                       "message": "Required value: name or generateName is required"}]
            raise errors.invalid(rt.kind, rt.group, "", causes + (rt.schema.not_checked() if rt.schema else []))
        if len(name) > 253 or not _NAME.match(name):
            raise errors.invalid(rt.kind, rt.group, name, [{
                "reason": "FieldValueInvalid", "field": "metadata.name",
                "message": f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                           "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
                           "(e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                           "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}])

    def _require_active_namespace(self, namespace: str, rt: ResourceType, name: str) -> None:
        ns = self.store.get(self._namespaces.storage_key, "", namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.namespace_terminating(rt.plural, rt.group, name, namespace)

    def _admit(self, rt: ResourceType, obj: dict, old: dict | None, strict: bool) -> None:
        if rt.prepare:
            rt.prepare(obj, old)
        if rt.schema:
            rt.schema.admit(obj, rt.kind, rt.group, strict)
        causes = _label_causes(obj["metadata"].get("labels") or {})
        if rt.validate:
            causes += rt.validate(obj)
        if causes:
            raise errors.invalid(rt.kind, rt.group, obj["metadata"].get("name", ""), causes)

    def _write(self, rt: ResourceType, old: dict, new: dict, subresource: str | None, dry_run: bool,
               strict: bool) -> dict:
        """Shared tail of update and patch: rules for main resource vs /status, then commit."""
        name = old["metadata"]["name"]
        sent_rv = (new.get("metadata") or {}).get("resourceVersion")
        if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rt.plural, rt.group, name, errors.STALE)
        if subresource == "status":
            result = copy.deepcopy(old)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
            if rt.schema:
                rt.schema.admit(result, rt.kind, rt.group, strict, status_only=True)
        else:
            result = new
            meta = result["metadata"] = dict(result.get("metadata") or {})
            sent = meta.get("deletionTimestamp")
            if sent is not None and sent != old["metadata"].get("deletionTimestamp"):
                raise self._immutable(rt, name, "deletionTimestamp", sent)
            meta["name"] = name
            if rt.namespaced:
                meta["namespace"] = old["metadata"]["namespace"]
            for key in _SERVER_OWNED:
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
                else:
                    meta.pop(key, None)
            if rt.status_subresource:
                if "status" in old:
                    result["status"] = copy.deepcopy(old["status"])
                else:
                    result.pop("status", None)
            self._admit(rt, result, old, strict)
            if old["metadata"].get("deletionTimestamp"):
                added = set(meta.get("finalizers") or []) - set(old["metadata"].get("finalizers") or [])
                if added:
                    raise errors.invalid(rt.kind, rt.group, name, [{
                        "reason": "FieldValueForbidden", "field": "metadata.finalizers",
                        "message": "Forbidden: no new finalizers can be added if the object is being deleted, "
                                   f"found new finalizers {json.dumps(sorted(added))}"}])
            if rt.custom and self._spec_changed(rt, old, result):
                meta["generation"] = old["metadata"].get("generation", 0) + 1
        result["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if result == old:
            return self.served(rt, old)
        if dry_run:
            return result
        if result["metadata"].get("deletionTimestamp") and not result["metadata"].get("finalizers") \
                and rt is not self._namespaces:
            self._remove(rt, old)  # the watch sees the last stored state (finalizers and all) go
            return self.served(rt, result)
        return self.served(rt, self.store.put(rt.storage_key, result, old))

    @staticmethod
    def _immutable(rt: ResourceType, name: str, field: str, value) -> ApiError:
        cause = {"reason": "FieldValueInvalid", "field": f"metadata.{field}",
                 "message": f"Invalid value: {json.dumps(value)}: field is immutable"}
        # the real server validates custom objects' metadata twice and reports the cause twice
        return errors.invalid(rt.kind, rt.group, name, [cause, cause] if rt.custom else [cause])

    @staticmethod
    def _storage_error(rt: ResourceType, obj: dict, message: str) -> str:
        meta = obj["metadata"]
        key = "/".join(["/registry", *([rt.group] if rt.custom else []), rt.plural,
                        *([meta["namespace"]] if meta.get("namespace") else []), meta["name"]])
        return (f"StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, "
                f"AdditionalErrorMsg: Precondition failed: {message}")

    @staticmethod
    def _spec_changed(rt: ResourceType, old: dict, new: dict) -> bool:
        ignored = ("metadata", "status") if rt.status_subresource else ("metadata",)
        return _without(old, *ignored) != _without(new, *ignored)

    def _remove(self, rt: ResourceType, obj: dict) -> dict:
        final = self.store.remove(rt.storage_key, obj)
        namespace = obj["metadata"].get("namespace")
        if namespace:
            ns = self.store.get(self._namespaces.storage_key, "", namespace)
            if ns and ns["metadata"].get("deletionTimestamp") and not self.store.namespace_population(namespace):
                self.store.remove(self._namespaces.storage_key, ns)
        return final

    def _empty_namespace(self, namespace: str) -> None:
        """The namespace controller's job: delete everything in a terminating namespace, then it."""
        for resource_type in self._namespaced_storage():
            for obj in self.store.objects(resource_type.storage_key, namespace):
                self.delete(resource_type, namespace, obj["metadata"]["name"])
        ns = self.store.get(self._namespaces.storage_key, "", namespace)
        if ns is not None and not self.store.namespace_population(namespace):
            self.store.remove(self._namespaces.storage_key, ns)

    def _namespaced_storage(self) -> list[ResourceType]:
        seen, types = set(), []
        for resource_type in self.registry.all():
            if resource_type.namespaced and resource_type.storage_key not in seen:
                seen.add(resource_type.storage_key)
                types.append(resource_type)
        return types
