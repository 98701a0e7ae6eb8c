"""Switch fidelity of the cilium shoot objects: facts of what the Go extension
(gardener-extension-networking-cilium, its charts/internal/cilium rendered with the values of
pkg/charts) deploys, checked on what this project renders for the same Network and Shoot.

A seed that switches to this controller finds the Go extension's objects in every shoot; these tests
pin what must not differ: immutable fields (Job pod templates, the immutable label-prefix ConfigMap),
host state the agent's containers write (iptables rules, sysctl files), RBAC (nothing missing, nothing
wider), container commands, probes, pod security settings and the cilium-config keys. Every object is
rendered through the real pipeline (values-mapping/cilium.yaml + chart + helm), for the default
configuration and for each providerConfig / shoot option that changes an object.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from controller import pipeline
from controller.config import ControllerConfig
from controller.mapping import load_mapping
from tests.helpers import MAPPINGS, container, env, find, render_chart, renderer

MAPPING = load_mapping(MAPPINGS / "cilium.yaml")
API_VERSION = "cilium.networking.extensions.gardener.cloud/v1alpha1"
POD_CIDR = "100.96.0.0/11"
NODE_CIDR = "10.250.0.0/16"


# ---- rendering ---------------------------------------------------------------------------------------

def _shoot(kube_proxy: bool = True, node_local_dns: bool = False, minimum: int = 2,
           status_pods: list | None = None) -> dict:
    shoot = {
        "spec": {
            "kubernetes": {"version": "1.32.0", "kubeProxy": {"enabled": kube_proxy, "mode": "IPTables"}},
            "networking": {"type": "cilium", "pods": POD_CIDR, "nodes": NODE_CIDR},
            "provider": {"workers": [{"name": "a", "minimum": minimum, "maximum": 3}]},
            "systemComponents": {"nodeLocalDNS": {"enabled": node_local_dns}},
        },
        "status": {"advertisedAddresses": [{"name": "external", "url": "https://api.foo.example.com"}]},
    }
    if status_pods:
        shoot["status"]["networking"] = {"pods": status_pods}
    return shoot


# One entry per option of values-mapping/cilium.yaml that switches an object or a branch of a template:
# name -> (providerConfig, shoot arguments[, Network arguments]).
IPV6 = {"families": ["IPv6"], "pod_cidr": "fd00:10::/56", "service_cidr": "fd00:30::/108"}
DUAL = {"families": ["IPv4", "IPv6"]}
CONFIGS = {
    "default": ({}, {}),
    "hubble": ({"hubble": {"enabled": True}}, {}),
    "no-kube-proxy": ({}, {"kube_proxy": False}),
    "no-kube-proxy-host-port": ({"kubeproxy": {"k8sServiceHost": "10.0.0.1", "k8sServicePort": 6443}},
                                {"kube_proxy": False}),
    "node-local-dns": ({}, {"node_local_dns": True}),
    "snat": ({"snatToUpstreamDNS": {"enabled": True}, "snatOutOfCluster": {"enabled": True}}, {}),
    "egress-gateway": ({"egressGateway": {"enabled": True}}, {"kube_proxy": False}),
    "native-routing": ({"overlay": {"enabled": False, "createPodRoutes": True}, "loadBalancingMode": "dsr"}, {}),
    "geneve": ({"tunnel": "geneve"}, {}),
    "wireguard": ({"encryption": {"enabled": True, "mode": "wireguard", "strictMode": True,
                                  "nodeToNodeEnabled": True}}, {}),
    "l2-announcements": ({"l2Announcements": {"enabled": True, "leaseDuration": "20s"}}, {}),
    "bgp": ({"bgpControlPlane": {"enabled": True}}, {}),
    "devices-mtu": ({"devices": ["eth0"], "directRoutingDevice": "eth0", "mtu": 1400}, {}),
    "misc": ({"debug": True, "policyAuditMode": True, "bpfSocketLBHostnsOnly": {"enabled": True},
              "cni": {"exclusive": False}, "enableIpv4Masquerade": False, "enableBPFMasquerade": False}, {}),
    "single-node": ({}, {"minimum": 1}),
    "store-hybrid": ({"store": "kubernetes", "loadBalancingMode": "hybrid", "ipv4NativeRoutingCIDREnabled": True}, {}),
    "ipv6": ({"hubble": {"enabled": True}, "enableIpv6Masquerade": True}, {}, IPV6),
    "dual-stack-native": ({"overlay": {"enabled": False}, "ipv6NativeRoutingCIDREnabled": True},
                          {"status_pods": [POD_CIDR, "fd00:10::/56"]}, DUAL),
}


@functools.lru_cache(maxsize=None)
def objects(name: str) -> tuple[dict, ...]:
    provider_config, shoot_args, *network_args = CONFIGS[name]
    net = {"families": ["IPv4"], "pod_cidr": POD_CIDR, "service_cidr": "100.64.0.0/13",
           **(network_args[0] if network_args else {})}
    network = {"metadata": {"name": "bar", "namespace": "shoot--foo--bar"},
               "spec": {"type": "cilium", "podCIDR": net["pod_cidr"], "serviceCIDR": net["service_cidr"],
                        "ipFamilies": net["families"],
                        "providerConfig": {"apiVersion": API_VERSION, "kind": "NetworkConfig", **provider_config}}}
    desired = asyncio.run(pipeline.desired_state(renderer(), MAPPING, network, _shoot(**shoot_args),
                                                 ControllerConfig(), None))
    return tuple(desired.rendered.objects)


def obj(name: str, kind: str, object_name: str) -> dict:
    found = find(list(objects(name)), kind, object_name)
    assert found is not None, (name, kind, object_name)
    return found


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def agent(name: str = "default") -> dict:
    return obj(name, "DaemonSet", "cilium")


def operator(name: str = "default") -> dict:
    return obj(name, "Deployment", "cilium-operator")


ALL = sorted(CONFIGS)


# ---- RBAC: the Go rules exactly (nothing missing, nothing wider) -------------------------------------

def rule_set(role: dict) -> dict[str, set[str]]:
    """group/resource[:resourceName] -> verbs, over all rules of a (Cluster)Role."""
    out: dict[str, set[str]] = {}
    for rule in role.get("rules") or []:
        for group in rule.get("apiGroups", [""]):
            for resource in rule["resources"]:
                for name in rule.get("resourceNames") or [None]:
                    key = f"{group}/{resource}" + (f":{name}" if name else "")
                    out.setdefault(key, set()).update(rule["verbs"])
    return out


def parse_rules(text: str) -> dict[str, set[str]]:
    """One `group/resource[:name] verb verb ...` per line; `{a,b}` in the key expands to several keys."""
    out: dict[str, set[str]] = {}
    for line in text.strip().splitlines():
        key, *verbs = line.split()
        match = re.search(r"\{([^}]*)\}", key)
        keys = [key[:match.start()] + part + key[match.end():] for part in match.group(1).split(",")] if match else [key]
        for k in keys:
            out.setdefault(k, set()).update(verbs)
    return out


CILIUM_RULES = """
networking.k8s.io/networkpolicies get list watch
discovery.k8s.io/endpointslices get list watch
/nodes/status patch
/{namespaces,services,pods,endpoints,nodes} get list watch
apiextensions.k8s.io/customresourcedefinitions get list watch
cilium.io/{ciliumloadbalancerippools,ciliumbgppeeringpolicies,ciliumbgpnodeconfigs,ciliumbgpadvertisements,ciliumbgppeerconfigs,ciliumclusterwideenvoyconfigs,ciliumclusterwidenetworkpolicies,ciliumegressgatewaypolicies,ciliumendpoints,ciliumendpointslices,ciliumenvoyconfigs,ciliumidentities,ciliumlocalredirectpolicies,ciliumnetworkpolicies,ciliumnodes,ciliumnodeconfigs,ciliumcidrgroups,ciliuml2announcementpolicies,ciliumpodippools,ciliumgatewayclassconfigs} list watch
cilium.io/{ciliumidentities,ciliumendpoints,ciliumnodes} create
cilium.io/ciliumidentities update
cilium.io/ciliumendpoints delete get patch
cilium.io/ciliumendpointslices deletecollection
cilium.io/{ciliumnodes,ciliumnodes/status} get update
cilium.io/{ciliumendpoints/status,ciliuml2announcementpolicies/status,ciliumbgpnodeconfigs/status} patch
"""

CILIUM_L2_RULES = """
coordination.k8s.io/leases create get update list delete
"""

CILIUM_CRDS = ("ciliumloadbalancerippools ciliumbgpclusterconfigs ciliumbgppeerconfigs ciliumbgpadvertisements "
               "ciliumbgpnodeconfigs ciliumbgpnodeconfigoverrides ciliumclusterwideenvoyconfigs "
               "ciliumclusterwidenetworkpolicies ciliumegressgatewaypolicies ciliumendpoints ciliumendpointslices "
               "ciliumenvoyconfigs ciliumidentities ciliumlocalredirectpolicies ciliumnetworkpolicies ciliumnodes "
               "ciliumnodeconfigs ciliumcidrgroups ciliuml2announcementpolicies ciliumpodippools "
               "ciliumgatewayclassconfigs").split()

OPERATOR_RULES = """
/pods get list watch delete
/configmaps:cilium-config patch
/nodes list watch patch
/nodes/status patch
discovery.k8s.io/endpointslices get list watch
/services/status update patch
/namespaces get list watch
/{services,endpoints} get list watch
cilium.io/{ciliumnetworkpolicies,ciliumclusterwidenetworkpolicies} create update deletecollection patch get list watch
cilium.io/{ciliumnetworkpolicies/status,ciliumclusterwidenetworkpolicies/status} patch update
cilium.io/ciliumendpoints delete list watch
cilium.io/ciliumidentities delete list watch update
cilium.io/ciliumnodes create update get list watch delete
cilium.io/ciliumnodes/status update
cilium.io/{ciliumendpointslices,ciliumenvoyconfigs,ciliumbgppeerconfigs,ciliumbgpadvertisements,ciliumbgpnodeconfigs} create update get list watch delete patch
cilium.io/{ciliumbgpclusterconfigs/status,ciliumbgppeerconfigs/status} update
apiextensions.k8s.io/customresourcedefinitions create get list watch
cilium.io/{ciliumloadbalancerippools,ciliumpodippools,ciliumbgppeeringpolicies,ciliumbgpclusterconfigs,ciliumbgpnodeconfigoverrides} get list watch
cilium.io/ciliumpodippools create
cilium.io/ciliumloadbalancerippools/status patch
coordination.k8s.io/leases create get update
"""


def expected_operator_rules() -> dict[str, set[str]]:
    rules = parse_rules(OPERATOR_RULES)
    for crd in CILIUM_CRDS:
        rules[f"apiextensions.k8s.io/customresourcedefinitions:{crd}.cilium.io"] = {"update"}
    return rules


@pytest.mark.parametrize("name", ALL)
def test_cilium_cluster_role_is_gos(name):
    expected = parse_rules(CILIUM_RULES)
    if name == "l2-announcements":
        expected.update(parse_rules(CILIUM_L2_RULES))
    assert rule_set(obj(name, "ClusterRole", "cilium")) == expected


@pytest.mark.parametrize("name", ALL)
def test_operator_cluster_role_is_gos(name):
    rules = rule_set(obj(name, "ClusterRole", "cilium-operator"))
    assert rules == expected_operator_rules()
    # the widening of the former chart, named: the operator reads no secrets and allocates no identities
    assert "/secrets" not in rules and "create" not in rules["cilium.io/ciliumidentities"]


def test_agent_config_role_and_certgen_role():
    assert rule_set(obj("default", "Role", "cilium-config-agent")) == {"/configmaps": {"get", "list", "watch"}}
    certgen = rule_set(obj("hubble", "Role", "hubble-generate-certs"))
    assert certgen == {
        "/secrets": {"create"},
        **{f"/secrets:{n}": {"update"} for n in ("hubble-server-certs", "hubble-relay-client-certs",
                                                 "hubble-relay-server-certs", "hubble-metrics-server-certs",
                                                 "hubble-ui-client-certs")},
        "/secrets:cilium-ca": {"get", "update"},
    }


# ---- ConfigMaps --------------------------------------------------------------------------------------

LABEL_PREFIXES = ["io.kubernetes", "kubernetes.io", "apps.kubernetes.io/pod-index",
                  "batch.kubernetes.io/job-completion-index", "batch.kubernetes.io/controller-uid",
                  "beta.kubernetes.io", "k8s.io", "pod-template-generation", "pod-template-hash",
                  "controller-revision-hash", "annotation.*", "controller-uid", "etcd_node"]


def go_label_prefix_text() -> str:
    """The Go extension's label-prefix file: version 1, 4-space indented entries with a source each."""
    entries = ",\n".join(f'    {{\n        "prefix": "{p}",\n        "source": "any",\n        "invert": true\n    }}'
                         for p in LABEL_PREFIXES)
    return '{\n"version": 1,\n"valid-prefixes": [\n' + entries + "\n]\n}\n"


