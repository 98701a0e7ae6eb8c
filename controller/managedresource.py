"""Package rendered manifests in Gardener's ManagedResource format (gardener-contract.md section 4).

Pure builders, called by `pipeline` (desired objects) and by `createforshoot` (which applies them): an
immutable Secret `managedresource-<mr>-<hash8>` with key `config.yaml` and the garbage-collectable
label, and a class-less ManagedResource with origin label, injectLabels, keepObjects and the
reference annotation, byte-for-byte the names Gardener's `CreateForShoot` produces.
"""

from __future__ import annotations

import base64
import copy
import hashlib

GC_LABEL = "resources.gardener.cloud/garbage-collectable-reference"
REFERENCE_PREFIX = "reference.resources.gardener.cloud/"
NO_CLEANUP_LABEL = "shoot.gardener.cloud/no-cleanup"
DATA_KEY = "config.yaml"


def data_checksum(data: dict[str, bytes]) -> str:
    """Gardener's `utils.ComputeSecretChecksum`: sha256 over the sha256 hex digests of the sorted keys."""
    joined = "".join(hashlib.sha256(data[key]).hexdigest() for key in sorted(data))
    return hashlib.sha256(joined.encode()).hexdigest()


def secret_name(mr_name: str, data: dict[str, bytes], prefix: str = "managedresource-") -> str:
    return f"{prefix}{mr_name}-{data_checksum(data)[:8]}"


def reference_annotation(secret: str) -> str:
    return f"{REFERENCE_PREFIX}secret-{hashlib.sha256(secret.encode()).hexdigest()[:8]}"


def build_secret(namespace: str, mr_name: str, manifest: str, prefix: str = "managedresource-") -> dict:
    """`prefix=""` gives the names of Gardener's `managedresources.Create(..., secretNameWithPrefix=false)`."""
    data = {DATA_KEY: manifest.encode()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(mr_name, data, prefix),
            "namespace": namespace,
            "labels": {GC_LABEL: "true"},
        },
        "type": "Opaque",
        "immutable": True,
        "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
    }


def build_managed_resource(namespace: str, name: str, origin: str, secret: str, keep_objects: bool = False) -> dict:
    return {
        "apiVersion": "resources.gardener.cloud/v1alpha1",
        "kind": "ManagedResource",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"origin": origin},
            "annotations": {reference_annotation(secret): secret},
        },
        "spec": {
            "secretRefs": [{"name": secret}],
            "injectLabels": {NO_CLEANUP_LABEL: "true"},
            "keepObjects": keep_objects,
        },
    }


def secret_manifest(secret: dict) -> str:
    """The manifests a Secret built here carries (what `render --manifests` prints)."""
    return base64.b64decode(secret["data"][DATA_KEY]).decode()


def merge_managed_resource(current: dict, desired: dict) -> dict:
    """The MR as `CreateForShoot` leaves it: labels merged, spec replaced, reference annotations replaced."""
    updated = copy.deepcopy(current)
    meta = updated.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), **(desired["metadata"].get("labels") or {})}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if not k.startswith(REFERENCE_PREFIX)}
    annotations.update(desired["metadata"].get("annotations") or {})
    meta["annotations"] = annotations
    updated["spec"] = copy.deepcopy(desired["spec"])
    return updated
