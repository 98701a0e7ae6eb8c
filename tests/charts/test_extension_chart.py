"""Chart tests of charts/gardener-extension-networking, the chart gardenlet deploys the controller with.

Facts checked come from gardener-contract.md section 6 (registration, chart conventions, injected
`gardener.*` values), calico.md 4.11 and cilium.md 4.10 (objects, RBAC). The rendered args must be
accepted by the real `gardener-extension-networking run` parser and the rendered ControllerConfiguration
by the real config loader, so chart and controller cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from controller import imagevector
from controller.cli import build_parser
from controller.config import load_config
from controller.errors import ConfigurationError
from controller.mapping import load_mappings
from controller.runtime.logs import JsonFormatter
from tests.helpers import (EXAMPLE, MAPPINGS, ROOT, container, env, find, manifests_with_helm3_and_helm4, names,
                           render_chart, validate_objects)

CHART = ROOT / "charts" / "gardener-extension-networking"
NAME = "gardener-extension-networking"
NAMESPACE = "extension-networking-x7k2p"
CLUSTER_ROLE = "extensions.gardener.cloud:networking:gardener-extension-networking"

DEFAULT_OBJECTS = {
    ("Deployment", NAME),
    ("ConfigMap", f"{NAME}-configmap"),
    ("ServiceAccount", NAME),
    ("ClusterRole", CLUSTER_ROLE),
    ("ClusterRoleBinding", CLUSTER_ROLE),
    ("Role", NAME),
    ("RoleBinding", NAME),
    ("Service", NAME),
    ("PodDisruptionBudget", NAME),
    ("VerticalPodAutoscaler", f"{NAME}-vpa"),
    ("ClusterParser", f"{NAME}-parser"),
    ("ClusterFilter", NAME),
    ("ClusterParser", "calico-node-parser"),
    ("ClusterFilter", "calico-node"),
}
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "ClusterParser", "ClusterFilter"}

# What gardenlet injects (gardener-contract.md 6), trimmed.
INJECTED = {"gardener": {
    "version": "1.120.0",
    "garden": {"clusterIdentity": "garden"},
    "gardenlet": {"featureGates": {"DefaultSeccompProfile": True}},
    "seed": {"name": "aws-eu1", "provider": "aws", "region": "eu-west-1", "spec": {"settings": {}}},
}}

IMAGE_VECTOR = """images:
- name: calico-node
  repository: registry.example.com/calico/node
  tag: v3.30.3
"""


def render(values: dict | None = None, kube_version: str = "1.32.0", release: str = "networking") -> list[dict]:
    return render_chart(CHART, values, kube_version, release, NAMESPACE)


def deployment(objects: list[dict]) -> dict:
    return find(objects, "Deployment", NAME)


def controller_container(objects: list[dict]) -> dict:
    return container(deployment(objects), NAME)


def run_args(objects: list[dict]):
    """The rendered command line, parsed by the controller's own `run` parser."""
    c = controller_container(objects)
    assert c["command"] == ["gardener-extension-networking", "run"]
    return build_parser().parse_args(["run", *c["args"]])


def config_document(objects: list[dict]) -> dict:
    return yaml.safe_load(find(objects, "ConfigMap", f"{NAME}-configmap")["data"]["config.yaml"])


def load_rendered_config(objects: list[dict], tmp_path: pathlib.Path, types: list[str]):
    path = tmp_path / "config.yaml"
    path.write_text(find(objects, "ConfigMap", f"{NAME}-configmap")["data"]["config.yaml"])
    return load_config(str(path), load_mappings(MAPPINGS, types))


@pytest.fixture(autouse=True)
def _no_image_overwrite(monkeypatch):
    monkeypatch.delenv("IMAGEVECTOR_OVERWRITE", raising=False)


# ------------------------------------------------------------------------------------- objects


def test_default_object_set():
    objects = render()
    assert {(o["kind"], o["metadata"]["name"]) for o in objects} == DEFAULT_OBJECTS
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["kind"]


def test_names_do_not_depend_on_the_release_name():
    """gardenlet uses the ControllerRegistration name as release name; object names stay fixed."""
    assert ({(o["kind"], o["metadata"]["name"]) for o in render(release="some-registration")}
            == DEFAULT_OBJECTS)


@pytest.mark.parametrize("kube_version", ["1.30.0", "1.34.0"])
@pytest.mark.parametrize("values", [{}, {"imageVectorOverwrite": IMAGE_VECTOR, "ignoreResources": True, **INJECTED}],
                         ids=["default", "everything"])
def test_objects_are_valid(kube_version, values):
    assert validate_objects(render(values, kube_version), kube_version) == []


