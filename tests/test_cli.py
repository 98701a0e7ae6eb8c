"""The CLI as a user runs it: real process, exit codes, one line per problem, no tracebacks."""

from __future__ import annotations

import base64
import subprocess
import sys

import yaml

from tests.helpers import EXAMPLE, ROOT

CLI = [sys.executable, "-m", "controller"]


def run(*args, cwd=ROOT):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd)


def write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(obj) if not isinstance(obj, str) else obj)
    return str(path)


def example_network():
    return yaml.safe_load((EXAMPLE / "network-calico.yaml").read_text())


def test_render_prints_the_secret_and_managed_resource_of_the_example():
    result = run("render", "--network", str(EXAMPLE / "network-calico.yaml"), "--cluster", str(EXAMPLE / "cluster.yaml"))
    assert result.returncode == 0, result.stderr
    secret, mr = list(yaml.safe_load_all(result.stdout))
    assert secret["kind"] == "Secret" and secret["immutable"] is True
    assert secret["metadata"]["name"].startswith("managedresource-extension-networking-calico-config-")
    assert mr["kind"] == "ManagedResource" and mr["spec"]["secretRefs"] == [{"name": secret["metadata"]["name"]}]
    manifests = list(yaml.safe_load_all(base64.b64decode(secret["data"]["config.yaml"])))
    assert {(o["kind"], o["metadata"]["name"]) for o in manifests} >= {
        ("DaemonSet", "calico-node"), ("ConfigMap", "calico-config"), ("IPPool", "default-ipv4-ippool")}


def test_render_manifests_prints_the_shoot_objects():
    result = run("render", "--manifests", "--network", str(EXAMPLE / "network-calico.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\n---\n# Source: calico/templates/")
    kinds = {d["kind"] for d in yaml.safe_load_all(result.stdout) if d}
    assert "DaemonSet" in kinds and "Secret" not in kinds


def test_validate_accepts_the_example():
    result = run("validate", "--network", str(EXAMPLE / "network-calico.yaml"), "--cluster", str(EXAMPLE / "cluster.yaml"))
    assert result.returncode == 0 and "valid calico network" in result.stdout


def test_bad_provider_config_exits_2_with_one_line_per_problem(tmp_path):
    net = example_network()
    net["spec"]["providerConfig"].update({"ipam": {"type": "dhcp"}, "vethMTU": "-5", "bogus": True})
    result = run("render", "--network", write(tmp_path, "net.yaml", net))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "spec.providerConfig.bogus: Unknown field: not declared in the schema",
        'spec.providerConfig.ipam.type: Unsupported value: "dhcp": supported values: "", "calico-ipam", "host-local"',
        'spec.providerConfig.vethMTU: Invalid value: "-5": must be a non-negative integer',
    ]
    assert result.stdout == ""


def test_forbidden_combination_exits_2(tmp_path):
    cluster = yaml.safe_load((EXAMPLE / "cluster.yaml").read_text())
    cluster["spec"]["shoot"]["spec"]["kubernetes"]["kubeProxy"]["enabled"] = False
    result = run("validate", "--network", str(EXAMPLE / "network-calico.yaml"),
                 "--cluster", write(tmp_path, "cluster.yaml", cluster))
    assert result.returncode == 2
    assert result.stderr.startswith("spec.kubernetes.kubeProxy.enabled: Forbidden:")


def test_unreadable_and_malformed_files_exit_2_without_traceback(tmp_path):
    for args in (["--network", str(tmp_path / "absent.yaml")],
                 ["--network", write(tmp_path, "broken.yaml", "spec: [unclosed")],
                 ["--network", write(tmp_path, "dup.yaml", "kind: Network\nspec: {}\nspec: {}\n")],
                 ["--network", write(tmp_path, "other.yaml", {"kind": "Shoot"})]):
        result = run("validate", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_unknown_network_type_exits_2(tmp_path):
    net = example_network()
    net["spec"]["type"] = "flannel"
    result = run("validate", "--network", write(tmp_path, "net.yaml", net))
    assert result.returncode == 2 and result.stderr.startswith('spec.type: Unsupported value: "flannel"')


def test_controller_configuration_feature_gates(tmp_path):
    good = run("render", "--manifests", "--network", str(EXAMPLE / "network-calico.yaml"),
               "--config", write(tmp_path, "c.yaml", {
                   "apiVersion": "calico.networking.extensions.config.gardener.cloud/v1alpha1",
                   "kind": "ControllerConfiguration", "featureGates": {"NonPrivilegedCalicoNode": True}}))
    assert good.returncode == 0 and "hostpath-init" in good.stdout
    bad = run("validate", "--network", str(EXAMPLE / "network-calico.yaml"),
              "--config", write(tmp_path, "bad.yaml", {
                  "apiVersion": "calico.networking.extensions.config.gardener.cloud/v1alpha1",
                  "kind": "ControllerConfiguration", "featureGates": {"NoSuchGate": True}, "extra": 1}))
    assert bad.returncode == 2
    assert any("featureGates.NoSuchGate: Unsupported value" in line for line in bad.stderr.splitlines())
    assert any("extra: Unknown field" in line for line in bad.stderr.splitlines())


def test_other_failures_exit_1(tmp_path):
    result = subprocess.run([*CLI, "render", "--network", str(EXAMPLE / "network-calico.yaml")],
                            capture_output=True, text=True, cwd=ROOT,
                            env={"HELM_BINARY": str(tmp_path / "no-helm"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    broken_mappings = tmp_path / "mappings"
    broken_mappings.mkdir()
    (broken_mappings / "calico.yaml").write_text("type: calico\n")
    result = run("--mappings-dir", str(broken_mappings), "validate", "--network", str(EXAMPLE / "network-calico.yaml"))
    assert result.returncode == 1 and "calico.yaml" in result.stderr
