"""Rendering tests of charts/internal/calico with the real helm binary (HELM_BINARY, PATH or .venv/bin/helm)."""

from __future__ import annotations

import copy
import json

import pytest

from controller.errors import ConfigurationError
from tests.helpers import (CHARTS, container, env, find, manifests_with_helm3_and_helm4, names, render_chart,
                           validate_objects)

CHART = "calico"
POD_CIDR = "100.64.0.0/12"
POD_CIDR_V6 = "fd00:10:64::/56"
NODE_CIDR = "10.250.0.0/16"

CALICO_CRDS = [
    "bgpconfigurations", "bgpfilters", "bgppeers", "blockaffinities", "caliconodestatuses", "clusterinformations",
    "felixconfigurations", "globalnetworkpolicies", "globalnetworksets", "hostendpoints", "ipamblocks", "ipamconfigs",
    "ipamhandles", "ippools", "ipreservations", "kubecontrollersconfigurations", "networkpolicies", "networksets",
    "stagedglobalnetworkpolicies", "stagedkubernetesnetworkpolicies", "stagednetworkpolicies", "tiers",
]
CRD_NAMES = {f"{p}.crd.projectcalico.org" for p in CALICO_CRDS} | {
    "adminnetworkpolicies.policy.networking.k8s.io", "baselineadminnetworkpolicies.policy.networking.k8s.io"}

# calico.md 3.1 "Object count": IPv4, overlay unset, typha, cluster-proportional, no multus/bird-exporter, no VPA.
DEFAULT_OBJECTS = {("CustomResourceDefinition", n) for n in CRD_NAMES} | {
    # node (9)
    ("ClusterRole", "calico-cni-plugin"), ("ClusterRoleBinding", "calico-cni-plugin"),
    ("ServiceAccount", "calico-cni-plugin"), ("ClusterRole", "calico-node"), ("ClusterRoleBinding", "calico-node"),
    ("ServiceAccount", "calico-node"), ("ConfigMap", "calico-config"), ("DaemonSet", "calico-node"),
    ("Service", "calico-felix-monitoring"),
    # kube-controllers (5)
    ("ClusterRole", "calico-kube-controllers"), ("ClusterRoleBinding", "calico-kube-controllers"),
    ("ServiceAccount", "calico-kube-controllers"), ("PodDisruptionBudget", "calico-kube-controllers"),
    ("Deployment", "calico-kube-controllers"),
    # node-cpva (5)
    ("ClusterRole", "calico-node-cpva"), ("ClusterRoleBinding", "calico-node-cpva"),
    ("ServiceAccount", "calico-node-cpva"), ("ConfigMap", "calico-node-vertical-autoscaler"),
    ("Deployment", "calico-node-vertical-autoscaler"),
    # typha (6)
    ("Deployment", "calico-typha-deploy"), ("NetworkPolicy", "gardener.cloud--allow-from-calico-node"),
    ("PodDisruptionBudget", "calico-typha"), ("Service", "calico-typha"), ("ServiceAccount", "calico-typha"),
    ("Service", "calico-typha-monitoring"),
    # typha-cpha (7)
    ("ClusterRole", "typha-cpha"), ("ClusterRoleBinding", "typha-cpha"), ("Role", "typha-cpha"),
    ("RoleBinding", "typha-cpha"), ("ServiceAccount", "typha-cpha"),
    ("ConfigMap", "calico-typha-horizontal-autoscaler"), ("Deployment", "calico-typha-horizontal-autoscaler"),
    # typha-cpva (5)
    ("ClusterRole", "typha-cpva"), ("ClusterRoleBinding", "typha-cpva"), ("ServiceAccount", "typha-cpva"),
    ("ConfigMap", "calico-typha-vertical-autoscaler"), ("Deployment", "calico-typha-vertical-autoscaler"),
    # tier-getter (2)
    ("ClusterRole", "calico-tier-getter"), ("ClusterRoleBinding", "calico-tier-getter"),
}
KUBE_CONTROLLERS = {(k, "calico-kube-controllers") for k in
                    ("ClusterRole", "ClusterRoleBinding", "ServiceAccount", "PodDisruptionBudget", "Deployment")}
NODE_CPVA = {("ClusterRole", "calico-node-cpva"), ("ClusterRoleBinding", "calico-node-cpva"),
             ("ServiceAccount", "calico-node-cpva"), ("ConfigMap", "calico-node-vertical-autoscaler"),
             ("Deployment", "calico-node-vertical-autoscaler")}
TYPHA_CPVA = {("ClusterRole", "typha-cpva"), ("ClusterRoleBinding", "typha-cpva"), ("ServiceAccount", "typha-cpva"),
              ("ConfigMap", "calico-typha-vertical-autoscaler"), ("Deployment", "calico-typha-vertical-autoscaler")}
TYPHA_CPHA = {("ClusterRole", "typha-cpha"), ("ClusterRoleBinding", "typha-cpha"), ("Role", "typha-cpha"),
              ("RoleBinding", "typha-cpha"), ("ServiceAccount", "typha-cpha"),
              ("ConfigMap", "calico-typha-horizontal-autoscaler"), ("Deployment", "calico-typha-horizontal-autoscaler")}
TYPHA = {("Deployment", "calico-typha-deploy"), ("PodDisruptionBudget", "calico-typha"),
         ("Service", "calico-typha"), ("ServiceAccount", "calico-typha")}
MULTUS = {("ClusterRole", "multus"), ("ClusterRoleBinding", "multus"), ("ServiceAccount", "multus"),
          ("DaemonSet", "multus"), ("CustomResourceDefinition", "network-attachment-definitions.k8s.cni.cncf.io")}

