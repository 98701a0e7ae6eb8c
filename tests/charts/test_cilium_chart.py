"""Chart tests of charts/internal/cilium, rendered with the real helm (HELM_BINARY or .venv/bin/helm).

Facts checked come from the reference (cilium.md 2.2-2.4, 3.2-3.4): object set, cilium-config keys per
value, DaemonSet containers/env, fail guards and schema. The controller's mapping is tested elsewhere.
"""

from __future__ import annotations

import copy
import json

import pytest

from controller.errors import ConfigurationError
from tests.helpers import (CHARTS, container, env, find, manifests_with_helm3_and_helm4, names, render_chart,
                           validate_objects)

CHART = "cilium"

BASE_OBJECTS = {
    ("ConfigMap", "cilium-config"),
    ("ConfigMap", "label-prefix-conf"),
    ("ClusterRole", "cilium"),
    ("ClusterRoleBinding", "cilium"),
    ("Role", "cilium-config-agent"),
    ("RoleBinding", "cilium-config-agent"),
    ("ServiceAccount", "cilium"),
    ("DaemonSet", "cilium"),
    ("Service", "hubble-metrics"),
    ("ConfigMap", "cilium-envoy-config"),
    ("DaemonSet", "cilium-envoy"),
    ("Service", "cilium-envoy"),
    ("ServiceAccount", "cilium-envoy"),
    ("ClusterRole", "cilium-operator"),
    ("ClusterRoleBinding", "cilium-operator"),
    ("Deployment", "cilium-operator"),
    ("PodDisruptionBudget", "cilium-operator"),
    ("ServiceAccount", "cilium-operator"),
    ("CiliumNetworkPolicy", "gardener.cloud--allow-dns-from-remote-nodes"),
}

HUBBLE_OBJECTS = {
    ("ClusterRole", "hubble-relay"),
    ("ClusterRole", "hubble-generate-certs"),
    ("ClusterRoleBinding", "hubble-relay"),
    ("ClusterRoleBinding", "hubble-generate-certs"),
    ("ConfigMap", "hubble-relay-config"),
    ("CronJob", "hubble-generate-certs"),
    ("Job", "hubble-generate-certs"),
    ("Deployment", "hubble-relay"),
    ("CiliumNetworkPolicy", "gardener.cloud--allow-hubble-relay-from-hubble-ui"),
    ("CiliumNetworkPolicy", "gardener.cloud--allow-hubble-ui-to-hubble-relay"),
    ("CiliumNetworkPolicy", "gardener.cloud--allow-hubble-relay-to-peers"),
    ("Role", "hubble-generate-certs"),
    ("RoleBinding", "hubble-generate-certs"),
    ("Service", "hubble-relay"),
    ("ServiceAccount", "hubble-relay"),
    ("ServiceAccount", "hubble-generate-certs"),
    ("ClusterRole", "hubble-ui"),
    ("ClusterRoleBinding", "hubble-ui"),
    ("ConfigMap", "hubble-ui-nginx"),
    ("Deployment", "hubble-ui"),
    ("Service", "hubble-peer"),
    ("Service", "hubble-ui"),
    ("ServiceAccount", "hubble-ui"),
}

# Everything optional switched on at once (valid combination), for schema validation of all objects.
EVERYTHING = {
    "hubble": {"enabled": True},
    "kubeProxyReplacement": True,
    "kubeProxyReplacementHealthzBindAddr": "0.0.0.0:10256",
    "k8sServiceHost": "api.shoot.example.com",
    "k8sServicePort": 443,
    "nodeLocalDNS": {"enabled": True},
    "localRedirectPolicy": {"enabled": True},
    "egressGateway": {"enabled": True},
    "snatToUpstreamDNS": {"enabled": True},
    "snatOutOfCluster": {"enabled": True},
    "l2announcements": {"enabled": True},
    "podCIDR": "100.64.0.0/12",
    "nodeCIDR": "10.250.0.0/16",
    "ipv6": {"enabled": True},
    "encryption": {"enabled": True, "mode": "wireguard", "nodeEncryption": True,
                   "wireguard": {"strictMode": {"enabled": True, "allowRemoteNodeIdentities": True}}},
}


def render(glob: dict | None = None, kube_version: str = "1.32.0", **top) -> list[dict]:
    values = dict(top)
    if glob:
        values["global"] = glob
    return render_chart(CHART, values, kube_version)


def cfg(objects: list[dict]) -> dict[str, str]:
    return find(objects, "ConfigMap", "cilium-config")["data"]


