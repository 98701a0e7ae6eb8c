"""Behaviour facts of the Go Calico extension's shoot objects that a switched seed must keep (issue 8).

Each test states, as literals, what gardener-extension-networking-calico deploys for a configuration (its
charts/internal/calico rendered with the values its Go code computes) and checks the objects this project
renders through the real pipeline (mapping file + chart + helm). Immutable fields, RBAC, pod and container
settings, host scripts (run against fake iptables/ip binaries), ConfigMap data, IPPools and CRD pruning. A
chart edit that changes one of these facts fails here; deliberate differences are listed in README.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import subprocess

import jsonschema
import pytest

from controller import pipeline
from controller.config import ControllerConfig
from controller.mapping import load_mapping
from tests.factories import network, shoot
from tests.helpers import MAPPINGS, container, env, find, renderer

MAPPING = load_mapping(MAPPINGS / "calico.yaml")
POD_CIDR = "10.244.0.0/16"
NODE_CIDR = "10.250.0.0/16"

EGRESS_LABELS = {"networking.gardener.cloud/to-public-networks": "allowed",
                 "networking.gardener.cloud/to-apiserver": "allowed",
                 "networking.gardener.cloud/to-dns": "allowed"}
SECCOMP = {"seccompProfile": {"type": "RuntimeDefault"}}


def render(provider_config: dict | None = None, *, shoot_obj: dict | None = None, gates: dict | None = None,
           **network_kwargs) -> list[dict]:
    net = network(provider_config, **network_kwargs)
    desired = asyncio.run(pipeline.desired_state(renderer(), MAPPING, net, shoot_obj or shoot(),
                                                 ControllerConfig(feature_gates=gates or {})))
    return desired.rendered.objects


@pytest.fixture(scope="module")
def default() -> list[dict]:
    return render()


@pytest.fixture(scope="module")
def no_overlay() -> list[dict]:
    return render({"overlay": {"enabled": False}})


def get(objects: list[dict], kind: str, name: str) -> dict:
    obj = find(objects, kind, name)
    assert obj is not None, f"{kind}/{name} missing"
    return obj


def pod(owner: dict) -> dict:
    return owner["spec"]["template"]["spec"]


def rule_set(role: dict) -> dict[str, dict[str, set[str]]]:
    """RBAC rules as apiGroup -> resource -> verbs (resourceNames appended as resource#name)."""
    result: dict[str, dict[str, set[str]]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for name in rule.get("resourceNames") or [None]:
                    key = f"{resource}#{name}" if name else resource
                    result.setdefault(group, {}).setdefault(key, set()).update(rule["verbs"])
    return result


def verbs(spec: dict[str, dict[str, str]]) -> dict[str, dict[str, set[str]]]:
    return {group: {res: set(v.split()) for res, v in resources.items()} for group, resources in spec.items()}


# ------------------------------------------------------------------------------------------ immutable fields

WORKLOAD_SELECTORS = {
    ("DaemonSet", "calico-node"): {"k8s-app": "calico-node"},
    ("Deployment", "calico-typha-deploy"): {"k8s-app": "calico-typha"},
    ("Deployment", "calico-kube-controllers"): {"k8s-app": "calico-kube-controllers"},
    ("Deployment", "calico-node-vertical-autoscaler"): {"k8s-app": "calico-node-autoscaler"},
    ("Deployment", "calico-typha-horizontal-autoscaler"): {"k8s-app": "calico-typha-horizontal-autoscaler"},
    ("Deployment", "calico-typha-vertical-autoscaler"): {"k8s-app": "calico-typha-vertical-autoscaler"},
}


def test_workload_selectors_are_gos(default):
    """Selectors are immutable: a different one makes the resource manager's update fail."""
    for (kind, name), selector in WORKLOAD_SELECTORS.items():
        obj = get(default, kind, name)
        assert obj["spec"]["selector"] == {"matchLabels": selector}, name
        assert selector.items() <= obj["spec"]["template"]["metadata"]["labels"].items(), name
        assert obj["metadata"]["labels"]["k8s-app"] == selector["k8s-app"], name


def test_multus_selector_is_gos():
    ds = get(render({"multus": {"enabled": True}}), "DaemonSet", "multus")
    assert ds["spec"]["selector"] == {"matchLabels": {"k8s-app": "multus"}}
    assert ds["metadata"]["labels"] == {"k8s-app": "multus", "gardener.cloud/role": "system-component",
                                        "node.gardener.cloud/critical-component": "true"}


def test_services_are_cluster_ip():
    """spec.clusterIP is immutable: a headless Service (clusterIP None) cannot replace Go's ClusterIP one."""
    objects = render({"birdExporter": {"enabled": True}})
    for name, port, selector in (("calico-felix-monitoring", 9091, "calico-node"),
                                 ("calico-typha-monitoring", 9093, "calico-typha"),
                                 ("calico-bird-monitoring", 9094, "calico-node")):
        svc = get(objects, "Service", name)
        assert "clusterIP" not in svc["spec"] and "type" not in svc["spec"], name
        assert svc["spec"]["selector"] == {"k8s-app": selector}, name
        assert svc["spec"]["ports"] == [{"port": port, "targetPort": port}], name
        assert "labels" not in svc["metadata"], name
    svc = get(objects, "Service", "calico-typha")
    assert "clusterIP" not in svc["spec"] and "type" not in svc["spec"]
    assert svc["spec"]["ports"] == [{"name": "calico-typha", "port": 5473, "targetPort": "calico-typha",
                                     "protocol": "TCP"}]


# ------------------------------------------------------------------------------------------ service accounts

SERVICE_ACCOUNTS = ["calico-node", "calico-cni-plugin", "calico-typha", "calico-kube-controllers",
                    "calico-node-cpva", "typha-cpha", "typha-cpva"]


def test_service_accounts_do_not_automount_tokens(default):
    """Go sets automountServiceAccountToken false so Gardener's resource manager projects the token."""
    for name in SERVICE_ACCOUNTS:
        assert get(default, "ServiceAccount", name)["automountServiceAccountToken"] is False, name
    multus = render({"multus": {"enabled": True}})
    assert get(multus, "ServiceAccount", "multus")["automountServiceAccountToken"] is False
    for owner in default + multus:
        if owner["kind"] in ("DaemonSet", "Deployment"):
            assert "automountServiceAccountToken" not in pod(owner), owner["metadata"]["name"]


# ------------------------------------------------------------------------------------------ RBAC

CRUD = "get list create update delete watch"
KUBE_CONTROLLERS_RULES = {
    "": {"nodes": "watch list get", "pods": "get list watch", "namespaces": "get list watch",
         "services": "get list update watch", "services/status": "get list update watch"},
    "crd.projectcalico.org": {
        "ipreservations": "list", "blockaffinities": CRUD, "ipamblocks": CRUD, "ipamhandles": CRUD,
        "ipamconfigs": CRUD, "tiers": CRUD, "ippools": "list watch", "hostendpoints": CRUD,
        "clusterinformations": "get list create update watch",
        "kubecontrollersconfigurations": "get list create update watch"},
}
READ = "get list watch"
CALICO_NODE_RULES = {
    "": {"pods": READ, "nodes": READ, "namespaces": READ, "endpoints": READ, "services": READ,
         "configmaps": "get", "nodes/status": "patch update", "pods/status": "patch",
         "serviceaccounts": "list watch", "serviceaccounts/token#calico-cni-plugin": "create"},
    "apps": {"daemonsets": "get"},
    "discovery.k8s.io": {"endpointslices": "list watch"},
    "networking.k8s.io": {"networkpolicies": "list watch"},
    "policy.networking.k8s.io": {"adminnetworkpolicies": "list watch", "baselineadminnetworkpolicies": "list watch"},
    "crd.projectcalico.org": {
        "globalfelixconfigs": READ, "globalbgpconfigs": READ, "bgpfilters": READ, "globalnetworkpolicies": READ,
        "stagedglobalnetworkpolicies": READ, "networkpolicies": READ, "stagednetworkpolicies": READ,
        "stagedkubernetesnetworkpolicies": READ, "globalnetworksets": READ, "networksets": READ,
        "hostendpoints": READ, "ipreservations": READ,
        "tiers": "get list watch create",
        "caliconodestatuses": "get list watch update",
        "bgpconfigurations": "get list watch create update", "bgppeers": "get list watch create update",
        "ippools": "get list watch create update", "felixconfigurations": "get list watch create update",
        "clusterinformations": "get list watch create update",
        "blockaffinities": CRUD, "ipamblocks": CRUD, "ipamhandles": "get list create update delete",
        "ipamconfigs": "get create"},
}
CNI_PLUGIN_RULES = {
    "": {"pods": "get", "nodes": "get", "namespaces": "get", "pods/status": "patch"},
    "crd.projectcalico.org": {r: "get list create update delete" for r in (
        "blockaffinities", "ipamblocks", "ipamhandles", "clusterinformations", "ippools", "ipreservations",
        "ipamconfigs")},
}
AUTOSCALER_RULES = {
    ("ClusterRole", "calico-node-cpva"): {"": {"nodes": "list"},
                                          "apps": {"deployments": "patch", "daemonsets": "patch"},
                                          "extensions": {"deployments": "patch", "daemonsets": "patch"}},
    ("ClusterRole", "typha-cpva"): {"": {"nodes": "list"}, "apps": {"deployments": "patch"},
                                    "extensions": {"deployments": "patch"}},
    ("ClusterRole", "typha-cpha"): {"": {"nodes": "list watch get"}},
    ("Role", "typha-cpha"): {"": {"configmaps": "get"}, "apps": {"deployments/scale": "get update"},
                             "extensions": {"deployments/scale": "get update"}},
}


def test_kube_controllers_rbac(default):
    assert rule_set(get(default, "ClusterRole", "calico-kube-controllers")) == verbs(KUBE_CONTROLLERS_RULES)


def test_calico_node_and_cni_plugin_rbac(default):
    """calico-node needs tiers create (Calico >= 3.28 creates its default tier at start)."""
    assert rule_set(get(default, "ClusterRole", "calico-node")) == verbs(CALICO_NODE_RULES)
    assert rule_set(get(default, "ClusterRole", "calico-cni-plugin")) == verbs(CNI_PLUGIN_RULES)


def test_autoscaler_rbac(default):
    for (kind, name), rules in AUTOSCALER_RULES.items():
        assert rule_set(get(default, kind, name)) == verbs(rules), f"{kind}/{name}"


def test_multus_rbac():
    role = get(render({"multus": {"enabled": True}}), "ClusterRole", "multus")
    assert rule_set(role) == verbs({"k8s.cni.cncf.io": {"*": "*"},
                                    "": {"pods": "get list update watch", "pods/status": "get list update watch",
                                         "events": "create patch update"},
                                    "events.k8s.io": {"events": "create patch update"}})


# ------------------------------------------------------------------------------------------ pods

def test_calico_node_pod(default):
    ds = get(default, "DaemonSet", "calico-node")
    spec = pod(ds)
    assert spec["securityContext"] == SECCOMP
    assert (spec["hostNetwork"], spec["priorityClassName"], spec["serviceAccountName"],
            spec["terminationGracePeriodSeconds"]) == (True, "system-node-critical", "calico-node", 0)
    assert spec["tolerations"] == [{"effect": "NoSchedule", "operator": "Exists"},
                                   {"effect": "NoExecute", "operator": "Exists"}]
    assert EGRESS_LABELS.items() <= ds["spec"]["template"]["metadata"]["labels"].items()
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}
    assert ds["metadata"]["annotations"] == {"resources.gardener.cloud/preserve-resources": "true"}
    assert [c["name"] for c in spec["initContainers"]] == ["log-mtu-issues", "install-cni"]
    assert [c["name"] for c in spec["containers"]] == ["network-unavailable-condition-ensurer", "calico-node"]
    install = container(ds, "install-cni", init=True)
    assert install["volumeMounts"] == [{"name": "cni-net-dir", "mountPath": "/host/etc/cni/net.d"},
                                       {"name": "cni-bin-dir", "mountPath": "/host/secondary-bin-dir"}]
    node = container(ds, "calico-node")
    assert node["securityContext"] == {"privileged": True}
    assert node["livenessProbe"] == {"exec": {"command": ["/bin/calico-node", "-felix-live", "-bird-live"]},
                                     "periodSeconds": 10, "initialDelaySeconds": 10, "failureThreshold": 6,
                                     "timeoutSeconds": 10}
    assert node["readinessProbe"] == {"exec": {"command": ["/bin/calico-node", "-felix-ready", "-bird-ready"]},
                                      "periodSeconds": 10, "timeoutSeconds": 10}
    assert {m["mountPath"]: m["name"] for m in node["volumeMounts"]} == {
        "/host/etc/cni/net.d": "cni-net-dir", "/lib/modules": "lib-modules", "/run/xtables.lock": "xtables-lock",
        "/var/run/calico": "var-run-calico", "/var/lib/calico": "var-lib-calico", "/var/run/nodeagent": "policysync",
        "/var/log/calico/cni": "cni-log-dir"}


def test_network_unavailable_condition_ensurer(default):
    ensurer = container(get(default, "DaemonSet", "calico-node"), "network-unavailable-condition-ensurer")
    assert ensurer["command"][:2] == ["/bin/bash", "-c"]
    script = ensurer["command"][2]
    assert script.index("sleep 30") < script.index("calico-node -startup") < script.index("sleep infinity")
    assert "while" not in script  # runs the start-up routine once, like Go
    assert env(ensurer) == {"CALICO_NETWORKING_BACKEND": None, "IP": "autodetect",
                            "IP_AUTODETECTION_METHOD": f"cidr={NODE_CIDR}", "NO_DEFAULT_POOLS": "true",
                            "NODENAME": None}
    assert ensurer["securityContext"] == {"privileged": False, "allowPrivilegeEscalation": False}
    assert ensurer["imagePullPolicy"] == "IfNotPresent"
    assert "resources" not in ensurer and "volumeMounts" not in ensurer and "envFrom" not in ensurer


def test_typha_pod(default):
    typha = get(default, "Deployment", "calico-typha-deploy")
    spec = pod(typha)
    assert spec["securityContext"] == {"runAsUser": 65534, "fsGroup": 65534, "supplementalGroups": [1], **SECCOMP}
    assert spec["tolerations"] == [{"effect": "NoSchedule", "operator": "Exists"},
                                   {"effect": "NoExecute", "operator": "Exists"}]
    assert "nodeSelector" not in spec
    assert (spec["hostNetwork"], spec["priorityClassName"], spec["terminationGracePeriodSeconds"]) == \
        (True, "system-cluster-critical", 300)
    assert typha["spec"]["template"]["metadata"]["annotations"] == {
        "cluster-autoscaler.kubernetes.io/safe-to-evict": "true"}
    assert {**EGRESS_LABELS, "origin": "gardener"}.items() <= typha["spec"]["template"]["metadata"]["labels"].items()
    c = container(typha, "calico-typha")
    assert c["securityContext"] == {"runAsNonRoot": True, "allowPrivilegeEscalation": False}
    assert c["imagePullPolicy"] == "IfNotPresent" and "envFrom" not in c
    assert c["livenessProbe"]["periodSeconds"] == 30 and c["readinessProbe"]["timeoutSeconds"] == 10


def test_kube_controllers_pod(default):
    kc = get(default, "Deployment", "calico-kube-controllers")
    spec = pod(kc)
    assert spec["securityContext"] == SECCOMP
    assert spec["tolerations"] == [{"effect": "NoSchedule", "operator": "Exists"}]
    assert "nodeSelector" not in spec
    assert (spec["dnsPolicy"], spec["priorityClassName"]) == ("Default", "system-cluster-critical")
    meta = kc["spec"]["template"]["metadata"]
    assert meta["name"] == "calico-kube-controllers" and meta["namespace"] == "kube-system"
    assert {**EGRESS_LABELS, "origin": "gardener"}.items() <= meta["labels"].items()
    c = container(kc, "calico-kube-controllers")
    assert c["readinessProbe"] == {"exec": {"command": ["/usr/bin/check-status", "-r"]}, "periodSeconds": 10,
                                   "timeoutSeconds": 10}
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False,
                                    "runAsNonRoot": True}


