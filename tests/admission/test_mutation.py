"""Shoot mutations declared in the mapping files (cilium: kube-proxy off for new shoots, cilium.md 4.8)
and the JSONPatch they are answered with."""

from __future__ import annotations

import copy

import pytest

from controller.admission import jsonpatch, shoots as admission
from controller.mapping import load_mappings
from tests.admission.shoots import shoot
from tests.helpers import MAPPINGS

MAPPINGS_BY_TYPE = load_mappings(MAPPINGS)


def apply_patch(doc: dict, ops: list[dict]) -> dict:
    """A minimal RFC 6902 applier for the ops `jsonpatch.diff` emits (add, remove, replace)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node = doc
        for part in parents:
            node = node[part]
        if op["op"] == "remove":
            del node[last]
        else:
            node[last] = op["value"]
    return doc


@pytest.mark.parametrize("kube_proxy", [None, {}, {"mode": "IPTables"}, {"enabled": None}])
def test_new_cilium_shoots_get_kube_proxy_disabled(kube_proxy):
    obj = shoot("cilium", kube_proxy=kube_proxy)
    ops = admission.shoot_patch(MAPPINGS_BY_TYPE, obj, "CREATE")
    patched = apply_patch(obj, ops)
    assert patched["spec"]["kubernetes"]["kubeProxy"]["enabled"] is False
    assert {k: v for k, v in patched["spec"]["kubernetes"]["kubeProxy"].items() if k != "enabled"} == \
        {k: v for k, v in (kube_proxy or {}).items() if k != "enabled"}


def test_the_patch_only_touches_kube_proxy():
    obj = shoot("cilium")
    assert admission.shoot_patch(MAPPINGS_BY_TYPE, obj, "CREATE") == [
        {"op": "add", "path": "/spec/kubernetes/kubeProxy", "value": {"enabled": False}}]


def test_updates_are_left_alone():
    assert admission.shoot_patch(MAPPINGS_BY_TYPE, shoot("cilium"), "UPDATE") == []


def test_an_explicit_choice_is_kept():
    assert admission.shoot_patch(MAPPINGS_BY_TYPE, shoot("cilium", kube_proxy={"enabled": True}), "CREATE") == []


@pytest.mark.parametrize("obj", [
    shoot("calico"),                                   # calico declares no mutation
    shoot("cilium", labelled=False),                   # not selected
    {**shoot("calico"), "metadata": {"name": "x", "labels": {"networking.extensions.gardener.cloud/cilium": "true"}}},
])
def test_other_shoots_are_not_mutated(obj):
    """cilium's predicate is "networking type is cilium"; calico has no mutator at all."""
    assert admission.shoot_patch(MAPPINGS_BY_TYPE, obj, "CREATE") == []


def test_diff_escapes_and_orders_operations():
    old = {"a": 1, "b/c": {"x": [1, 2]}, "gone": True, "t": 1}
    new = {"a": 1, "b/c": {"x": [1, 3]}, "new~": None, "t": True}
    ops = jsonpatch.diff(old, new)
    assert ops == [{"op": "remove", "path": "/gone"},
                   {"op": "replace", "path": "/b~1c/x", "value": [1, 3]},
                   {"op": "add", "path": "/new~0", "value": None},
                   {"op": "replace", "path": "/t", "value": True}]
    assert apply_patch(old, ops) == new
