"""Checklist: real kubectl 1.34 against the server (get incl. -A/-o yaml/-w and server-side Tables,
apply -f, annotate, label, delete, create of built-in kinds as protobuf, delete --dry-run=server)."""

import base64
import json
import subprocess
import time

import yaml
from kubernetes import client

from .support import GROUP, VERSION, http, network

MANIFESTS = """
apiVersion: extensions.gardener.cloud/v1alpha1
kind: Network
metadata:
  name: net1
  namespace: {ns}
spec:
  type: calico
  podCIDR: 10.0.0.0/16
  serviceCIDR: 10.1.0.0/16
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm1
  namespace: {ns}
data:
  a: "1"
"""


def test_apply_creates_then_patches(kubectl, server, tmp_path, ns):
    manifest = tmp_path / "objects.yaml"
    manifest.write_text(MANIFESTS.format(ns=ns))
    assert "created" in kubectl("apply", "-f", str(manifest)).stdout
    net = server.get(f"{GROUP}/{VERSION}", "Network", "net1", ns)
    assert "kubectl.kubernetes.io/last-applied-configuration" in net["metadata"]["annotations"]
    manifest.write_text(MANIFESTS.format(ns=ns).replace("calico", "cilium").replace('a: "1"', 'b: "2"'))
    log_start = len(server.request_log)
    assert kubectl("apply", "-f", str(manifest)).stdout.count("configured") == 2
    net = server.get(f"{GROUP}/{VERSION}", "Network", "net1", ns)
    assert net["spec"]["type"] == "cilium" and net["metadata"]["generation"] == 2
    assert server.get("v1", "ConfigMap", "cm1", ns)["data"] == {"b": "2"}  # a removed by 3-way patch
    patches = [(m, s) for m, p, s in server.request_log[log_start:] if m == "PATCH"]
    assert patches == [("PATCH", 200), ("PATCH", 200)]
    assert "unchanged" in kubectl("apply", "-f", str(manifest)).stdout


def test_get_table_with_printer_columns(kubectl, server, ns):
    server.create(network("net1", namespace=ns))
    out = kubectl("get", "networks").stdout.splitlines()
    assert out[0].split() == ["NAME", "TYPE", "POD", "CIDR", "SERVICE", "CIDR", "STATUS", "AGE"]
    assert out[1].split()[:4] == ["net1", "calico", "10.0.0.0/16", "10.1.0.0/16"]
    mr = {"apiVersion": "resources.gardener.cloud/v1alpha1", "kind": "ManagedResource",
          "metadata": {"name": "mr1", "namespace": ns}, "spec": {"secretRefs": [], "class": "seed"},
          "status": {"conditions": [{"type": "ResourcesApplied", "status": "True", "reason": "r", "message": "m",
                                     "lastTransitionTime": "2024-01-01T00:00:00Z",
                                     "lastUpdateTime": "2024-01-01T00:00:00Z"}]}}
    server.create(mr)
    out = kubectl("get", "mr", "-A").stdout.splitlines()
    assert out[0].split() == ["NAMESPACE", "NAME", "CLASS", "APPLIED", "HEALTHY", "PROGRESSING", "AGE"]
    mine = [line.split()[:4] for line in out[1:] if line.split()[0] == ns]  # the real server has others
    assert mine == [[ns, "mr1", "seed", "True"]]


def test_table_over_raw_http(server, ns):
    server.create(network("net1", namespace=ns))
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
    status, body = http(server, "GET", f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks?includeObject=Object",
                        headers={"Accept": accept})
    assert status == 200 and body["kind"] == "Table" and body["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Type", "Pod CIDR", "Service CIDR", "Status", "Age"]
    assert body["rows"][0]["cells"][:5] == ["net1", "calico", "10.0.0.0/16", "10.1.0.0/16", None]
    assert body["rows"][0]["object"]["kind"] == "Network"
    status, body = http(server, "GET", f"/api/v1/namespaces/{ns}/configmaps", headers={"Accept": accept})
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Data", "Age"]


def test_get_all_namespaces_and_yaml(kubectl, server, ns, ns2):
    server.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": ns2}})
    server.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": ns}})
    rows = [line.split()[:2] for line in kubectl("get", "configmaps", "-A").stdout.splitlines()[1:]]
    assert [row for row in rows if row[0] in (ns, ns2)] == [[ns, "b"], [ns2, "a"]]  # in namespace order
    document = yaml.safe_load(kubectl("get", "configmap", "a", "-n", ns2, "-o", "yaml").stdout)
    assert document["kind"] == "ConfigMap" and document["metadata"]["uid"]
    listed = json.loads(kubectl("get", "ns", "-o", "json").stdout)
    assert ns in [n["metadata"]["name"] for n in listed["items"]]


