"""The named transforms and format checks, one behaviour each."""

from __future__ import annotations

import pytest

from controller.errors import ConfigurationError
from controller.mapping import formats, transforms as t


def test_dual_stack_families_truncated_only_while_migration_not_ready():
    both = ["IPv6", "IPv4"]
    assert t.dualStackFamilies(both, None) == both
    assert t.dualStackFamilies(both, [{"type": "DualStackNodesMigrationReady", "status": "False"}]) == ["IPv6"]
    assert t.dualStackFamilies(both, [{"type": "DualStackNodesMigrationReady", "status": "True"}]) == both
    assert t.dualStackFamilies(both, [{"type": "Other", "status": "False"}]) == both


def test_ordered_families_puts_ipv4_first():
    assert t.orderedFamilies(["IPv6", "IPv4"]) == ["IPv4", "IPv6"]
    assert t.orderedFamilies(None) == []


@pytest.mark.parametrize("spec, status, family, expected", [
    (None, None, "IPv4", t.SKIP),
    ("10.250.0.0/16", None, "IPv4", "cidr=10.250.0.0/16"),
    ("10.250.0.0/16", None, "IPv6", t.SKIP),
    ("10.250.0.0/16", ["10.250.0.0/16", "10.251.0.0/16", "fd00::/64"], "IPv4", "cidr=10.250.0.0/16,10.251.0.0/16"),
    ("10.250.0.0/16", ["10.250.0.0/16", "fd00::/64"], "IPv6", "cidr=fd00::/64"),
    ("10.250.0.0/16", ["10.250.0.0/16"], "IPv6", ""),
])
def test_node_autodetection(spec, status, family, expected):
    assert t.nodeAutodetection(spec, status, family) == expected


def test_last_cidr_of_family_and_invalid_cidr_error():
    assert t.lastCidrOfFamily(["10.0.0.0/8", "fd00::/48", "fd01::/48"], "IPv6", "pods") == "fd01::/48"
    assert t.lastCidrOfFamily(["10.0.0.0/8"], "IPv6", "pods") is t.SKIP
    with pytest.raises(ConfigurationError, match=r"pods\[1\]: Invalid value"):
        t.lastCidrOfFamily(["10.0.0.0/8", "nope"], "IPv6", "pods")


def test_first_cidr_of_family():
    assert t.firstCidrOfFamily("10.0.0.0/8", "IPv4", "f", "r") == "10.0.0.0/8"
    assert t.firstCidrOfFamily(["10.0.0.0/8", "fd00::/48"], "IPv6", "f", "r") == "fd00::/48"
    with pytest.raises(ConfigurationError, match="f: Required value: r"):
        t.firstCidrOfFamily(None, "IPv4", "f", "r")
    with pytest.raises(ConfigurationError, match="no IPv6 CIDR"):
        t.firstCidrOfFamily(["10.0.0.0/8"], "IPv6", "f", "r")


def test_cidrs_overlap_allows_host_bits_and_ignores_other_families():
    assert t.cidrsOverlap("10.0.0.0/16", "10.0.0.128/17") is True
    assert t.cidrsOverlap("10.0.0.0/16", "10.1.0.0/16") is False
    assert t.cidrsOverlap("10.0.0.0/16", "fd00::/8") is False
    assert t.cidrsOverlap(None, "10.0.0.0/8") is False


@pytest.mark.parametrize("given, canonical", [
    ("100m", "100m"), ("0.1", "100m"), ("1000m", "1"), ("1", "1"), ("1.5", "1500m"), ("128Mi", "128Mi"),
    ("1024Mi", "1Gi"), ("1000", "1k"), ("2000000", "2M"), ("1e3", "1k"), ("500Mi", "500Mi"), (2, "2"),
])
def test_canonical_quantity(given, canonical):
    assert t.canonicalResources({"cpu": given}) == {"cpu": canonical}


@pytest.mark.parametrize("given, go", [
    ("1m", "1m0s"), ("15s", "15s"), ("90s", "1m30s"), ("1h", "1h0m0s"), ("1.5s", "1.5s"), ("300ms", "300ms"),
    ("0", "0s"), ("2h3m4s", "2h3m4s"), ("1500ms", "1.5s"),
])
def test_go_duration(given, go):
    assert t.goDuration(given) == go


