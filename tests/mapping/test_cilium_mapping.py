"""One rendering test per row of the cilium tables 2.1 (pre-processing) and 2.3 (input -> value ->
effect): the real mapping file, the real chart, the real helm binary; assertions on rendered objects.
Plus the ManagedResource packaging, Kubernetes schema validity per shoot version and the checksum
annotation that rolls the pods."""

from __future__ import annotations

import asyncio
import copy
import re

import pytest

from controller import imagevector, pipeline
from controller.config import ControllerConfig
from controller.mapping import load_mapping
from tests.helpers import MAPPINGS, container, env, find, names, renderer

MAPPING = load_mapping(MAPPINGS / "cilium.yaml")
API_VERSION = "cilium.networking.extensions.gardener.cloud/v1alpha1"


# ---- factories -------------------------------------------------------------------------------------

def shoot(*, version: str = "1.32.0", kube_proxy: bool | None = True, mode: str = "IPTables",
          pods: str | None = "100.96.0.0/11", nodes: str | None = "10.250.0.0/16",
          workers: list | None = None, node_local_dns: bool | None = None, status_pods: list | None = None,
          constraints: list | None = None) -> dict:
    kp = {"mode": mode} if kube_proxy is None else {"enabled": kube_proxy, "mode": mode}
    networking = {"type": "cilium"}
    if pods:
        networking["pods"] = pods
    if nodes:
        networking["nodes"] = nodes
    s = {
        "spec": {
            "kubernetes": {"version": version, "kubeProxy": kp},
            "networking": networking,
            "provider": {"workers": workers if workers is not None else [{"name": "a", "minimum": 2, "maximum": 3}]},
        },
        "status": {"advertisedAddresses": [{"name": "external", "url": "https://api.baz.example.com"}]},
    }
    if node_local_dns is not None:
        s["spec"]["systemComponents"] = {"nodeLocalDNS": {"enabled": node_local_dns}}
    if status_pods is not None:
        s["status"]["networking"] = {"pods": status_pods}
    if constraints is not None:
        s["status"]["constraints"] = constraints
    return s


def network(provider_config: dict | None = None, *, families=("IPv4",), pod_cidr: str = "100.96.0.0/11",
            service_cidr: str = "100.64.0.0/13") -> dict:
    spec = {"type": "cilium", "podCIDR": pod_cidr, "serviceCIDR": service_cidr, "ipFamilies": list(families)}
    if provider_config is not None:
        spec["providerConfig"] = {"apiVersion": API_VERSION, "kind": "NetworkConfig", **provider_config}
    return {"metadata": {"name": "baz", "namespace": "shoot--foo--baz"}, "spec": spec}


def render(provider_config=None, *, shoot_obj=None, config=None, live=None, **net_kwargs) -> pipeline.Desired:
    return asyncio.run(pipeline.desired_state(renderer(), MAPPING, network(provider_config, **net_kwargs),
                                              shoot_obj or shoot(), config or ControllerConfig(), live))


def objects(*args, **kwargs) -> list[dict]:
    return render(*args, **kwargs).rendered.objects


def cm(objs) -> dict:
    return find(objs, "ConfigMap", "cilium-config")["data"]


def agent(objs) -> dict:
    return find(objs, "DaemonSet", "cilium")


def operator(objs) -> dict:
    return find(objs, "Deployment", "cilium-operator")


def init_names(objs) -> list[str]:
    return [c["name"] for c in agent(objs)["spec"]["template"]["spec"]["initContainers"]]


def container_names(objs) -> list[str]:
    return [c["name"] for c in agent(objs)["spec"]["template"]["spec"]["containers"]]


IPV6 = dict(families=("IPv6",), pod_cidr="fd00:10::/56", service_cidr="fd00:30::/108")


# ---- defaults, packaging, validity ------------------------------------------------------------------