CPVA_POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 65534, "fsGroup": 1, "supplementalGroups": [1], **SECCOMP}


@pytest.mark.parametrize(("name", "priority", "security", "labels"), [
    ("calico-node-vertical-autoscaler", "system-cluster-critical", CPVA_POD_SECURITY, {}),
    ("calico-typha-vertical-autoscaler", "gardener-shoot-system-800", CPVA_POD_SECURITY, {"origin": "gardener"}),
    ("calico-typha-horizontal-autoscaler", "gardener-shoot-system-800",
     {"runAsNonRoot": True, "runAsUser": 65532, "fsGroup": 65532, "supplementalGroups": [65532], **SECCOMP},
     {"origin": "gardener"}),
])
def test_autoscaler_pods(default, name, priority, security, labels):
    deployment = get(default, "Deployment", name)
    spec = pod(deployment)
    assert spec["dnsPolicy"] == "Default"  # the autoscalers never depend on the cluster DNS
    assert spec["priorityClassName"] == priority
    assert spec["securityContext"] == security
    assert "tolerations" not in spec and "nodeSelector" not in spec
    assert deployment["spec"]["template"]["metadata"]["labels"] == {
        "k8s-app": WORKLOAD_SELECTORS[("Deployment", name)]["k8s-app"], **EGRESS_LABELS, **labels}
    c = container(deployment, "autoscaler")
    assert c["resources"] == {"requests": {"cpu": "10m", "memory": "50Mi"}}
    assert c["securityContext"] == {"allowPrivilegeEscalation": False}
    annotations = deployment["metadata"].get("annotations") or {}
    assert (annotations.get("resources.gardener.cloud/delete-on-invalid-update") == "true") == \
        (name != "calico-node-vertical-autoscaler")