def test_deployment_follows_gardener_conventions():
    objects = render()
    dep = deployment(objects)
    assert dep["metadata"]["labels"]["high-availability-config.resources.gardener.cloud/type"] == "controller"
    assert "annotations" not in dep["metadata"]
    assert dep["spec"]["replicas"] == 1
    assert dep["spec"]["strategy"] == {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "50%"}}
    pod = dep["spec"]["template"]
    assert pod["spec"]["priorityClassName"] == "gardener-system-900"
    assert pod["spec"]["serviceAccountName"] == NAME
    labels = pod["metadata"]["labels"]
    for key in ("networking.gardener.cloud/to-runtime-apiserver", "networking.gardener.cloud/to-dns",
                "networking.resources.gardener.cloud/to-all-shoots-kube-apiserver-tcp-443"):
        assert labels[key] == "allowed"
    assert set(dep["spec"]["selector"]["matchLabels"].items()) <= set(labels.items())
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == "8080"

    c = controller_container(objects)
    assert c["image"] == "registry.example.com/gardener/extensions/networking-controller:0.1.0"
    assert env(c) == {"LEADER_ELECTION_NAMESPACE": None}
    assert c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"metrics": 8080, "health": 8081, "webhook-server": 10250}
    assert c["livenessProbe"]["httpGet"]["port"] == c["readinessProbe"]["httpGet"]["port"] == "health"


def test_pod_is_hardened():
    objects = render()
    spec = deployment(objects)["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 65532
    sc = controller_container(objects)["securityContext"]
    assert sc == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                  "capabilities": {"drop": ["ALL"]}}
    # No automounted token; a projected bound token at the standard path instead.
    assert spec["automountServiceAccountToken"] is False
    assert find(objects, "ServiceAccount", NAME)["automountServiceAccountToken"] is False
    mounts = {m["mountPath"]: m["name"] for m in controller_container(objects)["volumeMounts"]}
    assert mounts["/var/run/secrets/kubernetes.io/serviceaccount"] == "kube-api-access"
    assert mounts["/tmp"] == "tmp"  # writable scratch space with a read-only root filesystem
    volumes = {v["name"]: v for v in spec["volumes"]}
    sources = volumes["kube-api-access"]["projected"]["sources"]
    assert sources[0]["serviceAccountToken"]["path"] == "token"
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"


def test_scraping_annotations_can_be_disabled():
    annotations = deployment(render({"metrics": {"enableScraping": False}}))["spec"]["template"]["metadata"]["annotations"]
    assert not any(key.startswith("prometheus.io/") for key in annotations)


# -------------------------------------------------------------------------------------- args


def test_default_args_are_accepted_by_the_run_parser():
    args = run_args(render())
    assert args.command == "run"
    assert args.types == "calico,cilium"
    assert args.max_concurrent_reconciles == 5
    assert args.heartbeat_namespace == NAMESPACE
    assert args.heartbeat_renew_interval_seconds == 30
    assert args.ignore_operation_annotation is False
    assert args.config_file == "/etc/gardener-extension-networking/config/config.yaml"
    assert args.leader_election is True
    assert args.leader_election_id == "networking-leader-election"
    assert args.metrics_bind_address == ":8080"
    assert args.health_bind_address == ":8081"
    assert args.gardener_version == ""  # not injected: the flag is left out


def test_configured_args_are_accepted_by_the_run_parser():
    objects = render({"types": ["cilium"], "controllers": {"concurrentSyncs": 12, "ignoreOperationAnnotation": True},
                      "heartbeat": {"renewIntervalSeconds": 10}, "leaderElection": {"id": "my-lease"},
                      "metricsPort": 9090, "healthPort": 9091, **INJECTED})
    args = run_args(objects)
    assert args.types == "cilium"
    assert args.max_concurrent_reconciles == 12
    assert args.ignore_operation_annotation is True
    assert args.heartbeat_renew_interval_seconds == 10
    assert args.leader_election_id == "my-lease"
    assert args.metrics_bind_address == ":9090"
    assert args.health_bind_address == ":9091"
    assert args.gardener_version == "1.120.0"
    c = controller_container(objects)
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"metrics": 9090, "health": 9091,
                                                                 "webhook-server": 10250}
    assert find(objects, "Service", NAME)["spec"]["ports"][0]["port"] == 9090
    # The leader election Lease named by the flag is the one RBAC allows to update.
    rules = find(objects, "Role", NAME)["rules"]
    lease_names = next(r["resourceNames"] for r in rules if r["resources"] == ["leases"] and "resourceNames" in r)
    assert set(lease_names) == {"my-lease", "gardener-extension-heartbeat"}


def test_every_rendered_flag_is_a_run_flag():
    """Each `--flag=` of the container is defined by controller/options.py (no silently ignored flags)."""
    run = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "run")[1]
    defined = {s for action in run._actions for s in action.option_strings}
    c = controller_container(render(INJECTED))
    assert {a.split("=", 1)[0] for a in c["args"]} <= defined


# --------------------------------------------------------------------------- configuration