def test_annotate_label_delete(kubectl, server, ns):
    server.create(network("net1", namespace=ns))
    kubectl("annotate", "network", "net1", "gardener.cloud/operation=reconcile")
    kubectl("label", "networks.extensions.gardener.cloud", "net1", "team=net")
    net = server.get(f"{GROUP}/{VERSION}", "Network", "net1", ns)
    assert net["metadata"]["annotations"] == {"gardener.cloud/operation": "reconcile"}
    assert net["metadata"]["labels"] == {"team": "net"}
    assert net["metadata"]["generation"] == 1
    kubectl("annotate", "network", "net1", "gardener.cloud/operation-")
    assert not server.get(f"{GROUP}/{VERSION}", "Network", "net1", ns)["metadata"].get("annotations")
    assert "deleted" in kubectl("delete", "network", "net1").stdout
    assert server.get(f"{GROUP}/{VERSION}", "Network", "net1", ns) is None
    result = kubectl("get", "network", "net1", check=False)
    assert result.returncode == 1 and "NotFound" in result.stderr


def test_get_watch_streams_table_rows(kubectl_command, server, ns):
    server.create(network("net1", namespace=ns))
    process = subprocess.Popen([*kubectl_command, "get", "networks", "-w"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        with server.api_client() as api:
            client.CustomObjectsApi(api).patch_namespaced_custom_object(
                GROUP, VERSION, ns, "networks", "net1", {"spec": {"type": "cilium"}})
        time.sleep(0.5)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=5)
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NAME", "TYPE"], err
    assert lines[1].split()[:2] == ["net1", "calico"]
    assert lines[2].split()[:2] == ["net1", "cilium"]



def test_create_builtin_kinds_sends_protobuf(kubectl, server, ns):
    """client-go sends built-in kinds as protobuf and never falls back to JSON."""
    namespace = f"{ns[:5]}-created-by-kubectl"
    assert kubectl("create", "namespace", namespace).stdout.strip() == f"namespace/{namespace} created"
    kubectl("label", "namespace", namespace, "team=net")
    created = server.get("v1", "namespaces", namespace)
    assert created["status"]["phase"] == "Active" and created["spec"] == {"finalizers": ["kubernetes"]}
    assert created["metadata"]["labels"] == {"kubernetes.io/metadata.name": namespace, "team": "net"}
    assert kubectl("create", "configmap", "cm", "--from-literal=a=1", "--from-literal=b=two").stdout.strip() == \
        "configmap/cm created"
    assert server.get("v1", "configmaps", "cm", ns)["data"] == {"a": "1", "b": "two"}
    kubectl("create", "secret", "generic", "s", "--from-literal=password=hunter2", "--type=example.com/x")
    secret = server.get("v1", "secrets", "s", ns)
    assert secret["type"] == "example.com/x" and base64.b64decode(secret["data"]["password"]) == b"hunter2"
    kubectl("create", "serviceaccount", "sa", "-n", namespace)
    assert server.get("v1", "serviceaccounts", "sa", namespace)["metadata"]["namespace"] == namespace
    result = kubectl("create", "configmap", "cm", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == 'error: failed to create configmap: configmaps "cm" already exists'


def test_delete_dry_run_server_deletes_nothing(kubectl, server, ns):
    """kubectl sends dryRun in the DeleteOptions body, not in the query."""
    server.create(network("net1", namespace=ns))
    server.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": ns}})
    assert kubectl("delete", "network", "net1", "--dry-run=server").stdout.strip() == \
        f'network.{GROUP} "net1" deleted from {ns} namespace (server dry run)'
    assert kubectl("delete", "configmap", "cm", "--dry-run=server").stdout.strip() == \
        f'configmap "cm" deleted from {ns} namespace (server dry run)'
    assert server.get(f"{GROUP}/{VERSION}", "networks", "net1", ns) is not None
    assert server.get("v1", "configmaps", "cm", ns) is not None
    kubectl("delete", "configmap", "cm")
    assert server.get("v1", "configmaps", "cm", ns) is None
