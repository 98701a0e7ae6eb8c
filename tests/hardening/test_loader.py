"""The hardened loader (`controller.files`) and the CLI on hostile files: every bad file ends in exit
code 2 with one line per problem naming the file and, where there is one, the field path; never a
traceback, never a hang (an alias bomb fails in well under a second)."""

from __future__ import annotations

import logging
import time

import pytest
import yaml

from controller import cli
from controller.errors import ConfigurationError
from controller.files import MAX_BYTES, MAX_DEPTH, parse_document
from tests.helpers import EXAMPLE

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def problem(text: bytes | str) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_document(text, "f.yaml")
    return "\n".join(info.value.lines)


def test_alias_bomb_fails_fast():
    yaml.safe_load(BOMB.split("c:")[0])  # the first levels are harmless YAML
    started = time.perf_counter()
    assert "aliases are expanded" in problem(BOMB)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("text, expected", [
    ("a: &a [*a]", "recursive YAML alias"),
    ("[" * 1000 + "]" * 1000, f"nested deeper than {MAX_DEPTH} levels"),
    ("a: " + "{b: " * 100 + "1" + "}" * 100, f"nested deeper than {MAX_DEPTH} levels"),
    ("? [a]\n: b\n", "keys must be strings"),
    ("1: b\n", "keys must be strings"),
    ("a: 1\na: 2\n", "duplicate field 'a'"),
    ("a: " + "9" * 5000, "not valid YAML"),
    ("a: 99999999999999999999", "a: Invalid value: integer out of the int64 range"),
    ("a: .inf", "a: Invalid value: \"inf\": must be a finite number"),
    ("a: !!binary aGVsbG8=", "could not determine a constructor"),
    ("a: !!set {x: null}", "could not determine a constructor"),
    ("a: !!python/object:os.system x", "could not determine a constructor"),
    ("a: b\n---\nc: d\n", "found 2 documents"),
    ("[1, 2]", "found a list"),
    ("a: \x07", "not valid YAML"),
    (b"a: \xe4\n", "not valid UTF-8 (byte 3)"),
    ("a: b".encode("utf-16"), "not valid UTF-8"),
    (b"x" * (MAX_BYTES + 1), f"larger than {MAX_BYTES} bytes"),
])
def test_bad_documents_are_one_line_errors_naming_the_file(text, expected):
    message = problem(text)
    assert expected in message and message.startswith("f.yaml")


def test_timestamps_stay_strings_and_a_utf8_bom_is_fine():
    assert parse_document("\ufeffa: 2024-01-01\n".encode(), "f") == {"a": "2024-01-01"}


def write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return str(path)


def example(name: str) -> dict:
    return yaml.safe_load((EXAMPLE / name).read_text())


def run_cli(capsys, *argv) -> tuple[int, list[str]]:
    code = cli.main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.splitlines()


def with_shoot(change) -> dict:
    cluster = example("cluster.yaml")
    change(cluster["spec"]["shoot"])
    return cluster


@pytest.mark.parametrize("cluster, line", [
    (with_shoot(lambda s: s["status"].update(lastOperation="x")),
     "cluster.spec.shoot.status.lastOperation: Invalid value: \"x\": must be of type object"),
    (with_shoot(lambda s: s.update(spec="garbage")),
     "cluster.spec.shoot.spec: Invalid value: \"garbage\": must be of type object"),
    (with_shoot(lambda s: s["spec"].update(kubernetes=[])),
     "cluster.spec.shoot.spec.kubernetes: Invalid value: must be of type object"),
    (with_shoot(lambda s: s["spec"]["provider"].update(workers="x")),
     "cluster.spec.shoot.spec.provider.workers: Invalid value: \"x\": must be of type array"),
    (with_shoot(lambda s: s["spec"]["kubernetes"].update(version="1.32.0\n---\nkind: Secret")),
     "cluster.spec.shoot.spec.kubernetes.version: Invalid value"),
    (with_shoot(lambda s: s["spec"]["networking"].update(nodes="fe80::%\u0085/64")),
     "cluster.spec.shoot.spec.networking.nodes: Invalid value"),
])
def test_malformed_clusters_exit_2_with_the_field_path(tmp_path, capsys, cluster, line):
    code, lines = run_cli(capsys, "validate", "--network", str(EXAMPLE / "network-calico.yaml"),
                          "--cluster", write(tmp_path, "cluster.yaml", cluster))
    assert code == 2 and any(l.startswith(line) for l in lines), lines