def test_default_config_is_accepted_by_the_controller(tmp_path):
    objects = render()
    doc = config_document(objects)
    assert doc == {"apiVersion": "calico.networking.extensions.config.gardener.cloud/v1alpha1",
                   "kind": "ControllerConfiguration",
                   "clientConnection": {"acceptContentTypes": "application/json", "contentType": "application/json",
                                        "qps": 100, "burst": 130}}
    config = load_rendered_config(objects, tmp_path, ["calico", "cilium"])
    assert (config.qps, config.burst) == (100.0, 130)
    assert config.feature_gates == {}


def test_feature_gates_are_accepted_by_the_controller(tmp_path):
    objects = render({"config": {"featureGates": {"NonPrivilegedCalicoNode": True}}})
    config = load_rendered_config(objects, tmp_path, ["calico", "cilium"])
    assert config.feature_gates == {"NonPrivilegedCalicoNode": True}


def test_unknown_feature_gate_is_rejected_by_the_controller(tmp_path):
    objects = render({"config": {"featureGates": {"NoSuchGate": True}}})
    with pytest.raises(ConfigurationError, match="NoSuchGate"):
        load_rendered_config(objects, tmp_path, ["calico", "cilium"])


def test_config_api_version_follows_the_served_types(tmp_path):
    """Serving only cilium, the calico apiVersion would be unknown to the controller; the default follows."""
    objects = render({"types": ["cilium"]})
    assert config_document(objects)["apiVersion"] == "cilium.networking.extensions.config.gardener.cloud/v1alpha1"
    load_rendered_config(objects, tmp_path, ["cilium"])
    explicit = render({"config": {"apiVersion": "cilium.networking.extensions.config.gardener.cloud/v1alpha1"}})
    load_rendered_config(explicit, tmp_path, ["calico", "cilium"])


def test_config_change_rolls_the_pods():
    def checksum(values):
        return deployment(render(values))["spec"]["template"]["metadata"]["annotations"]["checksum/configmap"]
    assert checksum({}) != checksum({"config": {"clientConnection": {"qps": 50}}})


# ------------------------------------------------------------------------- optional objects


def test_image_vector_overwrite_adds_env_and_configmap():
    objects = render({"imageVectorOverwrite": IMAGE_VECTOR})
    assert (("ConfigMap", f"{NAME}-imagevector-overwrite")
            in {(o["kind"], o["metadata"]["name"]) for o in objects})
    c = controller_container(objects)
    assert env(c)["IMAGEVECTOR_OVERWRITE"] == "/charts_overwrite/images_overwrite.yaml"
    assert {"name": "imagevector-overwrite", "mountPath": "/charts_overwrite", "readOnly": True} in c["volumeMounts"]
    volumes = {v["name"]: v for v in deployment(objects)["spec"]["template"]["spec"]["volumes"]}
    assert volumes["imagevector-overwrite"]["configMap"]["name"] == f"{NAME}-imagevector-overwrite"
    data = find(objects, "ConfigMap", f"{NAME}-imagevector-overwrite")["data"]
    assert set(data) == {"images_overwrite.yaml"}


def test_image_vector_overwrite_is_read_by_the_controller(tmp_path):
    data = find(render({"imageVectorOverwrite": IMAGE_VECTOR}), "ConfigMap", f"{NAME}-imagevector-overwrite")["data"]
    path = tmp_path / "images_overwrite.yaml"
    path.write_text(data["images_overwrite.yaml"])
    assert imagevector.find(imagevector.load_overwrite(str(path)), "calico-node") == "registry.example.com/calico/node:v3.30.3"


def test_no_image_vector_overwrite_by_default():
    objects = render()
    assert f"{NAME}-imagevector-overwrite" not in names(objects, "ConfigMap")
    assert "IMAGEVECTOR_OVERWRITE" not in env(controller_container(objects))