@pytest.mark.parametrize("name", ["default", "hubble", "no-kube-proxy"])
def test_label_prefix_conf_is_gos_immutable_text(name):
    cm = obj(name, "ConfigMap", "label-prefix-conf")
    assert cm["immutable"] is True
    # immutable: any other byte than Go's would make every update of a switched shoot fail
    assert cm["data"] == {"label-prefix": go_label_prefix_text()}
    parsed = json.loads(cm["data"]["label-prefix"])
    assert parsed["version"] == 1
    assert all(e["source"] == "any" and e["invert"] is True for e in parsed["valid-prefixes"])


GO_CONFIG_KEYS = {
    "mesh-auth-enabled": "false",
    "mesh-auth-queue-size": "1024",
    "mesh-auth-rotated-identities-queue-size": "1024",
    "mesh-auth-gc-interval": "5m0s",
    "tofqdns-preallocate-identities": "true",
    "proxy-max-active-downstream-connections": "50000",
    "proxy-use-original-source-address": "true",
    "proxy-cluster-max-connections": "1024",
    "proxy-cluster-max-requests": "1024",
    "proxy-max-concurrent-retries": "128",
    "proxy-idle-timeout-seconds": "60",
    "clustermesh-enable-endpoint-sync": "false",
    "clustermesh-enable-mcs-api": "false",
    "clustermesh-cache-ttl": "0s",
    "clustermesh-mcs-api-install-crds": "true",
    "policy-default-local-cluster": "true",
    "label-prefix-file": "/tmp/cilium/label-prefix/label-prefix",
    "agent-not-ready-taint-key": "node.cilium.io/agent-not-ready",
}