# Everything switched on that can be on at the same time (for schema validation of the optional objects).
FULL = {
    "global": {"podCIDRv6": POD_CIDR_V6, "nodeCIDR": NODE_CIDR, "overlay": "disabled",
               "snatToUpstreamDNSEnabled": True},
    "config": {"ipam": {"subnet": "", "ranges": [[{"subnet": "usePodCidrIPv6"}], [{"subnet": "usePodCidr"}]],
                        "assign_ipv6": True},
               "ipv4": {"autoDetectionMethod": f"cidr={NODE_CIDR}", "wireguard": True},
               "ipv6": {"enabled": True, "autoDetectionMethod": "cidr=fd00::/64", "natOutgoing": True,
                        "wireguard": True},
               "felix": {"bpf": {"enabled": True}, "nftables": {"enabled": True}, "serviceLoopPrevention": "Drop"},
               "birdExporter": {"enabled": True}, "multus": {"enabled": True, "installCNIPlugins": True}},
    "autoscaling": {"kubeControllers": True, "node": True, "typha": True,
                    "resourceRequests": {"node": {"cpu": "300m", "memory": "128Mi"}, "typha": {"memory": "200Mi"}}},
}
NON_PRIVILEGED = {"config": {"nonPrivileged": True, "birdExporter": {"enabled": True}},
                  "global": {"overlay": "disabled", "snatToUpstreamDNSEnabled": True}}