def test_vpa_toggle():
    vpa = find(render(), "VerticalPodAutoscaler", f"{NAME}-vpa")
    assert vpa["apiVersion"] == "autoscaling.k8s.io/v1"
    assert vpa["spec"]["targetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME}
    assert vpa["spec"]["updatePolicy"]["updateMode"] == "InPlaceOrRecreate"
    policy = vpa["spec"]["resourcePolicy"]["containerPolicies"][0]
    assert policy["containerName"] == NAME
    assert policy["controlledValues"] == "RequestsOnly"
    assert not names(render({"vpa": {"enabled": False}}), "VerticalPodAutoscaler")


def test_vpa_defaults_are_the_go_charts():
    """gardener-extension-networking-calico/-cilium values.yaml + templates/vpa.yaml: update mode
    InPlaceOrRecreate, controlledValues RequestsOnly, no minAllowed/maxAllowed."""
    assert find(render(), "VerticalPodAutoscaler", f"{NAME}-vpa")["spec"] == {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
        "updatePolicy": {"updateMode": "InPlaceOrRecreate"},
        "resourcePolicy": {"containerPolicies": [{"containerName": NAME, "controlledValues": "RequestsOnly"}]},
    }


def test_vpa_resource_policy_is_configurable():
    vpa = find(render({"vpa": {"updatePolicy": {"updateMode": "Recreate"},
                               "resourcePolicy": {"controlledValues": "RequestsAndLimits",
                                                  "minAllowed": {"memory": "64Mi"},
                                                  "maxAllowed": {"cpu": 4, "memory": "10G"}}}}),
               "VerticalPodAutoscaler", f"{NAME}-vpa")
    assert vpa["spec"]["updatePolicy"] == {"updateMode": "Recreate"}
    assert vpa["spec"]["resourcePolicy"]["containerPolicies"] == [
        {"containerName": NAME, "controlledValues": "RequestsAndLimits", "minAllowed": {"memory": "64Mi"},
         "maxAllowed": {"cpu": 4, "memory": "10G"}}]
    empty = render({"vpa": {"resourcePolicy": {"controlledValues": ""}}})
    assert "resourcePolicy" not in find(empty, "VerticalPodAutoscaler", f"{NAME}-vpa")["spec"]


def test_ignore_resources_annotation():
    dep = deployment(render({"ignoreResources": True}))
    assert dep["metadata"]["annotations"] == {"resources.gardener.cloud/ignore": "true"}


def test_pdb():
    pdb = find(render(), "PodDisruptionBudget", NAME)
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert pdb["spec"]["selector"]["matchLabels"] == deployment(render())["spec"]["selector"]["matchLabels"]


def test_service():
    objects = render()
    svc = find(objects, "Service", NAME)
    assert svc["spec"]["selector"] == deployment(objects)["spec"]["selector"]["matchLabels"]
    assert svc["spec"]["ports"] == [{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"},
                                    {"name": "webhook-server", "port": 443, "targetPort": "webhook-server",
                                     "protocol": "TCP"}]
    allowed = svc["metadata"]["annotations"]["networking.resources.gardener.cloud/from-all-seed-scrape-targets-allowed-ports"]
    assert yaml.safe_load(allowed) == [{"protocol": "TCP", "port": 8080}]
    webhook = svc["metadata"]["annotations"]["networking.resources.gardener.cloud/from-all-webhook-targets-allowed-ports"]
    assert yaml.safe_load(webhook) == [{"protocol": "TCP", "port": 10250}]
    assert "trafficDistribution" not in svc["spec"]


@pytest.mark.parametrize("kube_version,expected", [("1.33.0", "PreferClose"), ("1.34.0", "PreferSameZone")])
def test_service_topology_aware_routing(kube_version, expected):
    values = {"gardener": {"seed": {"spec": {"settings": {"topologyAwareRouting": {"enabled": True}}}}}}
    assert find(render(values, kube_version), "Service", NAME)["spec"]["trafficDistribution"] == expected


# ------------------------------------------------------------------------------------ RBAC


def _granted(rules: list[dict]) -> set[tuple[str, str, str, str]]:
    return {(g, r, v, n) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]
            for v in rule["verbs"] for n in rule.get("resourceNames", ["*"])}


def test_rbac_grants_exactly_what_the_controller_calls():
    """Least privilege (calls proven on a real API server by tests/integration/test_extension_rbac.py):
    no list/watch/update of Secrets, no deletecollection, Leases only in the release namespace."""
    objects = render()
    ext, mon = "extensions.gardener.cloud", "monitoring.coreos.com"
    monitoring_names = ("shoot-calico-felix", "shoot-calico-typha", "shoot-calico-bird",
                        "shoot-cilium-agent", "shoot-cilium-hubble", "shoot-cilium-operator")
    assert _granted(find(objects, "ClusterRole", CLUSTER_ROLE)["rules"]) == {
        *{(ext, "clusters", v, "*") for v in ("get", "list", "watch")},
        *{(ext, "networks", v, "*") for v in ("get", "list", "watch", "patch")},
        (ext, "networks/status", "patch", "*"),
        *{("resources.gardener.cloud", "managedresources", v, "*") for v in ("get", "create", "update", "patch",
                                                                             "delete")},
        *{("", "namespaces", v, "*") for v in ("get", "list", "watch")},
        *{("", "secrets", v, "*") for v in ("get", "create", "patch", "delete")},
        *{("", "configmaps", v, "*") for v in ("get", "create", "update", "delete")},
        *{("", "events", v, "*") for v in ("get", "create", "patch")},
        *{(mon, r, "create", "*") for r in ("scrapeconfigs", "prometheusrules")},
        *{(mon, r, v, n) for r in ("scrapeconfigs", "prometheusrules") for v in ("get", "update", "delete")
          for n in monitoring_names},
    }
    role = find(objects, "Role", NAME)
    assert role["metadata"]["namespace"] == NAMESPACE
    assert _granted(role["rules"]) == {
        ("coordination.k8s.io", "leases", "create", "*"),
        *{("coordination.k8s.io", "leases", v, n) for v in ("get", "update")
          for n in ("networking-leader-election", "gardener-extension-heartbeat")},
        ("", "secrets", "update", "gardener-extension-networking-webhook-cert")}
    for kind, name in (("ClusterRoleBinding", CLUSTER_ROLE), ("RoleBinding", NAME)):
        binding = find(objects, kind, name)
        assert binding["roleRef"]["name"] == name
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]