def test_empty_provider_config_renders_go_defaults():
    desired = render()
    objs = desired.rendered.objects
    data = cm(objs)
    assert data["routing-mode"] == "tunnel" and data["tunnel-protocol"] == "vxlan"
    assert data["enable-ipv4"] == "true" and data["enable-ipv6"] == "false"
    assert data["bpf-lb-mode"] == "snat" and data["ipam"] == "kubernetes"
    assert data["cni-exclusive"] == "true" and data["debug"] == "false"
    assert data["k8s-require-ipv4-pod-cidr"] == "true"
    for absent in ("kube-proxy-replacement", "mtu", "devices", "direct-routing-device", "bpf-lb-sock-hostns-only",
                   "policy-audit-mode", "enable-local-redirect-policy", "enable-hubble",
                   "enable-ipv4-egress-gateway", "ipv4-native-routing-cidr", "ipv6-native-routing-cidr",
                   "enable-l2-announcements", "enable-wireguard", "encrypt-node"):
        assert absent not in data, absent
    assert names(objs, "DaemonSet") == {"cilium", "cilium-envoy"}
    assert names(objs, "Deployment") == {"cilium-operator"}
    assert desired.status == {"providerStatus": {"apiVersion": API_VERSION, "kind": "NetworkStatus"},
                              "ipFamilies": ["IPv4"]}


def test_secret_and_managed_resource_names():
    desired = render({"hubble": {"enabled": True}})
    secret_name = desired.secret["metadata"]["name"]
    assert re.fullmatch(r"managedresource-extension-networking-cilium-config-[0-9a-f]{8}", secret_name)
    assert desired.secret["metadata"]["namespace"] == "shoot--foo--baz"
    mr = desired.managed_resource
    assert mr["metadata"]["name"] == "extension-networking-cilium-config"
    assert mr["metadata"]["namespace"] == "shoot--foo--baz"
    assert mr["metadata"]["labels"] == {"origin": "extension-networking-cilium"}
    assert mr["spec"]["secretRefs"] == [{"name": secret_name}]
    assert render({"hubble": {"enabled": False}}).secret["metadata"]["name"] != secret_name


@pytest.mark.parametrize("version", ["1.30.0", "1.34.0"])
def test_all_objects_land_in_kube_system(version):
    """(Their validity against the Kubernetes schemas of these versions is the chart tests' job:
    tests/charts/test_cilium_chart.py::test_builtin_objects_validate.)"""
    everything = {"hubble": {"enabled": True}, "debug": True, "egressGateway": {"enabled": True},
                  "snatToUpstreamDNS": {"enabled": True}, "snatOutOfCluster": {"enabled": True},
                  "l2Announcements": {"enabled": True}, "mtu": 1400, "devices": ["eth0"],
                  "encryption": {"enabled": True, "mode": "wireguard", "strictMode": True}}
    for pc, s in [({}, shoot(version=version)),
                  (everything, shoot(version=version, kube_proxy=False, node_local_dns=True, workers=[]))]:
        objs = objects(pc, shoot_obj=s)
        assert all(o["metadata"].get("namespace") in (None, "kube-system") for o in objs)


def _checksum(obj: dict) -> str:
    return obj["spec"]["template"]["metadata"]["annotations"]["checksum/configmap-cilium"]


def test_checksum_annotation_follows_the_rendered_config():
    first, same, changed = objects({}), objects({}), objects({"debug": True})
    assert _checksum(agent(first)) == _checksum(agent(same))
    assert _checksum(operator(first)) == _checksum(operator(same))
    assert _checksum(agent(first)) != _checksum(agent(changed))
    assert _checksum(operator(first)) != _checksum(operator(changed))
    # an input that changes nothing in cilium-config (the node CIDR without SNAT sidecars) rolls nothing
    assert _checksum(agent(objects({}, shoot_obj=shoot(nodes="10.1.0.0/16")))) == _checksum(agent(first))


# ---- 2.1 pre-processing -----------------------------------------------------------------------------

def test_2_1_step3_dual_stack_is_truncated_while_nodes_are_not_migrated():
    s = shoot(constraints=[{"type": "DualStackNodesMigrationReady", "status": "False"}],
              status_pods=["100.96.0.0/11", "fd00:10::/56"])
    desired = render(families=("IPv4", "IPv6"), shoot_obj=s)
    data = cm(desired.rendered.objects)
    assert (data["enable-ipv4"], data["enable-ipv6"]) == ("true", "false")
    assert desired.status["ipFamilies"] == ["IPv4"]


