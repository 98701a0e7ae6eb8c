"""Every validation rule of cilium.md 1.1/1.2 and every forbidden combination of 2.1/2.3, accepted and
rejected, with the exact field path of each error. Pure: no helm (`compute_values`)."""

from __future__ import annotations

import copy

import pytest

from controller.config import ControllerConfig
from controller.errors import ConfigurationError
from controller.mapping import load_mapping
from controller.pipeline import compute_values
from tests.helpers import MAPPINGS

MAPPING = load_mapping(MAPPINGS / "cilium.yaml")
API_VERSION = "cilium.networking.extensions.gardener.cloud/v1alpha1"

BASE_SHOOT = {
    "spec": {
        "kubernetes": {"version": "1.32.0", "kubeProxy": {"enabled": True, "mode": "IPTables"}},
        "networking": {"type": "cilium", "pods": "100.96.0.0/11", "nodes": "10.250.0.0/16"},
        "provider": {"workers": [{"name": "a", "minimum": 2, "maximum": 3}]},
    },
    "status": {"advertisedAddresses": [{"name": "external", "url": "https://api.baz.example.com"}]},
}


def shoot(kube_proxy: bool = True, mode: str = "IPTables", node_local_dns: bool | None = None) -> dict:
    s = copy.deepcopy(BASE_SHOOT)
    s["spec"]["kubernetes"]["kubeProxy"] = {"enabled": kube_proxy, "mode": mode}
    if node_local_dns is not None:
        s["spec"]["systemComponents"] = {"nodeLocalDNS": {"enabled": node_local_dns}}
    return s


def network(provider_config: dict | None = None, type_meta: bool = True) -> dict:
    spec = {"type": "cilium", "podCIDR": "100.96.0.0/11", "serviceCIDR": "100.64.0.0/13", "ipFamilies": ["IPv4"]}
    if provider_config is not None:
        pc = dict(provider_config)
        if type_meta:
            pc = {"apiVersion": API_VERSION, "kind": "NetworkConfig", **pc}
        spec["providerConfig"] = pc
    return {"metadata": {"name": "baz", "namespace": "shoot--foo--baz"}, "spec": spec}


def errors_of(provider_config, shoot_obj=None, type_meta: bool = True) -> list[str]:
    try:
        compute_values(MAPPING, network(provider_config, type_meta), shoot_obj or shoot(), ControllerConfig())
    except ConfigurationError as exc:
        return exc.lines
    return []


def paths_of(lines: list[str]) -> list[str]:
    return [line.split(": ", 1)[0] for line in lines]


ACCEPTED = [
    {}, {"debug": True}, {"debug": False},
    {"kubeproxy": {"k8sServiceHost": "api.example.com", "k8sServicePort": 443}},
    {"kubeproxy": {"k8sServiceHost": "10.0.0.1", "k8sServicePort": 1}},
    {"kubeproxy": {"k8sServiceHost": "fd00::1", "k8sServicePort": 65535}},
    {"kubeproxy": {"k8sServiceHost": "a-b.c"}}, {"kubeproxy": {}},
    {"hubble": {"enabled": True}}, {"hubble": {}},
    {"tunnel": "vxlan"}, {"tunnel": "geneve"}, {"tunnel": "disabled"},
    {"store": "kubernetes"},
    {"ipv4": {"enabled": False}}, {"ipv6": {"enabled": True}},
    {"bpfSocketLBHostnsOnly": {"enabled": True}}, {"cni": {"exclusive": False}}, {"cni": {}},
    {"mtu": 0}, {"mtu": 1460}, {"mtu": 65535},
    {"devices": []}, {"devices": ["eth0", "ens+", "123456789012345"]},
    {"directRoutingDevice": "eth0"},
    {"loadBalancingMode": "snat"}, {"loadBalancingMode": "hybrid"},
    {"l2Announcements": {"enabled": True, "leaseDuration": "1m", "leaseRenewDeadline": "1.5s",
                         "leaseRetryPeriod": "300ms"}},
    {"ipv4NativeRoutingCIDREnabled": True}, {"ipv6NativeRoutingCIDREnabled": False},
    {"overlay": {"enabled": True}}, {"overlay": {"enabled": False, "createPodRoutes": True}},
    {"snatToUpstreamDNS": {"enabled": True}}, {"snatOutOfCluster": {"enabled": True}},
    {"enableIpv4Masquerade": False, "enableIpv6Masquerade": True, "enableBPFMasquerade": False},
    {"bgpControlPlane": {"enabled": True}}, {"policyAuditMode": True},
    {"encryption": {"enabled": True, "mode": "wireguard", "nodeToNodeEnabled": True, "strictMode": True}},
    {"encryption": {"enabled": False, "mode": "", "strictMode": True}},
    {"encryption": {"enabled": True, "mode": ""}}, {"encryption": {}},
    {"tunnel": None, "mtu": None},  # JSON null means "not set"
]