@pytest.mark.parametrize("name", ALL)
def test_cilium_config_keys_as_go(name):
    data = obj(name, "ConfigMap", "cilium-config")["data"]
    assert {k: data.get(k) for k in GO_CONFIG_KEYS} == GO_CONFIG_KEYS


def bootstrap(name: str = "default") -> dict:
    return json.loads(obj(name, "ConfigMap", "cilium-envoy-config")["data"]["bootstrap-config.json"])


def test_envoy_bootstrap_as_go():
    boot = bootstrap()
    assert "layeredRuntime" not in boot
    monitor, = boot["overloadManager"]["resourceMonitors"]
    assert monitor["name"] == "envoy.resource_monitors.global_downstream_max_connections"
    assert monitor["typedConfig"]["max_active_downstream_connections"] == "50000"
    assert boot["applicationLogConfig"]["logFormat"]["textFormat"] == "[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v"
    clusters = {c["name"]: c for c in boot["staticResources"]["clusters"]}
    assert list(clusters) == ["ingress-cluster", "egress-cluster-tls", "egress-cluster", "ingress-cluster-tls",
                              "xds-grpc-cilium", "/envoy-admin"]
    for name in ("ingress-cluster", "egress-cluster-tls", "egress-cluster", "ingress-cluster-tls"):
        c = clusters[name]
        assert (c["type"], c["lbPolicy"], c["connectTimeout"], c["cleanupInterval"]) == \
            ("ORIGINAL_DST", "CLUSTER_PROVIDED", "2s", "2.500s")
        assert c["circuitBreakers"] == {"thresholds": [{"maxRetries": 128}]}
        http = c["typedExtensionProtocolOptions"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
        assert http["commonHttpProtocolOptions"] == {"idleTimeout": "60s", "maxConnectionDuration": "0s",
                                                     "maxRequestsPerConnection": 0}
        assert "useDownstreamProtocolConfig" in http
        tls = name.endswith("-tls")
        assert ("transportSocket" in c) is tls and ("upstreamHttpProtocolOptions" in http) is tls
        if tls:
            assert c["transportSocket"]["name"] == "cilium.tls_wrapper"
    listeners = {listener["name"]: listener for listener in boot["staticResources"]["listeners"]}
    health = listeners["envoy-health-listener"]
    assert health["address"]["socketAddress"] == {"address": "127.0.0.1", "portValue": 9878}
    assert health["additionalAddresses"] == [{"address": {"socketAddress": {"address": "::1", "portValue": 9878}}}]
    for listener in listeners.values():
        manager = listener["filterChains"][0]["filters"][0]["typedConfig"]
        ranges = [(r["addressPrefix"], r["prefixLen"]) for r in manager["internalAddressConfig"]["cidrRanges"]]
        assert ranges == [("10.0.0.0", 8), ("172.16.0.0", 12), ("192.168.0.0", 16), ("127.0.0.1", 32), ("::1", 128)]


# ---- cilium agent ------------------------------------------------------------------------------------

GO_POD_SECURITY = {"fsGroup": 1, "supplementalGroups": [1], "seccompProfile": {"type": "RuntimeDefault"}}


@pytest.mark.parametrize("name", ALL)
def test_agent_pod_as_go(name):
    ds = agent(name)
    assert ds["spec"]["revisionHistoryLimit"] == 2
    assert ds["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "cilium-agent"
    spec = pod_spec(ds)
    assert spec["securityContext"] == GO_POD_SECURITY
    assert (spec["priorityClassName"], spec["serviceAccountName"], spec["automountServiceAccountToken"],
            spec["hostNetwork"], spec["terminationGracePeriodSeconds"]) == ("system-node-critical", "cilium", True, True, 1)
    assert spec["tolerations"] == [{"operator": "Exists"}]
    c = container(ds, "cilium-agent")
    assert c["command"] == ["cilium-agent"] and c["args"] == ["--config-dir=/tmp/cilium/config-map"]
    startup, ready, live = c["startupProbe"], c["readinessProbe"], c["livenessProbe"]
    loopback = "::1" if name == "ipv6" else "127.0.0.1"
    assert {p["httpGet"]["host"] for p in (startup, ready, live)} == {loopback}
    assert (startup["failureThreshold"], startup["periodSeconds"], startup["initialDelaySeconds"]) == (300, 2, 5)
    assert (ready["failureThreshold"], ready["periodSeconds"], ready["initialDelaySeconds"], ready["timeoutSeconds"]) \
        == (3, 30, 5, 5)
    assert (live["failureThreshold"], live["periodSeconds"], live["timeoutSeconds"]) == (10, 30, 5)
    assert env(c)["CILIUM_CLUSTERMESH_CONFIG"] == "/var/lib/cilium/clustermesh/"
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts == {
        "envoy-sockets": "/var/run/cilium/envoy/sockets", "host-proc-sys-net": "/host/proc/sys/net",
        "host-proc-sys-kernel": "/host/proc/sys/kernel", "bpf-maps": "/sys/fs/bpf", "cilium-run": "/var/run/cilium",
        "cilium-netns": "/var/run/cilium/netns", "etc-cni-netd": "/host/etc/cni/net.d",
        "clustermesh-secrets": "/var/lib/cilium/clustermesh", "cilium-config-path": "/tmp/cilium/config-map",
        "label-prefix": "/tmp/cilium/label-prefix", "lib-modules": "/lib/modules", "xtables-lock": "/run/xtables.lock",
        "hubble-tls": "/var/lib/cilium/tls/hubble",
    }
    assert c["resources"] == {"requests": {"memory": "200Mi"}}
    assert [p["name"] for p in c["ports"]] == ["prometheus", "health", "hubble-metrics", "peer-service"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["host-etc"]["hostPath"] == {"path": "/etc", "type": "Directory"}
    assert volumes["cilium-config-path"]["configMap"]["name"] == "cilium-config"
    sources = volumes["clustermesh-secrets"]["projected"]["sources"]
    assert [s["secret"]["name"] for s in sources] == ["cilium-clustermesh", "clustermesh-apiserver-remote-cert",
                                                      "clustermesh-apiserver-local-cert"]
    assert all(s["secret"]["optional"] is True for s in sources)
    assert "host-resolv-conf" not in volumes and "host-sysctl-d" not in volumes
    sidecars = ["add-snat-rule-to-upstream-dns", "add-snat-rule-to-outside-world"] if name == "snat" else []
    assert [c["name"] for c in spec["containers"]] == ["cilium-agent", *sidecars]


INIT_SECURITY = {
    "disable-rp-filter": {"allowPrivilegeEscalation": False, "seLinuxOptions": {"level": "s0", "type": "spc_t"},
                          "capabilities": {"drop": ["ALL"]}},
    "config": {"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
    "mount-cgroup": {"seLinuxOptions": {"level": "s0", "type": "spc_t"},
                     "capabilities": {"add": ["SYS_ADMIN", "SYS_CHROOT", "SYS_PTRACE"], "drop": ["ALL"]}},
    "apply-sysctl-overwrites": {"seLinuxOptions": {"level": "s0", "type": "spc_t"},
                                "capabilities": {"add": ["SYS_ADMIN", "SYS_CHROOT", "SYS_PTRACE"], "drop": ["ALL"]}},
    "mount-bpf-fs": {"privileged": True},
    "clean-cilium-state": {"seLinuxOptions": {"level": "s0", "type": "spc_t"},
                           "capabilities": {"add": ["NET_ADMIN", "SYS_MODULE", "SYS_ADMIN", "SYS_RESOURCE", "SYSLOG"],
                                            "drop": ["ALL"]}},
    "install-cni-binaries": {"allowPrivilegeEscalation": False, "seLinuxOptions": {"level": "s0", "type": "spc_t"},
                             "capabilities": {"drop": ["ALL"]}},
}


def normalised(security: dict) -> dict:
    caps = security.get("capabilities")
    if caps:
        security = {**security, "capabilities": {k: sorted(v) for k, v in caps.items()}}
    return security


@pytest.mark.parametrize("name", ALL)
def test_agent_init_containers_as_go(name):
    inits = {c["name"]: c for c in pod_spec(agent(name))["initContainers"]}
    for init, security in INIT_SECURITY.items():
        assert normalised(inits[init]["securityContext"]) == normalised(security), init
    # host state: the same sysctl file with the same single setting as Go writes (no second, different file)
    rp = inits["disable-rp-filter"]
    assert rp["command"] == ["sh", "-c", "echo 'net.ipv4.conf.all.rp_filter=0' > /host/etc/sysctl.d/99-cilium-rp-filter.conf"]
    assert rp["volumeMounts"] == [{"name": "host-etc", "mountPath": "/host/etc"}]
    assert inits["mount-cgroup"]["command"][:2] == ["bash", "-ec"]
    assert inits["apply-sysctl-overwrites"]["command"][:2] == ["bash", "-ec"]
    # Go sets resources on clean-cilium-state and install-cni-binaries only
    assert {n for n, c in inits.items() if c.get("resources")} == {"clean-cilium-state", "install-cni-binaries"}


@pytest.mark.parametrize("name", ["no-kube-proxy", "no-kube-proxy-host-port", "egress-gateway"])
def test_kube_proxy_clean_up_as_go(name):
    inits = {c["name"]: c for c in pod_spec(agent(name))["initContainers"]}
    clean_up = inits["cilium-kube-proxy-clean-up"]
    assert clean_up["command"] == [
        "bash", "-c",
        "iptables-save | grep -v KUBE > /saved-iptables-without-KUBE; echo 'IPTables without KUBE:'; "
        "cat /saved-iptables-without-KUBE; echo 'iptables-restore:'; iptables-restore --verbose /saved-iptables-without-KUBE"]
    assert clean_up["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_ADMIN"]}}
    assert list(inits)[-1] == "cilium-kube-proxy-clean-up"


def test_kube_proxy_clean_up_with_kube_proxy_binary_as_go():
    objs = render_chart("cilium", {"global": {"kubeProxyReplacement": True}, "agent": {"kubeProxyCleanup": "kube-proxy"}})
    clean_up = container(find(objs, "DaemonSet", "cilium"), "kube-proxy-clean-up", init=True)
    assert clean_up["command"] == ["/usr/local/bin/kube-proxy", "--cleanup", "--v=2"]
    assert clean_up["securityContext"] == {"privileged": True, "capabilities": {"add": ["NET_ADMIN"]}}


# The iptables commands of the SNAT sidecars, as Go's scripts run them (POD_CIDR, NODE_CIDR and the
# nameserver loop variable are shell variables). A node switched from Go must find its rules with -C.
GO_COMMENT = ["-m", "comment", "--comment", "cilium masquerade non-cluster"]


def iptables_commands(script: str) -> list[list[str]]:
    """Every iptables invocation of a shell script, tokenised like the shell does, with the nameserver
    loop variable (whatever its name) replaced by $NS."""
    loop = re.search(r"for (\w+) in", script)
    commands = []
    for line in script.splitlines():
        for part in line.split("||"):
            part = part.strip()
            if part.startswith("iptables "):
                if loop:
                    part = re.sub(r"\$\{?%s\}?" % loop.group(1), "$NS", part)
                commands.append([t for t in shlex.split(part) if t != "2>/dev/null"])
    return commands


def rule(op: str, *spec: str, position: str | None = None) -> list[str]:
    head = ["iptables", "-t", "nat", op, "CILIUM_POST_nat"] + ([position] if position else [])
    return head + ["-s", "${POD_CIDR}", *spec]


def test_snat_to_upstream_dns_rules_as_go():
    sidecar = container(agent("snat"), "add-snat-rule-to-upstream-dns")
    assert sidecar["command"][:2] == ["/bin/sh", "-c"]
    script = sidecar["command"][2]
    assert "/etc/resolv.conf" in script and "nameserver" in script
    masquerade = ["-d", "$NS/32", "!", "-o", "cilium_+", *GO_COMMENT, "-j", "MASQUERADE"]
    assert iptables_commands(script) == [rule("-C", *masquerade), rule("-I", *masquerade, position="1")]
    assert env(sidecar) == {"POD_CIDR": POD_CIDR}
    assert sidecar["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_ADMIN"]}}
    assert sidecar["resources"] == {"requests": {"cpu": "10m", "memory": "50Mi"}}
    assert "volumeMounts" not in sidecar


