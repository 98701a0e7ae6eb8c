"""Each construct of the mapping language, on a tiny in-memory mapping (no chart, no helm)."""

from __future__ import annotations

import pathlib

import pytest

from controller.errors import ConfigurationError
from controller.mapping import engine
from controller.mapping.loader import MappingFileError, load_mapping


class Rules:
    """Just enough of a TypeMapping for `apply_rules`."""

    def __init__(self, rules, status=None):
        self.rules = rules
        self.status = status or {}
        self.source = pathlib.Path("test.yaml")


def run(rules, inputs=None, status=None):
    return engine.apply_rules(Rules(rules, status), inputs or {})


def test_copy_from_input_and_skip_when_absent():
    result = run([{"set": "values.a.b", "from": "providerConfig.x"},
                  {"set": "values.c", "from": "providerConfig.missing"}], {"providerConfig": {"x": 5}})
    assert result.values == {"a": {"b": 5}}


def test_default_applies_only_when_source_absent():
    rules = [{"set": "values.mode", "from": "providerConfig.mode", "default": "snat"}]
    assert run(rules, {"providerConfig": {}}).values == {"mode": "snat"}
    assert run(rules, {"providerConfig": {"mode": "dsr"}}).values == {"mode": "dsr"}


def test_literal_value_including_null_which_deletes_a_chart_default():
    result = run([{"set": "values.x", "value": None}, {"set": "values.y", "value": [1, {"a": 2}]}])
    assert result.values == {"x": None, "y": [1, {"a": 2}]}


def test_value_map_and_map_default():
    rules = [{"set": "values.overlay", "from": "providerConfig.on", "map": {True: "enabled", False: "disabled"}}]
    assert run(rules, {"providerConfig": {"on": False}}).values == {"overlay": "disabled"}
    with_default = [{**rules[0], "map": {True: "enabled"}, "mapDefault": "other"}]
    assert run(with_default, {"providerConfig": {"on": False}}).values == {"overlay": "other"}


def test_value_missing_from_map_is_a_configuration_error_naming_the_rule():
    rules = [{"set": "values.x", "from": "providerConfig.v", "map": {"a": 1}}]
    with pytest.raises(ConfigurationError, match=r"rules\[0\].*no entry for 'b'"):
        run(rules, {"providerConfig": {"v": "b"}})


def test_format_with_placeholders_and_skip_on_missing_placeholder():
    rules = [{"set": "values.image", "format": "kube-proxy:v{shoot.version}"},
             {"set": "values.other", "format": "x-{shoot.absent}"}]
    assert run(rules, {"shoot": {"version": "1.32.0"}}).values == {"image": "kube-proxy:v1.32.0"}


@pytest.mark.parametrize("condition, expected", [
    ({"p.a": 1}, True), ({"p.a": 2}, False), ({"p.flag": True}, True), ({"p.a": True}, False),
    ({"p.a": {"eq": 1}}, True), ({"p.a": {"ne": 1}}, False), ({"p.missing": {"ne": 1}}, True),
    ({"p.s": {"in": ["x", "y"]}}, True), ({"p.s": {"notIn": ["x"]}}, False),
    ({"p.list": {"contains": "IPv6"}}, True), ({"p.list": {"contains": "IPv5"}}, False),
    ({"p.a": {"present": True}}, True), ({"p.missing": {"present": False}}, True),
    ({"p.zero": {"truthy": False}}, True), ({"p.a": {"lt": 2}}, True), ({"p.a": {"ge": 2}}, False),
    ({"p.flag": {"lt": 2}}, False),
    ({"all": [{"p.a": 1}, {"p.s": "x"}]}, True), ({"any": [{"p.a": 9}, {"p.s": "x"}]}, True),
    ({"not": {"p.a": 1}}, False), ({"p.a": 1, "p.s": "nope"}, False),
])
def test_conditions(condition, expected):
    state = {"p": {"a": 1, "s": "x", "flag": True, "list": ["IPv4", "IPv6"], "zero": 0}}
    assert engine.holds(condition, state) is expected


def test_rules_run_in_order_and_later_rules_see_earlier_results():
    rules = [{"set": "vars.backend", "value": "bird"},
             {"set": "vars.backend", "value": "none", "when": {"providerConfig.overlay": False}},
             {"set": "values.kubeControllers", "value": False, "when": {"vars.backend": "none"}},
             {"set": "values.backend", "from": "vars.backend"}]
    assert run(rules, {"providerConfig": {"overlay": False}}).values == {"kubeControllers": False, "backend": "none"}