@pytest.mark.parametrize("config", ACCEPTED, ids=[str(c) for c in ACCEPTED])
def test_accepted(config):
    assert errors_of(config) == []


REJECTED = [
    ({"debug": "yes"}, "spec.providerConfig.debug", "Invalid value"),
    ({"kubeproxy": {"k8sServiceHost": "API.example.com"}}, "spec.providerConfig.kubeproxy.k8sServiceHost",
     "RFC 1123"),
    ({"kubeproxy": {"k8sServiceHost": ""}}, "spec.providerConfig.kubeproxy.k8sServiceHost", "RFC 1123"),
    ({"kubeproxy": {"k8sServiceHost": "a" * 254}}, "spec.providerConfig.kubeproxy.k8sServiceHost",
     "no more than 253 characters"),
    ({"kubeproxy": {"k8sServicePort": 0}}, "spec.providerConfig.kubeproxy.k8sServicePort",
     "greater than or equal to 1"),
    ({"kubeproxy": {"k8sServicePort": 65536}}, "spec.providerConfig.kubeproxy.k8sServicePort",
     "less than or equal to 65535"),
    ({"tunnel": "ipip"}, "spec.providerConfig.tunnel",
     'Unsupported value: "ipip": supported values: "vxlan", "geneve", "disabled"'),
    ({"store": "etcd"}, "spec.providerConfig.store", 'Unsupported value: "etcd": supported values: "kubernetes"'),
    ({"loadBalancingMode": "maglev"}, "spec.providerConfig.loadBalancingMode",
     'supported values: "snat", "dsr", "hybrid"'),
    ({"mtu": -1}, "spec.providerConfig.mtu", "Invalid value: -1: mtu must be a positive integer"),
    ({"mtu": 70000}, "spec.providerConfig.mtu", "mtu must not exceed 65535"),
    ({"mtu": "1460"}, "spec.providerConfig.mtu", "must be of type integer"),
    ({"devices": ["eth0", ""]}, "spec.providerConfig.devices[1]", "must not be empty"),
    ({"devices": ["eth/0"]}, "spec.providerConfig.devices[0]", "Linux device name"),
    ({"devices": ["eth 0"]}, "spec.providerConfig.devices[0]", "Linux device name"),
    ({"devices": ["a" * 16]}, "spec.providerConfig.devices[0]", "Linux device name"),
    ({"devices": ["äääääääää"]}, "spec.providerConfig.devices[0]", "1-15 bytes"),  # 18 bytes
    ({"directRoutingDevice": "bond0\t"}, "spec.providerConfig.directRoutingDevice", "Linux device name"),
    ({"directRoutingDevice": ""}, "spec.providerConfig.directRoutingDevice", "must not be empty"),
    ({"l2Announcements": {"leaseDuration": "15"}}, "spec.providerConfig.l2Announcements.leaseDuration",
     "must be a duration"),
    ({"l2Announcements": {"leaseRenewDeadline": "5 s"}}, "spec.providerConfig.l2Announcements.leaseRenewDeadline",
     "must be a duration"),
    ({"l2Announcements": {"leaseRetryPeriod": "2d"}}, "spec.providerConfig.l2Announcements.leaseRetryPeriod",
     "must be a duration"),
    ({"encryption": {"enabled": True, "strictMode": True}}, "spec.providerConfig.encryption.mode",
     "strict mode requires encryption mode wireguard"),
    ({"encryption": {"enabled": True, "strictMode": True, "mode": ""}}, "spec.providerConfig.encryption.mode",
     "strict mode requires encryption mode wireguard"),
    ({"encryption": {"mode": "ipsec"}}, "spec.providerConfig.encryption.mode",
     'Unsupported value: "ipsec": supported values: "", "wireguard"'),
    ({"encryption": {"enabled": "true"}}, "spec.providerConfig.encryption.enabled", "must be of type boolean"),
    ({"overlay": {"enabled": True, "createPodRoute": True}}, "spec.providerConfig.overlay.createPodRoute",
     "Unknown field"),
]


