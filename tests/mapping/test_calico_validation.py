"""Every validation rule of calico.md 1.2 (and the Network/shoot checks of 2.1), accepted and rejected,
with the exact field path of each error. Pure: no helm."""

from __future__ import annotations

import pytest

from controller.config import ControllerConfig
from controller.errors import ConfigurationError
from controller.mapping import load_mapping
from controller.pipeline import compute_values
from tests.factories import network, shoot
from tests.helpers import MAPPINGS

MAPPING = load_mapping(MAPPINGS / "calico.yaml")


def errors_of(provider_config, families=("IPv4",), shoot_obj=None, **kwargs):
    try:
        compute_values(MAPPING, network(provider_config, families=families, **kwargs), shoot_obj or shoot(),
                       ControllerConfig())
    except ConfigurationError as exc:
        return exc.lines
    return []


ACCEPTED = [
    {}, {"backend": "bird"}, {"backend": "none"}, {"backend": "vxlan"},
    {"ipam": {"type": "calico-ipam"}}, {"ipam": {"type": "host-local", "cidr": "usePodCIDR"}},
    {"ipam": {"type": "host-local", "cidr": "10.0.0.0/16"}}, {"ipam": {"type": "", "cidr": "USEPODCIDR"}},
    {"ipv4": {"pool": "ipip", "mode": "CrossSubnet", "autoDetectionMethod": "interface=eth.*"}},
    {"ipv4": {"pool": "vxlan", "mode": "Never"}}, {"ipv4": {"mode": "Off"}},
    {"ipv4": {"autoDetectionMethod": "can-reach=www.example.com"}},
    {"ipv4": {"autoDetectionMethod": "kubernetes-internal-ip"}},
    {"vethMTU": "0"}, {"vethMTU": "1440"}, {"typha": {"enabled": False}}, {"ebpfDataplane": {"enabled": True}},
    {"overlay": {"enabled": False, "createPodRoutes": True}}, {"snatToUpstreamDNS": {"enabled": False}},
    {"autoScaling": {"mode": "cluster-proportional"}},
    {"autoScaling": {"mode": "static", "resources": {"node": {"cpu": "100m", "memory": "128Mi"}, "typha": {"cpu": 1}}}},
    {"autoScaling": {"mode": "vpa"}}, {"vxlan": {"enabled": True}}, {"ipip": "Never"},
    {"ipAutodetectionMethod": "first-found"}, {"wireguardEncryption": True}, {"birdExporter": {"enabled": True}},
    {"multus": {"enabled": True, "installCNIPlugins": True}},
    {"serviceLoopPrevention": "Disabled"}, {"serviceLoopPrevention": "Drop"}, {"serviceLoopPrevention": "Reject"},
    {"ipam": None, "backend": None},
]


@pytest.mark.parametrize("config", ACCEPTED)
def test_accepted(config):
    assert errors_of(config) == []


