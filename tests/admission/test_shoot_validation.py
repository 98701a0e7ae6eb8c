"""The admission validator's checks on Shoots, rule by rule, with the Go validators' cases and field
paths (calico.md 1.4 / 4.10, cilium.md 1.3 / 4.8), and its agreement with the Network validation."""

from __future__ import annotations

import pytest

from controller.admission import shoots as admission
from controller.config import ControllerConfig
from controller.errors import ConfigurationError
from controller.mapping import load_mappings
from controller.pipeline import compute_values
from tests.admission.shoots import shoot
from tests.helpers import MAPPINGS
from tests.mapping import test_calico_validation as calico_cases
from tests.mapping import test_cilium_validation as cilium_cases

MAPPINGS_BY_TYPE = load_mappings(MAPPINGS)
TYPES = ["calico", "cilium"]


def errors(obj: dict, network_type: str | None = None) -> list[str]:
    network_type = network_type or obj["spec"]["networking"]["type"]
    return [str(e) for e in admission.validate_shoot(MAPPINGS_BY_TYPE[network_type], obj)]


def paths(lines: list[str]) -> list[str]:
    return [line.split(": ", 1)[0] for line in lines]


# --- ValidateNetworking: the Go table of pkg/apis/<type>/validation/shoot_test.go -------------------

@pytest.mark.parametrize("network_type", TYPES)
@pytest.mark.parametrize("networking,expected", [
    ({"type": None}, ["spec.networking.type"]),
    ({"type": "foo"}, ["spec.networking.type"]),
    ({}, []),
    ({"pods": "foo"}, ["spec.networking.pods"]),
    ({"pods": "10.0.0.0/23"}, []),
    ({"nodes": "foo"}, ["spec.networking.nodes"]),
    ({"nodes": "10.0.0.0/23"}, []),
    ({"services": "foo"}, ["spec.networking.services"]),
    ({"services": "10.0.0.0/23"}, []),
    ({"ipFamilies": ["foo"]}, ["spec.networking.ipFamilies"]),
    ({"ipFamilies": ["foo", "bar", "baz"]}, ["spec.networking.ipFamilies", "spec.networking.ipFamilies"]),
    ({"ipFamilies": ["IPv6", "IPv6"]}, ["spec.networking.ipFamilies"]),
    ({"ipFamilies": ["IPv4"]}, []),
    ({"ipFamilies": ["IPv6"]}, []),
    ({"ipFamilies": ["IPv4", "IPv6"]}, []),
    ({"ipFamilies": ["IPv6", "IPv4"]}, []),
], ids=lambda v: str(v))
def test_validate_networking(network_type, networking, expected):
    net = {"type": network_type, **networking}
    net = {k: v for k, v in net.items() if v is not None}
    assert paths([str(e) for e in admission.validate_networking(net, network_type)]) == expected


def test_networking_messages_are_go_s():
    lines = [str(e) for e in admission.validate_networking(
        {"type": "flannel", "pods": "x", "ipFamilies": ["IPv4", "IPv4"]}, "calico")]
    assert lines == [
        'spec.networking.type: Invalid value: "flannel": networking type "flannel" is not supported',
        'spec.networking.pods: Invalid value: "x": pods is not a valid CIDR: "x"',
        'spec.networking.ipFamilies: Invalid value: ["IPv4","IPv4"]: ipFamilies (["IPv4" "IPv4"]) cannot have '
        'duplicate entries',
    ]
    assert [str(e) for e in admission.validate_networking({}, "cilium")] == [
        "spec.networking.type: Required value: networking type is required"]


def test_networking_errors_stop_before_the_provider_config():
    """Go returns the ValidateNetworking errors alone (the providerConfig is not decoded then)."""
    obj = shoot("cilium", {"tunnel": "x"}, pods="nope")
    assert paths(errors(obj)) == ["spec.networking.pods"]


