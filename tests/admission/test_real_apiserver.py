"""Our webhooks called by a REAL kube-apiserver with real AdmissionReviews (registered in URL mode,
https://127.0.0.1:<port>/..., with our caBundle):

- `gardener-extension-networking admission` registers its configurations itself; Shoots (test CRD) with
  a bad providerConfig are refused with the field path, good ones admitted, a cilium Shoot created
  without kubeProxy is stored with `enabled: false`;
- the controller (`run` with a webhook port) writes the cilium shoot webhook ManagedResource; its
  MutatingWebhookConfiguration, applied to the API server as GRM would apply it in the shoot, makes
  node-local-dns ConfigMaps and DaemonSets come back mutated.
"""

from __future__ import annotations

import asyncio
import base64
import re
import threading
import urllib.request

import pytest
import yaml

from controller.admission.command import build_admission
from controller.cli import build_parser
from controller.manager import build_controller
from controller.options import RunOptions
from tests.admission.shoots import shoot
from tests.admission.test_edits import COREFILE
from tests.cluster.real import free_port
from tests.integration.conftest import Running, example, purge, wait_for

pytestmark = pytest.mark.real_apiserver
SHOOTS = ("core.gardener.cloud/v1beta1", "shoots")
GARDEN_NS, PROJECT_NS = "garden-admission", "garden-dev"
MUTATING = ("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations")
VALIDATING = ("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations")


class AdmissionThread:
    """`gardener-extension-networking admission` on its own thread and event loop."""

    def __init__(self, *flags: str):
        self.admission = build_admission(build_parser().parse_args(["admission", *flags]))
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        async def main():
            self.loop = asyncio.get_running_loop()
            return await self.admission.run()
        asyncio.run(main())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.admission.stopping.set)
        self.thread.join(15)
        assert not self.thread.is_alive()
        self.admission.kube.close()


def delete_configurations(cluster, *names: tuple[tuple[str, str], str]) -> None:
    for resource, name in names:
        cluster.http("DELETE", cluster.path(*resource, None, name))


def url_mode_flags(cluster, port: int) -> list[str]:
    """`admission` flags for one instance registering itself in URL mode on 127.0.0.1:port."""
    return ["--kubeconfig", str(cluster.kubeconfig_path), "--webhook-config-mode", "url",
            "--webhook-config-url", f"127.0.0.1:{port}", "--webhook-config-server-host", "127.0.0.1",
            "--webhook-config-server-port", str(port), "--webhook-config-namespace", GARDEN_NS,
            "--health-bind-address", "127.0.0.1:0", "--metrics-bind-address", "127.0.0.1:0"]


@pytest.fixture
def admission(real_cluster):
    cluster = real_cluster
    cluster.ensure_namespace(GARDEN_NS)
    cluster.ensure_namespace(PROJECT_NS)
    port = free_port()
    running = AdmissionThread(*url_mode_flags(cluster, port))
    try:
        wait_for(lambda: running.admission.readiness()[0], timeout=30, message="admission ready")
        yield running, port
    finally:
        running.stop()
        delete_configurations(cluster, (VALIDATING, "gardener-extension-admission-calico"),
                              (VALIDATING, "gardener-extension-admission-cilium"),
                              (MUTATING, "gardener-extension-admission-cilium"))
        cluster.purge(*SHOOTS, PROJECT_NS)
        cluster.purge("v1", "secrets", GARDEN_NS)


def create(cluster, obj: dict) -> tuple[int, dict]:
    return cluster.http("POST", cluster.path(*SHOOTS, PROJECT_NS), obj)