def test_external_host():
    addresses = [{"name": "internal", "url": "https://api.internal"}, {"name": "external", "url": "https://api.ext:443"}]
    assert t.externalHost(addresses, "f") == "api.ext"
    with pytest.raises(ConfigurationError, match="no advertised addresses"):
        t.externalHost([], "f")
    with pytest.raises(ConfigurationError, match="named external"):
        t.externalHost(addresses[:1], "f")
    with pytest.raises(ConfigurationError, match="cannot read a host"):
        t.externalHost([{"name": "external", "url": "not a url"}], "f")


def test_sum_of():
    assert t.sumOf([{"minimum": 1}, {"minimum": 2}, {}], "minimum") == 3


@pytest.mark.parametrize("name, good, bad", [
    ("cidr", ["10.0.0.0/8", "fd00::/64", "10.0.0.1/8"], ["10.0.0.0/33", "abc"]),
    ("cidr-or-usepodcidr", ["usePodCIDR", "USEPODCIDR", "10.0.0.0/8"], ["usePod"]),
    ("calico-ip-autodetection-method",
     ["first-found", "kubernetes-internal-ip", "cidr=10.0.0.0/8", "can-reach=8.8.8.8", "can-reach=example.com",
      "interface=eth.*", "skip-interface=docker0"],
     ["", "first-found=x", "cidr", "cidr=300.0.0.0/8", "can-reach=Not_Valid!", "interface=(", "bogus=1"]),
    ("non-negative-int-string", ["0", "1440"], ["-1", "abc", ""]),
    ("positive-quantity", ["100m", "1Gi", "0.5"], ["0", "-1", "abc"]),
    ("ip-or-dns1123-subdomain", ["10.0.0.1", "::1", "api.example.com"], ["Api.Example", "a_b", "x" * 254]),
    ("linux-device", ["eth0", "ens5.100", "a" * 15], ["", "a" * 16, "eth/0", "eth 0", "eth\n0"]),
    ("go-duration", ["1m", "1h30m", "300ms", "0"], ["1 m", "m", "1d"]),
])
def test_formats(name, good, bad):
    for value in good:
        assert formats.CHECKER.conforms(value, name), value
    for value in bad:
        assert not formats.CHECKER.conforms(value, name), value


@pytest.mark.parametrize("version, server, expected", [
    ("1.36.0", None, True), ("1.37.1", {}, True), ("1.35.4", None, False),
    ("1.34.0", {"featureGates": {"MutatingAdmissionPolicy": True},
                "runtimeConfig": {"admissionregistration.k8s.io/v1beta1": True}}, True),
    ("1.34.0", {"featureGates": {"MutatingAdmissionPolicy": True}}, False),
    ("1.34.0", {"runtimeConfig": {"admissionregistration.k8s.io/v1alpha1": True}}, False),
])
def test_mutating_admission_policy_available(version, server, expected):
    assert t.mutatingAdmissionPolicyAvailable(version, server) is expected


def test_any_env_true():
    ds = {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "env": [{"name": "FELIX_IPINIPENABLED", "value": "false"}]},
        {"name": "b", "env": [{"name": "FELIX_VXLANENABLED", "value": "true"}]}]}}}}
    assert t.anyEnvTrue(ds, ["FELIX_IPINIPENABLED", "FELIX_VXLANENABLED"]) is True
    assert t.anyEnvTrue(ds, ["FELIX_IPINIPENABLED"]) is False
    assert t.anyEnvTrue(None, ["X"]) is False


def test_all_nodes_have_condition():
    routed = {"status": {"conditions": [{"type": "NetworkUnavailable", "status": "False", "reason": "RouteCreated"}]}}
    other = {"status": {"conditions": [{"type": "NetworkUnavailable", "status": "True", "reason": "NoRouteCreated"}]}}
    args = ("NetworkUnavailable", "False", "RouteCreated")
    assert t.allNodesHaveCondition([routed, routed], *args) is True
    assert t.allNodesHaveCondition([routed, other], *args) is False
    assert t.allNodesHaveCondition([{}], *args) is False
    assert t.allNodesHaveCondition([], *args) is True