def agent(objects: list[dict]) -> dict:
    return find(objects, "DaemonSet", "cilium")


def operator(objects: list[dict]) -> dict:
    return find(objects, "Deployment", "cilium-operator")


def kinds_and_names(objects: list[dict]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


def pod_annotations(obj: dict) -> dict[str, str]:
    return obj["spec"]["template"]["metadata"]["annotations"]


# --------------------------------------------------------------------------------------------- object set


def test_default_object_set():
    objects = render()
    assert kinds_and_names(objects) == BASE_OBJECTS
    assert len(objects) == len(BASE_OBJECTS)


def test_hubble_adds_relay_and_ui_objects():
    objects = render({"hubble": {"enabled": True}})
    assert kinds_and_names(objects) == BASE_OBJECTS | HUBBLE_OBJECTS


def test_namespaced_objects_in_kube_system_and_no_hooks():
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding", "CiliumClusterwideNetworkPolicy"}
    for obj in render({"hubble": {"enabled": True}, "nodeLocalDNS": {"enabled": True}}):
        meta = obj["metadata"]
        if obj["kind"] in cluster_scoped:
            assert "namespace" not in meta, obj["kind"]
        else:
            assert meta["namespace"] == "kube-system", (obj["kind"], meta["name"])
        assert "helm.sh/hook" not in (meta.get("annotations") or {})


def test_hubble_bindings_point_to_defined_cluster_roles():
    objects = render({"hubble": {"enabled": True}})
    roles = names(objects, "ClusterRole")
    for binding in (o for o in objects if o["kind"] == "ClusterRoleBinding"):
        assert binding["roleRef"]["name"] in roles, binding["metadata"]["name"]
    job = find(objects, "Job", "hubble-generate-certs")
    assert job["metadata"]["annotations"]["resources.gardener.cloud/delete-on-invalid-update"] == "true"
    assert not any(o["kind"] == "Ingress" for o in objects)


@pytest.mark.parametrize("kube_version", ["1.30.0", "1.34.0"])
@pytest.mark.parametrize("values", [{}, EVERYTHING], ids=["defaults", "everything"])
def test_builtin_objects_validate(values, kube_version):
    assert validate_objects(render(values, kube_version), kube_version) == []


def test_images_come_from_global_images():
    objects = render({"hubble": {"enabled": True}, "images": {"cilium-agent": "registry.example/cilium:v9"}})
    ds = agent(objects)
    spec = ds["spec"]["template"]["spec"]
    assert {c["image"] for c in spec["containers"] + spec["initContainers"]} == {"registry.example/cilium:v9"}
    assert container(operator(objects), "cilium-operator")["image"] == "quay.io/cilium/operator:v1.19.7"
    assert container(find(objects, "DaemonSet", "cilium-envoy"), "cilium-envoy")["image"].startswith(
        "quay.io/cilium/cilium-envoy:v1.36.9-")
    ui = find(objects, "Deployment", "hubble-ui")
    assert container(ui, "frontend")["image"] == "quay.io/cilium/hubble-ui:v0.13.5"
    assert container(ui, "backend")["image"] == "quay.io/cilium/hubble-ui-backend:v0.13.5"
    assert env(container(ui, "backend"))["FLOWS_API_ADDR"] == "hubble-relay:80"
    job = find(objects, "Job", "hubble-generate-certs")
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "quay.io/cilium/certgen:v0.4.9"


# ------------------------------------------------------------------------------------------ defaults


def test_default_config_keys():
    objects = render()
    data = cfg(objects)
    expected = {
        "identity-allocation-mode": "crd", "debug": "false", "enable-ipv4": "true", "enable-ipv6": "false",
        "enable-ipv4-masquerade": "true", "enable-ipv6-masquerade": "false", "enable-bpf-masquerade": "true",
        "routing-mode": "tunnel", "tunnel-protocol": "vxlan", "bpf-lb-mode": "snat", "cni-exclusive": "true",
        "ipam": "kubernetes", "k8s-require-ipv4-pod-cidr": "true", "operator-api-serve-addr": "127.0.0.1:9234",
        "enable-health-check-nodeport": "false", "enable-health-check-loadbalancer-ip": "false",
        "auto-direct-node-routes": "false", "enable-bgp-control-plane": "false", "bpf-lb-sock": "false",
        "hubble-disable-tls": "false", "prometheus-serve-addr": ":9090", "agent-health-port": "9879",
        "operator-prometheus-serve-addr": ":6942", "cluster-name": "default", "write-cni-conf-when-ready":
        "/host/etc/cni/net.d/05-cilium.conflist", "bpf-ct-global-tcp-max": "524288",
    }
    assert {k: data.get(k) for k in expected} == expected
    absent = ["kube-proxy-replacement", "kube-proxy-replacement-healthz-bind-address", "mtu", "devices",
              "direct-routing-device", "bpf-lb-sock-hostns-only", "policy-audit-mode", "enable-local-redirect-policy",
              "enable-hubble", "enable-ipv4-egress-gateway", "ipv4-native-routing-cidr", "ipv6-native-routing-cidr",
              "enable-l2-announcements", "enable-wireguard", "encrypt-node", "enable-ipsec", "k8s-require-ipv6-pod-cidr"]
    assert [k for k in absent if k in data] == []
    assert all(isinstance(v, str) for v in data.values())
    spec = agent(objects)["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["initContainers"]] == [
        "disable-rp-filter", "config", "mount-cgroup", "apply-sysctl-overwrites", "mount-bpf-fs",
        "clean-cilium-state", "install-cni-binaries"]
    assert [c["name"] for c in spec["containers"]] == ["cilium-agent"]
    op = operator(objects)
    assert op["metadata"]["labels"]["high-availability-config.resources.gardener.cloud/type"] == "controller"
    assert op["spec"]["replicas"] == 1
    assert not {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"} & set(env(container(op, "cilium-operator")))
    label_prefix = find(objects, "ConfigMap", "label-prefix-conf")
    assert label_prefix["immutable"] is True
    prefixes = json.loads(label_prefix["data"]["label-prefix"])["valid-prefixes"]
    assert {"prefix": "io.kubernetes", "source": "any", "invert": True} in prefixes


# ------------------------------------------------------------------------------ table 2.3, key by key


def test_kube_proxy_replacement():
    objects = render({"kubeProxyReplacement": True, "kubeProxyReplacementHealthzBindAddr": "0.0.0.0:10256",
                      "nodePort": {"enabled": True, "enableHealthCheck": True, "enableHealthCheckLoadBalancerIP": True}})
    data = cfg(objects)
    assert data["kube-proxy-replacement"] == "true"
    assert data["kube-proxy-replacement-healthz-bind-address"] == "0.0.0.0:10256"
    assert data["enable-health-check-nodeport"] == "true"
    assert data["enable-health-check-loadbalancer-ip"] == "true"
    clean_up = container(agent(objects), "cilium-kube-proxy-clean-up", init=True)
    assert clean_up["image"] == "quay.io/cilium/cilium:v1.19.7"
    # Go's command: the rules without KUBE are saved to a file, printed and restored from it
    assert "iptables-save | grep -v KUBE > /saved-iptables-without-KUBE" in clean_up["command"][-1]
    assert "iptables-restore --verbose /saved-iptables-without-KUBE" in clean_up["command"][-1]
    assert agent(objects)["spec"]["template"]["spec"]["initContainers"][-1]["name"] == "cilium-kube-proxy-clean-up"


def test_kube_proxy_cleanup_with_kube_proxy_image():
    objects = render({"kubeProxyReplacement": True, "images": {"kube-proxy": "registry.k8s.io/kube-proxy:v1.31.4"}},
                     agent={"kubeProxyCleanup": "kube-proxy"})
    clean_up = container(agent(objects), "kube-proxy-clean-up", init=True)  # the Go chart's name in this mode
    assert clean_up["image"] == "registry.k8s.io/kube-proxy:v1.31.4"
    assert "--cleanup" in clean_up["command"]


@pytest.mark.parametrize(("host", "port", "expected"), [
    ("api.shoot.example.com", 443, {"KUBERNETES_SERVICE_HOST": "api.shoot.example.com", "KUBERNETES_SERVICE_PORT": "443"}),
    ("api.shoot.example.com", 0, {"KUBERNETES_SERVICE_HOST": "api.shoot.example.com"}),
])
def test_k8s_service_host_and_port(host, port, expected):
    op_env = env(container(operator(render({"k8sServiceHost": host, "k8sServicePort": port})), "cilium-operator"))
    assert {k: v for k, v in op_env.items() if k.startswith("KUBERNETES_")} == expected


def test_node_local_dns():
    objects = render({"nodeLocalDNS": {"enabled": True}, "localRedirectPolicy": {"enabled": True}})
    assert cfg(objects)["enable-local-redirect-policy"] == "true"
    clrp = find(objects, "CiliumLocalRedirectPolicy", "nodelocaldns")
    assert clrp["metadata"]["namespace"] == "kube-system"
    assert clrp["spec"]["redirectFrontend"]["serviceMatcher"]["serviceName"] == "kube-dns"
    assert clrp["spec"]["redirectBackend"]["localEndpointSelector"]["matchLabels"] == {"k8s-app": "node-local-dns"}
    ccnp = find(objects, "CiliumClusterwideNetworkPolicy", "nodelocaldns")
    ports = {p["port"] for rule in ccnp["spec"]["ingress"] for tp in rule["toPorts"] for p in tp["ports"]}
    assert ports == {"53", "9253", "9353"}


def test_hubble_config_keys():
    data = cfg(render({"hubble": {"enabled": True}}))
    assert data["enable-hubble"] == "true"
    assert data["hubble-socket-path"] == "/var/run/cilium/hubble.sock"
    assert data["hubble-metrics-server"] == ":9091"
    assert data["hubble-metrics-server-enable-tls"] == "false"
    assert data["hubble-listen-address"] == ":4244"
    assert data["hubble-metrics"].split(" ")[:6] == ["dns", "drop", "tcp", "flow", "port-distribution", "icmp"]
    assert data["hubble-metrics"].split(" ")[6].startswith("httpV2:labelsContext=source_ip,")


def test_ipv6_only():
    objects = render({"ipv4": {"enabled": False}, "ipv6": {"enabled": True}})
    data = cfg(objects)
    assert (data["enable-ipv4"], data["enable-ipv6"]) == ("false", "true")
    assert data["enable-ipv4-masquerade"] == "false"
    assert "enable-bpf-masquerade" not in data
    assert data["operator-api-serve-addr"] == "[::1]:9234"
    assert data["k8s-require-ipv6-pod-cidr"] == "true" and "k8s-require-ipv4-pod-cidr" not in data
    agent_c = container(agent(objects), "cilium-agent")
    assert {agent_c[p]["httpGet"]["host"] for p in ("startupProbe", "livenessProbe", "readinessProbe")} == {"::1"}
    assert container(operator(objects), "cilium-operator")["livenessProbe"]["httpGet"]["host"] == "::1"
    envoy = container(find(objects, "DaemonSet", "cilium-envoy"), "cilium-envoy")
    assert envoy["readinessProbe"]["httpGet"]["host"] == "::1"
    assert '"address": "::1"' in find(objects, "ConfigMap", "cilium-envoy-config")["data"]["bootstrap-config.json"]


def test_dual_stack():
    data = cfg(render({"ipv6": {"enabled": True}}))
    assert (data["enable-ipv4"], data["enable-ipv6"], data["operator-api-serve-addr"]) == ("true", "true", "127.0.0.1:9234")
    assert data["k8s-require-ipv4-pod-cidr"] == data["k8s-require-ipv6-pod-cidr"] == "true"


def test_bpf_socket_lb_hostns_only():
    assert cfg(render({"bpfSocketLBHostnsOnly": {"enabled": True}}))["bpf-lb-sock-hostns-only"] == "true"


def test_cni_not_exclusive():
    assert cfg(render({"cni": {"exclusive": False}}))["cni-exclusive"] == "false"


@pytest.mark.parametrize(("tunnel", "expected"), [
    ("disabled", {"routing-mode": "native", "tunnel-protocol": None}),
    ("geneve", {"routing-mode": "tunnel", "tunnel-protocol": "geneve"}),
])
def test_tunnel(tunnel, expected):
    data = cfg(render({"tunnel": tunnel}))
    assert {k: data.get(k) for k in expected} == expected


def test_debug():
    objects = render({"debug": {"enabled": True}})
    assert cfg(objects)["debug"] == "true"
    op = container(operator(objects), "cilium-operator")
    assert "--debug=$(CILIUM_DEBUG)" in op["args"]
    assert next(e for e in op["env"] if e["name"] == "CILIUM_DEBUG")["valueFrom"]["configMapKeyRef"]["key"] == "debug"


def test_egress_gateway():
    assert cfg(render({"egressGateway": {"enabled": True}, "kubeProxyReplacement": True}))[
        "enable-ipv4-egress-gateway"] == "true"


def test_mtu_devices_direct_routing_device():
    data = cfg(render({"mtu": 1460, "devices": ["eth0", "eth1"], "nodePort": {"directRoutingDevice": "eth0"}}))
    assert (data["mtu"], data["devices"], data["direct-routing-device"]) == ("1460", "eth0 eth1", "eth0")


def test_dsr_with_native_routing_cidrs():
    data = cfg(render({"bpf": {"lbMode": "dsr"}, "tunnel": "disabled", "ipv4NativeRoutingCIDR": "100.64.0.0/12",
                       "ipv6": {"enabled": True}, "ipv6NativeRoutingCIDR": "2001:db8::/64"}))
    assert data["bpf-lb-mode"] == "dsr"
    assert data["ipv4-native-routing-cidr"] == "100.64.0.0/12"
    assert data["ipv6-native-routing-cidr"] == "2001:db8::/64"


def test_l2_announcements():
    objects = render({"l2announcements": {"enabled": True, "leaseDuration": "1m0s"}})
    data = cfg(objects)
    assert data["enable-l2-announcements"] == "true"
    assert (data["l2-announcements-lease-duration"], data["l2-announcements-renew-deadline"],
            data["l2-announcements-retry-period"]) == ("1m0s", "5s", "2s")
    rules = find(objects, "ClusterRole", "cilium")["rules"]
    leases = [r for r in rules if "leases" in r["resources"]]
    assert leases == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                       "verbs": ["create", "get", "update", "list", "delete"]}]
    assert not [r for r in find(render(), "ClusterRole", "cilium")["rules"] if "leases" in r["resources"]]