def test_admission_registers_itself_and_the_api_server_calls_it(real_cluster, admission):
    running, port = admission
    cluster = real_cluster
    secret = cluster.get("v1", "secrets", "gardener-extension-admission-networking-webhook-cert", GARDEN_NS)
    ca = secret["data"]["ca.crt"]
    validating = cluster.get(*VALIDATING, "gardener-extension-admission-calico")
    [hook] = validating["webhooks"]
    assert hook["clientConfig"] == {"url": f"https://127.0.0.1:{port}/webhooks/validate", "caBundle": ca}
    assert hook["failurePolicy"] == "Fail"
    assert cluster.get(*MUTATING, "gardener-extension-admission-calico") is None
    assert cluster.get(*MUTATING, "gardener-extension-admission-cilium")["webhooks"][0]["clientConfig"]["url"] == \
        f"https://127.0.0.1:{port}/webhooks/mutate"

    # refused, with the field path, for each type
    status, body = create(cluster, shoot("cilium", {"tunnel": "ipip"}, name="bad-cilium"))
    assert status == 403, body
    assert 'admission webhook "validator.admission-cilium.extensions.gardener.cloud" denied the request' in body["message"]
    assert 'spec.networking.providerConfig.tunnel: Unsupported value: "ipip"' in body["message"]
    status, body = create(cluster, shoot("calico", {"ebpfDataplane": {"enabled": False}}, name="bad-calico",
                                         kube_proxy={"enabled": False}))
    assert status == 403 and "spec.kubernetes.kubeProxy.enabled: Forbidden" in body["message"]
    assert cluster.get(*SHOOTS, "bad-cilium", PROJECT_NS) is None

    # admitted; cilium gets kube-proxy disabled on create, calico is left as it is
    status, created = create(cluster, shoot("cilium", {"tunnel": "geneve"}, name="good-cilium"))
    assert status == 201, created
    assert created["spec"]["kubernetes"]["kubeProxy"] == {"enabled": False}
    status, created = create(cluster, shoot("calico", {"backend": "vxlan"}, name="good-calico"))
    assert status == 201 and "kubeProxy" not in created["spec"]["kubernetes"]

    # updates are validated too
    current = cluster.get(*SHOOTS, "good-calico", PROJECT_NS)
    current["spec"]["networking"]["providerConfig"]["backend"] = "flannel"
    status, body = cluster.http("PUT", cluster.path(*SHOOTS, PROJECT_NS, "good-calico"), current)
    assert status == 403 and "spec.networking.providerConfig.backend" in body["message"]

    # unlabelled Shoots are not sent to us at all
    status, _ = create(cluster, shoot("cilium", {"tunnel": "ipip"}, name="unlabelled", labelled=False))
    assert status == 201

    # health and metrics of the admission process
    urls = running.admission.servers.urls
    with urllib.request.urlopen(urls["health"] + "/readyz", timeout=5) as answer:
        assert answer.status == 200
    with urllib.request.urlopen(urls["metrics"] + "/metrics", timeout=5) as answer:
        text = answer.read().decode()
    assert re.search(r'networking_webhook_requests_total\{path="/webhooks/validate",result="denied"\} [1-9]', text)
    assert re.search(r'networking_webhook_requests_total\{path="/webhooks/mutate",result="patched"\} [1-9]', text)


def test_a_restarted_admission_serves_the_certificate_of_the_secret(real_cluster, admission):
    """Replicas agree: a second instance adopts the Secret's bundle (no new CA, same caBundle)."""
    running, _ = admission
    first_ca = running.admission.bundle.ca_bundle
    port = free_port()
    other = AdmissionThread(*url_mode_flags(real_cluster, port))
    try:
        wait_for(lambda: other.admission.readiness()[0], timeout=30, message="second admission ready")
        assert other.admission.bundle == running.admission.bundle
        assert other.admission.bundle.ca_bundle == first_ca
    finally:
        other.stop()


# --- the cilium shoot webhook, served by the controller ------------------------------------------

EXT_NS, SHOOT_NS, DNS_NS = "extension-networking-webhook", "shoot--foo--baz", "node-local-dns-test"
SHOOT_WEBHOOK_MR = "extension-cilium-shoot-webhooks"
SHOOT_WEBHOOK = "gardener-extension-networking-cilium-shoot"


def node_local_dns_daemonset() -> dict:
    labels = {"k8s-app": "node-local-dns"}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "node-local-dns", "namespace": DNS_NS, "labels": labels},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                "hostNetwork": True,
                "initContainers": [{"name": "coredns-config-adapter", "image": "registry.example/adapter:1",
                                    "args": ["-bind=bind 169.254.20.10 100.64.0.10"]}],
                "containers": [{"name": "node-cache", "image": "registry.example/k8s-dns-node-cache:1",
                                "args": ["-localip", "169.254.20.10", "-skipteardown=false", "-setupiptables=true"],
                                "livenessProbe": {"httpGet": {"host": "169.254.20.10", "path": "/health",
                                                              "port": 8099}}}]}}}}