def test_snat_out_of_cluster_rules_as_go():
    sidecar = container(agent("snat"), "add-snat-rule-to-outside-world")
    script = sidecar["command"][2]
    expected = []
    for spec in (["-d", "${POD_CIDR}", "-j", "RETURN"], ["-d", "${NODE_CIDR}", "-j", "RETURN"],
                 ["-d", "0.0.0.0/0", "!", "-o", "cilium_+", *GO_COMMENT, "-j", "MASQUERADE"]):
        expected += [rule("-C", *spec), rule("-A", *spec)]
    assert iptables_commands(script) == expected
    assert env(sidecar) == {"POD_CIDR": POD_CIDR, "NODE_CIDR": NODE_CIDR}
    assert sidecar["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_ADMIN"]}}


FAKE_IPTABLES = """\
import pathlib, sys
state = pathlib.Path(sys.argv[0]).parent.parent / "rules"
rules = state.read_text().splitlines() if state.exists() else []
args = sys.argv[1:]
assert args[:2] == ["-t", "nat"], args
op, chain, rest = args[2], args[3], args[4:]
position = None
if op == "-I" and rest and rest[0].isdigit():
    position, rest = int(rest[0]), rest[1:]
rule = " ".join([chain, *rest])
if op == "-C":
    sys.exit(0 if rule in rules else 1)
if op == "-A":
    rules.append(rule)
elif op == "-I":
    rules.insert((position or 1) - 1, rule)
state.write_text("".join(r + "\\n" for r in rules))
"""

