"""Webhook configurations, built the way Gardener's extension library builds them (pure).

Called by `admission.command` (Validating/MutatingWebhookConfigurations in the garden cluster) and by
the reconciler (the cilium shoot's MutatingWebhookConfiguration inside a ManagedResource). Facts of
gardener `extensions/pkg/webhook/registration.go`: names `gardener-extension-<component>`, webhooks
`<name>.<component>.extensions.gardener.cloud`, CREATE and UPDATE, `matchPolicy: Exact`,
`sideEffects: None`, `timeoutSeconds: 10`, review versions v1 and v1beta1, the label that excludes
them from Gardener's webhook remediation; client config in `service` mode (a Service reference) or
`url` mode (`https://<url><path>`).
"""

from __future__ import annotations

import base64

import yaml

from controller.admission.shoots import type_label
from controller.files import SAFE_DUMPER
from controller.managedresource import build_secret, reference_annotation
from controller.mapping import TypeMapping

REMEDIATION_LABEL = "remediation.webhook.shoot.gardener.cloud/exclude"
VALIDATE_PATH, MUTATE_PATH, SHOOT_PATH = "/webhooks/validate", "/webhooks/mutate", "/shoot"
SERVICE, URL = "service", "url"


def client_config(path: str, ca_bundle: bytes, mode: str, namespace: str = "", service: str = "",
                  port: int = 443, url: str = "") -> dict:
    config: dict = {"caBundle": base64.b64encode(ca_bundle).decode()}
    if mode == URL:
        config["url"] = f"https://{url}{path}"
    else:
        config["service"] = {"namespace": namespace, "name": service, "path": path, "port": port}
    return config


def _webhook(name: str, client: dict, rules: list[dict], failure_policy: str = "Fail",
             object_selector: dict | None = None, namespace_selector: dict | None = None) -> dict:
    hook = {"name": name, "admissionReviewVersions": ["v1", "v1beta1"], "clientConfig": client,
            "failurePolicy": failure_policy, "matchPolicy": "Exact", "rules": rules,
            "sideEffects": "None", "timeoutSeconds": 10}
    if namespace_selector:
        hook["namespaceSelector"] = namespace_selector
    if object_selector:
        hook["objectSelector"] = object_selector
    return hook


def _configuration(kind: str, name: str, webhooks: list[dict]) -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
            "metadata": {"name": name, "labels": {REMEDIATION_LABEL: "true"}}, "webhooks": webhooks}


def _shoot_rule(api_version: str) -> list[dict]:
    return [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["core.gardener.cloud"],
             "apiVersions": [api_version], "resources": ["shoots"]}]


def admission_configurations(mappings: dict[str, TypeMapping], client_for) -> list[dict]:
    """Per served type, as the Go admission components register them: ValidatingWebhookConfiguration
    `gardener-extension-admission-<type>` (webhook `validator.admission-<type>...`, all Shoot versions
    since Go validates the internal version) and, for types with `admission.mutate`, the
    MutatingWebhookConfiguration of the same name (`mutator...`, v1beta1). `client_for(path)` gives the
    clientConfig; the objectSelector is the type's Shoot label. Same names as Go, so a garden switching
    to this server takes over the Go registrations instead of leaving them behind."""
    result = []
    for network_type, mapping in sorted(mappings.items()):
        component = f"admission-{network_type}"
        selector = {"matchLabels": {type_label(network_type): "true"}}
        result.append(_configuration("ValidatingWebhookConfiguration", f"gardener-extension-{component}", [
            _webhook(f"validator.{component}.extensions.gardener.cloud", client_for(VALIDATE_PATH),
                     _shoot_rule("*"), object_selector=selector)]))
        if mapping.admission.get("mutate"):
            result.append(_configuration("MutatingWebhookConfiguration", f"gardener-extension-{component}", [
                _webhook(f"mutator.{component}.extensions.gardener.cloud", client_for(MUTATE_PATH),
                         _shoot_rule("v1beta1"), object_selector=selector)]))
    return result


def shoot_webhook_configuration(mapping: TypeMapping, client: dict) -> dict:
    """The MutatingWebhookConfiguration of a mapping's `shootWebhook` section."""
    spec = mapping.shoot_webhook
    rules = [{"operations": ["CREATE", "UPDATE"], **rule} for rule in spec["rules"]]
    return _configuration("MutatingWebhookConfiguration", spec["configurationName"], [
        _webhook(spec["webhookName"], client, rules, spec["failurePolicy"], spec.get("objectSelector"),
                 spec.get("namespaceSelector"))])


def shoot_webhook_objects(mapping: TypeMapping, namespace: str, client: dict) -> tuple[dict, dict]:
    """Secret + ManagedResource shipping the shoot webhook, like Go's `managedresources.Create` without
    secret prefix, class, labels or keepObjects: Secret `<mr>-<hash8>` (immutable, garbage-collectable)."""
    name = mapping.shoot_webhook["managedResource"]
    manifest = yaml.dump(shoot_webhook_configuration(mapping, client), Dumper=SAFE_DUMPER, sort_keys=True)
    secret = build_secret(namespace, name, manifest, prefix="")
    secret_name = secret["metadata"]["name"]
    managed_resource = {
        "apiVersion": "resources.gardener.cloud/v1alpha1", "kind": "ManagedResource",
        "metadata": {"name": name, "namespace": namespace,
                     "annotations": {reference_annotation(secret_name): secret_name}},
        "spec": {"secretRefs": [{"name": secret_name}]},
    }
    return secret, managed_resource
