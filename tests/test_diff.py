"""`gardener-extension-networking diff` offline (controller/diff.py): field paths, Secret values never
printed, live objects compared in the desired fields only, the deployed Secret format decoded, and the
command on one Network file with unchanged and changed copies of the charts and mappings."""

from __future__ import annotations

import base64
import shutil

import pytest
import yaml

from controller import diff
from controller.cli import main
from controller.errors import ConfigurationError
from tests.helpers import CHARTS, EXAMPLE, MAPPINGS

NETWORK = str(EXAMPLE / "network-calico.yaml")
PDB = "templates/typha/pdb-calico-typha.yaml"


def obj(kind="ConfigMap", name="x", namespace="kube-system", api_version="v1", **fields) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}, **fields}


def secret(name: str, **texts: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "shoot--foo--bar"},
            "data": {key: base64.b64encode(text.encode()).decode() for key, text in texts.items()}}


# ---- fields --------------------------------------------------------------------------------------------

def test_changed_added_and_removed_fields_as_dotted_paths():
    old = {"spec": {"replicas": 1, "selector": {"app": "a"}, "gone": True}, "metadata": {"labels": {"a.b/c": "1"}}}
    new = {"spec": {"replicas": 2, "selector": {"app": "a"}, "new": "x"}, "metadata": {"labels": {"a.b/c": "2"}}}
    assert diff.field_changes(old, new) == [
        'metadata.labels["a.b/c"]: "1" → "2"',
        "spec.gone: true → (absent)",
        'spec.new: (absent) → "x"',
        "spec.replicas: 1 → 2",
    ]


def test_lists_of_named_items_are_matched_by_name_others_by_index():
    old = {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}], "args": ["--x", "--y"]}
    new = {"containers": [{"name": "b", "image": "b:2"}, {"name": "a", "image": "a:1"}, {"name": "c", "image": "c"}],
           "args": ["--x", "--z"]}
    assert diff.field_changes(old, new) == [
        'args[1]: "--y" → "--z"',
        'containers[name=b].image: "b:1" → "b:2"',
        'containers[name=c]: (absent) → {"image": "c", "name": "c"}',
    ]
    assert diff.field_changes({"args": ["a"]}, {"args": ["a", "b"]}) == ['args: ["a"] → ["a", "b"]']


def test_multi_line_text_is_shown_as_a_line_diff():
    assert diff.field_changes({"data": {"cfg": "a: 1\nb: 2\n-- x\n"}}, {"data": {"cfg": "a: 1\nb: 3\n"}}) == [
        "data.cfg: text changed", "  -b: 2", "  --- x", "  +b: 3"]
    many = diff.field_changes("\n".join(map(str, range(30))), "\n".join(map(str, range(100, 130))))
    assert len(many) == 1 + diff.MAX_TEXT_LINES + 1 and many[-1] == "  … 40 more lines"


def test_values_of_secrets_are_never_printed():
    old = obj("Secret", data={"token": "c2VjcmV0", "gone": "eA=="}, type="Opaque")
    new = obj("Secret", data={"token": "b3RoZXI=", "new": "eQ=="}, stringData={"pw": "hunter2"}, type="Opaque")
    [changed] = diff.compare([old], [new])
    assert changed.fields == ["data.gone: removed (value hidden)", "data.new: added (value hidden)",
                              "data.token: changed (value hidden)", "stringData: added (value hidden)"]
    assert "c2VjcmV0" not in str(changed) and "hunter2" not in str(changed)


def test_objects_added_removed_changed_and_an_api_version_bump_is_a_change():
    old = [obj(name="same", data={"a": "1"}), obj(name="gone"), obj("PodDisruptionBudget", "pdb", api_version="policy/v1beta1")]
    new = [obj(name="same", data={"a": "1"}), obj(name="new"), obj("PodDisruptionBudget", "pdb", api_version="policy/v1"),
           obj("ClusterRole", "cr", namespace=None, api_version="rbac.authorization.k8s.io/v1")]
    assert [(d.action, d.label, d.fields) for d in diff.compare(old, new)] == [
        ("-", "ConfigMap kube-system/gone", []),
        ("+", "ConfigMap kube-system/new", []),
        ("~", "PodDisruptionBudget.policy kube-system/pdb", ['apiVersion: "policy/v1beta1" → "policy/v1"']),
        ("+", "ClusterRole.rbac.authorization.k8s.io cr", []),
    ]


def test_live_objects_count_only_in_the_fields_the_controller_sets():
    live = obj(data={"a": "1"})
    live["metadata"].update(uid="u", resourceVersion="7", labels={"added-by": "someone"})
    assert diff.compare([live], [obj(data={"a": "1"})], live=True) == []
    [changed] = diff.compare([live], [obj(data={"a": "2"})], live=True)
    assert changed.fields == ['data.a: "1" → "2"']
    assert diff.compare([], [obj()], live=True)[0].action == "+"
    assert diff.compare([obj(name="other")], [], live=True) == []  # never removed


# ---- the deployed Secret format ---------------------------------------------------------------------------