def test_2_1_step3_dual_stack_when_migrated():
    s = shoot(constraints=[{"type": "DualStackNodesMigrationReady", "status": "True"}],
              status_pods=["100.96.0.0/11", "fd00:10::/56"])
    desired = render(families=("IPv6", "IPv4"), shoot_obj=s)
    data = cm(desired.rendered.objects)
    assert (data["enable-ipv4"], data["enable-ipv6"]) == ("true", "true")
    assert data["k8s-require-ipv6-pod-cidr"] == "true"
    assert desired.status["ipFamilies"] == ["IPv4", "IPv6"]


@pytest.mark.parametrize("tunnel,expected", [(None, "vxlan"), ("disabled", "vxlan"), ("geneve", "geneve"),
                                             ("vxlan", "vxlan")])
def test_2_1_step4_overlay_enabled_forces_a_tunnel_and_no_native_routing(tunnel, expected):
    pc = {"overlay": {"enabled": True}, "ipv4NativeRoutingCIDREnabled": True}
    if tunnel:
        pc["tunnel"] = tunnel
    data = cm(objects(pc))
    assert data["routing-mode"] == "tunnel" and data["tunnel-protocol"] == expected
    assert "ipv4-native-routing-cidr" not in data


def test_2_1_step5_overlay_disabled_forces_native_routing():
    data = cm(objects({"overlay": {"enabled": False}, "tunnel": "geneve", "ipv4NativeRoutingCIDREnabled": False}))
    assert data["routing-mode"] == "native" and "tunnel-protocol" not in data
    assert data["ipv4-native-routing-cidr"] == "100.96.0.0/11"


@pytest.mark.parametrize("pc,mode,protocol", [({"tunnel": "geneve"}, "tunnel", "geneve"),
                                              ({"tunnel": "disabled"}, "native", None)])
def test_2_1_without_overlay_the_tunnel_is_used_as_is(pc, mode, protocol):
    data = cm(objects(pc))
    assert data["routing-mode"] == mode and data.get("tunnel-protocol") == protocol
    assert "ipv4-native-routing-cidr" not in data


def test_2_1_step6_provider_ip_families_are_ignored():
    data = cm(objects({"ipv4": {"enabled": False}, "ipv6": {"enabled": True}}))
    assert (data["enable-ipv4"], data["enable-ipv6"]) == ("true", "false")


def test_2_1_ipv6_single_stack():
    desired = render(shoot_obj=shoot(pods="fd00:10::/56", status_pods=["fd00:10::/56"]), **IPV6)
    objs = desired.rendered.objects
    data = cm(objs)
    assert (data["enable-ipv4"], data["enable-ipv6"]) == ("false", "true")
    assert data["enable-ipv4-masquerade"] == "false" and "enable-bpf-masquerade" not in data
    assert data["operator-api-serve-addr"] == "[::1]:9234"
    assert desired.status["ipFamilies"] == ["IPv6"]


# ---- 2.3 mapping table ------------------------------------------------------------------------------

def test_2_3_pod_cidr_feeds_snat_sidecar_and_strict_mode():
    objs = objects({"snatToUpstreamDNS": {"enabled": True},
                    "encryption": {"enabled": True, "mode": "wireguard", "strictMode": True}},
                   pod_cidr="100.96.0.0/12")
    assert env(container(agent(objs), "add-snat-rule-to-upstream-dns"))["POD_CIDR"] == "100.96.0.0/12"
    assert cm(objs)["encryption-strict-mode-cidr"] == "100.96.0.0/12"


def test_2_3_node_cidr_feeds_snat_out_of_cluster_sidecar():
    objs = objects({"snatOutOfCluster": {"enabled": True}}, shoot_obj=shoot(nodes="10.1.0.0/16"))
    sidecar = env(container(agent(objs), "add-snat-rule-to-outside-world"))
    assert sidecar["NODE_CIDR"] == "10.1.0.0/16" and sidecar["POD_CIDR"] == "100.96.0.0/11"
    assert "enable-bpf-masquerade" not in cm(objs)