# --- providerConfig: strict decoding and the type's schema at spec.networking.providerConfig ------

@pytest.mark.parametrize("config,path", [(c, p) for c, p, _ in cilium_cases.REJECTED],
                         ids=[p for _, p, _ in cilium_cases.REJECTED])
def test_cilium_provider_config_errors_move_below_spec_networking(config, path):
    assert path.replace("spec.providerConfig", "spec.networking.providerConfig") in paths(errors(shoot("cilium", config)))


@pytest.mark.parametrize("config,line", calico_cases.REJECTED, ids=[line[:60] for _, line in calico_cases.REJECTED])
def test_calico_provider_config_errors_move_below_spec_networking(config, line):
    expected = line.replace("spec.providerConfig", "spec.networking.providerConfig")
    found = errors(shoot("calico", config))
    assert any(e.startswith(expected) for e in found), found


@pytest.mark.parametrize("network_type,config", [("calico", c) for c in calico_cases.ACCEPTED] +
                         [("cilium", c) for c in cilium_cases.ACCEPTED], ids=str)
def test_accepted_provider_configs_are_admitted(network_type, config):
    assert errors(shoot(network_type, config)) == []


@pytest.mark.parametrize("network_type", TYPES)
def test_unknown_fields_and_wrong_kind_are_refused(network_type):
    obj = shoot(network_type, {"foo": 1})
    obj["spec"]["networking"]["providerConfig"]["kind"] = "Other"
    assert paths(errors(obj)) == ["spec.networking.providerConfig.kind", "spec.networking.providerConfig.foo"]


def test_a_shoot_without_provider_config_is_admitted():
    assert errors(shoot("calico")) == [] and errors(shoot("cilium")) == []


# --- the type's rules marked `admission: true` ---------------------------------------------------

KUBE_PROXY = ("spec.kubernetes.kubeProxy.enabled: Forbidden: Disabling kube-proxy is forbidden in conjunction "
              "with calico without running in ebpf dataplane")


@pytest.mark.parametrize("config", [None, {}, {"ebpfDataplane": {"enabled": False}}])
def test_calico_without_ebpf_may_not_disable_kube_proxy(config):
    assert errors(shoot("calico", config, kube_proxy={"enabled": False})) == [KUBE_PROXY]


@pytest.mark.parametrize("kube_proxy", [None, {}, {"enabled": True}])
def test_calico_kube_proxy_enabled_or_unset_is_fine(kube_proxy):
    assert errors(shoot("calico", {}, kube_proxy=kube_proxy)) == []


def test_calico_with_ebpf_may_disable_kube_proxy():
    assert errors(shoot("calico", {"ebpfDataplane": {"enabled": True}}, kube_proxy={"enabled": False})) == []


@pytest.mark.parametrize("families", [("IPv6",), ("IPv4", "IPv6")])
def test_calico_ipam_needs_ipv4_single_stack(families):
    found = errors(shoot("calico", {"ipam": {"type": "calico-ipam"}}, families=families))
    assert paths(found) == ["spec.networking.providerConfig.ipam.type"] and "Invalid value" in found[0]


def test_calico_ipam_on_ipv4_is_fine():
    assert errors(shoot("calico", {"ipam": {"type": "calico-ipam"}})) == []


def test_controller_only_rules_are_not_admission_checks():
    """calico's "IPv6 configuration must not be specified ..." comes from value computation in Go (the
    controller), cilium's IPVS + node-local-dns and egress gateway checks too: not refused at admission."""
    assert errors(shoot("calico", {"ipv6": {"pool": "vxlan"}})) == []
    obj = shoot("cilium", {"egressGateway": {"enabled": True}}, kube_proxy={"enabled": True, "mode": "IPVS"})
    obj["spec"]["systemComponents"] = {"nodeLocalDNS": {"enabled": True}}
    assert errors(obj) == []


# --- which Shoots ------------------------------------------------------------------------------