REJECTED = [
    ({"backend": "flannel"}, 'spec.providerConfig.backend: Unsupported value: "flannel"'),
    ({"ipam": {"type": "dhcp"}}, 'spec.providerConfig.ipam.type: Unsupported value: "dhcp"'),
    ({"ipam": {"cidr": "10.0.0.0/33"}}, 'spec.providerConfig.ipam.cidr: Invalid value: "10.0.0.0/33"'),
    ({"ipv4": {"pool": "gre"}}, 'spec.providerConfig.ipv4.pool: Unsupported value: "gre"'),
    ({"ipv4": {"mode": "Sometimes"}}, 'spec.providerConfig.ipv4.mode: Unsupported value: "Sometimes"'),
    ({"ipv4": {"pool": "vxlan", "mode": "CrossSubnet"}}, "spec.providerConfig.ipv4.mode: Unsupported value: \"CrossSubnet\""),
    ({"ipv4": {"pool": "vxlan", "mode": "Off"}}, 'spec.providerConfig.ipv4.mode: Unsupported value: "Off"'),
    ({"ipv4": {"autoDetectionMethod": ""}}, "spec.providerConfig.ipv4.autoDetectionMethod: Invalid value: \"\": must not be empty"),
    ({"ipv4": {"autoDetectionMethod": "first-found=eth0"}}, "spec.providerConfig.ipv4.autoDetectionMethod: Invalid value"),
    ({"ipv4": {"autoDetectionMethod": "cidr=10.0.0.0/8,10.1.0.0/16"}}, "spec.providerConfig.ipv4.autoDetectionMethod: Invalid value"),
    ({"ipv4": {"autoDetectionMethod": "can-reach=Bad_Host"}}, "spec.providerConfig.ipv4.autoDetectionMethod: Invalid value"),
    ({"ipv4": {"autoDetectionMethod": "interface=("}}, "spec.providerConfig.ipv4.autoDetectionMethod: Invalid value"),
    ({"ipv4": {"autoDetectionMethod": "magic"}}, "spec.providerConfig.ipv4.autoDetectionMethod: Invalid value"),
    ({"vethMTU": ""}, 'spec.providerConfig.vethMTU: Invalid value: ""'),
    ({"vethMTU": "-1"}, 'spec.providerConfig.vethMTU: Invalid value: "-1"'),
    ({"vethMTU": "abc"}, 'spec.providerConfig.vethMTU: Invalid value: "abc"'),
    ({"vethMTU": 1440}, "spec.providerConfig.vethMTU: Invalid value: 1440: must be of type string"),
    ({"autoScaling": {"mode": "magic"}}, 'spec.providerConfig.autoScaling.mode: Unsupported value: "magic"'),
    ({"autoScaling": {}}, "spec.providerConfig.autoScaling.mode: Required value"),
    ({"autoScaling": {"mode": "static", "resources": {"node": {"gpu": "1"}}}},
     "spec.providerConfig.autoScaling.resources.node.gpu: Unsupported value"),
    ({"autoScaling": {"mode": "static", "resources": {"typha": {"cpu": "0"}}}},
     'spec.providerConfig.autoScaling.resources.typha.cpu: Invalid value: "0": must be greater than zero'),
    ({"autoScaling": {"mode": "static", "resources": {"typha": {"memory": "-1Mi"}}}},
     "spec.providerConfig.autoScaling.resources.typha.memory: Invalid value"),
    ({"ipip": "Sometimes"}, 'spec.providerConfig.ipip: Unsupported value: "Sometimes"'),
    ({"ipAutodetectionMethod": ""}, 'spec.providerConfig.ipAutodetectionMethod: Invalid value: "": must not be empty'),
    ({"serviceLoopPrevention": "Allow"}, 'spec.providerConfig.serviceLoopPrevention: Unsupported value: "Allow"'),
    ({"typha": {"enabled": "yes"}}, 'spec.providerConfig.typha.enabled: Invalid value: "yes": must be of type boolean'),
    ({"unknownField": 1}, "spec.providerConfig.unknownField: Unknown field"),
    ({"overlay": {"enabled": True, "vxlan": True}}, "spec.providerConfig.overlay.vxlan: Unknown field"),
]


@pytest.mark.parametrize("config, expected", REJECTED)
def test_rejected_with_field_path(config, expected):
    lines = errors_of(config)
    assert any(line.startswith(expected) for line in lines), lines


def test_all_problems_are_reported_at_once():
    lines = errors_of({"backend": "x", "vethMTU": "-1", "foo": 1})
    assert [line.split(":")[0] for line in lines] == [
        "spec.providerConfig.backend", "spec.providerConfig.foo", "spec.providerConfig.vethMTU"]


def test_ipv6_pool_and_mode_that_go_only_rejects_late_are_refused_up_front():
    assert errors_of({"ipv6": {"pool": "ipip"}}, families=("IPv6",), pod_cidr="fd00::/48",
                     service_cidr="fd01::/108")[0].startswith('spec.providerConfig.ipv6.pool: Unsupported value: "ipip"')
    assert errors_of({"ipv6": {"mode": "Off"}}, families=("IPv6",), pod_cidr="fd00::/48",
                     service_cidr="fd01::/108")[0].startswith('spec.providerConfig.ipv6.mode: Unsupported value: "Off"')