def test_forbid_rules_collect_every_error_with_field_paths():
    rules = [{"forbid": "first problem", "field": "spec.a", "when": {"p.x": 1}},
             {"forbid": "not reported", "field": "spec.b", "when": {"p.x": 2}},
             {"forbid": "bad value", "field": "spec.c", "type": "Invalid", "from": "p.x"}]
    with pytest.raises(ConfigurationError) as info:
        run(rules, {"p": {"x": 1}})
    assert info.value.lines == ["spec.a: Forbidden: first problem", "spec.c: Invalid value: 1: bad value"]


def test_transform_with_path_and_literal_arguments_and_skip():
    rules = [{"set": "values.families", "transform": "dualStackFamilies",
              "args": {"families": {"from": "network.families"}, "constraints": {"from": "shoot.constraints"}}},
             {"set": "values.autodetect", "transform": "calico.nodeAutodetection",
              "args": {"specNodes": {"from": "shoot.nodes"}, "statusNodes": {"from": "shoot.statusNodes"},
                       "family": {"value": "IPv6"}}}]
    inputs = {"network": {"families": ["IPv4", "IPv6"]},
              "shoot": {"constraints": [{"type": "DualStackNodesMigrationReady", "status": "False"}]}}
    assert run(rules, inputs).values == {"families": ["IPv4"]}


def test_transform_errors_are_collected_with_forbid_errors():
    rules = [{"set": "values.cidr", "transform": "firstCidrOfFamily",
              "args": {"cidrs": {"from": "shoot.pods"}, "family": {"value": "IPv6"}, "field": {"value": "status.pods"},
                       "reason": {"value": "needed"}}},
             {"forbid": "also wrong", "field": "spec.x"}]
    with pytest.raises(ConfigurationError) as info:
        run(rules, {"shoot": {}})
    assert info.value.lines == ["status.pods: Required value: needed", "spec.x: Forbidden: also wrong"]


def test_cases_first_matching_row_wins_and_no_match_leaves_the_target_alone():
    rule = {"set": "values.backend", "cases": [
        {"when": {"p.overlay": True, "p.vxlan": True}, "value": "vxlan"},
        {"when": {"p.overlay": True}, "from": "p.name", "default": "bird"},
        {"when": {"p.overlay": False}, "format": "no-{p.name}"}]}
    assert run([rule], {"p": {"overlay": True, "vxlan": True}}).values == {"backend": "vxlan"}
    assert run([rule], {"p": {"overlay": True}}).values == {"backend": "bird"}
    assert run([rule], {"p": {"overlay": False, "name": "x"}}).values == {"backend": "no-x"}
    assert run([rule], {"p": {}}).values == {}
    with_last = {**rule, "cases": rule["cases"] + [{"value": "none"}], "map": {"none": "off"}, "mapDefault": "on"}
    assert run([with_last], {"p": {}}).values == {"backend": "off"}
    assert run([with_last], {"p": {"overlay": True, "vxlan": True}}).values == {"backend": "on"}


def test_a_case_may_call_a_transform():
    rule = {"set": "values.host", "cases": [
        {"when": {"p.host": {"present": True}}, "from": "p.host"},
        {"transform": "sumOf", "args": {"items": {"from": "p.items"}, "key": {"value": "n"}}}]}
    assert run([rule], {"p": {"items": [{"n": 1}, {"n": 2}]}}).values == {"host": 3}
    assert run([rule], {"p": {"host": "h", "items": "not a list"}}).values == {"host": "h"}


def test_status_outputs_read_after_all_rules():
    result = run([{"set": "vars.fam", "value": ["IPv4"]}], status={"ipFamilies": "vars.fam"})
    assert result.status == {"ipFamilies": ["IPv4"]}


def test_inputs_are_not_mutated():
    inputs = {"providerConfig": {"a": {"b": 1}}}
    run([{"set": "vars.copy", "from": "providerConfig.a"}, {"set": "vars.copy.b", "value": 2}], inputs)
    assert inputs == {"providerConfig": {"a": {"b": 1}}}