def test_snat_to_upstream_dns():
    objects = render({"snatToUpstreamDNS": {"enabled": True}, "podCIDR": "100.64.0.0/12"})
    assert "enable-bpf-masquerade" not in cfg(objects)
    sidecar = container(agent(objects), "add-snat-rule-to-upstream-dns")
    assert env(sidecar) == {"POD_CIDR": "100.64.0.0/12"}
    assert sidecar["securityContext"]["capabilities"]["add"] == ["NET_ADMIN"]
    assert "CILIUM_POST_nat" in sidecar["command"][-1]


def test_snat_out_of_cluster():
    objects = render({"snatOutOfCluster": {"enabled": True}, "podCIDR": "100.64.0.0/12", "nodeCIDR": "10.250.0.0/16"})
    assert "enable-bpf-masquerade" not in cfg(objects)
    sidecar = container(agent(objects), "add-snat-rule-to-outside-world")
    assert env(sidecar) == {"POD_CIDR": "100.64.0.0/12", "NODE_CIDR": "10.250.0.0/16"}
    assert "MASQUERADE" in sidecar["command"][-1] and "cilium_+" in sidecar["command"][-1]


def test_masquerade_flags_and_misc_booleans():
    data = cfg(render({"enableIpv4Masquerade": False, "enableIpv6Masquerade": True, "enableBPFMasquerade": False,
                       "policyAuditMode": True, "autoDirectNodeRoutes": True, "bgpControlPlane": {"enabled": True}}))
    assert {k: data[k] for k in ("enable-ipv4-masquerade", "enable-ipv6-masquerade", "enable-bpf-masquerade",
                                 "policy-audit-mode", "auto-direct-node-routes", "enable-bgp-control-plane")} == {
        "enable-ipv4-masquerade": "false", "enable-ipv6-masquerade": "true", "enable-bpf-masquerade": "false",
        "policy-audit-mode": "true", "auto-direct-node-routes": "true", "enable-bgp-control-plane": "true"}