FAKE_SLEEP = """\
import os, pathlib, signal, sys
count = pathlib.Path(sys.argv[0]).parent.parent / "sleeps"
n = int(count.read_text()) + 1 if count.exists() else 1
count.write_text(str(n))
if n > 4:  # two loop iterations, then stop the loop like a SIGTERM would
    os.kill(os.getppid(), signal.SIGTERM)
"""


def run_sidecar(tmp_path, sidecar: dict, existing_rules: list[str], nameservers: list[str]) -> list[str]:
    """Run a sidecar's script against a fake iptables (the nat chain as a list of rules) and a fake
    sleep, with the node's rules as the Go extension left them; return the chain afterwards."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("iptables", FAKE_IPTABLES), ("sleep", FAKE_SLEEP)):
        (bin_dir / name).write_text(f"#!{sys.executable}\n{body}")
        (bin_dir / name).chmod(0o755)
    (tmp_path / "rules").write_text("".join(r + "\n" for r in existing_rules))
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("".join(f"nameserver {ns}\n" for ns in nameservers) + "search svc.cluster.local\n")
    shell, flag, script = sidecar["command"]
    script = script.replace("/etc/resolv.conf", str(resolv))
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", **env(sidecar)}
    subprocess.run([shell, flag, script], env=environment, timeout=30, check=False, capture_output=True)
    assert int((tmp_path / "sleeps").read_text()) > 4, "the loop did not run twice"
    return (tmp_path / "rules").read_text().splitlines()


def go_rule(*spec: str) -> str:
    """A rule of the nat chain as Go's sidecars create it (chain, source, spec; the comment as one word)."""
    return " ".join(["CILIUM_POST_nat", "-s", POD_CIDR, *spec])


GO_MASQUERADE_COMMENT = ["-m", "comment", "--comment", "cilium masquerade non-cluster"]


def test_snat_to_upstream_dns_reuses_gos_rules_on_a_switched_node(tmp_path):
    sidecar = container(agent("snat"), "add-snat-rule-to-upstream-dns")

    def dns_rule(ns: str) -> str:
        return go_rule("-d", f"{ns}/32", "!", "-o", "cilium_+", *GO_MASQUERADE_COMMENT, "-j", "MASQUERADE")

    other = "CILIUM_POST_nat -s 10.1.0.0/16 -j ACCEPT"
    rules = run_sidecar(tmp_path, sidecar, [dns_rule("10.0.0.53"), other], ["10.0.0.53", "10.0.0.54"])
    # Go's rule is found and kept once; the missing one is inserted at the top of the chain, once
    assert rules == [dns_rule("10.0.0.54"), dns_rule("10.0.0.53"), other]


def test_snat_out_of_cluster_reuses_gos_rules_on_a_switched_node(tmp_path):
    sidecar = container(agent("snat"), "add-snat-rule-to-outside-world")
    go_rules = [go_rule("-d", POD_CIDR, "-j", "RETURN"), go_rule("-d", NODE_CIDR, "-j", "RETURN"),
                go_rule("-d", "0.0.0.0/0", "!", "-o", "cilium_+", *GO_MASQUERADE_COMMENT, "-j", "MASQUERADE")]
    assert run_sidecar(tmp_path, sidecar, go_rules, []) == go_rules
    # on a fresh node the three rules are appended in Go's order
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert run_sidecar(fresh, sidecar, [], []) == go_rules


# ---- cilium operator ---------------------------------------------------------------------------------

