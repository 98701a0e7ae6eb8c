"""Gardener's image vector semantics (controller/imagevector.py), case by case from Gardener's documented
behaviour (docs/deployment/image_vector.md, pkg/utils/imagevector): format, validation with field paths,
overwrite merge, version ranges, architectures, and the charts' base vectors."""

from __future__ import annotations

import datetime
import pathlib
import shutil

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from controller import imagevector as iv
from controller.cli import main
from controller.errors import ConfigurationError

ROOT = pathlib.Path(__file__).resolve().parents[1]
DIGEST = "sha256:" + "a" * 64


def vector(*entries) -> tuple[iv.ImageSource, ...]:
    return iv.read({"images": list(entries)})


def errors(doc) -> list[str]:
    with pytest.raises(ConfigurationError) as info:
        iv.read(doc)
    return info.value.lines


# ---- constraints: Masterminds/semver v3 as Gardener uses it -----------------------------------------

@pytest.mark.parametrize("constraint, version, holds", [
    ("< 1.20", "1.19.9", True), ("< 1.20", "1.20.0", False), ("< 1.20", "1.32.0", False),
    (">= 1.30, < 1.33", "1.30.0", True), (">= 1.30, < 1.33", "1.32.9", True), (">= 1.30, < 1.33", "1.33.0", False),
    (">=1.30 <1.33", "1.31.0", True),                        # AND also by blank
    ("1.20.x", "1.20.5", True), ("1.20.x", "1.21.0", False),  # wildcards
    ("1.32", "1.32.4", True), ("= 1.20", "1.20.7", True),     # a missing part is a wildcard
    ("1.32.1", "1.32.1", True), ("1.32.1", "1.32.2", False),
    ("!= 1.20.3", "1.20.3", False), ("!= 1.20.3", "1.20.4", True), ("!= 1.20", "1.20.9", False),
    ("> 1.20", "1.20.5", False), ("> 1.20", "1.21.0", True), ("<= 1.20", "1.20.9", True), ("<= 1.20", "1.21.0", False),
    ("=> 1.2", "1.2.0", True), ("=< 1.2.3", "1.2.4", False),
    ("~1.2.3", "1.2.9", True), ("~> 1.2", "1.3.0", False), ("^1.2", "1.99.0", True), ("^1.2", "2.0.0", False),
    ("^0.2.3", "0.2.9", True), ("^0.2.3", "0.3.0", False),
    ("1.2 - 1.4.5", "1.4.5", True), ("1.2 - 1.4.5", "1.4.6", False),  # hyphen range
    ("< 1.33-0", "1.32.9", True), ("< 1.33-0", "1.33.0", False),      # Gardener's own pre-release bound
    ("1.20.x || >= 1.30", "1.31.0", True), ("1.20.x || >= 1.30", "1.25.0", False),
    ("*", "1.0.0", True),
    (">= 1.30", "v1.31.0-gke.100", True),                     # versions are normalised like Gardener's
])
def test_constraints(constraint, version, holds):
    assert iv.parse_constraint(constraint).check(version) is holds


@pytest.mark.parametrize("constraint", ["", "banana", ">== 1.2", "1.2.3.4", "1.2,,1.3", "< 1.x.y"])
def test_improper_constraints_are_refused(constraint):
    with pytest.raises(ValueError, match="improper constraint"):
        iv.parse_constraint(constraint)


# ---- references ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry, reference", [
    ({"repository": "r.example/pause", "tag": "3.5"}, "r.example/pause:3.5"),
    ({"repository": "r.example/pause", "tag": DIGEST}, f"r.example/pause@{DIGEST}"),            # digest only
    ({"repository": "r.example/pause", "tag": f"v1.2.3@{DIGEST}"}, f"r.example/pause:v1.2.3@{DIGEST}"),
    ({"ref": f"r.example/pause@{DIGEST}"}, f"r.example/pause@{DIGEST}"),
    ({"repository": "r.example/kube-proxy"}, "r.example/kube-proxy:v1.31.2"),  # no tag: the target version
])
def test_references(entry, reference):
    assert iv.find(vector({"name": "x", **entry}), "x", "1.31.2", "1.31.2") == reference


def test_documented_version_ranges_pick_the_image_per_cluster():
    images = vector(
        {"name": "pause-container", "sourceRepository": "github.com/kubernetes/kubernetes",
         "repository": "registry.k8s.io/pause", "tag": "3.4", "targetVersion": "1.20.x",
         "architectures": ["amd64", "arm64"], "labels": [{"name": "x", "value": {"a": 1}}]},
        {"name": "pause-container", "ref": "registry.k8s.io/pause:3.5", "targetVersion": ">= 1.21"})
    assert iv.find(images, "pause-container", target="1.20.5") == "registry.k8s.io/pause:3.4"
    assert iv.find(images, "pause-container", target="1.21.0") == "registry.k8s.io/pause:3.5"
    assert iv.find(images, "pause-container", target="1.19.0") is None
    assert iv.find(images, "pause-container", runtime="1.19.0", target="1.20.1") == "registry.k8s.io/pause:3.4"