HA_LABEL = "high-availability-config.resources.gardener.cloud/type"


@pytest.mark.parametrize("workers,ha", [
    ([{"name": "a", "minimum": 2, "maximum": 3}], True),
    ([{"name": "a", "minimum": 1, "maximum": 3}, {"name": "b", "minimum": 1, "maximum": 2}], True),
    ([{"name": "a", "minimum": 1, "maximum": 3}], False),
    ([{"name": "a", "minimum": 0, "maximum": 3}, {"name": "b", "maximum": 1}], False),
    ([], False),
])
def test_2_3_operator_high_availability_from_workers_minimum(workers, ha):
    labels = operator(objects(shoot_obj=shoot(workers=workers)))["metadata"]["labels"]
    assert (labels.get(HA_LABEL) == "controller") is ha


def test_2_3_kube_proxy_replacement_with_external_address():
    desired = render(shoot_obj=shoot(kube_proxy=False, version="1.33.1"))
    objs = desired.rendered.objects
    data = cm(objs)
    assert data["kube-proxy-replacement"] == "true"
    assert data["kube-proxy-replacement-healthz-bind-address"] == "0.0.0.0:10256"
    assert data["enable-health-check-nodeport"] == "true"
    assert data["enable-health-check-loadbalancer-ip"] == "true"
    assert "cilium-kube-proxy-clean-up" in init_names(objs)
    op_env = env(container(operator(objs), "cilium-operator"))
    assert op_env["KUBERNETES_SERVICE_HOST"] == "api.baz.example.com"
    assert "KUBERNETES_SERVICE_PORT" not in op_env
    assert desired.values["global"]["images"]["kube-proxy"] == "registry.k8s.io/kube-proxy:v1.33.1"
    assert desired.values["global"]["nodePort"]["enabled"] is True


@pytest.mark.parametrize("kube_proxy", [True, None])
def test_2_3_with_kube_proxy_there_is_no_replacement(kube_proxy):
    desired = render({"kubeproxy": {"k8sServiceHost": "api.example.com", "k8sServicePort": 443}},
                     shoot_obj=shoot(kube_proxy=kube_proxy))
    objs = desired.rendered.objects
    data = cm(objs)
    assert "kube-proxy-replacement" not in data and "kube-proxy-replacement-healthz-bind-address" not in data
    assert data["enable-health-check-nodeport"] == "false"
    assert data["enable-health-check-loadbalancer-ip"] == "false"
    assert "cilium-kube-proxy-clean-up" not in init_names(objs)
    assert "KUBERNETES_SERVICE_HOST" not in env(container(operator(objs), "cilium-operator"))
    assert "kube-proxy:" not in desired.rendered.manifest_text()  # the image is resolved but not used


def test_2_3_explicit_api_server_host_and_port():
    objs = objects({"kubeproxy": {"k8sServiceHost": "10.0.0.1", "k8sServicePort": 6443}},
                   shoot_obj=shoot(kube_proxy=False))
    op_env = env(container(operator(objs), "cilium-operator"))
    assert op_env["KUBERNETES_SERVICE_HOST"] == "10.0.0.1" and op_env["KUBERNETES_SERVICE_PORT"] == "6443"


def test_2_3_api_server_host_without_port_falls_back_to_external_address():
    objs = objects({"kubeproxy": {"k8sServiceHost": "10.0.0.1"}}, shoot_obj=shoot(kube_proxy=False))
    op_env = env(container(operator(objs), "cilium-operator"))
    assert op_env["KUBERNETES_SERVICE_HOST"] == "api.baz.example.com" and "KUBERNETES_SERVICE_PORT" not in op_env


def test_2_5_kube_proxy_image_does_not_leak_between_shoots():
    first = render(shoot_obj=shoot(kube_proxy=False, version="1.31.2")).values
    second = render(shoot_obj=shoot(kube_proxy=False, version="1.32.4")).values
    third = render(shoot_obj=shoot(kube_proxy=True, version="1.30.0")).values
    assert first["global"]["images"]["kube-proxy"].endswith(":v1.31.2")
    assert second["global"]["images"]["kube-proxy"].endswith(":v1.32.4")
    assert third["global"]["images"]["kube-proxy"] == "registry.k8s.io/kube-proxy:v1.30.0"