def test_monitoring_object_names_in_rbac_match_the_monitoring_charts():
    """The named scrapeconfigs/prometheusrules are exactly those the monitoring charts render."""
    rules = find(render(), "ClusterRole", CLUSTER_ROLE)["rules"]
    named = next(set(r["resourceNames"]) for r in rules if "scrapeconfigs" in r["resources"] and "resourceNames" in r)
    rendered = set()
    for mapping in load_mappings(MAPPINGS).values():
        text = "\n".join(p.read_text() for p in (mapping.monitoring.chart / "templates").glob("*"))
        rendered |= set(re.findall(r"shoot-(?:calico|cilium)-[a-z]+", text))
        rendered |= {f"shoot-{mapping.type}-{c}" for c in re.findall(
            r'include "[^"]*" \(dict [^)]*"(?:component|name)" "([a-z]+)"', text)}
    assert rendered == named


# ---------------------------------------------------------------------------------- schema


@pytest.mark.parametrize("values", [
    {"types": ["flannel"]},
    {"types": []},
    {"replicas": 2},
    {"controllers": {"concurrentSyncs": 0}},
    {"metricsPort": "8080"},
    {"leaderElection": {"id": "Not A Name"}},
    {"config": {"featureGates": {"NonPrivilegedCalicoNode": "yes"}}},
    {"config": {"apiVersion": "v1"}},
    {"vpa": {"updatePolicy": {"updateMode": "Sometimes"}}},
    {"vpa": {"resourcePolicy": {"controlledValues": "LimitsOnly"}}},
    {"usablePorts": ["8080", "10250", "8081"]},
    {"usablePorts": [0, 10250, 8081]},
    {"logging": {"enable": False}},
    {"aNewTopLevelKey": True},
], ids=lambda v: str(v))
def test_schema_rejects_invalid_values(values):
    with pytest.raises(ConfigurationError):
        render(values)


def test_schema_accepts_injected_values():
    render({**INJECTED, "usablePorts": [8080, 10250, 8081]})
    render({"gardener": None})


# ------------------------------------------------------------------------- injected gardener values


@pytest.mark.parametrize("gardener", [
    {"seed": None},
    {"seed": {"spec": None}},
    {"seed": {"spec": {"settings": None}}},
    {"seed": {"spec": {"settings": {"topologyAwareRouting": None}}}},
    {"seed": {"spec": {"settings": "not a map"}}},
    {"seed": []},
    {"version": None, "garden": None, "gardenlet": None},
    {"selfHostedShootCluster": True, "shoot": {"name": "s", "spec": {"kubernetes": {"version": "1.33.0"}}}},
    {"runtimeCluster": {"enabled": True, "priorityClassName": "gardener-garden-system-200"}},
    {"aNewSection": {"deeply": {"nested": [{"unknown": {"keys": None}}]}}, "version": "1.140.0",
     "seed": {"spec": {"settings": {"topologyAwareRouting": {"enabled": False, "newField": 1}}, "newSpec": {}},
              "aNewSeedKey": "x"}, "gardenlet": {"featureGates": {"AFutureGate": True}, "newKey": {"a": 1}}},
], ids=lambda v: str(v))
def test_any_injected_gardener_value_renders(gardener):
    """gardenlet owns `gardener.*` and says the list may grow (a self-hosted shoot has no seed section):
    unknown keys at any depth, null or differently shaped sections never fail the install."""
    objects = render({"gardener": gardener})
    svc = find(objects, "Service", NAME)
    assert "trafficDistribution" not in svc["spec"]
    assert run_args(objects).gardener_version == (gardener.get("version") or "")