GO_OPERATOR_TOLERATIONS = [{"key": k, "operator": "Exists"} for k in (
    "node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master", "node.kubernetes.io/not-ready",
    "node.cloudprovider.kubernetes.io/uninitialized", "node.cilium.io/agent-not-ready",
    "node.gardener.cloud/critical-components-not-ready")]

# which binary each operator image of cilium ships
OPERATOR_BINARIES = {"quay.io/cilium/operator": "cilium-operator",
                     "quay.io/cilium/operator-generic": "cilium-operator-generic"}


@pytest.mark.parametrize("name", ALL)
def test_operator_as_go(name):
    op = operator(name)
    # gardener-resource-manager scales the operator only when at least two nodes are guaranteed
    ha = op["metadata"]["labels"].get("high-availability-config.resources.gardener.cloud/type")
    assert ha == (None if name == "single-node" else "controller")
    assert op["spec"]["revisionHistoryLimit"] == 2
    assert op["spec"]["selector"] == {"matchLabels": {"io.cilium/app": "operator", "name": "cilium-operator"}}
    assert op["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}
    spec = pod_spec(op)
    assert spec["securityContext"] == GO_POD_SECURITY
    assert spec["tolerations"] == GO_OPERATOR_TOLERATIONS
    assert (spec["priorityClassName"], spec["hostNetwork"], spec["automountServiceAccountToken"]) == \
        ("system-cluster-critical", True, True)
    c = container(op, "cilium-operator")
    repository = c["image"].rsplit(":", 1)[0]
    assert c["command"] == [OPERATOR_BINARIES[repository]]
    assert repository == "quay.io/cilium/operator"
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"prometheus": 6942, "health": 9234}
    live, ready = c["livenessProbe"], c["readinessProbe"]
    assert live["httpGet"]["port"] == "health" and ready["httpGet"]["port"] == "health"
    assert {p["httpGet"]["host"] for p in (live, ready)} == {"::1" if name == "ipv6" else "127.0.0.1"}
    assert (live["initialDelaySeconds"], live["periodSeconds"], live["timeoutSeconds"]) == (60, 10, 3)
    assert (ready["initialDelaySeconds"], ready["periodSeconds"], ready["timeoutSeconds"], ready["failureThreshold"]) \
        == (0, 5, 3, 5)
    assert {m["name"]: m["mountPath"] for m in c["volumeMounts"]} == {
        "cilium-config-path": "/tmp/cilium/config-map", "label-prefix": "/tmp/cilium/label-prefix"}
    assert c["resources"] == {"requests": {"memory": "150Mi"}}


# ---- envoy -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["default", "hubble", "no-kube-proxy"])
def test_envoy_as_go(name):
    ds = obj(name, "DaemonSet", "cilium-envoy")
    assert ds["spec"]["revisionHistoryLimit"] == 2
    assert ds["spec"]["selector"] == {"matchLabels": {"k8s-app": "cilium-envoy"}}
    assert pod_spec(ds)["automountServiceAccountToken"] is True
    assert "prometheus.io/scrape" not in (ds["spec"]["template"]["metadata"].get("annotations") or {})
    assert container(ds, "cilium-envoy")["resources"] == {"requests": {"memory": "200Mi"}}
    assert "automountServiceAccountToken" not in obj(name, "ServiceAccount", "cilium-envoy")


# ---- hubble ------------------------------------------------------------------------------------------

def go_certgen_config(cluster: str = "default") -> str:
    return (
        "certs:\n"
        "- name: hubble-server-certs\n  namespace: kube-system\n"
        f'  commonName: "*.{cluster}.hubble-grpc.cilium.io"\n  hosts:\n  - "*.{cluster}.hubble-grpc.cilium.io"\n'
        "  usage:\n  - signing\n  - key encipherment\n  - server auth\n  - client auth\n  validity: 26280h\n"
        "- name: hubble-relay-client-certs\n  namespace: kube-system\n"
        '  commonName: "*.hubble-relay.cilium.io"\n  hosts:\n  - "*.hubble-relay.cilium.io"\n'
        "  usage:\n  - signing\n  - key encipherment\n  - client auth\n  validity: 26280h\n")


def certgen_pod(template: dict) -> tuple[dict, dict]:
    spec = template["spec"]
    return spec, spec["containers"][0]