def test_2_3_image_overrides():
    config = ControllerConfig(images=imagevector.read({"images": [
        {"name": "cilium-agent", "repository": "example.com/cilium", "tag": "v9"},
        {"name": "kube-proxy", "repository": "example.com/kp", "tag": "v1"}]}))
    desired = render(shoot_obj=shoot(kube_proxy=False), config=config)
    assert container(agent(desired.rendered.objects), "cilium-agent")["image"] == "example.com/cilium:v9"
    assert container(operator(desired.rendered.objects), "cilium-operator")["image"] == \
        "quay.io/cilium/operator:v1.19.7"
    assert desired.values["global"]["images"]["kube-proxy"] == "example.com/kp:v1"


@pytest.mark.parametrize("enabled", [True, False])
def test_2_3_node_local_dns(enabled):
    objs = objects(shoot_obj=shoot(node_local_dns=enabled))
    assert ("enable-local-redirect-policy" in cm(objs)) is enabled
    assert (find(objs, "CiliumLocalRedirectPolicy", "nodelocaldns") is not None) is enabled
    assert (find(objs, "CiliumClusterwideNetworkPolicy", "nodelocaldns") is not None) is enabled


def test_2_3_hubble():
    objs = objects({"hubble": {"enabled": True}})
    data = cm(objs)
    assert data["enable-hubble"] == "true"
    assert data["hubble-socket-path"] == "/var/run/cilium/hubble.sock"
    assert data["hubble-listen-address"] == ":4244"
    assert data["hubble-metrics-server"] == ":9091"
    assert {"hubble-relay", "hubble-ui"} <= names(objs, "Deployment")
    assert find(objs, "Service", "hubble-peer") is not None
    off = objects({"hubble": {"enabled": False}})
    assert "enable-hubble" not in cm(off) and names(off, "Deployment") == {"cilium-operator"}


def test_2_3_bpf_socket_lb_hostns_only():
    assert cm(objects({"bpfSocketLBHostnsOnly": {"enabled": True}}))["bpf-lb-sock-hostns-only"] == "true"


@pytest.mark.parametrize("pc,expected", [({}, "true"), ({"cni": {}}, "false"), ({"cni": {"exclusive": True}}, "true"),
                                         ({"cni": {"exclusive": False}}, "false")])
def test_2_3_cni_exclusive(pc, expected):
    assert cm(objects(pc))["cni-exclusive"] == expected


def test_2_3_debug():
    objs = objects({"debug": True})
    assert cm(objs)["debug"] == "true"


def test_2_3_egress_gateway():
    data = cm(objects({"egressGateway": {"enabled": True}}, shoot_obj=shoot(kube_proxy=False)))
    assert data["enable-ipv4-egress-gateway"] == "true"


@pytest.mark.parametrize("mtu,expected", [(1400, "1400"), (0, None)])
def test_2_3_mtu(mtu, expected):
    assert cm(objects({"mtu": mtu})).get("mtu") == expected


def test_2_3_devices_and_direct_routing_device():
    data = cm(objects({"devices": ["eth0", "eth1"], "directRoutingDevice": "eth1"}))
    assert data["devices"] == "eth0 eth1" and data["direct-routing-device"] == "eth1"


@pytest.mark.parametrize("pc,expected", [({"loadBalancingMode": "hybrid"}, "hybrid"),
                                         ({"loadBalancingMode": "dsr", "overlay": {"enabled": False}}, "dsr")])
def test_2_3_load_balancing_mode(pc, expected):
    assert cm(objects(pc))["bpf-lb-mode"] == expected


def test_2_3_l2_announcements_with_go_durations():
    objs = objects({"l2Announcements": {"enabled": True, "leaseDuration": "1m", "leaseRenewDeadline": "1.5s",
                                        "leaseRetryPeriod": "1h30m"}})
    data = cm(objs)
    assert data["enable-l2-announcements"] == "true"
    assert data["l2-announcements-lease-duration"] == "1m0s"
    assert data["l2-announcements-renew-deadline"] == "1.5s"
    assert data["l2-announcements-retry-period"] == "1h30m0s"
    rules = find(objs, "ClusterRole", "cilium")["rules"]
    assert any("leases" in r.get("resources", []) for r in rules)