def test_an_exact_constraint_beats_a_range_and_a_range_beats_none():
    images = vector({"name": "x", "repository": "plain", "tag": "1"},
                    {"name": "x", "repository": "range", "tag": "1", "targetVersion": ">= 1.30"},
                    {"name": "x", "repository": "exact", "tag": "1", "targetVersion": "1.32.0"})
    assert iv.find(images, "x", target="1.32.0") == "exact:1"
    assert iv.find(images, "x", target="1.31.0") == "range:1"
    assert iv.find(images, "x", target="1.29.0") == "plain:1"
    assert iv.find(images, "x") == "plain:1"  # no version asked: constraints do not count, the first wins


def test_architectures_default_to_amd64_and_a_single_one_is_preferred():
    images = vector({"name": "x", "repository": "multi", "tag": "1"},
                    {"name": "x", "repository": "arm", "tag": "1", "architectures": ["arm64"]})
    assert iv.find(images, "x") == "multi:1"
    assert iv.find(images, "x", architecture="arm64") == "arm:1"
    images = vector({"name": "x", "repository": "multi", "tag": "1"},
                    {"name": "x", "repository": "amd", "tag": "1", "architectures": ["amd64"]})
    assert iv.find(images, "x") == "amd:1"


# ---- the overwrite ------------------------------------------------------------------------------------

BASE = vector({"name": "a", "repository": "base/a", "tag": "v1"},
              {"name": "b", "ref": "base/b:v2"},
              {"name": "c", "repository": "base/c", "tag": "v3", "version": "3.0"})


@pytest.mark.parametrize("overwrite, reference", [
    ({"name": "a", "repository": "mine/a"}, "mine/a:v1"),            # the tag of the base stays
    ({"name": "a", "tag": DIGEST, "repository": "mine/a"}, f"mine/a@{DIGEST}"),
    ({"name": "a", "ref": "mine/a:v9"}, "mine/a:v9"),                # ref drops the base repository and tag
    ({"name": "b", "repository": "mine/b", "tag": "v8"}, "mine/b:v8"),  # repository drops the base ref
    ({"name": "b", "repository": "mine/b"}, "mine/b:v1.32.0"),  # and no tag: the target version
])
def test_an_overwrite_entry_merges_into_the_base_entry_of_the_same_key(overwrite, reference):
    merged = iv.merge(BASE, vector(overwrite))
    assert len(merged) == 3 and iv.find(merged, overwrite["name"], "1.32.0", "1.32.0") == reference


def test_merge_keeps_unset_fields_and_derives_the_version_like_gardener():
    merged = iv.merge(BASE, vector({"name": "c", "repository": "mine/c"}, {"name": "a", "tag": "v7",
                                                                          "repository": "mine/a"}))
    assert merged[2].version == "3.0" and merged[2].tag == "v3"
    assert merged[0].version == "v1"  # no version anywhere: the base's tag (Gardener's rule)


def test_an_overwrite_with_another_range_is_added_and_applies_only_inside_it():
    merged = iv.merge(BASE, vector({"name": "a", "repository": "old/a", "tag": "v0", "targetVersion": "< 1.20"},
                                   {"name": "a", "repository": "new/a", "tag": "v5",
                                    "targetVersion": ">= 1.30, < 1.33"}))
    assert len(merged) == 5
    assert iv.find(merged, "a", "1.32.0", "1.32.0") == "new/a:v5"
    assert iv.find(merged, "a", "1.19.0", "1.19.0") == "old/a:v0"
    assert iv.find(merged, "a", "1.33.0", "1.33.0") == "base/a:v1"


# ---- validation -----------------------------------------------------------------------------------------

def test_gardeners_validation_with_field_paths():
    assert errors({"images": [
        {"name": "a", "ref": "r/a:1", "repository": "r/a", "tag": "1"},
        {"name": "", "ref": ""},
        {"name": "c"},
        {"name": "d", "repository": "", "tag": ""},
        {"name": "e", "repository": "r/e", "targetVersion": "banana", "runtimeVersion": 1.2},
        {"name": "f", "repository": "r/f", "architectures": "amd64"},
        "x",
    ]}) == [
        "images[0].repository: Forbidden: cannot specify repository when ref is set",
        "images[0].tag: Forbidden: cannot specify tag when ref is set",
        "images[1].name: Required value: image name is required",
        'images[1].ref: Invalid value: "": ref must not be empty if specified',
        "images[2].ref/repository: Required value: either image ref or repository+tag is required",
        'images[3].repository: Invalid value: "": repository must not be empty if specified',
        'images[3].tag: Invalid value: "": image tag must not be empty if specified',
        "images[4].runtimeVersion: Invalid value: 1.2: must be a string",
        "images[4].targetVersion: Invalid value: \"banana\": improper constraint: 'banana'",
        'images[5].architectures: Invalid value: "amd64": must be a list of strings',
        "images[6]: Invalid value: must be an object",
    ]
    assert errors({"images": {"name": "a"}}) == ["images: Invalid value: must be a list"]