def test_certgen_job_pod_template_as_go():
    job = obj("hubble", "Job", "hubble-generate-certs")
    assert "ttlSecondsAfterFinished" not in job["spec"]  # GRM would recreate a deleted Job (and rotate the CA)
    assert job["spec"]["backoffLimit"] == 10
    assert job["metadata"]["annotations"]["resources.gardener.cloud/delete-on-invalid-update"] == "true"
    template = job["spec"]["template"]
    # the pod template of a Job is immutable: every field as Go's, or GRM replaces the Job
    assert template["metadata"] == {"labels": {
        "k8s-app": "hubble-generate-certs", "networking.gardener.cloud/to-public-networks": "allowed",
        "networking.gardener.cloud/to-apiserver": "allowed", "networking.gardener.cloud/to-dns": "allowed"}}
    spec, c = certgen_pod(template)
    assert c["args"] == ["--ca-generate=true", "--ca-secret-namespace=kube-system", "--ca-secret-name=cilium-ca",
                         "--ca-common-name=Cilium CA"]
    assert c["command"] == ["/usr/bin/cilium-certgen"]
    assert c["env"] == [{"name": "CILIUM_CERTGEN_CONFIG", "value": go_certgen_config()}]
    assert c["securityContext"] == {"capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": False}
    assert set(c) == {"name", "image", "imagePullPolicy", "securityContext", "command", "args", "env"}
    assert {k: v for k, v in spec.items() if k != "containers"} == {
        "hostNetwork": False, "serviceAccount": "hubble-generate-certs", "serviceAccountName": "hubble-generate-certs",
        "automountServiceAccountToken": True, "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "restartPolicy": "OnFailure"}


def test_certgen_cron_job_as_go():
    cron = obj("hubble", "CronJob", "hubble-generate-certs")["spec"]
    assert (cron["schedule"], cron["concurrencyPolicy"], cron["successfulJobsHistoryLimit"],
            cron["failedJobsHistoryLimit"]) == ("0 0 1 */4 *", "Forbid", 3, 1)
    assert cron["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] == 1800
    spec, c = certgen_pod(cron["jobTemplate"]["spec"]["template"])
    assert c["args"] == ["--ca-generate=true", "--ca-reuse-secret", "--ca-secret-namespace=kube-system",
                         "--ca-secret-name=cilium-ca", "--ca-common-name=Cilium CA"]
    assert c["env"] == [{"name": "CILIUM_CERTGEN_CONFIG", "value": go_certgen_config()}]
    assert spec["hostNetwork"] is True
    assert yaml.safe_load(go_certgen_config())["certs"][0]["usage"][-1] == "client auth"


def test_hubble_service_accounts_as_go():
    assert obj("hubble", "ServiceAccount", "hubble-generate-certs")["automountServiceAccountToken"] is False
    assert obj("hubble", "ServiceAccount", "hubble-relay")["automountServiceAccountToken"] is False


def test_hubble_relay_as_go():
    relay = obj("hubble", "Deployment", "hubble-relay")
    assert relay["spec"]["revisionHistoryLimit"] == 2
    assert "strategy" not in relay["spec"]
    spec = pod_spec(relay)
    assert "priorityClassName" not in spec
    assert spec["affinity"] == {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"k8s-app": "cilium"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    c = container(relay, "hubble-relay")
    ready, live, startup = c["readinessProbe"], c["livenessProbe"], c["startupProbe"]
    assert ready == {"grpc": {"port": 4222}, "timeoutSeconds": 3}
    assert live == {"grpc": {"port": 4222}, "timeoutSeconds": 10, "initialDelaySeconds": 10, "periodSeconds": 10,
                    "failureThreshold": 12}
    assert startup == {"grpc": {"port": 4222}, "initialDelaySeconds": 10, "timeoutSeconds": 3, "failureThreshold": 20,
                       "periodSeconds": 3}
    assert c["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["resources"] == {"requests": {"memory": "150Mi"}, "limits": {"memory": "1Gi"}}
    service = obj("hubble", "Service", "hubble-relay")["spec"]
    assert (service["type"], service["ports"]) == ("ClusterIP", [{"protocol": "TCP", "port": 80, "targetPort": 4245}])


def test_hubble_ui_as_go():
    ui = obj("hubble", "Deployment", "hubble-ui")
    assert ui["spec"]["revisionHistoryLimit"] == 2
    spec = pod_spec(ui)
    assert "priorityClassName" not in spec
    for name in ("frontend", "backend"):
        c = container(ui, name)
        assert c["resources"] == {"requests": {"cpu": "100m", "memory": "64Mi"},
                                  "limits": {"cpu": "1000m", "memory": "1024Mi"}}
        assert c["securityContext"] == {"allowPrivilegeEscalation": False}
    assert next(v for v in spec["volumes"] if v["name"] == "hubble-ui-nginx-conf")["configMap"]["defaultMode"] == 0o644
    nginx = obj("hubble", "ConfigMap", "hubble-ui-nginx")["data"]["nginx.conf"]
    # the frontend's liveness probe (/healthz) has its own location answering 200 "ok"
    assert re.search(r"location /healthz \{[^}]*return 200 'ok';", nginx)
    assert container(ui, "frontend")["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8081}


# ---- network policies --------------------------------------------------------------------------------

def test_node_local_dns_policy_as_go():
    ccnp = obj("node-local-dns", "CiliumClusterwideNetworkPolicy", "nodelocaldns")["spec"]
    assert ccnp["ingress"] == [{"fromEndpoints": [{}], "toPorts": [{"ports": [
        {"port": "53", "protocol": "TCP"}, {"port": "53", "protocol": "UDP"},
        {"port": "9253", "protocol": "TCP"}, {"port": "9353", "protocol": "TCP"}]}]}]


def test_dns_from_remote_nodes_policy_as_go():
    cnp = obj("default", "CiliumNetworkPolicy", "gardener.cloud--allow-dns-from-remote-nodes")
    assert cnp["metadata"]["annotations"]["gardener.cloud/description"] == \
        "Allows CoreDNS to be reachable by non-pod remote node IPs, in particular Cilium DNS proxies."
    assert cnp["spec"]["ingress"] == [{"fromEntities": ["remote-node"], "toPorts": [{"ports": [
        {"port": "8053", "protocol": "TCP"}, {"port": "8053", "protocol": "UDP"}]}]}]


# ---- seed monitoring ---------------------------------------------------------------------------------

GO_AGENT_METRICS = """
cilium_process_virtual_memory_bytes cilium_process_resident_memory_bytes cilium_process_open_fds
cilium_bpf_maps_virtual_memory_max_bytes cilium_bpf_progs_virtual_memory_max_bytes
cilium_agent_api_process_time_seconds_count cilium_agent_api_process_time_seconds_sum
cilium_agent_api_process_time_seconds_bucket cilium_bpf_syscall_duration_seconds_count
cilium_bpf_syscall_duration_seconds_sum cilium_bpf_map_ops_total kvstore_operations_total
cilium_kvstore_operations_duration_seconds_sum cilium_kvstore_events_queue_seconds_count cilium_forward_count_total
cilium_forward_bytes_total cilium_datapath_conntrack_gc_entries cilium_ip_addresses cilium_datapath_errors_total
cilium_services_events_total cilium_unreachable_health_endpoints cilium_unreachable_nodes cilium_drop_count_total
cilium_nodes_all_events_received_total cilium_drop_bytes_total cilium_nodes_all_num cilium_policy_l7_denied_total
cilium_policy_l7_forwarded_total cilium_policy_l7_received_total cilium_policy_l7_parse_errors_total
cilium_proxy_upstream_reply_seconds_sum cilium_proxy_upstream_reply_seconds_count
cilium_triggers_policy_update_call_duration_seconds_sum cilium_policy_endpoint_enforcement_status
cilium_proxy_redirects cilium_triggers_policy_update_total cilium_policy_count cilium_policy_import_errors
cilium_policy_max_revision cilium_endfpoint_regeneration_time_stats_seconds_bucket cilium_endpoint_regenerations
cilium_endpoint_state cilium_controllers_runs_total cilium_controllers_failing
cilium_controllers_runs_duration_seconds_sum cilium_controllers_runs_duration_seconds_count
cilium_k8s_client_api_latency_time_seconds_sum cilium_k8s_client_api_latency_time_seconds_count
cilium_k8s_client_api_calls_counter cilium_kubernetes_events_received_total cilium_kubernetes_events_total
cilium_process_cpu_seconds_total cilium_errors_warnings_total cilium_endpoint_regeneration_time_stats_seconds_bucket
""".split()
GO_HUBBLE_METRICS = ["hubble_flows_processed_total", "hubble_drop_total", "hubble_port_distribution_total",
                     "hubble_tcp_flags_total", "hubble_icmp_total"]
GO_OPERATOR_METRICS = ["cilium_operator_process_cpu_seconds_total", "cilium_operator_process_resident_memory_bytes"]


@functools.lru_cache(maxsize=1)
def monitoring() -> tuple[dict, ...]:
    return tuple(render_chart("cilium-monitoring", {}, release="cilium-monitoring-config", namespace="shoot--foo--bar"))


@pytest.mark.parametrize(("name", "job", "role", "keep", "port", "metrics"), [
    ("agent", "cilium-agent-metrics", "Endpoints",
     (["__meta_kubernetes_pod_label_k8s_app", "__meta_kubernetes_service_annotation_prometheus_io_scrape"], "cilium;true"),
     "9090", GO_AGENT_METRICS),
    ("hubble", "hubble-metrics", "Endpoints",
     (["__meta_kubernetes_pod_label_k8s_app", "__meta_kubernetes_service_annotation_prometheus_io_scrape"], "cilium;true"),
     "9091", GO_HUBBLE_METRICS),
    ("operator", "cilium-operator-metrics", "Pod",
     (["__meta_kubernetes_pod_label_io_cilium_app", "__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
      "operator;true"), "${2}", GO_OPERATOR_METRICS),
])
def test_scrape_config_as_go(name, job, role, keep, port, metrics):
    spec = find(list(monitoring()), "ScrapeConfig", f"shoot-cilium-{name}")["spec"]
    assert spec["kubernetesSDConfigs"][0]["role"] == role
    steps = [(r.get("action", "replace"), r.get("targetLabel"), r.get("sourceLabels"), r.get("regex"),
              r.get("replacement")) for r in spec["relabelings"]]
    path_sources = ["__meta_kubernetes_pod_name"] + (["__meta_kubernetes_pod_annotation_prometheus_io_port"]
                                                     if port == "${2}" else [])
    assert steps == [
        ("replace", "job", None, None, job),
        ("keep", None, keep[0], keep[1], "$1"),
        ("labelmap", None, None, "__meta_kubernetes_pod_label_(.+)", None),
        ("replace", "pod", ["__meta_kubernetes_pod_name"], "(.*)", "$1"),
        ("replace", "__address__", None, None, "kube-apiserver:443"),
        ("replace", "__metrics_path__", path_sources, "(.+);(.+)" if port == "${2}" else "(.+)",
         f"/api/v1/namespaces/kube-system/pods/${{1}}:{port}/proxy/metrics"),
    ]
    keep_metrics, = spec["metricRelabelings"]
    assert keep_metrics["action"] == "keep" and keep_metrics["sourceLabels"] == ["__name__"]
    assert set(re.fullmatch(r"\^\((.*)\)\$", keep_metrics["regex"]).group(1).split("|")) == set(metrics)


def test_recording_rule_as_go():
    group, = find(list(monitoring()), "PrometheusRule", "shoot-cilium-agent")["spec"]["groups"]
    assert group["name"] == "recording-rules.rules"
    assert group["rules"] == [{
        "record": "cilium:api_latency",
        "expr": "histogram_quantile(0.99,sum by(verb, method, path, le) "
                "(rate(cilium_agent_api_process_time_seconds_bucket[10m])))",
        "labels": {"quantile": "0.99"}}]


# dashboard key -> uid, title, number of panels, some panel titles (with their row/text headers)
GO_DASHBOARDS = {
    "cilium-agent-metrics-dashboard.json": ("dtas", "Cilium v1.12 Agent Metrics", 82, [
        "Errors & Warnings", "CPU Usage per node", "Generic", "BPF map pressure", "API call latency (max node)",
        "map ops (sum failures)", "IPv6 Conntrack Non-TCP", "Endpoint regeneration time (99th percentile)",
        "Invalid, Necessary K8s Events Received", "Namespace Events"]),
    "cilium-operator-metrics--dashboard.json": ("fsafdsf", "Cilium v1.12 Operator Metrics", 10, [
        "CPU Usage per node", "Resident memory status", "IPAM", "IP Addresses", "EC2 API Interactions",
        "Number of nodes", "# interfaces with addresses available", "Metadata Resync Operations",
        "EC2 client side rate limiting", "Interface Creation"]),
    "hubble-dashboard-metrics-dashboard.json": ("seafadsfdsa", "Cilium v1.12 Hubble Metrics", 38, [
        "General Processing", "Flows processed Per Node", "Missing TCPv6 SYN-ACKs", "Network Policy",
        "Top 10 Destination Pods with Denied Packets", "HTTP Request/Response Latency (p99)", "DNS",
        "Top 10 DNS Queries per minute"]),
}


@pytest.mark.parametrize("key", sorted(GO_DASHBOARDS))
def test_dashboards_carry_gos_uids_titles_and_panels(key):
    uid, title, count, some_titles = GO_DASHBOARDS[key]
    cm = find(list(monitoring()), "ConfigMap", "cilium-dashboards")
    dashboard = json.loads(cm["data"][key])
    assert (dashboard["uid"], dashboard["title"], len(dashboard["panels"])) == (uid, title, count)
    titles = [p["title"] for p in dashboard["panels"]]
    assert [t for t in titles if t in some_titles] == some_titles
    assert len({p["id"] for p in dashboard["panels"]}) == count
    for panel in dashboard["panels"]:
        if panel["type"] in ("row", "text"):
            continue
        assert panel["type"] == "graph" and panel["targets"], panel["title"]


def test_agent_dashboard_pod_variable_and_selectors_as_go():
    cm = find(list(monitoring()), "ConfigMap", "cilium-dashboards")
    agent_dashboard = json.loads(cm["data"]["cilium-agent-metrics-dashboard.json"])
    var, = agent_dashboard["templating"]["list"]
    assert (var["name"], var["definition"], var["allValue"]) == ("pod", "label_values(cilium_version, pod)", "cilium.*")
    exprs = [t["expr"] for p in agent_dashboard["panels"] for t in p.get("targets", [])]
    # the pod labels the scrape config maps (k8s_app) select the agent series
    assert sum('k8s_app="cilium"' in e for e in exprs) > 50
    operator_dashboard = json.loads(cm["data"]["cilium-operator-metrics--dashboard.json"])
    assert 'io_cilium_app="operator"' in operator_dashboard["panels"][0]["targets"][0]["expr"]
