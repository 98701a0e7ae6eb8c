"""The pure pipeline from one Network to what a reconcile writes: decode, map, render, package.

Called by the CLI (`render`, `validate`), `diff` and `reconciler`; nothing here talks to the API server.
`compute_values` is synchronous and needs no helm; `desired_state` adds the helm render and the
Gardener packaging of the shoot chart; `seed_objects` renders the type's seed monitoring chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from controller import shapes
from controller import shoot as shoots
from controller.config import ControllerConfig
from controller.errors import ConfigurationError, FieldError
from controller.imagevector import images_for
from controller.managedresource import build_managed_resource, build_secret
from controller.mapping import MappingResult, TypeMapping, apply_rules
from controller.mapping.decode import decode_provider_config
from controller.mapping.engine import holds
from controller.manifests import Rendered
from controller.validation import validate_network

if TYPE_CHECKING:  # helm's client is imported only where something renders
    from controller.render import Renderer


MAX_SECRET_BYTES = 1024 * 1024  # the API server's limit on the data of one Secret
MONITORING_RENDER_NAMESPACE = "default"  # replaced by the Network's namespace on each copy


@dataclass(frozen=True)
class Desired:
    """Everything a reconcile writes for one Network."""

    values: dict
    rendered: Rendered
    secret: dict
    managed_resource: dict
    status: dict  # the Network status fields the type owns: providerStatus, ipFamilies


def build_inputs(mapping: TypeMapping, network: dict, shoot: dict, config: ControllerConfig,
                 live: dict | None = None) -> dict:
    """The input roots of the mapping language; every problem of the Network and its providerConfig
    is reported at once. `live` holds the shoot ConfigMaps the mapping's `liveInputs` name (read best
    effort by the reconciler; empty offline)."""
    shape_errors = shapes.network_errors(network)
    if shape_errors:  # nothing below may read a field of the wrong type
        raise ConfigurationError(shape_errors)
    errors = validate_network(network)
    provider = {}
    try:
        provider = decode_provider_config(network, mapping.provider_api_version, mapping.provider_kind,
                                          mapping.schema, mapping.type_meta_required)
    except ConfigurationError as exc:
        errors.extend(exc.errors)
    if not shoots.kube_version(shoot):
        errors.append(FieldError("spec.kubernetes.version", "Required", "the shoot has no Kubernetes version"))
    if errors:
        raise ConfigurationError(errors)
    return {
        "providerConfig": provider,
        "network": {"metadata": network.get("metadata") or {}, "spec": network.get("spec") or {}},
        "shoot": shoot,
        "featureGates": config.gates_for(mapping.feature_gates),
        "images": images_for(mapping.chart, config.images, shoots.kube_version(shoot)),
        "live": dict(live or {}),
    }


def live_requests(mapping: TypeMapping, network: dict, shoot: dict, config: ControllerConfig) -> dict[str, dict]:
    """The `liveInputs` entries whose `when` holds for this Network (what the reconciler should read from
    the shoot). Empty if the Network is invalid: `desired_state` reports that."""
    if not mapping.live_inputs:
        return {}
    try:
        inputs = build_inputs(mapping, network, shoot, config)
    except ConfigurationError:
        return {}
    return {key: ref for key, ref in mapping.live_inputs.items() if holds(ref.get("when"), inputs)}


def compute_values(mapping: TypeMapping, network: dict, shoot: dict, config: ControllerConfig,
                   live: dict | None = None) -> MappingResult:
    return apply_rules(mapping, build_inputs(mapping, network, shoot, config, live))


async def desired_state(renderer: Renderer, mapping: TypeMapping, network: dict, shoot: dict,
                        config: ControllerConfig, live: dict | None = None) -> Desired:
    result = compute_values(mapping, network, shoot, config, live)
    rendered = await renderer.render(mapping.chart, mapping.release_name, mapping.release_namespace,
                                     result.values, shoots.kube_version(shoot))
    text = rendered.manifest_text()
    size = len(text.encode())
    if size > MAX_SECRET_BYTES:
        raise ConfigurationError(f"the rendered manifests are {size} bytes; a Secret holds at most "
                                 f"{MAX_SECRET_BYTES} bytes (1 MiB)")
    namespace = (network.get("metadata") or {}).get("namespace") or "default"
    secret = build_secret(namespace, mapping.managed_resource, text)
    managed_resource = build_managed_resource(namespace, mapping.managed_resource, mapping.origin,
                                              secret["metadata"]["name"])
    status = {"providerStatus": dict(mapping.provider_status), **result.status}
    return Desired(result.values, rendered, secret, managed_resource, status)


async def seed_objects(renderer: Renderer, mapping: TypeMapping, network: dict, shoot: dict) -> list[dict]:
    """The seed monitoring objects of the Network's namespace (the mapping's `monitoring` chart; none
    without one). The chart uses its release namespace only as `metadata.namespace`, so it is rendered
    once per distinct values and Kubernetes version (in MONITORING_RENDER_NAMESPACE) and the namespace is
    set on copies. Needs no valid providerConfig, so deletion finds them too."""
    if mapping.monitoring is None:
        return []
    namespace = (network.get("metadata") or {}).get("namespace") or "default"
    version = shoots.kube_version(shoot) or shoots.kube_version(shoots.default_shoot())
    rendered = await renderer.render(mapping.monitoring.chart, mapping.monitoring.release,
                                     MONITORING_RENDER_NAMESPACE, {}, version)
    objects = await renderer.objects(rendered)
    for obj in objects:
        obj.setdefault("metadata", {})["namespace"] = namespace
    return objects