@pytest.mark.parametrize("config,path,text", REJECTED, ids=[p + ":" + t[:20] for _, p, t in REJECTED])
def test_rejected(config, path, text):
    lines = errors_of(config)
    assert len(lines) == 1, lines
    assert lines[0].startswith(path + ": "), lines
    assert text in lines[0], lines


@pytest.mark.parametrize("field,value", [
    ("foo", 1), ("hubbleUI", {"enabled": True}), ("Debug", True), ("kubeProxy", {}),
])
def test_unknown_top_level_field(field, value):
    assert errors_of({field: value}) == [f"spec.providerConfig.{field}: Unknown field: not declared in the schema"]


@pytest.mark.parametrize("nested,path", [
    ({"hubble": {"enabled": True, "ui": {"enabled": True}}}, "spec.providerConfig.hubble.ui"),
    ({"hubble": {"metrics": []}}, "spec.providerConfig.hubble.metrics"),
    ({"kubeproxy": {"k8sServiceHostname": "x"}}, "spec.providerConfig.kubeproxy.k8sServiceHostname"),
    ({"cni": {"exclusive": True, "chaining": "x"}}, "spec.providerConfig.cni.chaining"),
    ({"encryption": {"strict": True}}, "spec.providerConfig.encryption.strict"),
    ({"l2Announcements": {"leaseTime": "1s"}}, "spec.providerConfig.l2Announcements.leaseTime"),
    ({"ipv4": {"enabled": True, "pool": "x"}}, "spec.providerConfig.ipv4.pool"),
    ({"egressGateway": {"enable": True}}, "spec.providerConfig.egressGateway.enable"),
])
def test_unknown_nested_field(nested, path):
    assert paths_of(errors_of(nested)) == [path]


def test_all_errors_are_reported_together():
    lines = errors_of({"tunnel": "x", "mtu": -5, "devices": ["a/b"], "foo": 1})
    assert sorted(paths_of(lines)) == ["spec.providerConfig.devices[0]", "spec.providerConfig.foo",
                                       "spec.providerConfig.mtu", "spec.providerConfig.tunnel"]


# ---- type meta (1.1: apiVersion/kind optional, checked when present) --------------------------------

def test_omitted_api_version_and_kind_are_accepted():
    assert errors_of({"hubble": {"enabled": True}}, type_meta=False) == []


def test_only_kind_given_is_accepted():
    net = network({"kind": "NetworkConfig", "debug": True}, type_meta=False)
    values = compute_values(MAPPING, net, shoot(), ControllerConfig()).values
    assert values["global"]["debug"]["enabled"] is True


def test_wrong_api_version_is_rejected():
    lines = errors_of({"apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1"}, type_meta=False)
    assert lines == ['spec.providerConfig.apiVersion: Unsupported value: '
                     '"calico.networking.extensions.gardener.cloud/v1alpha1": '
                     f'supported values: "{API_VERSION}"']


def test_wrong_kind_is_rejected():
    lines = errors_of({"apiVersion": API_VERSION, "kind": "NetworkStatus"}, type_meta=False)
    assert lines == ['spec.providerConfig.kind: Unsupported value: "NetworkStatus": '
                     'supported values: "NetworkConfig"']


def test_absent_provider_config_is_an_empty_config():
    values = compute_values(MAPPING, network(None), shoot(), ControllerConfig()).values
    assert values["global"]["tunnel"] == "vxlan"


# ---- forbidden combinations (2.1 step 7, 2.3), reported before helm -----------------------------------

IPVS = "spec.kubernetes.kubeProxy.mode: Forbidden: Running kube-proxy with IPVS mode is forbidden in " \
       "conjunction with node local dns enabled"


def test_ipvs_with_node_local_dns_is_forbidden():
    assert errors_of({}, shoot(mode="IPVS", node_local_dns=True)) == [IPVS]