def test_network_policy_for_typha(default):
    np = get(default, "NetworkPolicy", "gardener.cloud--allow-from-calico-node")
    assert np["metadata"]["labels"] == {"origin": "gardener"}
    assert np["metadata"]["annotations"] == {"gardener.cloud/description": "Allows traffic from calico node\n"}


# ------------------------------------------------------------------------------------------ ConfigMaps

def test_calico_config(default):
    data = get(default, "ConfigMap", "calico-config")["data"]
    assert set(data) == {"typha_service_name", "calico_backend", "veth_mtu", "cni_network_config"}
    assert (data["typha_service_name"], data["calico_backend"], data["veth_mtu"]) == ("calico-typha", "bird", "0")
    text = data["cni_network_config"]
    assert '"mtu": __CNI_MTU__,' in text  # substituted by install-cni from CNI_MTU (= veth_mtu)
    conflist = json.loads(text.replace("__CNI_MTU__", "0"))
    assert conflist["name"] == "k8s-pod-network" and conflist["cniVersion"] == "0.3.1"
    calico, portmap = conflist["plugins"]
    assert calico == {"type": "calico", "log_level": "error", "log_file_path": "/var/log/calico/cni/cni.log",
                      "datastore_type": "kubernetes", "nodename": "__KUBERNETES_NODE_NAME__", "mtu": 0,
                      "ipam": {"type": "host-local", "subnet": "usePodCidr", "assign_ipv4": "true",
                               "assign_ipv6": "false"},
                      "policy": {"type": "k8s"}, "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"}}
    assert portmap == {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}}


