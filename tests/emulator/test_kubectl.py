"""Checklist: real kubectl 1.34 against the emulator (get incl. -A/-o yaml/-w and server-side Tables,
apply -f, annotate, label, delete)."""

import json
import subprocess
import time

import yaml
from kubernetes import client

from .conftest import KUBECTL
from .support import GROUP, VERSION, http, network

MANIFESTS = """
apiVersion: extensions.gardener.cloud/v1alpha1
kind: Network
metadata:
  name: net1
  namespace: default
spec:
  type: calico
  podCIDR: 10.0.0.0/16
  serviceCIDR: 10.1.0.0/16
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm1
  namespace: default
data:
  a: "1"
"""


def test_apply_creates_then_patches(kubectl, emulator, tmp_path):
    manifest = tmp_path / "objects.yaml"
    manifest.write_text(MANIFESTS)
    assert "created" in kubectl("apply", "-f", str(manifest)).stdout
    net = emulator.get(f"{GROUP}/{VERSION}", "Network", "net1", "default")
    assert "kubectl.kubernetes.io/last-applied-configuration" in net["metadata"]["annotations"]
    manifest.write_text(MANIFESTS.replace("calico", "cilium").replace('a: "1"', 'b: "2"'))
    log_start = len(emulator.request_log)
    assert kubectl("apply", "-f", str(manifest)).stdout.count("configured") == 2
    net = emulator.get(f"{GROUP}/{VERSION}", "Network", "net1", "default")
    assert net["spec"]["type"] == "cilium" and net["metadata"]["generation"] == 2
    assert emulator.get("v1", "ConfigMap", "cm1", "default")["data"] == {"b": "2"}  # a removed by 3-way patch
    patches = [(m, s) for m, p, s in emulator.request_log[log_start:] if m == "PATCH"]
    assert patches == [("PATCH", 200), ("PATCH", 200)]
    assert "unchanged" in kubectl("apply", "-f", str(manifest)).stdout


def test_get_table_with_printer_columns(kubectl, emulator):
    emulator.create(network("net1"))
    out = kubectl("get", "networks").stdout.splitlines()
    assert out[0].split() == ["NAME", "TYPE", "POD", "CIDR", "SERVICE", "CIDR", "STATUS", "AGE"]
    assert out[1].split()[:4] == ["net1", "calico", "10.0.0.0/16", "10.1.0.0/16"]
    mr = {"apiVersion": "resources.gardener.cloud/v1alpha1", "kind": "ManagedResource",
          "metadata": {"name": "mr1", "namespace": "default"}, "spec": {"secretRefs": [], "class": "seed"},
          "status": {"conditions": [{"type": "ResourcesApplied", "status": "True", "reason": "r", "message": "m",
                                     "lastTransitionTime": "2024-01-01T00:00:00Z",
                                     "lastUpdateTime": "2024-01-01T00:00:00Z"}]}}
    emulator.create(mr)
    out = kubectl("get", "mr", "-A").stdout.splitlines()
    assert out[0].split() == ["NAMESPACE", "NAME", "CLASS", "APPLIED", "HEALTHY", "PROGRESSING", "AGE"]
    assert out[1].split()[:4] == ["default", "mr1", "seed", "True"]


def test_table_over_raw_http(emulator):
    emulator.create(network("net1"))
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
    status, body = http(emulator, "GET", f"/apis/{GROUP}/{VERSION}/namespaces/default/networks?includeObject=Object",
                        headers={"Accept": accept})
    assert status == 200 and body["kind"] == "Table" and body["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Type", "Pod CIDR", "Service CIDR", "Status", "Age"]
    assert body["rows"][0]["cells"][:5] == ["net1", "calico", "10.0.0.0/16", "10.1.0.0/16", None]
    assert body["rows"][0]["object"]["kind"] == "Network"
    status, body = http(emulator, "GET", "/api/v1/namespaces/default/configmaps", headers={"Accept": accept})
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Data", "Age"]


def test_get_all_namespaces_and_yaml(kubectl, emulator):
    emulator.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "kube-system"}})
    emulator.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "default"}})
    rows = [line.split()[:2] for line in kubectl("get", "configmaps", "-A").stdout.splitlines()[1:]]
    assert rows == [["default", "b"], ["kube-system", "a"]]
    document = yaml.safe_load(kubectl("get", "configmap", "a", "-n", "kube-system", "-o", "yaml").stdout)
    assert document["kind"] == "ConfigMap" and document["metadata"]["uid"]
    listed = json.loads(kubectl("get", "ns", "-o", "json").stdout)
    assert "default" in [n["metadata"]["name"] for n in listed["items"]]


def test_annotate_label_delete(kubectl, emulator):
    emulator.create(network("net1"))
    kubectl("annotate", "network", "net1", "gardener.cloud/operation=reconcile")
    kubectl("label", "networks.extensions.gardener.cloud", "net1", "team=net")
    net = emulator.get(f"{GROUP}/{VERSION}", "Network", "net1", "default")
    assert net["metadata"]["annotations"] == {"gardener.cloud/operation": "reconcile"}
    assert net["metadata"]["labels"] == {"team": "net"}
    assert net["metadata"]["generation"] == 1
    kubectl("annotate", "network", "net1", "gardener.cloud/operation-")
    assert not emulator.get(f"{GROUP}/{VERSION}", "Network", "net1", "default")["metadata"].get("annotations")
    assert "deleted" in kubectl("delete", "network", "net1").stdout
    assert emulator.get(f"{GROUP}/{VERSION}", "Network", "net1", "default") is None
    result = kubectl("get", "network", "net1", check=False)
    assert result.returncode == 1 and "NotFound" in result.stderr


def test_get_watch_streams_table_rows(kubectl, emulator, tmp_path):
    emulator.create(network("net1"))
    process = subprocess.Popen([*kubectl_command(emulator, tmp_path), "get", "networks", "-w"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        with emulator.api_client() as api:
            client.CustomObjectsApi(api).patch_namespaced_custom_object(
                GROUP, VERSION, "default", "networks", "net1", {"spec": {"type": "cilium"}})
        time.sleep(0.5)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=5)
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NAME", "TYPE"], err
    assert lines[1].split()[:2] == ["net1", "calico"]
    assert lines[2].split()[:2] == ["net1", "cilium"]


def kubectl_command(emulator, tmp_path):
    return [str(KUBECTL), "--kubeconfig", str(emulator.write_kubeconfig(tmp_path / "watch-kubeconfig")),
            "--cache-dir", str(tmp_path / "watch-cache")]
