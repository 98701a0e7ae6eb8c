"""One rendering test per row of the calico mapping table (calico.md 2.6) and the pre-processing of
2.1/2.2: the real mapping file, the real chart, the real helm binary; assertions on rendered objects."""

from __future__ import annotations

import asyncio
import json

from controller import imagevector, pipeline
from controller.config import ControllerConfig
from controller.mapping import load_mapping
from tests.factories import network, shoot
from tests.helpers import MAPPINGS, container, env, find, names, renderer

MAPPING = load_mapping(MAPPINGS / "calico.yaml")


def render(provider_config=None, *, families=("IPv4",), shoot_obj=None, config=None, **kwargs):
    net = network(provider_config if provider_config is not None else None, families=families, **kwargs)
    desired = asyncio.run(pipeline.desired_state(renderer(), MAPPING, net, shoot_obj or shoot(),
                                                 config or ControllerConfig()))
    return desired


def objects(*args, **kwargs):
    return render(*args, **kwargs).rendered.objects


def node_env(objs):
    return env(container(find(objs, "DaemonSet", "calico-node"), "calico-node"))


def calico_config(objs):
    return find(objs, "ConfigMap", "calico-config")["data"]


def conflist_ipam(objs):
    text = calico_config(objs)["cni_network_config"].replace("__CNI_MTU__", calico_config(objs)["veth_mtu"])
    return json.loads(text)["plugins"][0]["ipam"]


DUAL = dict(families=("IPv4", "IPv6"),
            shoot_obj=shoot(status_networking={"pods": ["10.244.0.0/16", "fd00:10::/56"],
                                               "nodes": ["10.250.0.0/16", "fd00:20::/64"]}))
IPV6 = dict(families=("IPv6",), pod_cidr="fd00:10::/56", service_cidr="fd00:30::/108",
            shoot_obj=shoot(nodes="fd00:20::/64", status_networking={"pods": ["fd00:10::/56"],
                                                                     "nodes": ["fd00:20::/64"]}))