# ------------------------------------------------------------------------------------------ host scripts

FAKE_TOOL = """#!/bin/sh
printf '%s' "$(basename "$0")" >> "$FAKE_LOG"
for arg in "$@"; do printf '|%s' "$arg" >> "$FAKE_LOG"; done
printf '\\n' >> "$FAKE_LOG"
case "$(basename "$0")" in
  *-save) [ -n "$FAKE_NFT" ] && printf ':KUBE-KUBELET-CANARY - [0:0]\\n' ;;
  *tables-*) for a in "$@"; do [ "$a" = -C ] && exit "${FAKE_CHECK_STATUS:-1}"; done ;;
  ip) [ "$1 $2" = "route " ] || [ "$#" = 1 ] && printf '%s\\n' "$FAKE_ROUTES" ;;
  sleep) [ "$1" = 60 ] && kill -9 "$PPID" ;;
esac
exit 0
"""


def run_script(tmp_path: pathlib.Path, script: str, env_vars: dict[str, str]) -> list[list[str]]:
    """Run a container script with fake iptables/ip/sleep binaries; return the logged invocations."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("iptables-nft-save", "ip6tables-nft-save", "iptables-nft", "ip6tables-nft", "iptables-legacy",
                 "ip6tables-legacy", "ip", "sleep"):
        (bin_dir / tool).write_text(FAKE_TOOL)
        (bin_dir / tool).chmod(0o755)
    log = tmp_path / "calls.log"
    log.write_text("")
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log), **env_vars}
    subprocess.run(["sh", "-c", script], env=environment, timeout=20, check=False, capture_output=True)
    return [line.split("|") for line in log.read_text().splitlines()]


MTU_RULE_V4 = ["-p", "icmp", "--icmp-type", "fragmentation-needed", "-m", "comment", "--comment",
               "gardener log mtu problems for ipv4", "-j", "LOG", "--log-prefix", "PACKET-TOO-BIG "]
MTU_RULE_V6 = ["-p", "ipv6-icmp", "--icmpv6-type", "packet-too-big", "-m", "comment", "--comment",
               "gardener log mtu problems for ipv6", "-j", "LOG", "--log-prefix", "PACKET-TOO-BIG "]


@pytest.mark.parametrize(("nft", "backend"), [(True, "nft"), (False, "legacy")])
def test_log_mtu_issues_inserts_gos_rules_once(default, tmp_path, nft, backend):
    """Same rules, comments and log prefix as Go's init container: a rule Go left behind is found (-C) and
    not inserted again; a missing one is inserted at the top of filter/OUTPUT of the kubelet's backend."""
    init = container(get(default, "DaemonSet", "calico-node"), "log-mtu-issues", init=True)
    assert init["securityContext"] == {"privileged": True}
    script = init["command"][2]
    flag = {"FAKE_NFT": "1"} if nft else {}
    calls = [c for c in run_script(tmp_path, script, flag) if not c[0].endswith("-save")]
    assert calls == [[f"iptables-{backend}", "-t", "filter", "-C", "OUTPUT", *MTU_RULE_V4],
                     [f"iptables-{backend}", "-t", "filter", "-I", "OUTPUT", *MTU_RULE_V4],
                     [f"ip6tables-{backend}", "-t", "filter", "-C", "OUTPUT", *MTU_RULE_V6],
                     [f"ip6tables-{backend}", "-t", "filter", "-I", "OUTPUT", *MTU_RULE_V6]]
    existing = [c for c in run_script(tmp_path, script, {**flag, "FAKE_CHECK_STATUS": "0"})
                if not c[0].endswith("-save")]
    assert [c[3] for c in existing] == ["-C", "-C"]