def _certificate(days: int) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registry-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=10))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_the_ca_bundle_must_be_a_certificate_that_has_not_expired():
    assert iv.read({"images": [], "caBundle": {"inline": _certificate(30)}}) == ()
    assert errors({"caBundle": {"inline": _certificate(-1)}}) == [
        "caBundle.inline: Invalid value: certificate has expired"]
    assert errors({"caBundle": {"inline": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"}}) == [
        "caBundle.inline: Invalid value: not a valid PEM-encoded certificate"]


# ---- the charts' base vectors and the CLI ------------------------------------------------------------

@pytest.mark.parametrize("chart, values_path", [("calico", ["images"]), ("cilium", ["global", "images"])])
def test_base_vectors_equal_the_chart_defaults(chart, values_path):
    """`helm template` on the bare chart and the controller for the default shoot use the same images."""
    directory = ROOT / "charts" / "internal" / chart
    defaults = yaml.safe_load((directory / "values.yaml").read_text())
    for key in values_path:
        defaults = defaults[key]
    assert iv.images_for(directory, (), "1.32.0") == defaults


def test_a_shoot_version_that_is_no_version_is_a_field_error_when_a_range_needs_it():
    chart = ROOT / "charts" / "internal" / "calico"
    with pytest.raises(ConfigurationError, match=r"spec.kubernetes.version: Invalid value: \"banana\""):
        iv.images_for(chart, vector({"name": "calico-node", "repository": "r", "targetVersion": ">= 1.30"}), "banana")


def _render(tmp_path, monkeypatch, capsys, entries, cluster=None) -> tuple[int, str, str]:
    path = tmp_path / "overwrite.yaml"
    path.write_text(yaml.safe_dump({"images": entries}))
    monkeypatch.setenv(iv.OVERWRITE_ENV, str(path))
    args = ["render", "--manifests", "--network", str(ROOT / "example" / "network-calico.yaml")]
    code = main(args + (["--cluster", cluster] if cluster else []))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_renders_digests_with_at_and_ignores_entries_outside_their_range(tmp_path, monkeypatch, capsys):
    code, out, _ = _render(tmp_path, monkeypatch, capsys, [
        {"name": "calico-node", "repository": "mirror.example/calico/node", "tag": DIGEST},
        {"name": "calico-typha", "repository": "mirror.example/old-typha", "tag": "v1", "targetVersion": "< 1.20"},
        {"name": "calico-cni", "ref": "mirror.example/cni:v9", "targetVersion": ">= 1.30, < 1.33"}])
    assert code == 0
    assert f'image: "mirror.example/calico/node@{DIGEST}"' in out and ":sha256:" not in out
    assert "mirror.example/old-typha" not in out and 'image: "quay.io/calico/typha:v3.31.6"' in out
    assert 'image: "mirror.example/cni:v9"' in out  # the default shoot runs Kubernetes 1.32.0


def test_cli_overwrite_errors_exit_2_with_field_paths(tmp_path, monkeypatch, capsys):
    code, out, err = _render(tmp_path, monkeypatch, capsys, [
        {"name": "calico-node", "ref": "r/node:1", "tag": "v1"}, {"name": "calico-cni", "repository": "r",
                                                                  "targetVersion": ">> 1"}])
    path = tmp_path / "overwrite.yaml"
    assert code == 2 and out == "" and err.splitlines() == [
        f"{path}: images[0].tag: Forbidden: cannot specify tag when ref is set",
        f"{path}: images[1].targetVersion: Invalid value: \">> 1\": improper constraint: '>> 1'"]


def test_a_broken_base_vector_stops_the_start_with_its_file(tmp_path, capsys):
    """Checked when the type's mapping is loaded (`render`/`validate` of a Network of that type: they
    load only its mapping; `run`: every served type), not on every Network."""
    for name in ("calico", "calico-monitoring", "cilium", "cilium-monitoring"):
        shutil.copytree(ROOT / "charts" / "internal" / name, tmp_path / "charts" / "internal" / name)
    shutil.copytree(ROOT / "values-mapping", tmp_path / "values-mapping")
    images = tmp_path / "charts" / "internal" / "cilium" / "images.yaml"
    images.write_text("images:\n- name: cilium-agent\n  ref: quay.io/cilium/cilium:v1\n  tag: v1\n")
    code = main(["--mappings-dir", str(tmp_path / "values-mapping"), "validate",
                 "--network", str(ROOT / "example" / "network-cilium.yaml")])
    assert code == 2 and capsys.readouterr().err.splitlines() == [
        f"{images}: images[0].tag: Forbidden: cannot specify tag when ref is set"]