@pytest.mark.parametrize("change, line", [
    (lambda n: n["metadata"].update(name=5), "metadata.name: Invalid value: 5: must be of type string"),
    (lambda n: n.update(spec=[]), "spec: Invalid value: must be of type object"),
    (lambda n: n["spec"].update(podCIDR=["10.0.0.0/8"]), "spec.podCIDR: Invalid value: must be of type string"),
    (lambda n: n["spec"].update(podCIDR="fe80::%eth0/64"), "spec.podCIDR: Invalid value"),
    (lambda n: n["spec"]["providerConfig"].update(vethMTU="99999999999999999999"),
     'spec.providerConfig.vethMTU: Invalid value: "99999999999999999999": must be at most 9223372036854775807'),
    (lambda n: n["spec"]["providerConfig"].update(ipam={"type": "host-local", "cidr": "fe80::%\u0085x/64"}),
     "spec.providerConfig.ipam.cidr: Invalid value"),
    (lambda n: n["spec"]["providerConfig"].update(autoScaling={"mode": "static", "resources": {"node": {"cpu": "1e1000000"}}}),
     "spec.providerConfig.autoScaling.resources.node.cpu: Invalid value"),
    (lambda n: n["spec"]["providerConfig"].update(ipv4={"autoDetectionMethod": "interface=eth\U0001F600"}),
     'spec.providerConfig.ipv4.autoDetectionMethod: Invalid value: "interface=eth\\ud83d\\ude00": '
     "must contain only printable ASCII characters"),
])
def test_malformed_networks_exit_2_with_the_field_path(tmp_path, capsys, change, line):
    network = example("network-calico.yaml")
    change(network)
    code, lines = run_cli(capsys, "validate", "--network", write(tmp_path, "network.yaml", network))
    assert code == 2 and any(l.startswith(line) for l in lines), lines


def test_bad_image_vector_and_configuration_exit_2(tmp_path, capsys, monkeypatch):
    network = str(EXAMPLE / "network-calico.yaml")
    monkeypatch.setenv("IMAGEVECTOR_OVERWRITE", write(tmp_path, "images.yaml", {"images": [
        {"name": "calico-node", "repository": "evil\u2028kind: Secret", "tag": "v1"}, "x"]}))
    code, lines = run_cli(capsys, "validate", "--network", network)
    assert code == 2 and lines == [
        f"{tmp_path}/images.yaml: images[0].repository: Invalid value: \"evil\\u2028kind: Secret\": "
        "must be printable ASCII without spaces",
        f"{tmp_path}/images.yaml: images[1]: Invalid value: must be an object"]
    monkeypatch.setenv("IMAGEVECTOR_OVERWRITE", write(tmp_path, "bomb.yaml", BOMB))
    code, lines = run_cli(capsys, "validate", "--network", network)
    assert code == 2 and "alias" in lines[0]
    monkeypatch.delenv("IMAGEVECTOR_OVERWRITE")
    config = {"apiVersion": "calico.networking.extensions.config.gardener.cloud/v1alpha1",
              "kind": "ControllerConfiguration", "featureGates": ["x"], "clientConnection": "x"}
    code, lines = run_cli(capsys, "validate", "--network", network, "--config", write(tmp_path, "c.yaml", config))
    assert code == 2 and lines == [
        f"{tmp_path}/c.yaml: clientConnection: Invalid value: \"x\": must be an object",
        f"{tmp_path}/c.yaml: featureGates: Invalid value: [\"x\"]: must be an object"]


@pytest.mark.parametrize("content, line", [
    (BOMB, "aliases are expanded"),
    ("apiVersion: v1\nusers:\n- name: x\n  user:\n    token: SECRET-TOKEN-42: [\n", "not valid YAML"),
    ("apiVersion: v1\nkind: Config\nusers:\n- name: x\n  user: {token: SECRET-TOKEN-42}\n", "not a usable kubeconfig"),
])
def test_a_bad_seed_kubeconfig_exits_2_without_its_content(tmp_path, capsys, content, line):
    path = write(tmp_path, "kubeconfig", content)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # `run` configures logging for the process
    try:
        code, lines = run_cli(capsys, "run", "--kubeconfig", path, "--types", "calico",
                              "--health-bind-address", "0", "--metrics-bind-address", "0")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert code == 2 and len(lines) == 1 and lines[0].startswith(path) and line in lines[0], lines
    assert "SECRET-TOKEN-42" not in "\n".join(lines)
