"""Webhook configurations with Gardener's names and settings (extensions/pkg/webhook/registration.go),
and the cilium shoot webhook ManagedResource (cilium.md 4.9)."""

from __future__ import annotations

import base64

import yaml

from controller.managedresource import DATA_KEY
from controller.mapping import load_mappings
from controller.webhooks import registration
from tests.helpers import MAPPINGS

MAPPINGS_BY_TYPE = load_mappings(MAPPINGS)


def service_client(path: str) -> dict:
    return registration.client_config(path, b"CA", "service", "garden", "gardener-extension-admission-networking", 443)


def test_admission_configurations_per_type_with_go_names():
    configs = registration.admission_configurations(MAPPINGS_BY_TYPE, service_client)
    assert [(c["kind"], c["metadata"]["name"]) for c in configs] == [
        ("ValidatingWebhookConfiguration", "gardener-extension-admission-calico"),
        ("ValidatingWebhookConfiguration", "gardener-extension-admission-cilium"),
        ("MutatingWebhookConfiguration", "gardener-extension-admission-cilium"),
    ]
    validator = configs[1]["webhooks"][0]
    assert configs[1]["metadata"]["labels"] == {"remediation.webhook.shoot.gardener.cloud/exclude": "true"}
    assert validator == {
        "name": "validator.admission-cilium.extensions.gardener.cloud",
        "admissionReviewVersions": ["v1", "v1beta1"],
        "clientConfig": {"caBundle": base64.b64encode(b"CA").decode(),
                         "service": {"namespace": "garden", "name": "gardener-extension-admission-networking",
                                     "path": "/webhooks/validate", "port": 443}},
        "failurePolicy": "Fail", "matchPolicy": "Exact",
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["core.gardener.cloud"], "apiVersions": ["*"],
                   "resources": ["shoots"]}],
        "sideEffects": "None", "timeoutSeconds": 10,
        "objectSelector": {"matchLabels": {"networking.extensions.gardener.cloud/cilium": "true"}},
    }
    mutator = configs[2]["webhooks"][0]
    assert mutator["name"] == "mutator.admission-cilium.extensions.gardener.cloud"
    assert mutator["clientConfig"]["service"]["path"] == "/webhooks/mutate"
    assert mutator["rules"][0]["apiVersions"] == ["v1beta1"]


def test_url_mode():
    config = registration.client_config("/webhooks/validate", b"CA", "url", url="admission.example.com:8443")
    assert config == {"caBundle": "Q0E=", "url": "https://admission.example.com:8443/webhooks/validate"}


def test_cilium_shoot_webhook_managed_resource():
    client = registration.client_config("/shoot", b"CA", "url",
                                        url="gardener-extension-networking.extension-networking-x:443")
    secret, mr = registration.shoot_webhook_objects(MAPPINGS_BY_TYPE["cilium"], "shoot--foo--bar", client)
    assert mr["metadata"]["name"] == "extension-cilium-shoot-webhooks"
    assert mr["spec"] == {"secretRefs": [{"name": secret["metadata"]["name"]}]}
    assert secret["metadata"]["name"].startswith("extension-cilium-shoot-webhooks-")
    assert secret["immutable"] is True
    config = yaml.safe_load(base64.b64decode(secret["data"][DATA_KEY]))
    assert config["kind"] == "MutatingWebhookConfiguration"
    assert config["metadata"]["name"] == "gardener-extension-networking-cilium-shoot"
    [hook] = config["webhooks"]
    assert hook["name"] == "shoot.networking-cilium.extensions.gardener.cloud"
    assert hook["failurePolicy"] == "Fail"
    assert hook["clientConfig"]["url"] == "https://gardener-extension-networking.extension-networking-x:443/shoot"
    assert hook["objectSelector"] == {"matchLabels": {"k8s-app": "node-local-dns"}}
    assert hook["namespaceSelector"] == {"matchExpressions": [
        {"key": "gardener.cloud/purpose", "operator": "In", "values": ["kube-system"]}]}
    assert hook["rules"] == [
        {"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]},
        {"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["daemonsets"]}]


def test_calico_has_no_shoot_webhook():
    assert MAPPINGS_BY_TYPE["calico"].shoot_webhook is None
