"""Property-based: whatever a Network, a Cluster, a ControllerConfiguration or an input file holds, the
pure pipeline ends in a result or a `ConfigurationError` whose lines name a field (exit code 2 in the
CLI, ERR_CONFIGURATION_PROBLEM in the controller), or a wait; never in another exception. And nothing a
user wrote reaches the chart values unless it is printable ASCII.

Cases come from the mapping files' providerConfig schemas (`strategies.from_schema`) plus type
confusion at any level of the Network and the Cluster. The count is printed at the end of the session
(`conftest.py`)."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller import pipeline, shapes
from controller import shoot as shoots
from controller.config import ControllerConfig, parse_config
from controller.errors import ConfigurationError, TransientError
from controller.files import parse_document
from controller.mapping import load_mappings
from controller.mapping.formats import PRINTABLE_ASCII
from tests.hardening.figures import Timer, count_case
from tests.hardening.strategies import HOSTILE, JSON_VALUES, confused, from_schema
from tests.helpers import EXAMPLE, ROOT

MAPPINGS = load_mappings(ROOT / "values-mapping")
CONFIG = ControllerConfig()
CLUSTER = yaml.safe_load((EXAMPLE / "cluster.yaml").read_text())
SETTINGS = dict(deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))


EXAMPLE_NETWORK = yaml.safe_load((EXAMPLE / "network-calico.yaml").read_text())


def base_network(kind: str) -> dict:
    network = copy.deepcopy(EXAMPLE_NETWORK)
    network["spec"]["type"] = kind
    mapping = MAPPINGS[kind]
    network["spec"]["providerConfig"] = {"apiVersion": mapping.provider_api_version, "kind": mapping.provider_kind}
    return network


def strings(value):
    if isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from strings(child)
    elif isinstance(value, str):
        yield value


def outcome(kind: str, network: dict, cluster: dict | None) -> str:
    """Run what `validate` runs; only the documented outcomes are allowed."""
    count_case()
    try:
        if cluster is not None:
            shapes.check_cluster(cluster)
        result = pipeline.compute_values(MAPPINGS[kind], network, shoots.shoot_of(cluster), CONFIG)
    except ConfigurationError as exc:
        assert exc.lines and all(line.strip() for line in exc.lines)
        assert all(error.path or "rules[" in error.detail for error in exc.errors), exc.lines
        return "invalid"
    except TransientError:
        return "wait"
    bad = [s for s in strings(result.values) if not PRINTABLE_ASCII.match(s)]
    assert not bad, f"non-printable strings reached the chart values: {bad!r}"
    json.dumps(result.values)  # plain JSON for helm
    return "ok"


@pytest.mark.parametrize("kind", sorted(MAPPINGS))
def test_provider_configs_generated_from_the_schema(kind):
    seen = set()

    @settings(max_examples=1500, **SETTINGS)
    @given(from_schema(MAPPINGS[kind].schema))
    def check(provider_config):
        network = base_network(kind)
        network["spec"]["providerConfig"].update(provider_config)
        seen.add(outcome(kind, network, CLUSTER))

    with Timer():
        check()
    assert {"ok", "invalid"} <= seen  # the generator reaches both sides of the schema


@pytest.mark.parametrize("kind", sorted(MAPPINGS))
def test_type_confusion_in_network_and_cluster(kind):
    network = base_network(kind)
    network["spec"]["providerConfig"].update({"ipv4": {"pool": "vxlan"}} if kind == "calico" else {"tunnel": "vxlan"})

    @settings(max_examples=1000, **SETTINGS)
    @given(confused(network), st.one_of(st.none(), st.just(CLUSTER), confused(CLUSTER, count=4)))
    def check(network, cluster):
        outcome(kind, network, cluster)

    with Timer():
        check()


def test_controller_configuration_with_confused_types():
    known = {m.config_api_version: m.feature_gates for m in MAPPINGS.values()}
    doc = {"apiVersion": MAPPINGS["calico"].config_api_version, "kind": "ControllerConfiguration",
           "clientConnection": {"qps": 100, "burst": 130}, "featureGates": {"NonPrivilegedCalicoNode": True}}

    @settings(max_examples=500, **SETTINGS)
    @given(confused(doc))
    def check(config):
        count_case()
        try:
            parse_config(config, known)
        except ConfigurationError as exc:
            assert all(error.path for error in exc.errors), exc.lines

    with Timer():
        check()


def mutate(text: str, data) -> bytes:
    raw = text.encode()
    position = data.draw(st.integers(min_value=0, max_value=len(raw)))
    insert = data.draw(st.one_of(
        st.binary(max_size=4), st.sampled_from([h.encode("utf-8", "surrogatepass") for h in HOSTILE]),
        st.sampled_from([b"&a ", b"*a", b"*b ", b"!!binary ", b"!!set ", b"? [x]\n: y\n", b"<<: *a\n", b"\t",
                         b"- ", b": ", b"{", b"[[[[", b"9" * 5000, b".inf", b"\xff\xfe", b"\xef\xbb\xbf"])))
    return raw[:position] + insert + raw[position:]


@pytest.mark.parametrize("name", ["network-calico.yaml", "cluster.yaml"])
def test_files_with_random_damage(name):
    """Damaged bytes (encodings, tags, aliases, keys, huge numbers) load or fail with one clear line."""
    text = (EXAMPLE / name).read_text()
    kind = "Network" if name.startswith("network") else "Cluster"

    @settings(max_examples=500, **SETTINGS)
    @given(st.data())
    def check(data):
        count_case()
        try:
            doc = parse_document(mutate(text, data), name, kind)
        except ConfigurationError as exc:
            assert len(exc.lines) >= 1 and all(line.startswith(name) for line in exc.lines), exc.lines
            return
        json.dumps(doc, allow_nan=False)
        try:
            if kind == "Cluster":
                shapes.check_cluster(doc)
                pipeline.compute_values(MAPPINGS["calico"], base_network("calico"), shoots.shoot_of(doc), CONFIG)
            else:
                pipeline.compute_values(MAPPINGS["calico"], doc, shoots.shoot_of(CLUSTER), CONFIG)
        except (ConfigurationError, TransientError):
            pass

    with Timer():
        check()


def test_generated_values_are_json_data():
    """The generator itself: deep and huge values come out as plain JSON data."""
    @settings(max_examples=50, **SETTINGS)
    @given(JSON_VALUES)
    def check(value):
        json.dumps(copy.deepcopy(value))

    check()