def test_wireguard_encryption_with_strict_mode():
    data = cfg(render({"podCIDR": "100.64.0.0/12", "encryption": {
        "enabled": True, "mode": "wireguard", "nodeEncryption": True,
        "wireguard": {"strictMode": {"enabled": True, "allowRemoteNodeIdentities": True}}}}))
    assert {k: data.get(k) for k in ("enable-wireguard", "wireguard-persistent-keepalive", "encrypt-node",
                                     "enable-encryption-strict-mode", "encryption-strict-mode-cidr",
                                     "encryption-strict-mode-allow-remote-node-identities")} == {
        "enable-wireguard": "true", "wireguard-persistent-keepalive": "0s", "encrypt-node": "true",
        "enable-encryption-strict-mode": "true", "encryption-strict-mode-cidr": "100.64.0.0/12",
        "encryption-strict-mode-allow-remote-node-identities": "true"}


def test_encryption_enabled_without_mode_renders_nothing():
    data = cfg(render({"encryption": {"enabled": True, "nodeEncryption": True}}))
    assert not {"enable-wireguard", "encrypt-node", "enable-ipsec"} & set(data)


def test_ipam_cluster_pool():
    data = cfg(render({"ipam": {"mode": "cluster-pool"}, "podCIDR": "100.64.0.0/12", "ipv6": {"enabled": True}}))
    assert {k: data.get(k) for k in ("ipam", "ipam-cilium-node-update-rate", "cluster-pool-ipv4-cidr",
                                     "cluster-pool-ipv4-mask-size", "cluster-pool-ipv6-cidr",
                                     "cluster-pool-ipv6-mask-size", "k8s-require-ipv4-pod-cidr")} == {
        "ipam": "cluster-pool", "ipam-cilium-node-update-rate": "15s", "cluster-pool-ipv4-cidr": "100.64.0.0/12",
        "cluster-pool-ipv4-mask-size": "24", "cluster-pool-ipv6-cidr": "fd00::/104",
        "cluster-pool-ipv6-mask-size": "120", "k8s-require-ipv4-pod-cidr": None}


