"""The Gardener ManagedResource format (gardener-contract.md 4.3/4.4), checked against the real CRD."""

from __future__ import annotations

import base64
import hashlib

import jsonschema
import yaml

from controller import managedresource as mr
from tests.helpers import GARDENER_CRDS


def test_checksum_is_gardeners_sha256_of_per_key_sha256_hex():
    data = {"b.yaml": b"two", "a.yaml": b"one"}
    inner = hashlib.sha256(b"one").hexdigest() + hashlib.sha256(b"two").hexdigest()
    assert mr.data_checksum(data) == hashlib.sha256(inner.encode()).hexdigest()
    single = {"config.yaml": b"manifest"}
    expected = hashlib.sha256(hashlib.sha256(b"manifest").hexdigest().encode()).hexdigest()[:8]
    assert mr.secret_name("extension-networking-calico-config", single) == \
        f"managedresource-extension-networking-calico-config-{expected}"


def test_secret_format():
    secret = mr.build_secret("shoot--foo--bar", "extension-networking-calico-config", "---\nkind: X\n")
    assert secret["immutable"] is True and secret["type"] == "Opaque"
    assert secret["metadata"]["labels"] == {"resources.gardener.cloud/garbage-collectable-reference": "true"}
    assert list(secret["data"]) == ["config.yaml"]
    assert base64.b64decode(secret["data"]["config.yaml"]) == b"---\nkind: X\n"
    assert mr.secret_manifest(secret) == "---\nkind: X\n"
    other = mr.build_secret("shoot--foo--bar", "extension-networking-calico-config", "---\nkind: Y\n")
    assert other["metadata"]["name"] != secret["metadata"]["name"]


def test_managed_resource_format_and_reference_annotation():
    obj = mr.build_managed_resource("shoot--foo--bar", "extension-networking-calico-config",
                                    "extension-networking-calico", "managedresource-x-12345678")
    assert obj["metadata"]["labels"] == {"origin": "extension-networking-calico"}
    key = "reference.resources.gardener.cloud/secret-" + hashlib.sha256(b"managedresource-x-12345678").hexdigest()[:8]
    assert obj["metadata"]["annotations"] == {key: "managedresource-x-12345678"}
    assert obj["spec"] == {"secretRefs": [{"name": "managedresource-x-12345678"}],
                           "injectLabels": {"shoot.gardener.cloud/no-cleanup": "true"}, "keepObjects": False}
    assert "class" not in obj["spec"]


def test_managed_resource_is_valid_for_the_gardener_crd():
    crd = yaml.safe_load((GARDENER_CRDS / "10-crd-resources.gardener.cloud_managedresources.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    obj = mr.build_managed_resource("ns", "name", "origin", "secret")
    jsonschema.validate(obj, schema)
