"""Chart tests of charts/gardener-extension-admission-networking (`gardener-extension-networking
admission`), after the Go admission charts (calico.md 4.11, cilium.md 4.8): Deployment with the
webhook, metrics and health ports, Service 443 -> webhook port, ServiceAccount, least-privilege RBAC,
PDB and VPA. The rendered args must be accepted by the real `admission` parser and name the objects the
chart grants rights on, so chart and program cannot drift apart."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from controller.cli import build_parser
from controller.errors import ConfigurationError
from tests.helpers import ROOT, container, find, manifests_with_helm3_and_helm4, render_chart, validate_objects

CHART = ROOT / "charts" / "gardener-extension-admission-networking"
NAME = "gardener-extension-admission-networking"
NAMESPACE = "garden"
CLUSTER_ROLE = f"extensions.gardener.cloud:admission:{NAME}"


def render(values: dict | None = None, kube_version: str = "1.32.0") -> list[dict]:
    return render_chart(CHART, values, kube_version, "admission-networking", NAMESPACE)


def admission_args(objects: list[dict]):
    c = container(find(objects, "Deployment", NAME), NAME)
    assert c["command"] == ["gardener-extension-networking", "admission"]
    return build_parser().parse_args(["admission", *c["args"]])


def kinds_and_names(objects: list[dict]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


def _granted(rules: list[dict]) -> set[tuple[str, str, str, str]]:
    return {(g, r, v, n) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]
            for v in rule["verbs"] for n in rule.get("resourceNames", ["*"])}


def test_default_object_set():
    assert kinds_and_names(render()) == {
        ("Deployment", NAME), ("Service", NAME), ("ServiceAccount", NAME), ("ClusterRole", CLUSTER_ROLE),
        ("ClusterRoleBinding", CLUSTER_ROLE), ("Role", NAME), ("RoleBinding", NAME),
        ("PodDisruptionBudget", NAME), ("VerticalPodAutoscaler", f"{NAME}-vpa")}


@pytest.mark.parametrize("values", [{}, {"kubeconfig": "apiVersion: v1\nkind: Config\n", "vpa": {"enabled": False},
                                         "gardener": {"virtualCluster": {"enabled": True}}}])
def test_objects_are_valid(values):
    validate_objects(render(values), "1.32.0")


def test_args_are_accepted_by_the_admission_parser():
    args = admission_args(render())
    assert args.types == "calico,cilium"
    assert args.webhook_config_server_port == 10250
    assert args.webhook_config_mode == "service"
    assert args.webhook_config_namespace == NAMESPACE
    assert args.webhook_config_service_name == NAME
    assert args.webhook_config_service_port == 443
    assert args.webhook_cert_secret == f"{NAME}-webhook-cert"
    assert args.metrics_bind_address == ":8080" and args.health_bind_address == ":8081"
    assert args.kubeconfig == ""  # in-cluster


def test_virtual_garden_uses_url_mode_and_the_kubeconfig_secret():
    objects = render({"gardener": {"virtualCluster": {"enabled": True}}, "kubeconfig": "apiVersion: v1\nkind: Config\n"})
    args = admission_args(objects)
    assert args.webhook_config_mode == "url"
    assert args.webhook_config_url == f"{NAME}.{NAMESPACE}"
    assert args.kubeconfig == "/etc/gardener-extension-admission-networking/kubeconfig/kubeconfig"
    pod = find(objects, "Deployment", NAME)["spec"]["template"]
    assert pod["spec"]["volumes"][1]["secret"]["secretName"] == f"{NAME}-kubeconfig"
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert pod["metadata"]["labels"]["networking.resources.gardener.cloud/to-virtual-garden-kube-apiserver-tcp-443"] \
        == "allowed"
    assert "checksum/secret-kubeconfig" in pod["metadata"]["annotations"]
    assert find(objects, "Secret", f"{NAME}-kubeconfig")["type"] == "Opaque"


def test_explicit_url_mode():
    args = admission_args(render({"webhookConfig": {"mode": "url", "url": "admission.example.com:8443"}}))
    assert (args.webhook_config_mode, args.webhook_config_url) == ("url", "admission.example.com:8443")


def test_service_sends_443_to_the_webhook_port():
    objects = render({"webhookConfig": {"serverPort": 9443}})
    svc = find(objects, "Service", NAME)
    assert svc["spec"]["ports"] == [{"name": "webhook-server", "port": 443, "targetPort": "webhook-server",
                                     "protocol": "TCP"}]
    assert svc["spec"]["selector"] == find(objects, "Deployment", NAME)["spec"]["selector"]["matchLabels"]
    c = container(find(objects, "Deployment", NAME), NAME)
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"webhook-server": 9443, "metrics": 8080,
                                                                   "health": 8081}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health", "scheme": "HTTP"}
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_pod_is_hardened():
    pod = find(render(), "Deployment", NAME)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    c = pod["containers"][0]
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}


def test_rbac_grants_exactly_what_admission_calls():
    """Least privilege (proven on a real API server by tests/admission/test_admission_rbac.py): no
    Shoots, no list/watch, the webhook configurations and the certificate Secret by name."""
    objects = render({"types": ["cilium"]})
    reg = "admissionregistration.k8s.io"
    kinds = ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")
    assert _granted(find(objects, "ClusterRole", CLUSTER_ROLE)["rules"]) == {
        *{(reg, k, "create", "*") for k in kinds},
        *{(reg, k, v, "gardener-extension-admission-cilium") for k in kinds for v in ("get", "update")}}
    role = find(objects, "Role", NAME)
    args = admission_args(objects)
    assert _granted(role["rules"]) == {("", "secrets", "create", "*"),
                                       ("", "secrets", "get", args.webhook_cert_secret),
                                       ("", "secrets", "update", args.webhook_cert_secret)}
    for kind, name in (("ClusterRoleBinding", CLUSTER_ROLE), ("RoleBinding", NAME)):
        binding = find(objects, kind, name)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]


def test_rbac_can_be_left_out():
    assert not {k for k, _ in kinds_and_names(render({"rbac": {"create": False}}))} & {"Role", "ClusterRole"}


@pytest.mark.parametrize("kube_version,expected", [("1.33.0", "PreferClose"), ("1.34.0", "PreferSameZone")])
def test_topology_aware_routing(kube_version, expected):
    svc = find(render({"service": {"topologyAwareRouting": {"enabled": True}}}, kube_version), "Service", NAME)
    assert svc["spec"]["trafficDistribution"] == expected


@pytest.mark.parametrize("values", [
    {"types": ["flannel"]}, {"webhookConfig": {"mode": "ingress"}}, {"webhookConfig": {"serverPort": 0}},
    {"webhookConfig": {"url": "https://x/"}}, {"replicas": 2}, {"vpa": {"updatePolicy": {"updateMode": "x"}}},
    {"webhookConfig": {"certCheckIntervalSeconds": 1}},
], ids=str)
def test_schema_rejects_invalid_values(values):
    with pytest.raises(ConfigurationError):
        render(values)


def test_every_rendered_flag_is_an_admission_flag():
    parser = next(c for n, c in build_parser()._subparsers._group_actions[0].choices.items() if n == "admission")
    defined = {s for action in parser._actions for s in action.option_strings}
    c = container(find(render({"kubeconfig": "x", "gardener": {"virtualCluster": {"enabled": True}}}), "Deployment",
                       NAME), NAME)
    assert {a.split("=", 1)[0] for a in c["args"]} <= defined


def test_renders_identically_with_helm3_and_helm4():
    helm4, helm3 = manifests_with_helm3_and_helm4(CHART, {"kubeconfig": "x"}, "admission-networking", NAMESPACE)
    assert helm4 == helm3


def test_chart_lints():
    helm = shutil.which("helm") or str(ROOT / ".venv" / "bin" / "helm")
    result = subprocess.run([helm, "lint", "--strict", str(CHART)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