def test_default_ipv4_shoot_renders_the_object_set_of_section_3_1():
    objs = objects()
    kinds = {}
    for o in objs:
        kinds[o["kind"]] = kinds.get(o["kind"], 0) + 1
    assert len(objs) == 63, kinds
    assert kinds["CustomResourceDefinition"] == 24
    assert names(objs, "Deployment") == {"calico-kube-controllers", "calico-typha-deploy",
                                         "calico-node-vertical-autoscaler", "calico-typha-vertical-autoscaler",
                                         "calico-typha-horizontal-autoscaler"}
    assert names(objs, "DaemonSet") == {"calico-node"}
    assert not names(objs, "IPPool") and not names(objs, "VerticalPodAutoscaler")
    assert {o["metadata"].get("namespace") for o in objs if o["kind"] not in (
        "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "IPPool")} == {"kube-system"}


def test_backend_bird_probes_and_condition_ensurer():
    objs = objects({})
    assert calico_config(objs)["calico_backend"] == "bird"
    node = container(find(objs, "DaemonSet", "calico-node"), "calico-node")
    assert "-bird-live" in node["livenessProbe"]["exec"]["command"]
    assert "-bird-ready" in node["readinessProbe"]["exec"]["command"]
    assert container(find(objs, "DaemonSet", "calico-node"), "network-unavailable-condition-ensurer")


def test_backend_none_drops_kube_controllers_and_condition_ensurer():
    objs = objects({"backend": "none"})
    assert calico_config(objs)["calico_backend"] == "none"
    assert not [o for o in objs if o["metadata"]["name"] == "calico-kube-controllers"]
    assert container(find(objs, "DaemonSet", "calico-node"), "network-unavailable-condition-ensurer") is None
    assert node_env(objs)["CALICO_IPV4POOL_IPIP"] == "Never"


def test_backend_vxlan_when_overlay_and_vxlan_enabled():
    objs = objects({"overlay": {"enabled": True}, "vxlan": {"enabled": True}})
    assert calico_config(objs)["calico_backend"] == "vxlan"
    e = node_env(objs)
    assert e["FELIX_VXLANENABLED"] == "true" and e["CALICO_IPV4POOL_IPIP"] == "Never"
    assert e["CALICO_IPV4POOL_VXLAN"] == "Always" and "FELIX_IPINIPENABLED" not in e
    pool = find(objs, "IPPool", "default-ipv4-ippool")["spec"]
    assert (pool["ipipMode"], pool["vxlanMode"]) == ("Never", "Always")
    assert conflist_ipam(objs)["type"] == "calico-ipam"


def test_user_backend_is_overridden_when_overlay_is_set():
    assert calico_config(objects({"backend": "vxlan", "overlay": {"enabled": True}}))["calico_backend"] == "bird"


def test_typha_disabled():
    objs = objects({"typha": {"enabled": False}})
    assert calico_config(objs)["typha_service_name"] == "none"
    assert find(objs, "Deployment", "calico-typha-deploy") is None
    assert find(objs, "Deployment", "calico-typha-horizontal-autoscaler") is None
    assert find(objs, "Service", "calico-typha") is None


def test_veth_mtu():
    assert calico_config(objects({"vethMTU": "1410"}))["veth_mtu"] == "1410"
    assert calico_config(objects({}))["veth_mtu"] == "0"


def test_ipam_type_and_cidr():
    objs = objects({"ipam": {"type": "host-local", "cidr": "usePodCIDR"}})
    assert conflist_ipam(objs) | {} == {**conflist_ipam(objs), "type": "host-local", "subnet": "usePodCIDR"}
    assert node_env(objs)["USE_POD_CIDR"] == "true"
    calico_ipam = objects({"ipam": {"type": "calico-ipam"}})
    assert conflist_ipam(calico_ipam)["type"] == "calico-ipam"
    assert "USE_POD_CIDR" not in node_env(calico_ipam)


def test_ipv4_family_defaults():
    e = node_env(objects({}))
    assert e["IP"] == "autodetect" and e["CALICO_IPV4POOL_IPIP"] == "Always"
    assert e["CALICO_IPV4POOL_CIDR"] == "10.244.0.0/16" and e["FELIX_IPINIPENABLED"] == "true"
    assert e["FELIX_IPV6SUPPORT"] == "false"
    assert conflist_ipam(objects({})) == {"type": "host-local", "subnet": "usePodCidr",
                                          "assign_ipv4": "true", "assign_ipv6": "false"}


def test_ipv4_autodetection_from_the_shoot_node_cidr_overrides_the_user():
    e = node_env(objects({"ipv4": {"autoDetectionMethod": "first-found"}}))
    assert e["IP_AUTODETECTION_METHOD"] == "cidr=10.250.0.0/16"
    assert node_env(objects({"ipv4": {"autoDetectionMethod": "interface=eth0"}}, shoot_obj=shoot(nodes=None)))[
        "IP_AUTODETECTION_METHOD"] == "interface=eth0"
    assert "IP_AUTODETECTION_METHOD" not in node_env(objects({}, shoot_obj=shoot(nodes=None)))


def test_deprecated_fields_are_honoured_as_fallbacks():
    e = node_env(objects({"ipip": "CrossSubnet", "ipAutodetectionMethod": "interface=eth1"},
                         shoot_obj=shoot(nodes=None)))
    assert e["CALICO_IPV4POOL_IPIP"] == "CrossSubnet" and e["IP_AUTODETECTION_METHOD"] == "interface=eth1"
    e = node_env(objects({"ipip": "CrossSubnet", "ipv4": {"mode": "Never"}}))
    assert e["CALICO_IPV4POOL_IPIP"] == "Never"


def test_ipv6_single_stack():
    desired = render({}, **IPV6)
    objs = desired.rendered.objects
    e = node_env(objs)
    assert e["IP"] == "none" and e["IP6"] == "autodetect" and e["CALICO_IPV6POOL_VXLAN"] == "Never"
    assert e["CALICO_IPV6POOL_CIDR"] == "fd00:10::/56" and e["FELIX_IPV6SUPPORT"] == "true"
    assert e["IP6_AUTODETECTION_METHOD"] == "cidr=fd00:20::/64" and e["CALICO_IPV6POOL_NAT_OUTGOING"] == "false"
    assert calico_config(objs)["calico_backend"] == "none"
    assert find(objs, "IPPool", "default-ipv6-ippool")["spec"]["cidr"] == "fd00:10::/56"
    assert conflist_ipam(objs) == {"type": "host-local", "subnet": "usePodCidrIPv6",
                                   "assign_ipv4": "false", "assign_ipv6": "true"}
    assert desired.status["ipFamilies"] == ["IPv6"]


def test_dual_stack_ranges_and_status():
    desired = render({}, **DUAL)
    ipam = conflist_ipam(desired.rendered.objects)
    assert ipam["ranges"] == [[{"subnet": "usePodCidrIPv6"}], [{"subnet": "usePodCidr"}]] and "subnet" not in ipam
    e = node_env(desired.rendered.objects)
    assert e["IP_AUTODETECTION_METHOD"] == "cidr=10.250.0.0/16" and e["IP6_AUTODETECTION_METHOD"] == "cidr=fd00:20::/64"
    assert desired.status["ipFamilies"] == ["IPv4", "IPv6"]


def test_dual_stack_truncated_while_nodes_migration_is_not_ready():
    migrating = shoot(constraints=[{"type": "DualStackNodesMigrationReady", "status": "False"}])
    desired = render({}, families=("IPv4", "IPv6"), shoot_obj=migrating)
    assert desired.status["ipFamilies"] == ["IPv4"]
    assert node_env(desired.rendered.objects)["FELIX_IPV6SUPPORT"] == "false"


def test_ebpf_dataplane_with_kube_proxy_running():
    objs = objects({"ebpfDataplane": {"enabled": True}})
    e = node_env(objs)
    assert e["FELIX_BPFENABLED"] == "true" and e["FELIX_BPFKUBEPROXYHEALTHZPORT"] == "10257"
    assert e["FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED"] == "false"
    assert container(find(objs, "DaemonSet", "calico-node"), "ebpf-bootstrap", init=True)


def test_ebpf_with_kube_proxy_disabled_cleans_up_iptables_despite_defaulted_mode():
    no_proxy = shoot(kube_proxy={"enabled": False, "mode": "IPTables"})
    e = node_env(objects({"ebpfDataplane": {"enabled": True}, "overlay": {"enabled": False}}, shoot_obj=no_proxy))
    assert e["FELIX_BPFKUBEPROXYIPTABLESCLEANUPENABLED"] == "true"
    assert "FELIX_BPFKUBEPROXYHEALTHZPORT" not in e


def test_kube_proxy_nftables_mode():
    assert node_env(objects({}, shoot_obj=shoot(kube_proxy={"enabled": True, "mode": "NFTables"})))[
        "FELIX_NFTABLESMODE"] == "Enabled"
    assert "FELIX_NFTABLESMODE" not in node_env(objects({}))


def test_service_loop_prevention():
    assert node_env(objects({"serviceLoopPrevention": "Drop"}))["FELIX_SERVICELOOPPREVENTION"] == "Drop"
    assert "FELIX_SERVICELOOPPREVENTION" not in node_env(objects({}))


def test_wireguard():
    e = node_env(objects({"wireguardEncryption": True}))
    assert e["FELIX_WIREGUARDENABLED"] == "true" and e["FELIX_WIREGUARDENABLEDV6"] == "true"


def test_non_privileged_feature_gate_and_its_ebpf_exception():
    gate = ControllerConfig(feature_gates={"NonPrivilegedCalicoNode": True})
    ds = find(objects({}, config=gate), "DaemonSet", "calico-node")
    assert container(ds, "hostpath-init", init=True)
    assert container(ds, "calico-node")["securityContext"]["runAsUser"] == 999
    ds = find(objects({"ebpfDataplane": {"enabled": True}}, config=gate), "DaemonSet", "calico-node")
    assert container(ds, "hostpath-init", init=True) is None


def test_bird_exporter():
    objs = objects({"birdExporter": {"enabled": True}})
    assert container(find(objs, "DaemonSet", "calico-node"), "bird-exporter")
    assert find(objs, "Service", "calico-bird-monitoring")
    assert find(objects({}), "Service", "calico-bird-monitoring") is None


def test_multus():
    objs = objects({"multus": {"enabled": True, "installCNIPlugins": True}})
    assert find(objs, "DaemonSet", "multus") and find(objs, "ServiceAccount", "multus")
    assert find(objs, "CustomResourceDefinition", "network-attachment-definitions.k8s.cni.cncf.io")
    assert find(objects({}), "DaemonSet", "multus") is None


def test_monitoring_is_always_rendered():
    objs = objects({})
    assert find(objs, "Service", "calico-felix-monitoring") and find(objs, "Service", "calico-typha-monitoring")
    assert node_env(objs)["FELIX_PROMETHEUSMETRICSENABLED"] == "true"


def test_overlay_disabled():
    objs = objects({"overlay": {"enabled": False}})
    ds = find(objs, "DaemonSet", "calico-node")
    assert container(ds, "cleanup-routes", init=True)
    pool = find(objs, "IPPool", "default-ipv4-ippool")["spec"]
    assert (pool["ipipMode"], pool["vxlanMode"], pool["cidr"]) == ("Never", "Never", "10.244.0.0/16")
    assert find(objs, "IPPool", "no-snat-for-node-cidr")["spec"]["cidr"] == "10.250.0.0/16"
    assert node_env(objs)["FELIX_IPINIPENABLED"] == "false"
    assert calico_config(objs)["calico_backend"] == "none"


def test_overlay_disabled_with_pod_routes_keeps_bird():
    assert calico_config(objects({"overlay": {"enabled": False, "createPodRoutes": True}}))["calico_backend"] == "bird"


def test_overlay_enabled_ippool():
    pool = find(objects({"overlay": {"enabled": True}}), "IPPool", "default-ipv4-ippool")["spec"]
    assert (pool["ipipMode"], pool["vxlanMode"]) == ("Always", "Never")


def test_snat_to_upstream_dns_only_without_overlay():
    objs = objects({"overlay": {"enabled": False}})
    assert container(find(objs, "DaemonSet", "calico-node"), "add-snat-rule-to-upstream-dns")
    assert node_env(objs)["FELIX_CHAININSERTMODE"] == "Append"
    objs = objects({"overlay": {"enabled": False}, "snatToUpstreamDNS": {"enabled": False}})
    assert container(find(objs, "DaemonSet", "calico-node"), "add-snat-rule-to-upstream-dns") is None
    assert container(find(objects({}), "DaemonSet", "calico-node"), "add-snat-rule-to-upstream-dns") is None


def test_shoot_vpa_adds_kube_controllers_vpa():
    assert find(objects({}, shoot_obj=shoot(vpa=True)), "VerticalPodAutoscaler", "calico-kube-controllers")
    assert find(objects({}), "VerticalPodAutoscaler", "calico-kube-controllers") is None


def test_autoscaling_vpa_with_shoot_vpa():
    objs = objects({"autoScaling": {"mode": "vpa", "resources": {"node": {"cpu": "0.1", "memory": "1024Mi"}}}},
                   shoot_obj=shoot(vpa=True))
    assert find(objs, "VerticalPodAutoscaler", "calico-node") and find(objs, "VerticalPodAutoscaler", "calico-typha")
    assert find(objs, "Deployment", "calico-node-vertical-autoscaler") is None
    assert find(objs, "Deployment", "calico-typha-vertical-autoscaler") is None
    assert find(objs, "Deployment", "calico-typha-horizontal-autoscaler")
    requests = container(find(objs, "DaemonSet", "calico-node"), "calico-node")["resources"]["requests"]
    assert requests == {"cpu": "100m", "memory": "1Gi"}


def test_autoscaling_vpa_without_shoot_vpa_is_cluster_proportional():
    objs = objects({"autoScaling": {"mode": "vpa"}})
    assert find(objs, "VerticalPodAutoscaler", "calico-node") is None
    assert find(objs, "Deployment", "calico-node-vertical-autoscaler")


def test_autoscaling_static():
    objs = objects({"autoScaling": {"mode": "static", "resources": {"node": {"cpu": "300m"},
                                                                    "typha": {"memory": "200Mi"}}}})
    assert find(objs, "Deployment", "calico-node-vertical-autoscaler") is None
    assert find(objs, "Deployment", "calico-typha-vertical-autoscaler") is None
    ds = find(objs, "DaemonSet", "calico-node")
    assert container(ds, "calico-node")["resources"]["requests"]["cpu"] == "300m"
    typha = find(objs, "Deployment", "calico-typha-deploy")
    assert container(typha, "calico-typha")["resources"]["requests"]["memory"] == "200Mi"
    assert "resources.gardener.cloud/preserve-resources" not in (ds["metadata"].get("annotations") or {})


def test_cluster_proportional_default_preserves_resources():
    objs = objects({})
    ds = find(objs, "DaemonSet", "calico-node")
    assert ds["metadata"]["annotations"]["resources.gardener.cloud/preserve-resources"] == "true"
    assert find(objs, "ConfigMap", "calico-typha-horizontal-autoscaler")


def test_images_from_the_chart_and_overridden_by_the_image_vector():
    assert container(find(objects({}), "DaemonSet", "calico-node"), "calico-node")["image"] == \
        "quay.io/calico/node:v3.31.6"
    config = ControllerConfig(images=imagevector.read(
        {"images": [{"name": "calico-node", "repository": "registry.example.com/calico/node", "tag": "v9"}]}))
    assert container(find(objects({}, config=config), "DaemonSet", "calico-node"), "calico-node")["image"] == \
        "registry.example.com/calico/node:v9"


def test_pod_cidr_reaches_pool_env_and_snat_sidecar():
    objs = objects({"overlay": {"enabled": False}}, pod_cidr="100.64.0.0/12", service_cidr="10.96.0.0/24")
    assert node_env(objs)["CALICO_IPV4POOL_CIDR"] == "100.64.0.0/12"
    sidecar = container(find(objs, "DaemonSet", "calico-node"), "add-snat-rule-to-upstream-dns")
    assert env(sidecar)["POD_CIDR"] == "100.64.0.0/12"


def test_config_change_rolls_calico_node():
    checksum = lambda objs: find(objs, "DaemonSet", "calico-node")["spec"]["template"]["metadata"][  # noqa: E731
        "annotations"]["checksum/configmap-calico"]
    assert checksum(objects({})) == checksum(objects({}))
    assert checksum(objects({})) != checksum(objects({"vethMTU": "1400"}))


# ---- seamless overlay switch (2.1 step 8, 4.7): pure, with the live shoot objects handed in ----------

def _switch(live, gate=True, version="1.36.0", overlay=False):
    from controller.errors import TransientError

    config = ControllerConfig(feature_gates={"SeamlessOverlaySwitch": gate})
    net = network({"overlay": {"enabled": overlay}})
    requested = pipeline.live_requests(MAPPING, net, shoot(version), config)
    try:
        pipeline.compute_values(MAPPING, net, shoot(version), config, live)
    except TransientError as exc:
        return sorted(requested), str(exc)
    return sorted(requested), None


RUNNING_OVERLAY = {"spec": {"template": {"spec": {"containers": [
    {"name": "calico-node", "env": [{"name": "FELIX_IPINIPENABLED", "value": "true"}]}]}}}}
ROUTED = {"status": {"conditions": [{"type": "NetworkUnavailable", "status": "False", "reason": "RouteCreated"}]}}
WAITING = "waiting for routes to be created on all nodes before disabling overlay"


def test_overlay_switch_waits_for_node_routes():
    assert _switch({"calicoNode": RUNNING_OVERLAY, "nodes": [ROUTED, {}]}) == (["calicoNode", "nodes"], WAITING)
    assert _switch({"calicoNode": RUNNING_OVERLAY, "nodes": [ROUTED, ROUTED]}) == (["calicoNode", "nodes"], None)


def test_overlay_switch_only_when_switching_off_a_running_overlay_with_the_gate_and_map():
    not_running = {"spec": {"template": {"spec": {"containers": [{"name": "calico-node", "env": []}]}}}}
    assert _switch({"calicoNode": not_running, "nodes": [{}]})[1] is None
    assert _switch({"nodes": [{}]})[1] is None  # no calico-node yet: a new shoot
    assert _switch({"calicoNode": RUNNING_OVERLAY, "nodes": [{}]}, version="1.35.0")[1] is None
    assert _switch({"calicoNode": RUNNING_OVERLAY, "nodes": [{}]}, gate=False) == ([], None)
    assert _switch({"calicoNode": RUNNING_OVERLAY, "nodes": [{}]}, overlay=True) == ([], None)
