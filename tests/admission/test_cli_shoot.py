"""`gardener-extension-networking validate --shoot FILE`: the admission checks offline (exit 0 / 2 with
one field-path line per problem), on the same Shoots the admission server sees."""

from __future__ import annotations

import yaml

from controller.cli import main
from tests.admission.shoots import shoot


def run(tmp_path, capsys, obj) -> tuple[int, str, str]:
    path = tmp_path / "shoot.yaml"
    path.write_text(yaml.safe_dump(obj))
    code = main(["validate", "--shoot", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_valid_shoot(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, shoot("cilium", {"tunnel": "geneve"}))
    assert code == 0 and out == "foo: valid cilium shoot\n"


def test_problems_one_line_each_with_field_paths(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, shoot("calico", {"ipam": {"type": "calico-ipam"}, "foo": 1},
                                               kube_proxy={"enabled": False}, families=("IPv6",)))
    assert code == 2
    assert [line.split(": ", 1)[0] for line in err.splitlines()] == ["spec.networking.providerConfig.foo"]
    code, _, err = run(tmp_path, capsys, shoot("calico", {"ipam": {"type": "calico-ipam"}},
                                               kube_proxy={"enabled": False}, families=("IPv6",)))
    assert code == 2
    assert [line.split(": ", 1)[0] for line in err.splitlines()] == [
        "spec.networking.providerConfig.ipam.type", "spec.kubernetes.kubeProxy.enabled"]


def test_an_unlabelled_manifest_is_checked_for_its_networking_type(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, shoot("cilium", {"mtu": -1}, labelled=False))
    assert code == 2 and err.startswith("spec.networking.providerConfig.mtu: Invalid value: -1")


def test_an_unserved_type(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, shoot("flannel", labelled=False))
    assert code == 2 and err.startswith('spec.networking.type: Unsupported value: "flannel"')


def test_network_and_shoot_are_exclusive(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(shoot()))
    try:
        main(["validate", "--shoot", str(path), "--network", str(path)])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("argparse must refuse both")


def test_the_example_shoot_is_valid(capsys):
    from tests.helpers import EXAMPLE

    assert main(["validate", "--shoot", str(EXAMPLE / "shoot.yaml")]) == 0
    assert capsys.readouterr().out == "baz: valid cilium shoot\n"