def test_operator_high_availability_disabled():
    labels = operator(render({"operatorHighAvailability": {"enabled": False}}))["metadata"]["labels"]
    assert "high-availability-config.resources.gardener.cloud/type" not in labels


def test_secrets_backend_k8s_adds_secret_rule():
    rules = find(render({"tls": {"secretsBackend": "k8s"}}), "ClusterRole", "cilium")["rules"]
    assert {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]} in rules


# ---------------------------------------------------------------------------------------- checksums


def test_config_checksum_follows_the_config_only():
    base = render()
    changed = render({"mtu": 1400})
    unrelated = render(agent={"maxUnavailable": 3})
    for get in (agent, operator):
        before = pod_annotations(get(base))["checksum/configmap-cilium"]
        assert len(before) == 64
        assert pod_annotations(get(changed))["checksum/configmap-cilium"] != before
        assert pod_annotations(get(unrelated))["checksum/configmap-cilium"] == before
    label_sum = pod_annotations(agent(base))["checksum/configmap-label-prefix"]
    assert pod_annotations(agent(changed))["checksum/configmap-label-prefix"] == label_sum


# ------------------------------------------------------------------------------- schema and guards


@pytest.mark.parametrize("values", [
    {"global": {"mtu": "1500"}},
    {"global": {"kubeProxyReplacement": "true"}},
    {"global": {"tunnel": "ipip"}},
    {"global": {"encryption": {"mode": "ipsec"}}},
    {"global": {"bpf": {"lbMode": "maglev"}}},
    {"global": {"l2announcements": {"leaseDuration": "soon"}}},
    {"global": {"unknownKey": True}},
    {"requirements": {"hubble": {"enabled": True}}},
], ids=["mtu-string", "kpr-string", "tunnel-enum", "ipsec", "lbmode-enum", "duration", "unknown-key", "requirements"])
def test_schema_rejects_invalid_values(values):
    with pytest.raises(ConfigurationError):
        render_chart(CHART, values)