@pytest.fixture
def controller_with_webhook(real_cluster):
    cluster = real_cluster
    for namespace, labels in ((EXT_NS, {}), (SHOOT_NS, {"gardener.cloud/role": "shoot"}),
                              (DNS_NS, {"gardener.cloud/purpose": "kube-system"})):
        cluster.ensure_namespace(namespace, labels)
    port = free_port()
    args = build_parser().parse_args([
        "run", "--kubeconfig", str(cluster.kubeconfig_path), "--types", "cilium",
        "--health-bind-address", "127.0.0.1:0", "--metrics-bind-address", "127.0.0.1:0", "--resync-period", "0.5",
        "--delete-timeout", "5", "--leader-election=false", "--heartbeat-namespace", EXT_NS,
        "--graceful-shutdown-timeout", "5",
        "--webhook-config-server-port", str(port), "--webhook-config-server-host", "127.0.0.1",
        "--webhook-config-namespace", EXT_NS, "--webhook-config-mode", "url",
        "--webhook-config-url", f"127.0.0.1:{port}"])
    running = Running(build_controller(RunOptions.from_args(args)))
    try:
        yield running
    finally:
        running.stop()
        cluster.http("DELETE", cluster.path(*MUTATING, None, SHOOT_WEBHOOK))
        for api_version, plural in (("apps/v1", "daemonsets"), ("v1", "configmaps")):
            cluster.purge(api_version, plural, DNS_NS, keep=["kube-root-ca.crt"])
        purge(cluster)
        cluster.purge("v1", "secrets", EXT_NS)
        cluster.purge("coordination.k8s.io/v1", "leases", EXT_NS)


def test_node_local_dns_objects_come_back_mutated(real_cluster, controller_with_webhook):
    cluster = real_cluster
    running = controller_with_webhook
    wait_for(lambda: running.controller.readiness()[0], timeout=30, message="ready once /shoot serves")
    assert running.controller.reconciler.shoot_webhook.server.started
    cluster.create(example("cluster-baz.yaml"))
    network = example("network-cilium.yaml")
    network["metadata"]["annotations"] = {"gardener.cloud/operation": "reconcile"}
    cluster.create(network)

    mr = wait_for(lambda: cluster.get("resources.gardener.cloud/v1alpha1", "managedresources", SHOOT_WEBHOOK_MR,
                                      SHOOT_NS), timeout=30, message="shoot webhook ManagedResource")
    secret = cluster.get("v1", "secrets", mr["spec"]["secretRefs"][0]["name"], SHOOT_NS)
    [configuration] = [o for o in yaml.safe_load_all(base64.b64decode(secret["data"]["config.yaml"])) if o]
    assert configuration["metadata"]["name"] == SHOOT_WEBHOOK
    ca = cluster.get("v1", "secrets", "gardener-extension-networking-webhook-cert", EXT_NS)["data"]["ca.crt"]
    assert configuration["webhooks"][0]["clientConfig"]["caBundle"] == ca

    # what GRM does with the ManagedResource in the shoot
    assert cluster.http("POST", cluster.path(*MUTATING), configuration)[0] == 201
    configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "node-local-dns-abc123", "namespace": DNS_NS,
                              "labels": {"k8s-app": "node-local-dns"}},
                 "data": {"Corefile": COREFILE}}
    created = wait_for(lambda: _created_mutated(cluster, configmap), timeout=10, interval=0.2,
                       message="ConfigMap mutated (the webhook registration takes effect asynchronously)")
    assert "bind 0.0.0.0\n" in created["data"]["Corefile"] and "health :8080\n" in created["data"]["Corefile"]

    status, daemonset = cluster.http("POST", cluster.path("apps/v1", "daemonsets", DNS_NS), node_local_dns_daemonset())
    assert status == 201, daemonset
    spec = daemonset["spec"]["template"]["spec"]
    assert not spec.get("hostNetwork")
    assert spec["containers"][0]["args"] == ["-localip", "169.254.20.10", "-skipteardown=true",
                                             "-setupinterface=false", "-setupiptables=false"]
    assert "host" not in spec["containers"][0]["livenessProbe"]["httpGet"]
    assert spec["initContainers"][0]["args"] == ["-bind=bind 0.0.0.0"]

    # not selected: other names in the namespace stay as they are
    other = {**configmap, "metadata": {**configmap["metadata"], "name": "unrelated", "labels": {"app": "x"}}}
    assert cluster.create(other)["data"]["Corefile"] == COREFILE

    # deleted with the Network
    cluster.http("DELETE", cluster.path("extensions.gardener.cloud/v1alpha1", "networks", SHOOT_NS, "baz"))
    wait_for(lambda: cluster.get("resources.gardener.cloud/v1alpha1", "managedresources", SHOOT_WEBHOOK_MR,
                                 SHOOT_NS) is None, timeout=30, message="shoot webhook ManagedResource deleted")


def _created_mutated(cluster, configmap: dict) -> dict | None:
    """Create the ConfigMap; if the API server did not call the webhook yet (its configuration is not
    in the informer cache yet), delete it and report None so `wait_for` tries again."""
    status, created = cluster.http("POST", cluster.path("v1", "configmaps", DNS_NS), configmap)
    assert status == 201, created
    if "bind 0.0.0.0" in created["data"]["Corefile"]:
        return created
    cluster.http("DELETE", cluster.path("v1", "configmaps", DNS_NS, configmap["metadata"]["name"]))
    return None