def test_2_3_l2_announcements_default_durations():
    data = cm(objects({"l2Announcements": {"enabled": True}}))
    assert (data["l2-announcements-lease-duration"], data["l2-announcements-renew-deadline"],
            data["l2-announcements-retry-period"]) == ("15s", "5s", "2s")


def test_2_3_ipv4_native_routing_cidr():
    assert cm(objects({"ipv4NativeRoutingCIDREnabled": True}))["ipv4-native-routing-cidr"] == "100.96.0.0/11"


def test_2_3_ipv6_native_routing_cidr_is_the_first_ipv6_of_the_shoot_status():
    s = shoot(status_pods=["100.96.0.0/11", "fd00:10::/56", "fd00:20::/56"],
              constraints=[{"type": "DualStackNodesMigrationReady", "status": "True"}])
    data = cm(objects({"overlay": {"enabled": False}}, families=("IPv4", "IPv6"), shoot_obj=s))
    assert data["ipv4-native-routing-cidr"] == "100.96.0.0/11"
    assert data["ipv6-native-routing-cidr"] == "fd00:10::/56"


def test_2_3_ipv6_native_routing_without_ipv6_shoot_pods_is_an_error():
    from controller.errors import ConfigurationError
    with pytest.raises(ConfigurationError) as exc:
        render({"ipv6NativeRoutingCIDREnabled": True}, shoot_obj=shoot(pods="fd00:10::/56",
                                                                      status_pods=["100.96.0.0/11"]), **IPV6)
    assert exc.value.lines == ['status.networking.pods: Invalid value: ["100.96.0.0/11"]: no IPv6 CIDR: pods cidr '
                               'required for setting ipv6 native routing cidr was not yet set']


def test_2_3_snat_to_upstream_dns():
    objs = objects({"snatToUpstreamDNS": {"enabled": True}})
    assert "add-snat-rule-to-upstream-dns" in container_names(objs)
    assert "enable-bpf-masquerade" not in cm(objs)
    assert "add-snat-rule-to-upstream-dns" not in container_names(objects({}))


@pytest.mark.parametrize("pc,v4,v6,bpf", [
    ({}, "true", "false", "true"),
    ({"enableIpv4Masquerade": False, "enableIpv6Masquerade": True, "enableBPFMasquerade": False},
     "false", "true", "false"),
])
def test_2_3_masquerade_flags(pc, v4, v6, bpf):
    data = cm(objects(pc))
    assert (data["enable-ipv4-masquerade"], data["enable-ipv6-masquerade"], data["enable-bpf-masquerade"]) == \
        (v4, v6, bpf)


def test_2_3_policy_audit_mode():
    assert cm(objects({"policyAuditMode": True}))["policy-audit-mode"] == "true"
    assert "policy-audit-mode" not in cm(objects({"policyAuditMode": False}))


@pytest.mark.parametrize("pc,expected", [
    ({"overlay": {"enabled": False, "createPodRoutes": True}}, "true"),
    ({"overlay": {"enabled": False, "createPodRoutes": False}}, "false"),
    ({"overlay": {"enabled": True, "createPodRoutes": True}}, "false"),
])
def test_2_3_auto_direct_node_routes(pc, expected):
    assert cm(objects(pc))["auto-direct-node-routes"] == expected


def test_2_3_bgp_control_plane():
    assert cm(objects({"bgpControlPlane": {"enabled": True}}))["enable-bgp-control-plane"] == "true"
    assert cm(objects({}))["enable-bgp-control-plane"] == "false"


def test_2_3_wireguard_encryption():
    data = cm(objects({"encryption": {"enabled": True, "mode": "wireguard", "nodeToNodeEnabled": True}}))
    assert data["enable-wireguard"] == "true" and data["wireguard-persistent-keepalive"] == "0s"
    assert data["encrypt-node"] == "true" and "enable-encryption-strict-mode" not in data