def snat_rule(cidr: str, destination: str, op: list[str]) -> list[str]:
    return ["-t", "nat", *op, "-s", cidr, "-d", destination, "!", "-o", "cali+", "-m", "comment", "--comment",
            "calico masquerade non-cluster", "-j", "MASQUERADE"]


@pytest.mark.parametrize(("cidr", "expected_tool", "destination"), [
    (POD_CIDR, "iptables-legacy", "192.0.2.53/32"),
    ("fd00:10::/56", "ip6tables-legacy", "2001:db8::53/128"),
])
def test_snat_to_upstream_dns_uses_gos_rule(no_overlay, tmp_path, cidr, expected_tool, destination):
    ds = get(no_overlay, "DaemonSet", "calico-node")
    sidecar = container(ds, "add-snat-rule-to-upstream-dns")
    assert sidecar["command"][:2] == ["/bin/sh", "-c"] and sidecar["imagePullPolicy"] == "IfNotPresent"
    assert sidecar["securityContext"] == {"privileged": True} and "resources" not in sidecar
    assert env(sidecar) == {"POD_CIDR": POD_CIDR}
    assert sidecar["volumeMounts"] == [{"name": "xtables-lock", "mountPath": "/run/xtables.lock",
                                        "readOnly": False}]
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("search kube-system.svc.cluster.local\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n")
    script = sidecar["command"][2].replace("/etc/resolv.conf", str(resolv))
    calls = [c for c in run_script(tmp_path, script, {"POD_CIDR": cidr}) if "tables-" in c[0]
             and not c[0].endswith("-save")]
    assert calls == [[expected_tool, *snat_rule(cidr, destination, ["-C", "POSTROUTING"])],
                     [expected_tool, *snat_rule(cidr, destination, ["-I", "POSTROUTING", "1"])]]


def test_cleanup_routes_deletes_bird_routes(no_overlay, tmp_path):
    init = container(get(no_overlay, "DaemonSet", "calico-node"), "cleanup-routes", init=True)
    assert init["command"][:2] == ["sh", "-c"] and init["securityContext"] == {"privileged": True}
    routes = "10.244.1.0/24 via 10.250.0.5 dev eth0 proto bird\n10.250.0.0/16 dev eth0 proto kernel"
    calls = [c for c in run_script(tmp_path, init["command"][2], {"FAKE_ROUTES": routes}) if c[0] == "ip"]
    assert ["ip", "route", "del", "10.244.1.0/24", "via", "10.250.0.5", "dev", "eth0", "proto", "bird"] in calls
    assert not any("kernel" in c for c in calls if c[1:3] == ["route", "del"])


# ------------------------------------------------------------------------------------------ options

def test_overlay_disabled_and_vxlan(no_overlay):
    ds = get(no_overlay, "DaemonSet", "calico-node")
    assert [c["name"] for c in pod(ds)["initContainers"]] == ["cleanup-routes", "log-mtu-issues", "install-cni"]
    assert [c["name"] for c in pod(ds)["containers"]] == [
        "add-snat-rule-to-upstream-dns", "calico-node"]  # backend none: no condition ensurer
    pools = {o["metadata"]["name"]: o["spec"] for o in no_overlay if o["kind"] == "IPPool"}
    assert pools == {
        "default-ipv4-ippool": {"allowedUses": ["Workload", "Tunnel"], "blockSize": 26, "cidr": POD_CIDR,
                                "ipipMode": "Never", "natOutgoing": True, "nodeSelector": "all()",
                                "vxlanMode": "Never"},
        "no-snat-for-node-cidr": {"cidr": NODE_CIDR, "disabled": True, "disableBGPExport": True}}
    assert env(container(ds, "calico-node"))["FELIX_CHAININSERTMODE"] == "Append"
    objects = render({"overlay": {"enabled": True}, "vxlan": {"enabled": True}})
    e = env(container(get(objects, "DaemonSet", "calico-node"), "calico-node"))
    assert (e["CALICO_IPV4POOL_VXLAN"], e["CALICO_IPV4POOL_IPIP"], e["FELIX_VXLANENABLED"]) == \
        ("Always", "Never", "true")
    assert "FELIX_IPINIPENABLED" not in e
    pool = get(objects, "IPPool", "default-ipv4-ippool")["spec"]
    assert (pool["ipipMode"], pool["vxlanMode"]) == ("Never", "Always")


def test_non_privileged_calico_node():
    objects = render({"overlay": {"enabled": False}, "birdExporter": {"enabled": True}},
                     gates={"NonPrivilegedCalicoNode": True})
    ds = get(objects, "DaemonSet", "calico-node")
    init = container(ds, "hostpath-init", init=True)
    assert init["command"] == ["sh", "-c", "calico-node -hostpath-init"]
    assert init["securityContext"] == {"allowPrivilegeEscalation": False, "runAsUser": 0}
    node = container(ds, "calico-node")
    assert node["securityContext"] == {"runAsUser": 999, "runAsGroup": 0, "privileged": False,
                                       "allowPrivilegeEscalation": False,
                                       "capabilities": {"add": ["NET_RAW", "NET_ADMIN", "NET_BIND_SERVICE"]}}
    mounts = {m["mountPath"]: m["name"] for m in node["volumeMounts"]}
    assert (mounts["/var/run"], mounts["/var/lib"], mounts["/var/log"]) == ("var-run", "var-lib", "var-log")
    assert all("subPath" not in m for m in node["volumeMounts"])
    sidecar = container(ds, "add-snat-rule-to-upstream-dns")
    assert sidecar["securityContext"] == {"privileged": False, "allowPrivilegeEscalation": False,
                                          "capabilities": {"add": ["NET_ADMIN"]}}
    assert container(ds, "bird-exporter") is None
    # eBPF forces the privileged calico-node (the mapping sets nonPrivileged false, as Go's values do)
    objects = render({"ebpfDataplane": {"enabled": True}}, gates={"NonPrivilegedCalicoNode": True})
    ds = get(objects, "DaemonSet", "calico-node")
    assert [c["name"] for c in pod(ds)["initContainers"]] == ["log-mtu-issues", "install-cni", "ebpf-bootstrap"]
    e = env(container(ds, "calico-node"))
    assert e["FELIX_BPFENABLED"] == "true" and e["FELIX_BPFKUBEPROXYHEALTHZPORT"] == "10257"


