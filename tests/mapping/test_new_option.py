"""The promise of the project: an operator adds an option by editing a chart and one mapping entry,
with no Python change. Done here on temporary copies of the real calico chart and mapping file."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
import yaml

from controller import pipeline
from controller.config import ControllerConfig
from controller.errors import ConfigurationError
from controller.mapping import load_mapping
from tests.factories import network, shoot
from tests.helpers import CHARTS, MAPPINGS, find, renderer

NEW_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: calico-bpf-logs
  namespace: kube-system
data:
  level: {{ .Values.bpfLogs.level | quote }}
"""


@pytest.fixture
def extended(tmp_path):
    """Copies of chart and mapping with a new option `bpfLogs.level` -> value `bpfLogs.level`."""
    chart = tmp_path / "charts" / "internal" / "calico"
    shutil.copytree(CHARTS / "calico", chart)
    shutil.copytree(CHARTS / "calico-monitoring", tmp_path / "charts" / "internal" / "calico-monitoring")
    # 1. the chart: a documented default, its schema, and a template that uses it
    with open(chart / "values.yaml", "a") as values:
        values.write("\nbpfLogs:\n  # -- Log level of the eBPF programs.\n  level: \"Off\"\n")
    schema = json.loads((chart / "values.schema.json").read_text())
    schema["properties"]["bpfLogs"] = {"type": "object", "additionalProperties": False,
                                       "properties": {"level": {"type": "string", "enum": ["Off", "Info", "Debug"]}}}
    (chart / "values.schema.json").write_text(json.dumps(schema))
    (chart / "templates" / "node" / "configmap-bpf-logs.yaml").write_text(NEW_TEMPLATE)
    # 2. the mapping file: the NetworkConfig schema entry and one rule
    mapping = yaml.safe_load((MAPPINGS / "calico.yaml").read_text())
    mapping["providerConfig"]["schema"]["properties"]["bpfLogs"] = {
        "type": "object", "additionalProperties": False,
        "properties": {"level": {"type": "string", "enum": ["Off", "Info", "Debug"]}}}
    mapping["rules"].append({"set": "values.bpfLogs.level", "from": "providerConfig.bpfLogs.level"})
    (tmp_path / "values-mapping").mkdir()
    path = tmp_path / "values-mapping" / "calico.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    return load_mapping(path)


def render(mapping, provider_config):
    desired = asyncio.run(pipeline.desired_state(renderer(), mapping, network(provider_config), shoot(),
                                                 ControllerConfig()))
    return desired.rendered.objects


def test_the_original_mapping_rejects_the_option():
    with pytest.raises(ConfigurationError, match="spec.providerConfig.bpfLogs: Unknown field"):
        pipeline.compute_values(load_mapping(MAPPINGS / "calico.yaml"), network({"bpfLogs": {"level": "Debug"}}),
                                shoot(), ControllerConfig())


def test_a_new_option_flows_from_provider_config_to_the_rendered_objects(extended):
    assert find(render(extended, {"bpfLogs": {"level": "Debug"}}), "ConfigMap", "calico-bpf-logs")["data"] == {
        "level": "Debug"}
    assert find(render(extended, {}), "ConfigMap", "calico-bpf-logs")["data"] == {"level": "Off"}
    with pytest.raises(ConfigurationError, match='spec.providerConfig.bpfLogs.level: Unsupported value: "Loud"'):
        render(extended, {"bpfLogs": {"level": "Loud"}})
