"""Shared test helpers: paths, a process-wide Renderer, chart rendering and offline schema validation."""

from __future__ import annotations

import asyncio
import functools
import pathlib

import kubernetes_validate

from controller.render import Renderer

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHARTS = ROOT / "charts" / "internal"
MAPPINGS = ROOT / "values-mapping"
EXAMPLE = ROOT / "example"
# The project's own copies of Gardener's CRDs (Network, Cluster, ManagedResource) and the monitoring CRDs.
GARDENER_CRDS = EXAMPLE / "crds"


@functools.lru_cache(maxsize=1)
def renderer() -> Renderer:
    """One Renderer per test process (its helm binary follows HELM_BINARY, like the controller)."""
    return Renderer()


def render_chart(chart: str | pathlib.Path, values: dict | None = None, kube_version: str = "1.32.0",
                 release: str | None = None, namespace: str = "kube-system") -> list[dict]:
    """Render charts/internal/<chart> (or a chart directory) with the given values; return the objects."""
    path = pathlib.Path(chart) if isinstance(chart, pathlib.Path) else CHARTS / chart
    rendered = asyncio.run(renderer().render(path, release or path.name, namespace, values or {}, kube_version))
    return rendered.objects


def find(objects: list[dict], kind: str, name: str) -> dict | None:
    return next((o for o in objects if o.get("kind") == kind and o["metadata"]["name"] == name), None)


def names(objects: list[dict], kind: str) -> set[str]:
    return {o["metadata"]["name"] for o in objects if o.get("kind") == kind}


def container(pod_owner: dict, name: str, init: bool = False) -> dict | None:
    spec = pod_owner["spec"]["template"]["spec"]
    return next((c for c in spec.get("initContainers" if init else "containers", []) if c["name"] == name), None)


def env(c: dict) -> dict[str, str | None]:
    """Container env as name -> value (None for valueFrom entries)."""
    return {e["name"]: e.get("value") for e in c.get("env", [])}


def validate_objects(objects: list[dict], kube_version: str) -> list[str]:
    """Validate every object of a built-in kind against the Kubernetes schema of that version.

    Kinds of CRDs (VPA, IPPool, Cilium policies, ...) have no schema in kubernetes-validate; they are
    checked by the chart tests themselves. Returns one problem line per invalid object.
    """
    problems = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, kube_version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            continue
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    return problems


def manifests_with_helm3_and_helm4(chart: pathlib.Path, values: dict, release: str, namespace: str,
                                   kube_version: str = "1.32.0") -> list[str]:
    """The chart rendered by the helm 4 and the helm 3 that set-up installs (both always present)."""
    binaries = [ROOT / ".venv" / "bin" / "helm", ROOT / ".venv" / "bin" / "helm3"]
    return [asyncio.run(Renderer(str(b), cache_size=0).render(chart, release, namespace, values, kube_version))
            .manifest_text() for b in binaries]