def test_preserve_resources_in_every_mode_but_static():
    objects = render({"autoScaling": {"mode": "vpa", "resources": {"node": {"cpu": "300m"}}}},
                     shoot_obj=shoot(vpa=True))
    for kind, name in (("DaemonSet", "calico-node"), ("Deployment", "calico-typha-deploy")):
        assert get(objects, kind, name)["metadata"]["annotations"] == {
            "resources.gardener.cloud/preserve-resources": "true"}
    for name in ("calico-node", "calico-typha", "calico-kube-controllers"):
        assert get(objects, "VerticalPodAutoscaler", name)["spec"]["updatePolicy"] == {
            "updateMode": "InPlaceOrRecreate"}
    kc = get(objects, "VerticalPodAutoscaler", "calico-kube-controllers")["spec"]["resourcePolicy"]
    assert kc == {"containerPolicies": [{"containerName": "*", "controlledValues": "RequestsOnly"}]}
    objects = render({"autoScaling": {"mode": "static"}})
    for kind, name in (("DaemonSet", "calico-node"), ("Deployment", "calico-typha-deploy")):
        assert not get(objects, kind, name)["metadata"].get("annotations")


@pytest.mark.parametrize("plugins", [False, True])
def test_multus(plugins):
    ds = get(render({"multus": {"enabled": True, "installCNIPlugins": plugins}}), "DaemonSet", "multus")
    spec = pod(ds)
    assert spec["securityContext"] == SECCOMP and spec["terminationGracePeriodSeconds"] == 0
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}
    assert [c["name"] for c in spec["initContainers"]] == ["install-multus-cni"] + (
        ["install-cni-plugins"] if plugins else [])
    install = container(ds, "install-multus-cni", init=True)
    assert (install["command"], install["args"]) == (["/install_multus"], ["--type", "thin"])
    multus = container(ds, "multus")
    assert multus["command"] == ["/thin_entrypoint"]
    assert multus["args"] == [
        "--cleanup-config-on-exit", "--cni-bin-dir=/host/opt/cni/bin", "--cni-conf-dir=/host/etc/cni/net.d",
        "--cni-version=0.3.1", "--multus-autoconfig-dir=/host/etc/cni/net.d",
        "--multus-cni-conf-dir=/etc/cni/multus/net.d", "--multus-conf-file=auto",
        "--multus-log-file=/var/log/multus.log", "--multus-log-level=error", "--multus-log-to-stderr=true",
        "--multus-master-cni-file-name=10-calico.conflist",
        "--readiness-indicator-file=/etc/cni/net.d/10-calico.conflist"]
    assert env(multus) == {"MULTUS_NODE_NAME": None}
    assert multus["resources"] == {"requests": {"cpu": "100m", "memory": "200Mi"}}


def test_dual_stack_ipv6_pool():
    objects = render({"overlay": {"enabled": False}}, families=("IPv4", "IPv6"),
                     shoot_obj=shoot(status_networking={"pods": [POD_CIDR, "fd00:10::/56"],
                                                        "nodes": [NODE_CIDR, "fd00:20::/64"]}))
    pool = get(objects, "IPPool", "default-ipv6-ippool")["spec"]
    assert pool == {"cidr": "fd00:10::/56", "blockSize": 122, "ipipMode": "Never", "vxlanMode": "Never",
                    "natOutgoing": False, "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"]}
    ensurer = env(container(get(objects, "DaemonSet", "calico-node"), "calico-node"))
    assert ensurer["IP6"] == "autodetect"


def test_ipv4_only_ensurer_has_no_ip6(default):
    e = env(container(get(default, "DaemonSet", "calico-node"), "network-unavailable-condition-ensurer"))
    assert "IP6" not in e


# ------------------------------------------------------------------------------------------ CRDs

def openapi_to_jsonschema(node):
    """OpenAPI v3 (Kubernetes structural schema) -> JSON Schema for jsonschema."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_jsonschema(v) for k, v in node.items()
           if not k.startswith("x-kubernetes-") and k not in ("nullable", "format", "description")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in out:
        out["properties"] = {k: openapi_to_jsonschema(v) for k, v in node["properties"].items()}
    return out


def prune(value, schema):
    """Kubernetes structural pruning: drop object fields the schema does not specify unless it preserves them."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        kept = {}
        for key, item in value.items():
            if key in properties:
                kept[key] = prune(item, properties[key])
            elif isinstance(additional, dict):
                kept[key] = prune(item, additional)
            elif schema.get("x-kubernetes-preserve-unknown-fields"):
                kept[key] = item
        return kept
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(item, schema["items"]) for item in value]
    return value