def test_only_the_gardener_section_is_open():
    """Every object in the schema refuses unknown keys, except under `gardener` (and free-form maps);
    the keys gardenlet is known to inject are described there (docs/extensions/registration.md)."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(schema["properties"]["gardener"]["properties"]) == {
        "version", "garden", "gardenlet", "seed", "shoot", "runtimeCluster", "selfHostedShootCluster"}

    def resolve(node):
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
        return node

    def walk(node, path):
        node = resolve(node)
        under_gardener = path[:1] == ["gardener"]
        if "object" in ([node.get("type")] if isinstance(node.get("type"), str) else node.get("type", [])):
            extra = node.get("additionalProperties", True)
            if under_gardener:
                assert extra is True, path
            elif "properties" in node:
                assert extra is False, path
            else:  # a map of user-chosen names, each value typed
                assert isinstance(extra, dict) and "type" in extra, path
        for key, child in node.get("properties", {}).items():
            walk(child, [*path, key])
        if isinstance(node.get("items"), dict):
            walk(node["items"], [*path, "[]"])

    walk(schema, [])


# ----------------------------------------------------------------------------------- ports


def ports_of(objects: list[dict]) -> dict:
    """Every place a port of the pod appears, by role."""
    c = controller_container(objects)
    args = run_args(objects)
    svc = find(objects, "Service", NAME)
    annotations = svc["metadata"]["annotations"]
    pod_annotations = deployment(objects)["spec"]["template"]["metadata"]["annotations"]
    return {
        "containerPorts": {p["name"]: p["containerPort"] for p in c["ports"]},
        "flags": {"metrics": args.metrics_bind_address, "health": args.health_bind_address,
                  "webhook-server": args.webhook_config_server_port},
        "service": {p["name"]: (p["port"], p["targetPort"]) for p in svc["spec"]["ports"]},
        "scrape": pod_annotations.get("prometheus.io/port"),
        "scrapeAllowed": yaml.safe_load(annotations[
            "networking.resources.gardener.cloud/from-all-seed-scrape-targets-allowed-ports"]),
        "webhookAllowed": yaml.safe_load(annotations.get(
            "networking.resources.gardener.cloud/from-all-webhook-targets-allowed-ports", "null")),
    }


def test_usable_ports_are_the_ports_the_pod_opens():
    """gardenadm injects free node ports (host network) as `usablePorts`; like the Go charts the pod
    takes metrics from [0], the webhook server from [1] and health from [2], everywhere."""
    objects = render({**INJECTED, "usablePorts": [31001, 31002, 31003, 31004, 31005],
                      "metricsPort": 9090, "healthPort": 9091})
    assert ports_of(objects) == {
        "containerPorts": {"metrics": 31001, "health": 31003, "webhook-server": 31002},
        "flags": {"metrics": ":31001", "health": ":31003", "webhook-server": 31002},
        "service": {"metrics": (31001, "metrics"), "webhook-server": (443, "webhook-server")},
        "scrape": "31001",
        "scrapeAllowed": [{"protocol": "TCP", "port": 31001}],
        "webhookAllowed": [{"protocol": "TCP", "port": 31002}],
    }
    assert validate_objects(objects, "1.32.0") == []


def test_without_usable_ports_the_configured_ports_are_used():
    for values in ({}, {"usablePorts": []}, {"usablePorts": None}):
        assert ports_of(render({**values, "metricsPort": 9090, "healthPort": 9091,
                                "webhookConfig": {"serverPort": 9443}}))["containerPorts"] == {
            "metrics": 9090, "health": 9091, "webhook-server": 9443}
    # The webhook port is not opened when the webhook is off, so it may equal another one.
    objects = render({"webhookConfig": {"enabled": False, "serverPort": 8080}})
    assert ports_of(objects)["containerPorts"] == {"metrics": 8080, "health": 8081}


@pytest.mark.parametrize("values,message", [
    ({"usablePorts": [31001, 31002]}, r"usablePorts has 2 entries, needs at least 3"),
    ({"usablePorts": [31001, 31001, 31003]}, r"ports must differ"),
    ({"metricsPort": 8081}, r"ports must differ"),
    ({"webhookConfig": {"serverPort": 8080}}, r"ports must differ"),
])
def test_unusable_ports_fail_the_render_with_a_message(values, message):
    with pytest.raises(ConfigurationError, match=message):
        render(values)


def test_port_clash_is_found_whatever_the_number_type():
    """`--set` gives int64 numbers, values files float64; a clash between the two is still one."""
    helm = os.environ.get("HELM_BINARY") or shutil.which("helm") or str(ROOT / ".venv" / "bin" / "helm")
    for flags in (["--set", "metricsPort=8081"], ["--set", "usablePorts={31001,31002,31001}"]):
        result = subprocess.run([helm, "template", "x", str(CHART), *flags], capture_output=True, text=True)
        assert result.returncode != 0 and "ports must differ" in result.stderr, (flags, result.stderr)


# ---------------------------------------------------------------------------------- logging


def _log_line() -> dict:
    """A line as the controller writes it (its JSON formatter)."""
    record = logging.LogRecord("controller.reconciler", logging.INFO, __file__, 1, "reconciled %s", ("bar",), None)
    return json.loads(JsonFormatter().format(record))


def test_logging_parser_and_filter_read_the_controller_json():
    """fluent-bit (Gardener's logging stack) picks up parsers and filters labelled fluentbit.gardener/type=seed;
    the parser reads the controller's JSON time field, the filter renames the fields Gardener's
    dashboards show (severity, source, log)."""
    objects = render()
    parser = find(objects, "ClusterParser", f"{NAME}-parser")
    log_filter = find(objects, "ClusterFilter", NAME)
    for obj in (parser, log_filter):
        assert obj["apiVersion"] == "fluentbit.fluent.io/v1alpha2"
        assert "namespace" not in obj["metadata"]
        assert obj["metadata"]["labels"]["fluentbit.gardener/type"] == "seed"
        assert obj["metadata"]["labels"]["fluentbit.gardener.cloud/type"] == "seed"
    line = _log_line()
    spec = parser["spec"]["json"]
    fraction = spec["timeFormat"].replace("%L", "%f")  # fluent-bit's %L: fractional seconds
    assert dt.datetime.strptime(line[spec["timeKey"]], fraction).tzinfo is not None
    # The filter matches the controller container's tag kubernetes.<pod>_<namespace>_<container>-<id>.
    pattern = "^" + re.escape(log_filter["spec"]["match"]).replace(r"\*", ".*") + "$"
    assert re.match(pattern, f"kubernetes.{NAME}-7d9f8b6c5-x2x7q_{NAMESPACE}_{NAME}-0123abcd")
    assert not re.match(pattern, f"kubernetes.calico-node-abcde_kube-system_calico-node-0123abcd")
    parse, modify = log_filter["spec"]["filters"]
    assert parse == {"parser": {"keyName": "log", "parser": f"{NAME}-parser", "reserveData": True}}
    renames = modify["modify"]["rules"][0]["rename"]
    assert renames == {"level": "severity", "msg": "log", "logger": "source"}
    assert set(renames) <= set(line)


def test_calico_node_log_parser():
    """Shipped (with the Go calico extension's names) only when calico is served."""
    objects = render()
    parser = find(objects, "ClusterParser", "calico-node-parser")["spec"]["regex"]
    regex = re.compile(parser["regex"].replace("(?<", "(?P<"))
    match = regex.match("2026-01-31 12:00:00.123 [INFO][42] felix/int_dataplane.go 1234: Applying dataplane updates")
    assert match.groupdict() == {"time": "2026-01-31 12:00:00.123", "severity": "INFO", "pid": "42",
                                 "source": "felix/int_dataplane.go 1234", "log": "Applying dataplane updates"}
    dt.datetime.strptime(match["time"], parser["timeFormat"].replace("%L", "%f"))
    assert parser["timeKey"] == "time"
    assert find(objects, "ClusterFilter", "calico-node")["spec"]["filters"] == [
        {"parser": {"keyName": "log", "parser": "calico-node-parser", "reserveData": True}}]
    cilium_only = render({"types": ["cilium"]})
    assert names(cilium_only, "ClusterParser") == {f"{NAME}-parser"}
    assert names(cilium_only, "ClusterFilter") == {NAME}


def test_logging_objects_can_be_switched_off():
    objects = render({"logging": {"enabled": False}})
    assert not names(objects, "ClusterParser") and not names(objects, "ClusterFilter")


def test_logging_object_names_follow_name_override():
    objects = render({"nameOverride": "networking-ext"})
    assert names(objects, "ClusterParser") == {"networking-ext-parser", "calico-node-parser"}
    match = find(objects, "ClusterFilter", "networking-ext")["spec"]["match"]
    assert match == "kubernetes.*networking-ext*networking-ext*"


# ----------------------------------------------------------------------------------- README


def _schema_paths() -> set[str]:
    """Every value the schema defines, as a dotted path (maps of user-chosen names are one value)."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    paths = set()

    def walk(node, path):
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
        if path:
            paths.add(".".join(path))
        for key, child in node.get("properties", {}).items():
            walk(child, [*path, key])

    walk(schema, [])
    return paths


def _values_paths(node, path=()) -> set[str]:
    """Every dotted key path of values.yaml."""
    paths = set()
    for key, child in (node.items() if isinstance(node, dict) else ()):
        paths |= {".".join((*path, key))} | _values_paths(child, (*path, key))
    return paths


def test_readme_documents_every_value():
    """charts/gardener-extension-networking/README.md has one table row per value of the schema, and
    the schema covers every value of values.yaml (down to maps of user-chosen names)."""
    readme = (CHART / "README.md").read_text()
    rows = set(re.findall(r"^\| `([^`]+)` \|", readme, re.M))
    schema = _schema_paths()
    parents = {p for p in schema if any(q.startswith(p + ".") for q in schema)}
    assert rows == schema - (parents - {"gardener"})
    leaves = schema - parents
    for path in _values_paths(yaml.safe_load((CHART / "values.yaml").read_text())):
        assert path in schema or any(path.startswith(leaf + ".") for leaf in leaves), path


def test_readme_explains_usable_ports_vpa_and_logging():
    readme = (CHART / "README.md").read_text()
    for heading in ("## Ports and `usablePorts`", "## VPA", "## Injected values", "## Logging"):
        assert heading in readme
    assert "charts/gardener-extension-networking/README.md" in (ROOT / "README.md").read_text()


# ---------------------------------------------------------------------------------- example


def test_example_controller_registration_renders_and_configures(tmp_path):
    docs = list(yaml.safe_load_all((EXAMPLE / "controller-registration.yaml").read_text()))
    deployment_doc = next(d for d in docs if d["kind"] == "ControllerDeployment")
    registration = next(d for d in docs if d["kind"] == "ControllerRegistration")
    assert deployment_doc["apiVersion"] == "core.gardener.cloud/v1"
    assert deployment_doc["helm"]["ociRepository"]["ref"] == "registry.example.com/gardener/extensions/networking:v0.1.0"
    assert registration["apiVersion"] == "core.gardener.cloud/v1beta1"
    assert registration["metadata"]["annotations"]["security.gardener.cloud/pod-security-enforce"] == "baseline"
    assert registration["spec"]["deployment"]["deploymentRefs"] == [{"name": deployment_doc["metadata"]["name"]}]
    assert registration["spec"]["resources"] == [{"kind": "Network", "type": "calico"},
                                                 {"kind": "Network", "type": "cilium"}]
    # gardenlet: release name = registration name, values = helm.values + injected gardener values.
    values = {**deployment_doc["helm"]["values"], **INJECTED}
    objects = render_chart(CHART, values, "1.32.0", registration["metadata"]["name"], NAMESPACE)
    served = {r["type"] for r in registration["spec"]["resources"]}
    assert set(run_args(objects).types.split(",")) == served
    load_rendered_config(objects, tmp_path, sorted(served))


# ------------------------------------------------------------------------------- helm 3 == 4


def test_renders_identically_with_helm3_and_helm4():
    values = {"imageVectorOverwrite": IMAGE_VECTOR, "ignoreResources": True, **INJECTED,
              "usablePorts": [31001, 31002, 31003, 31004, 31005]}
    helm4, helm3 = manifests_with_helm3_and_helm4(CHART, values, "networking", NAMESPACE)
    assert helm4 == helm3


def test_chart_lints():
    helm = shutil.which("helm") or str(ROOT / ".venv" / "bin" / "helm")
    result = subprocess.run([helm, "lint", "--strict", str(CHART)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------- image


def test_dockerfile_copies_what_the_controller_reads():
    """Every COPY source exists and is not excluded by .dockerignore (allow-list style)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    allowed = [line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")]
    sources = []
    for line in dockerfile.splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not any(p.startswith("--from") for p in parts):
            sources += parts[1:-1]
    assert {"charts/internal", "values-mapping", "controller", "constraints.txt", "hack/build-binaries.sh",
            "hack/tools/helm"} <= {s.rstrip("/") for s in sources}
    for source in sources:
        source = source.rstrip("/")
        assert (ROOT / source).exists(), source
        assert any(source == a or source.startswith(a + "/") for a in allowed), source
    # The mapping files find their charts as ../charts/internal/<type>.
    for mapping in load_mappings(MAPPINGS).values():
        assert mapping.chart.relative_to(ROOT).parts[:2] == ("charts", "internal")
    assert 'ENTRYPOINT ["gardener-extension-networking"]' in dockerfile
    assert "USER 65532" in dockerfile


# ------------------------------------------------------------------------------- shoot webhook


def test_shoot_webhook_flags_point_the_shoots_at_the_service():
    """The controller serves /shoot on the webhook port; the URL it ships into cilium shoots is this
    Service (443 -> webhook-server) in the release namespace, and its certificate Secret is the one the
    Role lets it replace."""
    objects = render()
    args = run_args(objects)
    assert args.webhook_config_server_port == 10250
    assert args.webhook_config_namespace == NAMESPACE
    assert args.webhook_config_service_name == find(objects, "Service", NAME)["metadata"]["name"] == NAME
    assert args.webhook_config_service_port == 443
    assert args.webhook_config_mode == "service"
    secret = args.webhook_cert_secret or f"{args.webhook_config_service_name}-webhook-cert"
    assert ("", "secrets", "update", secret) in _granted(find(objects, "Role", NAME)["rules"])


def test_shoot_webhook_can_be_switched_off():
    objects = render({"webhookConfig": {"enabled": False}})
    args = run_args(objects)
    assert args.webhook_config_server_port == 0
    assert [p["name"] for p in find(objects, "Service", NAME)["spec"]["ports"]] == ["metrics"]
    assert [p["name"] for p in controller_container(objects)["ports"]] == ["metrics", "health"]
    assert not any(r["resources"] == ["secrets"] for r in find(objects, "Role", NAME)["rules"])