def merge(base: dict, override: dict) -> dict:
    """Helm-like deep merge (maps merge, everything else replaces)."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def render(overrides: dict | None = None, kube_version: str = "1.32.0") -> list[dict]:
    return render_chart(CHART, merge({"global": {"podCIDR": POD_CIDR}}, overrides or {}), kube_version)


def kinds_names(objects: list[dict]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


def node_ds(objects: list[dict]) -> dict:
    ds = find(objects, "DaemonSet", "calico-node")
    assert ds is not None
    return ds


def node_env(objects: list[dict]) -> dict:
    return env(container(node_ds(objects), "calico-node"))


def pod_containers(owner: dict, init: bool = False) -> list[str]:
    return [c["name"] for c in owner["spec"]["template"]["spec"].get("initContainers" if init else "containers", [])]


def calico_config(objects: list[dict]) -> dict:
    return find(objects, "ConfigMap", "calico-config")["data"]


def conflist(objects: list[dict]) -> dict:
    """The CNI conflist with install-cni's MTU substitution applied (as in Go's chart, `mtu` is the bare
    placeholder __CNI_MTU__ that install-cni replaces with CNI_MTU = veth_mtu)."""
    text = calico_config(objects)["cni_network_config"]
    assert '"mtu": __CNI_MTU__,' in text
    return json.loads(text.replace("__CNI_MTU__", calico_config(objects)["veth_mtu"]))


@pytest.fixture(scope="module")
def default() -> list[dict]:
    return render()


# --------------------------------------------------------------------------------------------- default render

def test_default_object_set(default):
    assert len(default) == 63
    assert kinds_names(default) == DEFAULT_OBJECTS


def test_namespaced_objects_live_in_kube_system(default):
    for obj in default:
        if obj["kind"] not in {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}:
            assert obj["metadata"]["namespace"] == "kube-system", obj["metadata"]["name"]
        else:
            assert "namespace" not in obj["metadata"]


def test_default_calico_node(default):
    ds = node_ds(default)
    meta, pod = ds["metadata"], ds["spec"]["template"]
    assert meta["labels"] == {"k8s-app": "calico-node", "gardener.cloud/role": "system-component",
                              "node.gardener.cloud/critical-component": "true"}
    assert meta["annotations"] == {"resources.gardener.cloud/preserve-resources": "true"}
    for label in ("to-public-networks", "to-apiserver", "to-dns"):
        assert pod["metadata"]["labels"][f"networking.gardener.cloud/{label}"] == "allowed"
    spec = pod["spec"]
    assert spec["hostNetwork"] is True and spec["priorityClassName"] == "system-node-critical"
    assert spec["terminationGracePeriodSeconds"] == 0
    assert ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 2
    assert ds["spec"]["revisionHistoryLimit"] == 2
    assert {"effect": "NoSchedule", "operator": "Exists"} in spec["tolerations"]
    assert {"effect": "NoExecute", "operator": "Exists"} in spec["tolerations"]
    assert pod_containers(ds, init=True) == ["log-mtu-issues", "install-cni"]
    assert pod_containers(ds) == ["network-unavailable-condition-ensurer", "calico-node"]

    node = container(ds, "calico-node")
    assert node["image"] == "quay.io/calico/node:v3.31.6"
    e = env(node)
    assert {k: e[k] for k in ("DATASTORE_TYPE", "WAIT_FOR_DATASTORE", "CLUSTER_TYPE", "CALICO_DISABLE_FILE_LOGGING",
                              "FELIX_DEFAULTENDPOINTTOHOSTACTION", "FELIX_HEALTHENABLED", "FELIX_NATPORTRANGE",
                              "CALICO_MANAGE_CNI")} == {
        "DATASTORE_TYPE": "kubernetes", "WAIT_FOR_DATASTORE": "true", "CLUSTER_TYPE": "k8s,bgp",
        "CALICO_DISABLE_FILE_LOGGING": "true", "FELIX_DEFAULTENDPOINTTOHOSTACTION": "ACCEPT",
        "FELIX_HEALTHENABLED": "true", "FELIX_NATPORTRANGE": "32768:65535", "CALICO_MANAGE_CNI": "true"}
    assert "NODENAME" in e and e["NODENAME"] is None  # valueFrom spec.nodeName
    assert e["IP"] == "autodetect" and "IP6" not in e
    assert e["CALICO_IPV4POOL_IPIP"] == "Always" and e["CALICO_IPV4POOL_CIDR"] == POD_CIDR
    assert e["FELIX_IPINIPENABLED"] == "true" and "FELIX_VXLANENABLED" not in e
    assert e["FELIX_IPV6SUPPORT"] == "false" and e["FELIX_BPFENABLED"] == "false"
    assert e["FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED"] == "false"
    assert e["FELIX_PROMETHEUSMETRICSENABLED"] == "true" and e["FELIX_PROMETHEUSMETRICSPORT"] == "9091"
    assert e["USE_POD_CIDR"] == "true"
    for absent in ("IP_AUTODETECTION_METHOD", "FELIX_SERVICELOOPPREVENTION", "FELIX_CHAININSERTMODE",
                   "FELIX_NFTABLESMODE", "FELIX_WIREGUARDENABLED", "FELIX_BPFKUBEPROXYHEALTHZPORT"):
        assert absent not in e
    mtu_refs = {x["name"]: x["valueFrom"]["configMapKeyRef"]["key"] for x in node["env"] if "valueFrom" in x
                and "configMapKeyRef" in x["valueFrom"]}
    assert mtu_refs["FELIX_IPINIPMTU"] == mtu_refs["FELIX_VXLANMTU"] == mtu_refs["FELIX_WIREGUARDMTU"] == "veth_mtu"
    assert mtu_refs["CALICO_NETWORKING_BACKEND"] == "calico_backend"
    assert mtu_refs["FELIX_TYPHAK8SSERVICENAME"] == "typha_service_name"
    assert node["resources"]["requests"] == {"cpu": "250m", "memory": "100Mi"}
    assert node["lifecycle"]["preStop"]["exec"]["command"] == ["/bin/calico-node", "-shutdown"]
    assert node["livenessProbe"]["exec"]["command"] == ["/bin/calico-node", "-felix-live", "-bird-live"]
    assert node["readinessProbe"]["exec"]["command"] == ["/bin/calico-node", "-felix-ready", "-bird-ready"]
    assert node["livenessProbe"]["periodSeconds"] == node["readinessProbe"]["periodSeconds"] == 10
    assert node["ports"] == [{"name": "metrics", "containerPort": 9091, "protocol": "TCP"}]
    assert node["securityContext"] == {"privileged": True}

    install = container(ds, "install-cni", init=True)
    assert install["command"] == ["/opt/cni/bin/install"]
    assert install["image"] == "quay.io/calico/cni:v3.31.6"
    assert env(install)["CNI_CONF_NAME"] == "10-calico.conflist"
    ensurer = env(container(ds, "network-unavailable-condition-ensurer"))
    assert ensurer["NO_DEFAULT_POOLS"] == "true" and ensurer["IP"] == "autodetect"


def test_default_calico_config(default):
    data = calico_config(default)
    assert set(data) == {"typha_service_name", "calico_backend", "veth_mtu", "cni_network_config"}
    assert (data["typha_service_name"], data["calico_backend"], data["veth_mtu"]) == ("calico-typha", "bird", "0")
    conf = conflist(default)
    assert conf["name"] == "k8s-pod-network" and conf["cniVersion"] == "0.3.1"
    calico, portmap = conf["plugins"]
    assert calico["type"] == "calico" and calico["log_level"] == "error"
    assert calico["log_file_path"] == "/var/log/calico/cni/cni.log" and calico["policy"] == {"type": "k8s"}
    assert calico["ipam"] == {"type": "host-local", "subnet": "usePodCidr", "assign_ipv4": "true", "assign_ipv6": "false"}
    assert calico["mtu"] == 0
    assert portmap["type"] == "portmap" and portmap["snat"] is True


def test_checksum_annotation_is_sha256_of_configmap_template(default):
    annotation = node_ds(default)["spec"]["template"]["metadata"]["annotations"]["checksum/configmap-calico"]
    assert len(annotation) == 64
    changed = render({"config": {"veth_mtu": "1440"}})
    assert node_ds(changed)["spec"]["template"]["metadata"]["annotations"]["checksum/configmap-calico"] != annotation


def test_default_typha_and_autoscalers(default):
    typha = find(default, "Deployment", "calico-typha-deploy")
    assert "replicas" not in typha["spec"]
    assert typha["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "100%", "maxUnavailable": 1}
    assert typha["metadata"]["annotations"] == {"resources.gardener.cloud/preserve-resources": "true"}
    pod = typha["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["terminationGracePeriodSeconds"] == 300
    c = container(typha, "calico-typha")
    assert pod["securityContext"]["runAsUser"] == 65534
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"calico-typha": 5473, "metrics": 9093}
    e = env(c)
    assert e["TYPHA_PROMETHEUSMETRICSENABLED"] == "true" and e["TYPHA_PROMETHEUSMETRICSPORT"] == "9093"
    assert e["USE_POD_CIDR"] == "true"
    assert c["resources"]["requests"] == {"cpu": "200m", "memory": "100Mi"}
    assert find(default, "Service", "calico-typha")["spec"]["ports"][0]["port"] == 5473
    pdb = find(default, "PodDisruptionBudget", "calico-typha")["spec"]
    assert pdb["maxUnavailable"] == 1 and pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    crb = find(default, "ClusterRoleBinding", "calico-node")
    assert {s["name"] for s in crb["subjects"]} == {"calico-node", "calico-typha"}

    ladder = json.loads(find(default, "ConfigMap", "calico-typha-horizontal-autoscaler")["data"]["ladder"])
    assert ladder["nodesToReplicas"] == [[1, 1], [2, 2], [100, 3], [250, 4], [500, 5], [1000, 6], [1500, 7], [2000, 8]]
    cpha = find(default, "Deployment", "calico-typha-horizontal-autoscaler")
    assert cpha["spec"]["template"]["spec"]["priorityClassName"] == "gardener-shoot-system-800"
    assert cpha["metadata"]["annotations"]["resources.gardener.cloud/delete-on-invalid-update"] == "true"
    assert "--target=deployment/calico-typha-deploy" in container(cpha, "autoscaler")["command"]
    node_cfg = json.loads(find(default, "ConfigMap", "calico-node-vertical-autoscaler")["data"]["node-autoscaler"])
    assert node_cfg["calico-node"]["requests"]["memory"] == {"base": "50Mi", "step": "50Mi", "nodesPerStep": 10,
                                                             "max": "1400Mi"}
    typha_cfg = json.loads(find(default, "ConfigMap", "calico-typha-vertical-autoscaler")["data"]["typha-autoscaler"])
    assert typha_cfg["calico-typha"]["requests"]["cpu"] == {"base": "180m", "step": "140m", "nodesPerStep": 17,
                                                            "max": "1000m"}
    assert typha_cfg["calico-typha"]["requests"]["memory"]["max"] == "2000Mi"
    cpva = find(default, "Deployment", "calico-node-vertical-autoscaler")
    assert "--target=daemonset/calico-node" in container(cpva, "autoscaler")["command"]
    assert container(cpva, "autoscaler")["image"] == "registry.k8s.io/cpa/cpvpa:v0.8.10"


def test_default_kube_controllers_and_misc(default):
    kc = find(default, "Deployment", "calico-kube-controllers")
    assert kc["spec"]["replicas"] == 1 and kc["spec"]["strategy"] == {"type": "Recreate"}
    assert kc["spec"]["template"]["spec"]["dnsPolicy"] == "Default"
    c = container(kc, "calico-kube-controllers")
    assert env(c)["ENABLED_CONTROLLERS"] == "node,loadbalancer"
    assert c["resources"]["requests"] == {"cpu": "10m", "memory": "50Mi"}
    np = find(default, "NetworkPolicy", "gardener.cloud--allow-from-calico-node")["spec"]
    assert np["podSelector"] == {"matchLabels": {"k8s-app": "calico-typha"}}
    assert np["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"k8s-app": "calico-node"}}}],
                              "ports": [{"protocol": "TCP", "port": 5473}]}]
    tier = find(default, "ClusterRole", "calico-tier-getter")["rules"]
    assert tier == [{"apiGroups": ["projectcalico.org"], "resources": ["tiers"], "verbs": ["get"]}]
    assert find(default, "ClusterRoleBinding", "calico-tier-getter")["subjects"][0]["name"] == \
        "system:kube-controller-manager"
    felix = find(default, "Service", "calico-felix-monitoring")["spec"]
    assert felix["ports"][0]["port"] == 9091 and felix["ports"][0]["targetPort"] == 9091


def test_crds_are_structural_and_labelled(default):
    crds = [o for o in default if o["kind"] == "CustomResourceDefinition"]
    assert len(crds) == 24
    for crd in crds:
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
        assert crd["metadata"]["labels"] == {"gardener.cloud/role": "system-component"}
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        assert crd["metadata"]["name"] == f"{plural}.{group}"
        (version,) = crd["spec"]["versions"]
        assert version["name"] == ("v1" if group == "crd.projectcalico.org" else "v1alpha1")
        schema = version["schema"]["openAPIV3Schema"]
        assert schema["type"] == "object"
        for part in ("spec", "status"):
            assert schema["properties"][part]["type"] == "object"
    by_plural = {c["spec"]["names"]["plural"]: c for c in crds}
    for plural in ("ippools", "felixconfigurations", "ipamblocks"):
        props = by_plural[plural]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        assert len(props["properties"]) >= 8
    anp = by_plural["adminnetworkpolicies"]
    assert "api-approved.kubernetes.io" in anp["metadata"]["annotations"]


@pytest.mark.parametrize("kube_version", ["1.30.0", "1.34.0"])
@pytest.mark.parametrize("variant", ["default", "full", "non-privileged"])
def test_builtin_objects_validate(kube_version, variant):
    overrides = {"default": {}, "full": FULL, "non-privileged": NON_PRIVILEGED}[variant]
    objects = render(overrides, kube_version)
    assert validate_objects(objects, kube_version) == []


def test_renders_identically_with_helm3_and_helm4():
    helm4, helm3 = manifests_with_helm3_and_helm4(CHARTS / CHART, merge({"global": {"podCIDR": POD_CIDR}}, FULL),
                                                  "calico", "kube-system")
    assert helm4 == helm3


# --------------------------------------------------------------------------------------------- overlay / IPPools

def test_overlay_unset_renders_no_ippool(default):
    assert names(default, "IPPool") == set()
    assert "cleanup-routes" not in pod_containers(node_ds(default), init=True)


def test_overlay_enabled_ipip():
    objects = render({"global": {"overlay": "enabled"}})
    assert names(objects, "IPPool") == {"default-ipv4-ippool"}
    pool = find(objects, "IPPool", "default-ipv4-ippool")
    assert pool["apiVersion"] == "crd.projectcalico.org/v1"
    assert pool["spec"] == {"cidr": POD_CIDR, "blockSize": 26, "ipipMode": "Always", "vxlanMode": "Never",
                            "natOutgoing": True, "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"]}
    e = node_env(objects)
    assert e["CALICO_IPV4POOL_IPIP"] == "Always" and e["FELIX_IPINIPENABLED"] == "true"
    assert "cleanup-routes" not in pod_containers(node_ds(objects), init=True)


def test_overlay_enabled_vxlan():
    objects = render({"global": {"overlay": "enabled", "vxlanEnabled": True}, "config": {
        "backend": "vxlan", "ipv4": {"pool": "vxlan"}, "ipam": {"type": "calico-ipam"}}})
    pool = find(objects, "IPPool", "default-ipv4-ippool")["spec"]
    assert (pool["ipipMode"], pool["vxlanMode"]) == ("Never", "Always")
    e = node_env(objects)
    assert e["CALICO_IPV4POOL_IPIP"] == "Never" and e["FELIX_VXLANENABLED"] == "true"
    assert "FELIX_IPINIPENABLED" not in e
    node = container(node_ds(objects), "calico-node")
    assert node["livenessProbe"]["exec"]["command"] == ["/bin/calico-node", "-felix-live"]
    assert "network-unavailable-condition-ensurer" in pod_containers(node_ds(objects))
    assert calico_config(objects)["calico_backend"] == "vxlan"


def test_overlay_disabled_with_node_cidr_and_snat():
    objects = render({"global": {"overlay": "disabled", "nodeCIDR": NODE_CIDR, "snatToUpstreamDNSEnabled": True},
                      "config": {"backend": "none", "kubeControllers": {"enabled": False},
                                 "felix": {"ipinip": {"enabled": False}}, "ipv4": {"mode": "Never"}}})
    assert names(objects, "IPPool") == {"default-ipv4-ippool", "no-snat-for-node-cidr"}
    pool = find(objects, "IPPool", "default-ipv4-ippool")["spec"]
    assert (pool["ipipMode"], pool["vxlanMode"], pool["natOutgoing"], pool["blockSize"]) == ("Never", "Never", True, 26)
    no_snat = find(objects, "IPPool", "no-snat-for-node-cidr")["spec"]
    assert no_snat["cidr"] == NODE_CIDR and no_snat["disabled"] is True and no_snat["disableBGPExport"] is True
    ds = node_ds(objects)
    assert pod_containers(ds, init=True) == ["cleanup-routes", "log-mtu-issues", "install-cni"]
    assert pod_containers(ds) == ["add-snat-rule-to-upstream-dns", "calico-node"]
    snat = container(ds, "add-snat-rule-to-upstream-dns")
    assert env(snat) == {"POD_CIDR": POD_CIDR} and snat["securityContext"]["privileged"] is True
    e = node_env(objects)
    assert e["FELIX_CHAININSERTMODE"] == "Append" and e["CALICO_IPV4POOL_IPIP"] == "Never"
    assert e["FELIX_IPINIPENABLED"] == "false"
    assert not kinds_names(objects) & KUBE_CONTROLLERS
    node = container(ds, "calico-node")
    assert node["readinessProbe"]["exec"]["command"] == ["/bin/calico-node", "-felix-ready"]
    assert calico_config(objects)["calico_backend"] == "none"


def test_overlay_disabled_without_node_cidr_or_snat():
    objects = render({"global": {"overlay": "disabled"}})
    assert names(objects, "IPPool") == {"default-ipv4-ippool"}
    assert "add-snat-rule-to-upstream-dns" not in pod_containers(node_ds(objects))
    assert "FELIX_CHAININSERTMODE" not in node_env(objects)


def test_backend_none_drops_kube_controllers_and_ensurer():
    objects = render({"config": {"backend": "none", "kubeControllers": {"enabled": False}},
                      "autoscaling": {"kubeControllers": True}})
    assert not kinds_names(objects) & (KUBE_CONTROLLERS | {("VerticalPodAutoscaler", "calico-kube-controllers")})
    assert pod_containers(node_ds(objects)) == ["calico-node"]
    assert len(objects) == 58


# --------------------------------------------------------------------------------------------- typha / config

def test_typha_disabled():
    objects = render({"config": {"typha": {"enabled": False}}, "autoscaling": {"typha": True}})
    assert not kinds_names(objects) & (TYPHA | TYPHA_CPHA | TYPHA_CPVA | {("VerticalPodAutoscaler", "calico-typha")})
    assert calico_config(objects)["typha_service_name"] == "none"
    assert find(objects, "Service", "calico-typha-monitoring") is not None
    assert find(objects, "NetworkPolicy", "gardener.cloud--allow-from-calico-node") is not None
    assert [s["name"] for s in find(objects, "ClusterRoleBinding", "calico-node")["subjects"]] == ["calico-node"]
    assert len(objects) == 63 - 4 - 7 - 5


def test_veth_mtu():
    objects = render({"config": {"veth_mtu": "1440"}})
    assert calico_config(objects)["veth_mtu"] == "1440"
    assert conflist(objects)["plugins"][0]["mtu"] == 1440
    install = container(node_ds(objects), "install-cni", init=True)
    cni_mtu = next(x for x in install["env"] if x["name"] == "CNI_MTU")
    assert cni_mtu["valueFrom"]["configMapKeyRef"] == {"name": "calico-config", "key": "veth_mtu"}


def test_calico_ipam_without_subnet():
    objects = render({"config": {"ipam": {"type": "calico-ipam", "subnet": ""}}})
    assert conflist(objects)["plugins"][0]["ipam"] == {"type": "calico-ipam", "assign_ipv4": "true",
                                                       "assign_ipv6": "false"}
    assert "USE_POD_CIDR" not in node_env(objects)
    assert "USE_POD_CIDR" not in env(container(find(objects, "Deployment", "calico-typha-deploy"), "calico-typha"))


def test_cni_version_and_ipam_subnet_are_taken_verbatim():
    objects = render({"config": {"cniVersion": "1.0.0", "ipam": {"subnet": "10.0.0.0/16"}}})
    conf = conflist(objects)
    assert conf["cniVersion"] == "1.0.0" and conf["plugins"][0]["ipam"]["subnet"] == "10.0.0.0/16"


def test_dual_stack():
    objects = render({"global": {"podCIDRv6": POD_CIDR_V6},
                      "config": {"ipam": {"subnet": "", "assign_ipv6": True,
                                          "ranges": [[{"subnet": "usePodCidrIPv6"}], [{"subnet": "usePodCidr"}]]},
                                 "ipv6": {"enabled": True, "natOutgoing": True,
                                          "autoDetectionMethod": "cidr=fd00::/64"},
                                 "birdExporter": {"enabled": True}}})
    ipam = conflist(objects)["plugins"][0]["ipam"]
    assert ipam == {"type": "host-local", "assign_ipv4": "true", "assign_ipv6": "true",
                    "ranges": [[{"subnet": "usePodCidrIPv6"}], [{"subnet": "usePodCidr"}]]}
    e = node_env(objects)
    assert (e["IP"], e["IP6"]) == ("autodetect", "autodetect")
    assert e["CALICO_IPV6POOL_VXLAN"] == "Never" and e["CALICO_IPV6POOL_CIDR"] == POD_CIDR_V6
    assert e["CALICO_IPV6POOL_NAT_OUTGOING"] == "true" and e["CALICO_ROUTER_ID"] == "hash"
    assert e["IP6_AUTODETECTION_METHOD"] == "cidr=fd00::/64" and e["FELIX_IPV6SUPPORT"] == "true"
    pool = find(objects, "IPPool", "default-ipv6-ippool")["spec"]
    assert pool["cidr"] == POD_CIDR_V6 and pool["blockSize"] == 122 and pool["natOutgoing"] is True
    assert (pool["ipipMode"], pool["vxlanMode"]) == ("Never", "Never")
    assert "-bird.ipv6=false" not in container(node_ds(objects), "bird-exporter")["args"]


def test_ipv6_only():
    objects = render({"global": {"podCIDRv6": POD_CIDR_V6, "overlay": "disabled"},
                      "config": {"ipv4": {"enabled": False}, "ipv6": {"enabled": True}}})
    e = node_env(objects)
    assert e["IP"] == "none" and "CALICO_IPV4POOL_CIDR" not in e and "CALICO_IPV4POOL_IPIP" not in e
    assert names(objects, "IPPool") == {"default-ipv6-ippool"}
    assert find(objects, "IPPool", "default-ipv6-ippool")["spec"]["natOutgoing"] is False
    assert env(container(node_ds(objects), "network-unavailable-condition-ensurer"))["IP6"] == "autodetect"


@pytest.mark.parametrize("method", [None, ""])
def test_auto_detection_method_absent(method):
    objects = render({"config": {"ipv4": {"autoDetectionMethod": method}}})
    assert "IP_AUTODETECTION_METHOD" not in node_env(objects)


def test_auto_detection_method_set():
    objects = render({"config": {"ipv4": {"autoDetectionMethod": "cidr=10.250.0.0/16,10.251.0.0/16"}}})
    ds = node_ds(objects)
    for name in ("calico-node", "network-unavailable-condition-ensurer"):
        assert env(container(ds, name))["IP_AUTODETECTION_METHOD"] == "cidr=10.250.0.0/16,10.251.0.0/16"


def test_ebpf_with_kube_proxy():
    objects = render({"config": {"felix": {"bpf": {"enabled": True}}}})
    ds = node_ds(objects)
    assert pod_containers(ds, init=True) == ["log-mtu-issues", "install-cni", "ebpf-bootstrap"]
    boot = container(ds, "ebpf-bootstrap", init=True)
    assert boot["command"] == ["calico-node", "-init", "-best-effort"] and boot["securityContext"]["privileged"]
    volumes = {v["name"]: v["hostPath"] for v in ds["spec"]["template"]["spec"]["volumes"]}
    assert volumes["sys-fs"]["path"] == "/sys/fs/" and volumes["nodeproc"]["path"] == "/proc"
    assert volumes["bpffs"] == {"path": "/sys/fs/bpf", "type": "Directory"}
    node = container(ds, "calico-node")
    assert {"name": "bpffs", "mountPath": "/sys/fs/bpf"} in node["volumeMounts"]
    e = env(node)
    assert e["FELIX_BPFENABLED"] == "true" and e["FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED"] == "false"
    assert e["FELIX_BPFKUBEPROXYHEALTZPORT"] == e["FELIX_BPFKUBEPROXYHEALTHZPORT"] == "10257"
    # eBPF forces privileged mode in the mapping (values.config.nonPrivileged false), as Go does in its values


def test_ebpf_without_kube_proxy():
    e = node_env(render({"config": {"felix": {"bpf": {"enabled": True},
                                              "bpfKubeProxyIPTablesCleanup": {"enabled": True}}}}))
    assert e["FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED"] == "true"
    assert "FELIX_BPFKUBEPROXYHEALTHZPORT" not in e and "FELIX_BPFKUBEPROXYHEALTZPORT" not in e


def test_felix_nftables_service_loop_prevention_and_wireguard():
    e = node_env(render({"config": {"felix": {"nftables": {"enabled": True}, "serviceLoopPrevention": "Reject"},
                                    "ipv4": {"wireguard": True}, "ipv6": {"wireguard": True}}}))
    assert e["FELIX_NFTABLESMODE"] == "Enabled" and e["FELIX_SERVICELOOPPREVENTION"] == "Reject"
    assert e["FELIX_WIREGUARDENABLED"] == "true" and e["FELIX_WIREGUARDENABLEDV6"] == "true"


def test_non_privileged():
    objects = render(NON_PRIVILEGED)
    ds = node_ds(objects)
    assert pod_containers(ds, init=True) == ["cleanup-routes", "log-mtu-issues", "install-cni", "hostpath-init"]
    init = container(ds, "hostpath-init", init=True)
    assert env(init) == {"NODE_USER_ID": "999"} and init["securityContext"]["runAsUser"] == 0
    sc = container(ds, "calico-node")["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"], sc["privileged"], sc["allowPrivilegeEscalation"]) == (999, 0, False, False)
    assert set(sc["capabilities"]["add"]) == {"NET_RAW", "NET_ADMIN", "NET_BIND_SERVICE"}
    volumes = {v["name"]: v["hostPath"]["path"] for v in ds["spec"]["template"]["spec"]["volumes"]}
    assert volumes["var-run"] == "/var/run" and volumes["var-lib"] == "/var/lib" and volumes["var-log"] == "/var/log"
    assert "var-run-calico" not in volumes and "var-lib-calico" not in volumes
    snat = container(ds, "add-snat-rule-to-upstream-dns")["securityContext"]
    assert snat == {"privileged": False, "allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_ADMIN"]}}
    assert "bird-exporter" not in pod_containers(ds)  # suppressed in non-privileged mode


def test_bird_exporter():
    objects = render({"config": {"birdExporter": {"enabled": True}}})
    ds = node_ds(objects)
    assert pod_containers(ds)[-1] == "bird-exporter"
    exporter = container(ds, "bird-exporter")
    assert exporter["image"] == "ghcr.io/czerwonk/bird_exporter:v1.5.0"
    assert exporter["args"] == ["-format.new=true", "-bird.socket=/var/run/calico/bird.ctl", "-bird.ipv6=false",
                                "-web.listen-address=:9094"]
    assert exporter["ports"] == [{"name": "bird-metrics", "containerPort": 9094, "protocol": "TCP"}]
    assert exporter["resources"]["requests"] == {"cpu": "10m", "memory": "32Mi"}
    svc = find(objects, "Service", "calico-bird-monitoring")["spec"]
    assert svc["ports"][0]["port"] == 9094 and svc["selector"] == {"k8s-app": "calico-node"}


def test_monitoring_disabled():
    objects = render({"config": {"monitoring": {"enabled": False}, "birdExporter": {"enabled": True}}})
    assert not {"calico-felix-monitoring", "calico-typha-monitoring", "calico-bird-monitoring"} & names(objects, "Service")
    ds = node_ds(objects)
    assert "log-mtu-issues" not in pod_containers(ds, init=True)
    assert "bird-exporter" not in pod_containers(ds)
    node = container(ds, "calico-node")
    assert "ports" not in node and "FELIX_PROMETHEUSMETRICSENABLED" not in env(node)
    typha = container(find(objects, "Deployment", "calico-typha-deploy"), "calico-typha")
    assert [p["name"] for p in typha["ports"]] == ["calico-typha"]


def test_monitoring_ports():
    objects = render({"config": {"monitoring": {"felixMetricsPort": "9191", "typhaMetricsPort": "9193"}}})
    assert node_env(objects)["FELIX_PROMETHEUSMETRICSPORT"] == "9191"
    assert find(objects, "Service", "calico-felix-monitoring")["spec"]["ports"][0]["port"] == 9191
    assert find(objects, "Service", "calico-typha-monitoring")["spec"]["ports"][0]["port"] == 9193


@pytest.mark.parametrize("install_plugins", [False, True])
def test_multus(install_plugins):
    objects = render({"config": {"multus": {"enabled": True, "installCNIPlugins": install_plugins}}})
    assert MULTUS <= kinds_names(objects) and len(objects) == 68
    ds = find(objects, "DaemonSet", "multus")
    assert "--multus-master-cni-file-name=10-calico.conflist" in container(ds, "multus")["args"]
    assert container(ds, "multus")["image"] == "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.0"
    init = container(ds, "install-cni-plugins", init=True)
    assert (init is not None) == install_plugins
    if install_plugins:
        assert all(f"-not -name {p} " in init["args"][-1] for p in ("host-local", "portmap", "loopback", "tuning"))
    crd = find(objects, "CustomResourceDefinition", "network-attachment-definitions.k8s.cni.cncf.io")
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert schema["properties"]["spec"]["properties"]["config"]["type"] == "string"


# --------------------------------------------------------------------------------------------- autoscaling

def test_vpa_for_kube_controllers():
    objects = render({"autoscaling": {"kubeControllers": True}})
    vpa = find(objects, "VerticalPodAutoscaler", "calico-kube-controllers")
    assert vpa["apiVersion"] == "autoscaling.k8s.io/v1" and vpa["metadata"]["namespace"] == "kube-system"
    assert vpa["spec"]["targetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "calico-kube-controllers"}
    assert len(objects) == 64


def test_vpa_mode():
    objects = render({"autoscaling": {"node": True, "typha": True, "resourceRequests": {
        "node": {"cpu": "300m", "memory": "128Mi"}, "typha": {"memory": "200Mi"}}}})
    present = kinds_names(objects)
    assert not present & (NODE_CPVA | TYPHA_CPVA) and TYPHA_CPHA <= present
    node_vpa = find(objects, "VerticalPodAutoscaler", "calico-node")["spec"]
    assert node_vpa["targetRef"]["kind"] == "DaemonSet" and node_vpa["updatePolicy"]["updateMode"] == "InPlaceOrRecreate"
    policies = {p["containerName"]: p for p in node_vpa["resourcePolicy"]["containerPolicies"]}
    assert policies["calico-node"] == {"containerName": "calico-node", "controlledValues": "RequestsOnly",
                                       "minAllowed": {"cpu": "300m", "memory": "128Mi"}}
    for sidecar in ("add-snat-rule-to-upstream-dns", "network-unavailable-condition-ensurer", "bird-exporter"):
        assert policies[sidecar]["mode"] == "Off"
    typha_vpa = find(objects, "VerticalPodAutoscaler", "calico-typha")["spec"]
    assert typha_vpa["targetRef"]["name"] == "calico-typha-deploy"
    assert typha_vpa["resourcePolicy"]["containerPolicies"][0]["containerName"] == "*"
    assert typha_vpa["resourcePolicy"]["containerPolicies"][0]["minAllowed"] == {"memory": "200Mi"}
    ds = node_ds(objects)
    assert container(ds, "calico-node")["resources"]["requests"] == {"cpu": "300m", "memory": "128Mi"}
    # as in Go: the VPA owns the requests, so the resource manager preserves them (only static mode does not)
    assert ds["metadata"]["annotations"] == {"resources.gardener.cloud/preserve-resources": "true"}
    typha = find(objects, "Deployment", "calico-typha-deploy")
    assert container(typha, "calico-typha")["resources"]["requests"] == {"cpu": "200m", "memory": "100Mi"}
    assert typha["metadata"]["annotations"] == {"resources.gardener.cloud/preserve-resources": "true"}


def test_static_mode():
    objects = render({"autoscaling": {"staticRequests": True, "resourceRequests": {
        "node": {"memory": "300Mi"}, "typha": {"cpu": "500m", "memory": "1Gi"}}}})
    present = kinds_names(objects)
    assert not present & (NODE_CPVA | TYPHA_CPVA) and TYPHA_CPHA <= present
    assert "VerticalPodAutoscaler" not in {k for k, _ in present}
    ds = node_ds(objects)
    assert container(ds, "calico-node")["resources"]["requests"] == {"cpu": "250m", "memory": "300Mi"}
    typha = find(objects, "Deployment", "calico-typha-deploy")
    assert container(typha, "calico-typha")["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert "annotations" not in ds["metadata"] and "annotations" not in typha["metadata"]


def test_vpa_mode_with_null_resource_requests():
    objects = render({"autoscaling": {"node": True, "resourceRequests": None}})
    assert container(node_ds(objects), "calico-node")["resources"]["requests"] == {"cpu": "250m", "memory": "100Mi"}
    policy = find(objects, "VerticalPodAutoscaler", "calico-node")["spec"]["resourcePolicy"]["containerPolicies"][0]
    assert "minAllowed" not in policy


# --------------------------------------------------------------------------------------------- images / schema

def test_image_override():
    objects = render({"images": {"calico-node": "registry.example.com/calico/node@sha256:" + "a" * 64}})
    ds = node_ds(objects)
    assert {c["image"] for c in ds["spec"]["template"]["spec"]["containers"]} == {
        "registry.example.com/calico/node@sha256:" + "a" * 64}


def test_missing_image_fails_clearly():
    with pytest.raises(ConfigurationError, match='no image configured for "calico-typha"'):
        render({"images": {"calico-typha": None}})


@pytest.mark.parametrize("overrides", [
    {"config": {"typha": {"enabled": "true"}}},
    {"autoscaling": {"node": "true"}},
    {"global": {"overlay": "yes"}},
    {"config": {"backend": "flannel"}},
    {"config": {"veth_mtu": "auto"}},
    {"config": {"felix": {"serviceLoopPrevention": "drop"}}},
    {"autoscaling": {"resourceRequests": {"node": {"gpu": "1"}}}},
    {"config": {"ipv4": {"mode": "Sometimes"}}},
], ids=["bool-as-string", "autoscaling-string", "overlay-enum", "backend-enum", "mtu", "slp-enum", "request-key",
        "mode-enum"])
def test_schema_rejects_invalid_values(overrides):
    with pytest.raises(ConfigurationError):
        render(overrides)


def test_schema_accepts_deleted_keys():
    objects = render({"config": {"ipv4": {"autoDetectionMethod": None}, "ipv6": {"autoDetectionMethod": None},
                                 "ipam": {"ranges": None, "subnet": None},
                                 "felix": {"serviceLoopPrevention": None}}})
    ipam = conflist(objects)["plugins"][0]["ipam"]
    assert "subnet" not in ipam and "ranges" not in ipam
    assert "FELIX_SERVICELOOPPREVENTION" not in node_env(objects)


EVIL = '": x\n  evil: true'


def test_yaml_injection_stays_a_single_string():
    objects = render({
        "global": {"podCIDR": "10.0.0.0/8" + EVIL, "podCIDRv6": "fd00::/48" + EVIL, "nodeCIDR": "10.1.0.0/16" + EVIL,
                   "overlay": "disabled", "snatToUpstreamDNSEnabled": True},
        "config": {"ipv4": {"autoDetectionMethod": "cidr=1" + EVIL}, "ipv6": {"enabled": True,
                                                                             "autoDetectionMethod": "x" + EVIL},
                   "ipam": {"subnet": "s" + EVIL}, "cniVersion": "0.3.1",
                   "backend": "bird"},
        "images": {"calico-node": "img" + EVIL},
    })
    e = node_env(objects)
    assert e["CALICO_IPV4POOL_CIDR"] == "10.0.0.0/8" + EVIL
    assert e["CALICO_IPV6POOL_CIDR"] == "fd00::/48" + EVIL
    assert e["IP_AUTODETECTION_METHOD"] == "cidr=1" + EVIL and e["IP6_AUTODETECTION_METHOD"] == "x" + EVIL
    assert container(node_ds(objects), "calico-node")["image"] == "img" + EVIL
    assert env(container(node_ds(objects), "add-snat-rule-to-upstream-dns"))["POD_CIDR"] == "10.0.0.0/8" + EVIL
    assert find(objects, "IPPool", "no-snat-for-node-cidr")["spec"]["cidr"] == "10.1.0.0/16" + EVIL
    assert find(objects, "IPPool", "default-ipv4-ippool")["spec"]["cidr"] == "10.0.0.0/8" + EVIL
    assert conflist(objects)["plugins"][0]["ipam"]["subnet"] == "s" + EVIL
    for obj in objects:
        assert "evil" not in obj and "evil" not in obj.get("spec", {})
