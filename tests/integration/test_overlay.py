"""The operator overlay while the controller runs (issue 13 point 2): a ConfigMap-like directory,
updated as kubelet updates a ConfigMap volume (a new revision directory and an atomic swap of the
`..data` symlink), adds an option (mapping file + chart tarball); the Networks of the type re-render
with it, no restart. An invalid change keeps the old set, with an Event, a metric and a log line."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess

import pytest
import yaml

from controller import metrics
from tests.helpers import CHARTS, MAPPINGS, ROOT
from tests.integration.conftest import NS, cluster, get_network, network, state_is, wait_for
from tests.integration.test_controller import annotate, managed_resource
from tests.mapping.test_new_option import NEW_TEMPLATE

HELM = str(ROOT / ".venv" / "bin" / "helm")


def publish(directory, files: dict[str, bytes], revision: int) -> None:
    """What kubelet does for a ConfigMap volume: files in a new `..<timestamp>` directory, `..data`
    swapped to it by a rename, and one top-level symlink per key through `..data`."""
    new = directory / f"..2026_12_02_00_00_{revision:02d}.000000000"
    new.mkdir()
    for name, data in files.items():
        (new / name).write_bytes(data)
    tmp = directory / "..data_tmp"
    tmp.symlink_to(new.name)
    os.replace(tmp, directory / "..data")
    for entry in directory.iterdir():
        if not entry.name.startswith(".") and entry.name not in files:
            entry.unlink()
    for name in files:
        if not (directory / name).is_symlink():
            (directory / name).symlink_to(f"..data/{name}")


def extended_overlay(tmp_path) -> dict[str, bytes]:
    """The calico chart with a new value `bpfLogs.level` (as `helm package` tarball) and calico.yaml
    with the NetworkConfig field and its rule."""
    chart = tmp_path / "build" / "calico"
    shutil.copytree(CHARTS / "calico", chart)
    with open(chart / "values.yaml", "a") as values:
        values.write('\nbpfLogs:\n  level: "Off"\n')
    schema = json.loads((chart / "values.schema.json").read_text())
    schema["properties"]["bpfLogs"] = {"type": "object", "properties": {"level": {"type": "string"}}}
    (chart / "values.schema.json").write_text(json.dumps(schema))
    (chart / "templates" / "node" / "configmap-bpf-logs.yaml").write_text(NEW_TEMPLATE)
    subprocess.run([HELM, "package", str(chart), "-d", str(tmp_path / "build")], check=True, capture_output=True)
    mapping = yaml.safe_load((MAPPINGS / "calico.yaml").read_text())
    mapping["providerConfig"]["schema"]["properties"]["bpfLogs"] = {
        "type": "object", "additionalProperties": False, "properties": {"level": {"type": "string"}}}
    mapping["rules"].append({"set": "values.bpfLogs.level", "from": "providerConfig.bpfLogs.level"})
    return {"calico.yaml": yaml.safe_dump(mapping, sort_keys=False).encode(),
            "calico.tgz": next((tmp_path / "build").glob("calico-*.tgz")).read_bytes()}


def rendered_objects(emu) -> list[dict]:
    mr = managed_resource(emu)
    secret = emu.get("v1", "secrets", mr["spec"]["secretRefs"][0]["name"], NS)
    return list(yaml.safe_load_all(base64.b64decode(secret["data"]["config.yaml"])))


def bpf_logs(emu) -> dict | None:
    return next((o["data"] for o in rendered_objects(emu) if o and o["metadata"]["name"] == "calico-bpf-logs"), None)


def test_an_overlay_change_reloads_the_mappings_and_re_renders_the_networks(emu, start, tmp_path, caplog):
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    publish(overlay, {}, 1)
    start("--overlay-dir", str(overlay), "--overlay-poll-interval", "0.2",
          "--overlay-configmap", "garden/networking-overlay")
    emu.create(cluster())
    net = network()
    net["spec"]["providerConfig"]["bpfLogs"] = {"level": "Debug"}
    emu.create(net)
    # the built-in set does not know the option
    wait_for(state_is(emu, "Create", "Error"), message="the unknown option refused")
    assert "spec.providerConfig.bpfLogs: Unknown field" in get_network(emu)["status"]["lastError"]["description"]

    publish(overlay, extended_overlay(tmp_path), 2)  # no annotation, no restart: the reload re-reconciles
    wait_for(lambda: state_is(emu, "Create")() or state_is(emu, "Reconcile")(), timeout=30,
             message="re-rendered with the overlay")
    assert bpf_logs(emu) == {"level": "Debug"}
    assert metrics.REGISTRY.get_sample_value("networking_mapping_overlay_valid") == 1

    # an invalid change: the old set stays in force
    broken = {**extended_overlay(tmp_path / "again"), "calico.yaml": b"type: calico\nrules: []\n"}
    rejected_before = metrics.REGISTRY.get_sample_value("networking_mapping_reloads_total", {"result": "rejected"}) or 0
    with caplog.at_level(logging.ERROR, logger="controller.overlay"):
        publish(overlay, broken, 3)
        event = wait_for(lambda: next((e for e in emu.list("v1", "events", "garden")
                                       if e["reason"] == "MappingSetRejected"), None), timeout=30,
                         message="the Event on the overlay ConfigMap")
    assert event["involvedObject"]["name"] == "networking-overlay" and event["type"] == "Warning"
    assert "calico.yaml" in event["message"]
    assert metrics.REGISTRY.get_sample_value("networking_mapping_overlay_valid") == 0
    assert metrics.REGISTRY.get_sample_value("networking_mapping_reloads_total", {"result": "rejected"}) \
        == rejected_before + 1
    assert any("overlay rejected" in r.getMessage() and "calico.yaml" in str(getattr(r, "reason", ""))
               for r in caplog.records)
    # and a reconcile still renders with the option
    annotate(emu, "reconcile")
    wait_for(lambda: state_is(emu, "Reconcile")() and
             "gardener.cloud/operation" not in (get_network(emu)["metadata"].get("annotations") or {}),
             timeout=30, message="the reconcile after the rejected change")
    assert bpf_logs(emu) == {"level": "Debug"}


@pytest.mark.parametrize("files, reason", [
    ({"notes.txt": b"x"}, "notes.txt: unexpected file"),
    ({"calico.tgz": b"not gzip"}, "calico.tgz: not a chart tarball"),
])
def test_overlay_files_are_checked(tmp_path, files, reason):
    from controller.overlay import MappingSet, OverlayError

    overlay = tmp_path / "overlay"
    overlay.mkdir()
    publish(overlay, files, 1)
    with pytest.raises(OverlayError, match=reason):
        MappingSet(MAPPINGS, overlay, ["calico"], None)