@pytest.mark.parametrize("network_type", TYPES)
def test_workerless_shoots_are_skipped(network_type):
    assert errors(shoot(network_type, {"foo": 1}, workers=False)) == []


def test_calico_checks_only_calico_shoots():
    """Go's CalicoPredicate: a calico-labelled Shoot of another networking type is admitted unchecked."""
    obj = shoot("calico", {"foo": 1})
    obj["spec"]["networking"]["type"] = "cilium"
    assert errors(obj, "calico") == []


def test_cilium_refuses_a_labelled_shoot_of_another_type():
    """The cilium validator has no predicate: ValidateNetworking refuses the type."""
    obj = shoot("cilium")
    obj["spec"]["networking"]["type"] = "calico"
    assert paths(errors(obj, "cilium")) == ["spec.networking.type"]


def test_only_the_labelled_types_validate():
    obj = shoot("calico", {"foo": 1}, labelled=False)
    assert admission.validate_labelled(MAPPINGS_BY_TYPE, obj) == []
    obj["metadata"]["labels"] = {"networking.extensions.gardener.cloud/calico": "true"}
    assert paths([str(e) for e in admission.validate_labelled(MAPPINGS_BY_TYPE, obj)]) == [
        "spec.networking.providerConfig.foo"]
    obj["metadata"]["labels"] = {"networking.extensions.gardener.cloud/calico": "false"}
    assert admission.validate_labelled(MAPPINGS_BY_TYPE, obj) == []


def test_refusal_message_is_go_s_aggregate():
    one = admission.validate_shoot(MAPPINGS_BY_TYPE["cilium"], shoot("cilium", {"mtu": -1}))
    two = admission.validate_shoot(MAPPINGS_BY_TYPE["cilium"], shoot("cilium", {"mtu": -1, "tunnel": "x"}))
    assert admission.aggregate(one) == str(one[0])
    assert admission.aggregate(two) == f"[{two[0]}, {two[1]}]"


# --- agreement with the Network validation -------------------------------------------------------

def network_errors(network_type: str, config: dict, families=("IPv4",)) -> list[str]:
    mapping = MAPPINGS_BY_TYPE[network_type]
    obj = shoot(network_type, config, families=families)
    network = {"metadata": {"name": "foo", "namespace": "shoot--dev--foo"},
               "spec": {"type": network_type, "providerConfig": obj["spec"]["networking"]["providerConfig"],
                        "podCIDR": "100.96.0.0/11", "serviceCIDR": "100.64.0.0/13", "ipFamilies": list(families)}}
    try:
        compute_values(mapping, network, obj, ControllerConfig())
    except ConfigurationError as exc:
        return [line.replace("spec.providerConfig", "spec.networking.providerConfig") for line in exc.lines]
    return []


SCHEMA_CASES = [("calico", c) for c, _ in calico_cases.REJECTED] + [("cilium", c) for c, _, _ in cilium_cases.REJECTED]


@pytest.mark.parametrize("network_type,config", SCHEMA_CASES, ids=str)
def test_admission_and_network_validation_agree_on_provider_configs(network_type, config):
    """For a providerConfig the schema refuses, both report the same lines (modulo the path prefix);
    the Network side may add the controller-only rules, which admission leaves out."""
    at_admission = errors(shoot(network_type, config))
    assert at_admission, "admission must refuse what the Network validation refuses"
    on_network = network_errors(network_type, config)
    assert set(at_admission) <= set(on_network)
    schema_paths = {p for p in paths(on_network) if p.startswith("spec.networking.providerConfig")}
    assert schema_paths <= set(paths(at_admission)) | {"spec.networking.providerConfig.egressGateway.enabled",
                                                       "spec.networking.providerConfig.loadBalancingMode",
                                                       "spec.networking.providerConfig.ipv4",
                                                       "spec.networking.providerConfig.ipv6",
                                                       "spec.networking.providerConfig.ipip"}