MINIMAL = """
type: demo
chart: {chart}
release: {{name: demo, namespace: kube-system}}
managedResource: {{name: extension-networking-demo-config, origin: extension-networking-demo}}
providerConfig: {{apiVersion: demo/v1, kind: NetworkConfig, schema: {{type: object}}}}
providerStatus: {{apiVersion: demo/v1, kind: NetworkStatus}}
controllerConfiguration: {{apiVersion: demo.config/v1}}
rules: {rules}
"""


@pytest.mark.parametrize("rules, message", [
    ('[{set: values.a, transform: noSuchTransform}]', "unknown transform 'noSuchTransform'"),
    ('[{set: other.a, value: 1}]', "must start with one of values, vars"),
    ('[{set: values.a, from: nowhere.x}]', "must start with one of"),
    ('[{set: values.a, value: 1, when: {bogus.path: 1}}]', "must start with one of"),
    ('[{set: values.a, format: "x{nope.y}"}]', "must start with one of"),
    ('[{set: values.a, value: 1, from: providerConfig.a}]', "rules"),
    ('[{forbid: x}]', "rules"),
])
def test_loader_rejects_broken_mapping_files(tmp_path, rules, message):
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    file = tmp_path / "demo.yaml"
    file.write_text(MINIMAL.format(chart=chart, rules=rules))
    with pytest.raises(MappingFileError, match=message):
        load_mapping(file)


def test_loader_rejects_a_missing_chart(tmp_path):
    file = tmp_path / "demo.yaml"
    file.write_text(MINIMAL.format(chart=tmp_path / "absent", rules="[]"))
    with pytest.raises(MappingFileError, match="has no Chart.yaml"):
        load_mapping(file)


def test_wait_rules_make_a_temporary_error_after_all_rules():
    from controller.errors import TransientError

    rules = [{"wait": "not yet", "when": {"p.ready": False}}, {"set": "values.x", "value": 1}]
    with pytest.raises(TransientError, match="not yet"):
        run(rules, {"p": {"ready": False}})
    assert run(rules, {"p": {"ready": True}}).values == {"x": 1}


def test_wait_rules_are_retried_after_their_retry_after_else_like_gardeners_requeue():
    from controller.errors import WAIT_RETRY_AFTER, TransientError

    with pytest.raises(TransientError) as default:
        run([{"wait": "not yet"}])
    assert default.value.delay == WAIT_RETRY_AFTER >= 10
    with pytest.raises(TransientError) as shortest:
        run([{"wait": "a", "retryAfter": 5}, {"wait": "b", "retryAfter": 2.5}])
    assert shortest.value.delay == 2.5 and str(shortest.value) == "a; b" and not shortest.value.codes


def test_configuration_errors_take_precedence_over_waits():
    rules = [{"wait": "not yet"}, {"forbid": "wrong", "field": "spec.a"}]
    with pytest.raises(ConfigurationError, match="spec.a: Forbidden: wrong"):
        run(rules)


def test_loader_rejects_live_paths_in_live_input_conditions(tmp_path):
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    file = tmp_path / "demo.yaml"
    file.write_text(MINIMAL.format(chart=chart, rules="[]")
                    + "liveInputs: {x: {kind: ConfigMap, name: y, when: {live.z: 1}}}\n")
    with pytest.raises(MappingFileError, match=r"liveInputs.x.when: 'live.z' must start with one of"):
        load_mapping(file)