def test_2_3_encryption_enabled_without_mode_renders_nothing():
    data = cm(objects({"encryption": {"enabled": True}}))
    assert "enable-wireguard" not in data and "encrypt-node" not in data


@pytest.mark.parametrize("pc,pod_cidr,nodes,allow", [
    ({}, "100.96.0.0/11", "10.250.0.0/16", "true"),  # default tunnel vxlan
    ({"tunnel": "geneve"}, "100.96.0.0/11", "10.250.0.0/16", "true"),
    ({"overlay": {"enabled": False}}, "10.0.0.0/16", "10.0.0.128/17", "true"),  # overlapping, host bits set
    ({"overlay": {"enabled": False}}, "100.96.0.0/11", "10.250.0.0/16", "false"),
    ({"tunnel": "disabled"}, "10.0.0.0/16", "10.0.0.128/17", "false"),  # overlay absent
])
def test_2_3_wireguard_strict_mode_remote_node_identities(pc, pod_cidr, nodes, allow):
    pc = {"encryption": {"enabled": True, "mode": "wireguard", "strictMode": True}, **pc}
    data = cm(objects(pc, pod_cidr=pod_cidr, shoot_obj=shoot(nodes=nodes)))
    assert data["enable-encryption-strict-mode"] == "true"
    assert data["encryption-strict-mode-cidr"] == pod_cidr
    assert data["encryption-strict-mode-allow-remote-node-identities"] == allow


@pytest.mark.parametrize("live,mode", [(None, "kubernetes"), ({}, "kubernetes"),
                                       ({"ciliumConfig": {"data": {"ipam": "kubernetes"}}}, "kubernetes"),
                                       ({"ciliumConfig": {"data": {"ipam": ""}}}, "kubernetes"),
                                       ({"ciliumConfig": {"data": {"ipam": "cluster-pool"}}}, "cluster-pool")])
def test_2_3_ipam_mode_from_the_live_shoot_config(live, mode):
    data = cm(objects(live=live))
    assert data["ipam"] == mode
    if mode == "cluster-pool":
        assert data["cluster-pool-ipv4-cidr"] == "100.96.0.0/11"
        assert data["cluster-pool-ipv4-mask-size"] == "24"
        assert "k8s-require-ipv4-pod-cidr" not in data


def test_example_network_renders():
    import yaml
    from tests.helpers import EXAMPLE
    net = yaml.safe_load((EXAMPLE / "network-cilium.yaml").read_text())
    assert net["metadata"] == {"name": "baz", "namespace": "shoot--foo--baz",
                               "annotations": {"gardener.cloud/operation": "reconcile"}}
    desired = asyncio.run(pipeline.desired_state(renderer(), MAPPING, copy.deepcopy(net), shoot(kube_proxy=False),
                                                 ControllerConfig()))
    data = cm(desired.rendered.objects)
    assert data["enable-hubble"] == "true" and data["tunnel-protocol"] == "vxlan"


def test_mapping_file_header():
    assert MAPPING.type == "cilium" and MAPPING.chart.name == "cilium"
    assert (MAPPING.release_name, MAPPING.release_namespace) == ("cilium", "kube-system")
    assert (MAPPING.managed_resource, MAPPING.origin) == ("extension-networking-cilium-config",
                                                          "extension-networking-cilium")
    assert MAPPING.monitoring.chart.name == "cilium-monitoring"
    assert MAPPING.monitoring.release == "cilium-monitoring-config"
    assert MAPPING.monitoring.legacy_objects == ({"apiVersion": "v1", "kind": "ConfigMap",
                                                  "name": "cilium-monitoring-config"},)
    assert MAPPING.provider_status == {"apiVersion": API_VERSION, "kind": "NetworkStatus"}
    assert MAPPING.config_api_version == "cilium.networking.extensions.config.gardener.cloud/v1alpha1"
    assert MAPPING.feature_gates == {} and MAPPING.type_meta_required is False
    assert MAPPING.live_inputs == {"ciliumConfig": {"apiVersion": "v1", "kind": "ConfigMap",
                                                    "namespace": "kube-system", "name": "cilium-config"}}
    assert len(MAPPING.schema["properties"]) == 26
