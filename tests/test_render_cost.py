"""What issue 12 asked of rendering, as behaviour (the speed itself is measured by bench/, not here):
helm's output is parsed only where needed, seed monitoring is rendered once per distinct values, the
cache holds text and digest and grows with the Networks served, chart digests and `helm version` are
computed once."""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib

import pytest
import yaml

from controller import manifests, pipeline, render
from controller.errors import ConfigurationError
from controller.mapping import load_mappings
from controller.render import Renderer
from tests.helpers import CHARTS, MAPPINGS

OUTPUT = b"---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"


def fake_helm(renderer: Renderer) -> list[list[str]]:
    """Replace the helm process by a canned answer; the argv of every run."""
    runs = []

    async def run(argv, input=None):
        runs.append(argv)
        return OUTPUT

    renderer.command.run = run
    return runs


def test_layout_parses_only_documents_that_name_the_hook_annotation(monkeypatch):
    parsed = []
    real_load = yaml.load
    monkeypatch.setattr(manifests.yaml, "load", lambda text, Loader: parsed.append(text) or real_load(text, Loader))
    text = manifests.gardener_layout((OUTPUT * 50).decode(), "c")
    assert parsed == [] and text.count("\n---\n# Source: c/templates/a.yaml\n") == 50
    hook = "---\n# Source: c/templates/h.yaml\nkind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n"
    with pytest.raises(ConfigurationError, match="c/templates/h.yaml"):
        manifests.gardener_layout(OUTPUT.decode() + hook, "c")
    assert len(parsed) == 1


def test_cache_entries_hold_text_and_digest_only():
    assert [f.name for f in dataclasses.fields(manifests.Rendered)] == ["packed", "digest"]
    rendered = manifests.Rendered.of("\n---\n# Source: a\nkind: A\n")
    assert rendered.manifest_text() == "\n---\n# Source: a\nkind: A\n" and rendered.objects == [{"kind": "A"}]


def test_seed_monitoring_is_rendered_once_for_every_namespace():
    mapping = load_mappings(MAPPINGS, ["calico"])["calico"]
    renderer = Renderer()
    runs = []
    real_run = renderer.command.run

    async def counting(argv, input=None):
        runs.append(argv)
        return await real_run(argv, input)

    renderer.command.run = counting
    shoot = {"spec": {"kubernetes": {"version": "1.32.0"}}}
    seen = [asyncio.run(pipeline.seed_objects(renderer, mapping, {"metadata": {"namespace": f"shoot--p--s{i}"}}, shoot))
            for i in range(3)]
    assert len(runs) == 1
    for i, objects in enumerate(seen):
        assert objects and {o["metadata"]["namespace"] for o in objects} == {f"shoot--p--s{i}"}


def test_cache_grows_with_the_networks_served():
    renderer = Renderer(cache_size=2)
    runs = fake_helm(renderer)
    renderer.serve(100)

    async def all_twice():
        for _ in range(2):
            for i in range(50):
                await renderer.render(CHARTS / "calico", "calico", "kube-system", {"i": i}, "1.32.0")

    asyncio.run(all_twice())
    assert len(runs) == 50


def test_chart_files_are_looked_at_once_per_check_interval_not_per_render(monkeypatch):
    """The digest (file contents) once, the files' mtimes at most once per CHART_CHECK_SECONDS."""
    digests, walks = [], []
    real_digest, real_rglob = render.chart_digest, pathlib.Path.rglob
    monkeypatch.setattr(render, "chart_digest", lambda chart: digests.append(chart) or real_digest(chart))
    monkeypatch.setattr(pathlib.Path, "rglob", lambda self, pattern: walks.append(self) or real_rglob(self, pattern))
    renderer = Renderer()
    fake_helm(renderer)

    async def renders():
        for i in range(20):
            await renderer.render(CHARTS / "calico", "calico", "kube-system", {"i": i}, "1.32.0")

    asyncio.run(renders())
    assert len(digests) == 1 and len(walks) <= 4


def test_helm_version_is_asked_once_per_process(monkeypatch):
    monkeypatch.setattr(render, "_HELM_VERSIONS", {})
    calls = []
    real = render.subprocess.run
    monkeypatch.setattr(render.subprocess, "run", lambda argv, **kw: calls.append(argv) or real(argv, **kw))
    Renderer()
    Renderer()
    assert len([argv for argv in calls if "version" in argv]) == 1