@pytest.mark.parametrize("shoot_obj", [
    shoot(mode="IPVS", node_local_dns=False), shoot(mode="IPVS"), shoot(mode="IPTables", node_local_dns=True),
    shoot(kube_proxy=False, mode="IPVS", node_local_dns=True),
], ids=["ipvs-no-nld", "ipvs-nld-absent", "iptables-nld", "no-kube-proxy"])
def test_ipvs_or_node_local_dns_alone_is_allowed(shoot_obj):
    assert errors_of({}, shoot_obj) == []


def test_ipvs_with_node_local_dns_and_enabled_unset_is_forbidden():
    s = shoot(mode="IPVS", node_local_dns=True)
    del s["spec"]["kubernetes"]["kubeProxy"]["enabled"]  # kube-proxy runs: Go's nil check let this through
    assert errors_of({}, s) == [IPVS]


EGRESS_KPR = ("spec.providerConfig.egressGateway.enabled: Forbidden: kubeProxyReplacement must be enabled in "
              "order to enable egressGateway")
EGRESS_TUNNEL = ("spec.providerConfig.egressGateway.enabled: Forbidden: cilium must run with an overlay network "
                 "in order to enable egressGateway")


def test_egress_gateway_needs_kube_proxy_replacement():
    assert errors_of({"egressGateway": {"enabled": True}}, shoot(kube_proxy=True)) == [EGRESS_KPR]


@pytest.mark.parametrize("config", [{"tunnel": "disabled"}, {"overlay": {"enabled": False}},
                                    {"tunnel": "vxlan", "overlay": {"enabled": False}}])
def test_egress_gateway_needs_a_tunnel(config):
    assert errors_of({"egressGateway": {"enabled": True}, **config}, shoot(kube_proxy=False)) == [EGRESS_TUNNEL]


def test_egress_gateway_both_prerequisites_missing_gives_both_errors():
    lines = errors_of({"egressGateway": {"enabled": True}, "tunnel": "disabled"}, shoot(kube_proxy=True))
    assert lines == [EGRESS_KPR, EGRESS_TUNNEL]


@pytest.mark.parametrize("config", [
    {"egressGateway": {"enabled": True}},
    {"egressGateway": {"enabled": True}, "tunnel": "geneve"},
    {"egressGateway": {"enabled": True}, "tunnel": "disabled", "overlay": {"enabled": True}},  # overlay wins
    {"egressGateway": {"enabled": False}, "tunnel": "disabled"},
])
def test_egress_gateway_with_prerequisites_is_allowed(config):
    assert errors_of(config, shoot(kube_proxy=False)) == []


DSR = "spec.providerConfig.loadBalancingMode: Forbidden: bpf-lb-mode 'dsr' requires native routing to be enabled"


@pytest.mark.parametrize("config", [{"loadBalancingMode": "dsr"},
                                    {"loadBalancingMode": "dsr", "overlay": {"enabled": True},
                                     "ipv4NativeRoutingCIDREnabled": True}])
def test_dsr_without_native_routing_is_forbidden(config):
    assert errors_of(config) == [DSR]


@pytest.mark.parametrize("config", [{"loadBalancingMode": "dsr", "overlay": {"enabled": False}},
                                    {"loadBalancingMode": "dsr", "ipv4NativeRoutingCIDREnabled": True}])
def test_dsr_with_native_routing_is_allowed(config):
    assert errors_of(config) == []


def test_native_routing_without_shoot_pods_is_an_error_at_the_shoot_field():
    s = shoot()
    del s["spec"]["networking"]["pods"]
    lines = errors_of({"overlay": {"enabled": False}}, s)
    assert lines == ["spec.networking.pods: Required value: pods cidr required for setting ipv4 native routing "
                     "cidr was not yet set"]


def test_kube_proxy_free_shoot_without_external_address_is_an_error():
    s = shoot(kube_proxy=False)
    s["status"]["advertisedAddresses"] = [{"name": "internal", "url": "https://api.internal"}]
    assert paths_of(errors_of({}, s)) == ["status.advertisedAddresses"]
    s["status"] = {}
    assert paths_of(errors_of({}, s)) == ["status.advertisedAddresses"]


def test_explicit_api_server_needs_no_advertised_address():
    s = shoot(kube_proxy=False)
    s["status"] = {}
    assert errors_of({"kubeproxy": {"k8sServiceHost": "api.example.com", "k8sServicePort": 443}}, s) == []