# Objects as Calico components write them (field names and types of Calico's v3 API, including fields that
# older Calico versions wrote and that stay in a long-lived shoot's etcd).
CALICO_WRITES = {
    "IPPool": {"spec": {"cidr": POD_CIDR, "blockSize": 26, "ipipMode": "Always", "vxlanMode": "Never",
                        "natOutgoing": True, "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"],
                        "ipip": {"enabled": True, "mode": "always"}, "nat-outgoing": True, "disabled": False,
                        "disableBGPExport": False, "assignmentMode": "Automatic"}},
    "FelixConfiguration": {"spec": {"bpfEnabled": False, "bpfLogLevel": "", "floatingIPs": "Disabled",
                                    "logSeverityScreen": "Info", "reportingInterval": "0s", "healthPort": 9099,
                                    "natPortRange": "32768:65535", "vxlanVNI": 4096,
                                    "defaultEndpointToHostAction": "Accept", "chainInsertMode": "Append",
                                    "serviceLoopPrevention": "Drop", "ipipEnabled": True,
                                    "routeTableRange": {"min": 1, "max": 250}}},
    "ClusterInformation": {"spec": {"calicoVersion": "v3.31.6", "clusterGUID": "0f3e", "clusterType": "k8s,bgp,kdd",
                                    "datastoreReady": True, "variant": "Calico"}},
    "IPAMBlock": {"spec": {"cidr": "10.244.0.0/26", "affinity": "host:node-1", "allocations": [0, None, 1],
                           "unallocated": [1], "attributes": [{"handle_id": "k8s-pod-network.abc",
                                                               "secondary": {"node": "node-1", "pod": "p"}}],
                           "deleted": False, "sequenceNumber": 3, "sequenceNumberForAllocation": {"0": 1},
                           "strictAffinity": False}},
    "BlockAffinity": {"spec": {"cidr": "10.244.0.0/26", "node": "node-1", "state": "confirmed",
                               "deleted": "false", "type": "host"}},
    "IPAMHandle": {"spec": {"handleID": "k8s-pod-network.abc", "block": {"10.244.0.0/26": 1}, "deleted": False}},
    "IPAMConfig": {"spec": {"autoAllocateBlocks": True, "strictAffinity": False, "maxBlocksPerHost": 0}},
    "KubeControllersConfiguration": {
        "spec": {"healthChecks": "Enabled", "logSeverityScreen": "Info", "etcdV3CompactionPeriod": "10m",
                 "controllers": {"node": {"reconcilerPeriod": "5m", "syncLabels": "Enabled",
                                          "leakGracePeriod": "15m", "hostEndpoint": {"autoCreate": "Disabled"}},
                                 "loadBalancer": {"assignIPs": "AllServices"}}},
        "status": {"runningConfig": {"healthChecks": "Enabled"}, "environmentVars": {"ENABLED_CONTROLLERS": "node"}}},
    "Tier": {"spec": {"order": 1000000, "defaultAction": "Deny"}},
    "BGPConfiguration": {"spec": {"nodeToNodeMeshEnabled": True, "asNumber": 64512, "logSeverityScreen": "Info"}},
    "CalicoNodeStatus": {"spec": {"node": "node-1", "classes": ["Agent", "BGP"], "updatePeriodSeconds": 10},
                         "status": {"agent": {"birdV4": {"state": "Ready", "version": "v0.3.3"}},
                                    "lastUpdated": "2026-01-01T00:00:00Z"}},
}


def test_crds_accept_and_keep_what_calico_writes(default):
    """IPPool spec.ipip / spec.nat-outgoing were pruned by the compact schemas; nothing may be pruned."""
    for kind, body in CALICO_WRITES.items():
        crd = next(o for o in default
                   if o["kind"] == "CustomResourceDefinition" and o["spec"]["names"]["kind"] == kind)
        (version,) = crd["spec"]["versions"]
        schema = version["schema"]["openAPIV3Schema"]
        obj = {"apiVersion": f"{crd['spec']['group']}/{version['name']}", "kind": kind,
               "metadata": {"name": "default"}, **body}
        jsonschema.validate(obj, openapi_to_jsonschema(schema))
        for part in ("spec", "status"):  # metadata is ObjectMeta, never pruned by the CRD schema
            if part in obj:
                assert prune(obj[part], schema["properties"][part]) == obj[part], f"{kind} {part}"


def test_every_crd_keeps_unknown_fields_below_its_root(default):
    def typed_nodes(node, path):
        if isinstance(node, dict):
            if "properties" in node:
                yield path, node
            for key, child in (node.get("properties") or {}).items():
                yield from typed_nodes(child, f"{path}.{key}")
            if isinstance(node.get("items"), dict):
                yield from typed_nodes(node["items"], f"{path}[]")
    crds = [o for o in render({"multus": {"enabled": True}}) if o["kind"] == "CustomResourceDefinition"]
    assert len(crds) == 25
    for crd in crds:
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert not schema.get("x-kubernetes-preserve-unknown-fields")
        for path, node in typed_nodes(schema, crd["metadata"]["name"]):
            if node is not schema:
                assert node.get("x-kubernetes-preserve-unknown-fields") is True, path