@pytest.mark.parametrize(("glob", "message"), [
    ({"egressGateway": {"enabled": True}}, "kubeProxyReplacement must be enabled in order to enable egressGateway"),
    ({"egressGateway": {"enabled": True}, "kubeProxyReplacement": True, "tunnel": "disabled"},
     "cilium must run with an overlay network in order to enable egressGateway"),
    ({"bpf": {"lbMode": "dsr"}}, "bpf-lb-mode 'dsr' requires native routing to be enabled"),
])
def test_fail_guards(glob, message):
    with pytest.raises(ConfigurationError, match=message):
        render(glob)


def test_yaml_injection_is_rejected_or_stays_a_string():
    with pytest.raises(ConfigurationError):
        render({"devices": ['eth0"\n  evil: true']})
    with pytest.raises(ConfigurationError):
        render({"k8sServiceHost": "host\n  evil: true"})
    # characters the schema allows must still end up as one literal string
    objects = render({"devices": ['e"th:{0}'], "nodePort": {"directRoutingDevice": "a'b#c"}})
    data = cfg(objects)
    assert data["devices"] == 'e"th:{0}'
    assert data["direct-routing-device"] == "a'b#c"
    assert "evil" not in data


# ------------------------------------------------------------------------------- helm 3 == helm 4


def test_renders_identically_with_helm3_and_helm4():
    helm4, helm3 = manifests_with_helm3_and_helm4(CHARTS / CHART, {"global": copy.deepcopy(EVERYTHING)},
                                                  "cilium", "kube-system")
    assert helm4 == helm3
