"""The extension chart's operator overlay (issue 13 point 2): a ConfigMap of mapping files and chart
tarballs mounted at --overlay-dir, without rolling the pods when it changes; what it renders is read by
the controller's own overlay loader."""

from __future__ import annotations

import base64
import subprocess

import yaml

from controller.overlay import MappingSet
from tests.charts.test_extension_chart import NAME, NAMESPACE, controller_container, deployment, render, run_args
from tests.helpers import CHARTS, MAPPINGS, ROOT, find
from tests.integration.test_overlay import publish

MOUNT = "/etc/gardener-extension-networking/overlay"


def packaged(tmp_path, chart: str) -> bytes:
    subprocess.run([str(ROOT / ".venv" / "bin" / "helm"), "package", str(CHARTS / chart), "-d", str(tmp_path)],
                   check=True, capture_output=True)
    return next(tmp_path.glob(f"{chart}-*.tgz")).read_bytes()


def test_no_overlay_by_default():
    objects = render()
    assert find(objects, "ConfigMap", f"{NAME}-overlay") is None
    assert run_args(objects).overlay_dir is None
    assert "overlay" not in {v["name"] for v in deployment(objects)["spec"]["template"]["spec"]["volumes"]}


def test_overlay_from_values_is_mounted_and_read_by_the_controller(tmp_path):
    mapping = (MAPPINGS / "calico.yaml").read_text().replace("release: {name: calico,", "release: {name: calico-op,")
    tarball = packaged(tmp_path, "calico")
    objects = render({"overlay": {"mappings": {"calico.yaml": mapping},
                                  "charts": {"calico.tgz": base64.b64encode(tarball).decode()}}})
    configmap = find(objects, "ConfigMap", f"{NAME}-overlay")
    assert configmap["data"] == {"calico.yaml": mapping}
    assert base64.b64decode(configmap["binaryData"]["calico.tgz"]) == tarball
    args = run_args(objects)
    assert str(args.overlay_dir) == MOUNT and args.overlay_configmap == f"{NAMESPACE}/{NAME}-overlay"
    pod = deployment(objects)["spec"]["template"]
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "overlay")
    assert volume["configMap"]["name"] == f"{NAME}-overlay"
    mount = next(m for m in controller_container(objects)["volumeMounts"] if m["name"] == "overlay")
    assert mount == {"name": "overlay", "mountPath": MOUNT, "readOnly": True}
    # changing the overlay must not roll the pods: the controller reloads it
    assert not any("overlay" in key for key in pod["metadata"].get("annotations", {}))
    # what kubelet would mount is what the controller serves
    directory = tmp_path / "mounted"
    directory.mkdir()
    publish(directory, {"calico.yaml": mapping.encode(), "calico.tgz": tarball}, 1)
    served = MappingSet(MAPPINGS, directory, ["calico"], None)
    try:
        calico = served.mappings["calico"]
        assert calico.release_name == "calico-op"
        assert (calico.chart / "Chart.yaml").is_file() and not calico.chart.is_relative_to(CHARTS)
    finally:
        served.close()


def test_an_existing_configmap_is_mounted_instead():
    objects = render({"overlay": {"existingConfigMap": "my-overlay", "mappings": {"calico.yaml": "ignored"}}})
    assert find(objects, "ConfigMap", f"{NAME}-overlay") is None
    assert run_args(objects).overlay_configmap == f"{NAMESPACE}/my-overlay"
    volume = next(v for v in deployment(objects)["spec"]["template"]["spec"]["volumes"] if v["name"] == "overlay")
    assert volume["configMap"]["name"] == "my-overlay"


def test_every_built_in_chart_fits_one_configmap_as_tarballs(tmp_path):
    """Why tarballs: a chart is a tree (ConfigMap keys cannot hold `/`), and packed the four charts take
    a fraction of a ConfigMap's 1 MiB, leaving room for the operator's own."""
    names = ("calico", "calico-monitoring", "cilium", "cilium-monitoring")
    charts = {f"{c}.tgz": base64.b64encode(packaged(tmp_path / c, c)).decode() for c in names}
    configmap = find(render({"overlay": {"charts": charts}}), "ConfigMap", f"{NAME}-overlay")
    assert len(yaml.safe_dump(configmap)) < 256 * 1024
    assert any(len(p.relative_to(CHARTS / c).parts) > 2 for c in names for p in (CHARTS / c).rglob("*") if p.is_file())