def test_crds_have_no_enum_stricter_than_calicos(default):
    ippools = next(o for o in default if o["metadata"]["name"] == "ippools.crd.projectcalico.org")
    spec = ippools["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert "enum" not in spec["ipipMode"] and "enum" not in spec["vxlanMode"]
    anp = next(o for o in default if o["metadata"]["name"] == "adminnetworkpolicies.policy.networking.k8s.io")
    assert anp["spec"]["versions"][0]["additionalPrinterColumns"] == [
        {"name": "Priority", "type": "string", "jsonPath": ".spec.priority"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]


# ------------------------------------------------------------------------------------------ every option

OPTIONS = {
    "typha disabled": ({"typha": {"enabled": False}}, {}),
    "backend none": ({"backend": "none"}, {}),
    "backend vxlan": ({"backend": "vxlan"}, {}),
    "nftables kube-proxy": (None, {"shoot_obj": shoot(kube_proxy={"enabled": True, "mode": "NFTables"})}),
    "eBPF without kube-proxy": ({"ebpfDataplane": {"enabled": True}}, {"shoot_obj": shoot(kube_proxy={"enabled": False})}),
    "wireguard, loop prevention, MTU, bird exporter": (
        {"wireguardEncryption": True, "serviceLoopPrevention": "Reject", "vethMTU": "1400",
         "birdExporter": {"enabled": True}}, {}),
    "calico-ipam": ({"ipam": {"type": "calico-ipam"}, "ipv4": {"autoDetectionMethod": "interface=eth0"}},
                    {"shoot_obj": shoot(nodes=None)}),
    "host-local cidr": ({"ipam": {"type": "host-local", "cidr": "10.244.0.0/17"}}, {}),
    "deprecated ipip and autodetection": ({"ipip": "CrossSubnet", "ipAutodetectionMethod": "can-reach=8.8.8.8"},
                                          {"shoot_obj": shoot(nodes=None)}),
    "overlay enabled": ({"overlay": {"enabled": True}}, {}),
    "overlay disabled without snat": ({"overlay": {"enabled": False}, "snatToUpstreamDNS": {"enabled": False}}, {}),
    "static autoscaling": ({"autoScaling": {"mode": "static", "resources": {"typha": {"cpu": "300m"}}}}, {}),
    "vpa autoscaling": ({"autoScaling": {"mode": "vpa"}}, {"shoot_obj": shoot(vpa=True)}),
    "IPv6": ({"ipv6": {"sourceNATEnabled": True}},
             {"families": ("IPv6",), "pod_cidr": "fd00:10::/56", "service_cidr": "fd00:30::/108",
              "shoot_obj": shoot(nodes="fd00:20::/64", status_networking={"pods": ["fd00:10::/56"],
                                                                          "nodes": ["fd00:20::/64"]})}),
}
# Per option, env facts of the calico-node container as the Go chart renders them (None: not set).
OPTION_NODE_ENV = {
    "typha disabled": {},
    "backend none": {"CALICO_IPV4POOL_IPIP": "Never", "FELIX_IPINIPENABLED": "false"},
    "backend vxlan": {"CALICO_IPV4POOL_IPIP": "Always"},
    "nftables kube-proxy": {"FELIX_NFTABLESMODE": "Enabled"},
    "eBPF without kube-proxy": {"FELIX_BPFENABLED": "true", "FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED": "true",
                                "FELIX_BPFKUBEPROXYHEALTHZPORT": None},
    "wireguard, loop prevention, MTU, bird exporter": {
        "FELIX_WIREGUARDENABLED": "true", "FELIX_SERVICELOOPPREVENTION": "Reject"},
    "calico-ipam": {"USE_POD_CIDR": None, "IP_AUTODETECTION_METHOD": "interface=eth0"},
    "host-local cidr": {"USE_POD_CIDR": "true"},
    "deprecated ipip and autodetection": {"CALICO_IPV4POOL_IPIP": "CrossSubnet",
                                          "IP_AUTODETECTION_METHOD": "can-reach=8.8.8.8"},
    "overlay enabled": {"CALICO_IPV4POOL_IPIP": "Always", "FELIX_IPINIPENABLED": "true"},
    "overlay disabled without snat": {"CALICO_IPV4POOL_IPIP": "Never", "FELIX_CHAININSERTMODE": None},
    "static autoscaling": {},
    "vpa autoscaling": {},
    "IPv6": {"IP": "none", "IP6": "autodetect", "CALICO_IPV6POOL_VXLAN": "Never",
             "CALICO_IPV6POOL_NAT_OUTGOING": "true", "FELIX_IPV6SUPPORT": "true"},
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_every_option_keeps_gos_invariants(option):
    provider_config, kwargs = OPTIONS[option]
    objects = render(provider_config, **kwargs)
    present = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    for (kind, name), selector in WORKLOAD_SELECTORS.items():
        if (kind, name) in present:
            assert present[(kind, name)]["spec"]["selector"] == {"matchLabels": selector}, name
    for (kind, name), obj in present.items():
        if kind == "ServiceAccount":
            assert obj["automountServiceAccountToken"] is False, name
        if kind == "Service":
            assert "clusterIP" not in obj["spec"], name
        if kind in ("DaemonSet", "Deployment"):
            assert "automountServiceAccountToken" not in pod(obj), name
            assert pod(obj)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
    static = option == "static autoscaling"
    for key in (("DaemonSet", "calico-node"), ("Deployment", "calico-typha-deploy")):
        if key in present:
            annotations = present[key]["metadata"].get("annotations") or {}
            assert ("resources.gardener.cloud/preserve-resources" in annotations) is not static, key
    node_env = env(container(present[("DaemonSet", "calico-node")], "calico-node"))
    for name, value in OPTION_NODE_ENV[option].items():
        if value is None:
            assert name not in node_env, name
        else:
            assert node_env.get(name) == value, name
    if option == "typha disabled":
        # as in Go, the Typha metrics Service stays (it only depends on monitoring)
        assert {k for k in present if "typha" in k[1]} == {("Service", "calico-typha-monitoring")}
        assert get(objects, "ConfigMap", "calico-config")["data"]["typha_service_name"] == "none"
    if option == "backend none":
        assert ("Deployment", "calico-kube-controllers") not in present
        assert container(present[("DaemonSet", "calico-node")], "network-unavailable-condition-ensurer") is None
    if option == "wireguard, loop prevention, MTU, bird exporter":
        assert get(objects, "ConfigMap", "calico-config")["data"]["veth_mtu"] == "1400"
        exporter = container(present[("DaemonSet", "calico-node")], "bird-exporter")
        assert exporter["args"] == ["-format.new=true", "-bird.socket=/var/run/calico/bird.ctl",
                                    "-bird.ipv6=false", "-web.listen-address=:9094"]