def _load(tmp_path, rules, type_="demo"):
    chart = tmp_path / "chart"
    chart.mkdir(exist_ok=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    file = tmp_path / f"{type_}.yaml"
    file.write_text(MINIMAL.format(chart=chart, rules=rules).replace("type: demo", f"type: {type_}"))
    return load_mapping(file)


@pytest.mark.parametrize("rules, message", [
    ("[{set: vars.a, value: 1}, {set: values.b, from: vars.a}, {set: vars.a, value: 2, when: {vars.a: 1}}]",
     r"rules\[2\] \(set: vars.a\) and rules\[0\] \(set: vars.a\) write the same value"),
    ("[{set: values.a.b, value: 1}, {set: values.a, value: {b: 2}}]",
     r"rules\[1\] \(set: values.a\) and rules\[0\] \(set: values.a.b\) write the same value"),
    ("[{set: values.a, value: 1}, {set: values.a.b, value: 2}]",
     r"rules\[1\] \(set: values.a.b\) and rules\[0\] \(set: values.a\)"),
])
def test_loader_allows_one_writer_per_target(tmp_path, rules, message):
    with pytest.raises(MappingFileError, match=message):
        _load(tmp_path, rules)


@pytest.mark.parametrize("rules, message", [
    ("[{set: values.a, value: 1}, {set: values.b, from: values.a}]", r"rules\[1\].from: 'values.a': values.\* is output only"),
    ("[{set: values.a, value: 1}, {forbid: x, field: spec.a, when: {values.a: 1}}]", r"rules\[1\].when: 'values.a'"),
    ("[{set: values.a, value: 1}, {forbid: x, field: spec.a, from: values.a}]", r"rules\[1\].from: 'values.a'"),
    ("[{set: values.b, format: 'x{values.a}'}]", r"rules\[0\].format: 'values.a'"),
    ("[{set: values.b, cases: [{when: {values.a: 1}, value: 1}]}]", r"rules\[0\].cases\[0\].when: 'values.a'"),
    ("[{set: values.b, transform: sumOf, args: {items: {from: values.a}, key: {value: n}}}]",
     r"rules\[0\].args.items.from: 'values.a'"),
])
def test_loader_refuses_rules_that_read_values(tmp_path, rules, message):
    with pytest.raises(MappingFileError, match=message):
        _load(tmp_path, rules)


def test_loader_refuses_a_var_read_before_any_rule_writes_it(tmp_path):
    with pytest.raises(MappingFileError, match=r"rules\[0\].from: 'vars.later' is not written by any rule before it"):
        _load(tmp_path, "[{set: values.a, from: vars.later}, {set: vars.later, value: 1}]")
    assert _load(tmp_path, "[{set: vars.x, value: {y: 1}}, {set: values.a, from: vars.x.y}]").rules


@pytest.mark.parametrize("args, message", [
    ("{items: {from: providerConfig.i}}", r"rules\[0\].args: missing argument 'key' \(transform sumOf\(items, key\)\)"),
    ("{items: {from: providerConfig.i}, key: {value: n}, extra: {value: 1}}", r"rules\[0\].args: unknown argument 'extra' \("),
    ("{item: {from: providerConfig.i}, key: {value: n}}",
     r"rules\[0\].args: unknown argument 'item', missing argument 'items' \(transform sumOf"),
])
def test_loader_checks_transform_arguments_against_the_signature(tmp_path, args, message):
    with pytest.raises(MappingFileError, match=message):
        _load(tmp_path, f"[{{set: values.a, transform: sumOf, args: {args}}}]")


def test_loader_checks_the_arguments_of_a_transform_inside_cases(tmp_path):
    with pytest.raises(MappingFileError, match=r"rules\[0\].cases\[1\].args: missing argument 'items', missing argument 'key'"):
        _load(tmp_path, "[{set: values.a, cases: [{when: {providerConfig.x: 1}, value: 1}, {transform: sumOf, args: {}}]}]")


def test_loader_keeps_type_specific_transforms_to_their_type(tmp_path):
    rule = "[{set: values.a, transform: calico.nodeAutodetection, args: {specNodes: {value: x}, statusNodes: {value: []}, family: {value: IPv4}}}]"
    with pytest.raises(MappingFileError, match="unknown transform 'calico.nodeAutodetection' for type 'demo'"):
        _load(tmp_path, rule)
    assert _load(tmp_path, rule, type_="calico").rules


@pytest.mark.parametrize("rules, message", [
    ("[{set: values.a, cases: [{value: 1}, {when: {providerConfig.x: 1}, value: 2}]}]", r"rules\[0\].cases\[0\]: only the last case"),
    ("[{set: values.a, cases: [{when: {providerConfig.x: 1}, value: 1, from: providerConfig.y}]}]", "rules"),
    ("[{set: values.a, transform: sumOf, args: {items: providerConfig.i, key: {value: n}}}]", "rules"),
    ("[{set: values.a, from: providerConfig.a, cases: [{value: 1}]}]", "rules"),
])
def test_loader_rejects_malformed_cases_and_arguments(tmp_path, rules, message):
    with pytest.raises(MappingFileError, match=message):
        _load(tmp_path, rules)