def test_the_objects_of_managed_resource_secrets_are_decoded():
    objects = diff.secret_objects([secret("s1", **{"config.yaml": "---\n# Source: x\nkind: A\nmetadata: {name: a}\n"
                                                                   "---\nkind: B\nmetadata: {name: b}\n"}),
                                   secret("s2", other="kind: C\nmetadata: {name: c}\n")])
    assert [o["kind"] for o in objects] == ["A", "B", "C"]
    with pytest.raises(ConfigurationError, match=r'secret s: data\["data.yaml.br"\]: brotli'):
        diff.secret_objects([{"metadata": {"name": "s"}, "data": {"data.yaml.br": "eA=="}}])
    with pytest.raises(ConfigurationError, match=r'secret s: data\["config.yaml"\]: not base64'):
        diff.secret_objects([{"metadata": {"name": "s"}, "data": {"config.yaml": "%%%"}}])


def test_an_against_file_holds_secrets_or_manifests():
    manifests = [obj(name="a"), obj("Secret", "shoot-secret")]
    assert diff.against_objects(manifests) == manifests
    stream = [secret("s", **{"config.yaml": "kind: A\nmetadata: {name: a}\n"}),
              {"apiVersion": "resources.gardener.cloud/v1alpha1", "kind": "ManagedResource", "metadata": {"name": "m"}}]
    assert [o["kind"] for o in diff.against_objects(stream)] == ["A"]
    assert [o["kind"] for o in diff.against_objects([{"kind": "List", "items": stream}])] == ["A"]


# ---- the command, offline -----------------------------------------------------------------------------------

def run(capsys, *args) -> tuple[int, list[str], list[str]]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


@pytest.fixture
def deployed(tmp_path, capsys) -> str:
    """What `render` prints today (Secret + ManagedResource), as an operator would save it."""
    assert main(["render", "--network", NETWORK]) == 0
    path = tmp_path / "deployed.yaml"
    path.write_text(capsys.readouterr().out)
    return str(path)


def changed_copy(tmp_path) -> str:
    """Copies of the charts and mapping files where one template changes exactly one object."""
    for name in ("calico", "calico-monitoring", "cilium", "cilium-monitoring"):
        shutil.copytree(CHARTS / name, tmp_path / "charts" / "internal" / name)
    shutil.copytree(MAPPINGS, tmp_path / "values-mapping")
    pdb = tmp_path / "charts" / "internal" / "calico" / PDB
    text = pdb.read_text()
    assert text.count("maxUnavailable: 1") == 1
    pdb.write_text(text.replace("maxUnavailable: 1", "maxUnavailable: 2"))
    return str(tmp_path / "values-mapping")


def test_unchanged_charts_show_nothing_and_exit_0(capsys, deployed):
    assert run(capsys, "diff", "--network", NETWORK, "--against", deployed) == (
        0, ["shoot--foo--bar/bar (calico): no changes"], [])


def test_a_changed_template_shows_exactly_its_object_and_exits_1(capsys, deployed, tmp_path):
    mappings = changed_copy(tmp_path / "copy")
    assert run(capsys, "--mappings-dir", mappings, "diff", "--network", NETWORK, "--against", deployed) == (1, [
        "shoot--foo--bar/bar (calico): 1 changed, 0 added, 0 removed",
        "  ~ PodDisruptionBudget.policy kube-system/calico-typha",
        "      spec.maxUnavailable: 1 → 2",
    ], [])


def test_against_a_manifest_stream(capsys, tmp_path):
    assert main(["render", "--manifests", "--network", NETWORK]) == 0
    manifests = capsys.readouterr().out
    edited = yaml.safe_load_all(manifests)
    kept = [doc for doc in edited if doc and doc["kind"] != "IPPool"]
    path = tmp_path / "manifests.yaml"
    path.write_text(yaml.safe_dump_all(kept))
    code, out, _ = run(capsys, "diff", "--network", NETWORK, "--against", str(path))
    assert code == 1 and out == ["shoot--foo--bar/bar (calico): 0 changed, 1 added, 0 removed",
                                 "  + IPPool.crd.projectcalico.org default-ipv4-ippool"]


def test_bad_input_exits_2_with_one_field_path_line_per_problem(capsys, tmp_path, deployed):
    assert run(capsys, "diff", "--network", NETWORK) == (
        2, [], ["--against: Required value: the deployed Secret or manifests to compare --network with"])
    assert run(capsys, "diff", "--against", deployed, "--kubeconfig", "x") == (
        2, [], ["--network: Required value: --against and --cluster go with --network"])
    network = yaml.safe_load(open(NETWORK))
    network["spec"]["providerConfig"] = {"apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1",
                                         "kind": "NetworkConfig", "backend": "nope", "vethMTU": "x"}
    path = tmp_path / "network.yaml"
    path.write_text(yaml.safe_dump(network))
    code, out, err = run(capsys, "diff", "--network", str(path), "--against", deployed)
    assert code == 2 and out == [] and len(err) == 2
    assert err[0].startswith('spec.providerConfig.backend: Unsupported value: "nope"')
    assert err[1].startswith('spec.providerConfig.vethMTU: Invalid value: "x"')
    (tmp_path / "broken.yaml").write_text("a: [")
    code, _, err = run(capsys, "diff", "--network", NETWORK, "--against", str(tmp_path / "broken.yaml"))
    assert code == 2 and err[0].startswith(f"{tmp_path}/broken.yaml: not valid YAML")