def test_calico_ipam_is_refused_when_the_shoot_uses_ipv6():
    lines = errors_of({"ipam": {"type": "calico-ipam"}}, families=("IPv4", "IPv6"))
    assert lines == ['spec.providerConfig.ipam.type: Invalid value: "calico-ipam": '
                     "calico-ipam is not supported when the shoot uses IPv6"]


def test_family_blocks_must_match_the_shoot_families():
    assert errors_of({"ipv6": {"mode": "Never"}}) == [
        "spec.providerConfig.ipv6: Forbidden: IPv6 configuration must not be specified if Shoot doesn't use IPv6 networking"]
    v6 = dict(families=("IPv6",), pod_cidr="fd00::/48", service_cidr="fd01::/108")
    assert errors_of({"ipv4": {"mode": "Never"}}, **v6)[0].startswith("spec.providerConfig.ipv4: Forbidden")
    assert errors_of({"ipip": "Never"}, **v6)[0].startswith("spec.providerConfig.ipip: Forbidden")


def test_ipv6_block_is_allowed_during_dual_stack_migration():
    migrating = shoot(constraints=[{"type": "DualStackNodesMigrationReady", "status": "False"}])
    assert errors_of({"ipv6": {"mode": "Never"}}, families=("IPv4", "IPv6"), shoot_obj=migrating) == []


def test_kube_proxy_disabled_requires_ebpf():
    no_proxy = shoot(kube_proxy={"enabled": False, "mode": "IPTables"})
    assert errors_of({}, shoot_obj=no_proxy) == [
        "spec.kubernetes.kubeProxy.enabled: Forbidden: Disabling kube-proxy is forbidden in conjunction with "
        "calico without running in ebpf dataplane"]
    assert errors_of({"ebpfDataplane": {"enabled": True}}, shoot_obj=no_proxy) == []


@pytest.mark.parametrize("api, kind, expected", [
    ("calico.networking.extensions.gardener.cloud/v1beta1", "NetworkConfig", "spec.providerConfig.apiVersion: Unsupported value"),
    ("calico.networking.extensions.gardener.cloud/v1alpha1", "NetworkStatus", "spec.providerConfig.kind: Unsupported value"),
    (None, "NetworkConfig", "spec.providerConfig.apiVersion: Required value"),
])
def test_type_meta_is_checked_strictly(api, kind, expected):
    net = network({})
    net["spec"]["providerConfig"] = {k: v for k, v in (("apiVersion", api), ("kind", kind)) if v}
    with pytest.raises(ConfigurationError) as info:
        compute_values(MAPPING, net, shoot(), ControllerConfig())
    assert info.value.lines[0].startswith(expected)


@pytest.mark.parametrize("change, expected", [
    ({"podCIDR": None}, "spec.podCIDR: Required value"),
    ({"serviceCIDR": "300.0.0.0/8"}, 'spec.serviceCIDR: Invalid value: "300.0.0.0/8"'),
    ({"podCIDR": "10.96.0.0/16"}, "spec.podCIDR: Invalid value: \"10.96.0.0/16\": must not overlap"),
    ({"podCIDR": "fd00::/48"}, 'spec.podCIDR: Invalid value: "fd00::/48": must be a valid IPv4 address'),
    ({"ipFamilies": ["IPv4", "IPv4"]}, 'spec.ipFamilies[1]: Duplicate value: "IPv4"'),
    ({"ipFamilies": ["IPv5"]}, 'spec.ipFamilies[0]: Unsupported value: "IPv5"'),
    ({"type": ""}, "spec.type: Required value"),
])
def test_generic_network_validation(change, expected):
    net = network({})
    net["spec"].update(change)
    with pytest.raises(ConfigurationError) as info:
        compute_values(MAPPING, net, shoot(), ControllerConfig())
    assert any(line.startswith(expected) for line in info.value.lines), info.value.lines
