"""The ControllerConfiguration file (`--config-file`, `render --config`) and the image overwrite.

Read once at start-up (`manager.build_controller`, `offline`, `diff`, `validate --shoot`). The format is
the Go extensions' own (apiVersion `<type>.networking.extensions.config.gardener.cloud/v1alpha1`, kind
`ControllerConfiguration`, `clientConnection`, `featureGates`), so existing ControllerDeployments keep
working; unknown fields and unknown feature gates are errors. The image vector overwrite
(`IMAGEVECTOR_OVERWRITE`, read by `imagevector`) travels in the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.errors import ConfigurationError, FieldError
from controller.files import load_document
from controller.imagevector import ImageSource, base_vector, load_overwrite
from controller.mapping import TypeMapping

KIND = "ControllerConfiguration"
_CLIENT_FIELDS = {"acceptContentTypes": str, "contentType": str, "qps": (int, float), "burst": int,
                  "kubeconfig": str}


@dataclass(frozen=True)
class ControllerConfig:
    api_version: str = ""
    qps: float = 100.0
    burst: int = 130
    kubeconfig: str = ""
    feature_gates: dict[str, bool] = field(default_factory=dict)
    images: tuple[ImageSource, ...] = ()  # the image vector overwrite

    def gates_for(self, declared: dict[str, bool]) -> dict[str, bool]:
        """The gates one mapping declares, with their defaults overridden by this configuration."""
        return {name: self.feature_gates.get(name, default) for name, default in declared.items()}


def parse_config(doc: dict | None, known_api_versions: dict[str, dict[str, bool]],
                 images: tuple[ImageSource, ...] = ()) -> ControllerConfig:
    """Check a decoded ControllerConfiguration; `known_api_versions` maps each served type's config
    apiVersion to the feature gates that type declares."""
    if not doc:
        return ControllerConfig(images=images)
    errors = []
    api_version = doc.get("apiVersion")
    if not isinstance(api_version, str) or api_version not in known_api_versions:
        errors.append(FieldError("apiVersion", "NotSupported",
                                 "supported values: " + ", ".join(f'"{v}"' for v in known_api_versions), api_version))
    if doc.get("kind") != KIND:
        errors.append(FieldError("kind", "NotSupported", f'supported values: "{KIND}"', doc.get("kind")))
    for key in sorted(set(doc) - {"apiVersion", "kind", "clientConnection", "featureGates"}):
        errors.append(FieldError(key, "UnknownField", "not declared in the schema"))
    client, gates = doc.get("clientConnection") or {}, doc.get("featureGates") or {}
    for key, value in (("clientConnection", client), ("featureGates", gates)):
        if not isinstance(value, dict):
            errors.append(FieldError(key, "Invalid", "must be an object", value))
    client, gates = (client if isinstance(client, dict) else {}), (gates if isinstance(gates, dict) else {})
    for key, value in client.items():
        expected = _CLIENT_FIELDS.get(key)
        if expected is None:
            errors.append(FieldError(f"clientConnection.{key}", "UnknownField", "not declared in the schema"))
        elif not isinstance(value, expected) or isinstance(value, bool):
            errors.append(FieldError(f"clientConnection.{key}", "Invalid", "wrong type", value))
    declared = known_api_versions.get(api_version, {}) if isinstance(api_version, str) else {}
    for name, value in gates.items():
        if name not in declared:
            errors.append(FieldError(f"featureGates.{name}", "NotSupported",
                                     "unknown feature gate" + (f", known: {', '.join(sorted(declared))}"
                                                               if declared else ""), name))
        elif not isinstance(value, bool):
            errors.append(FieldError(f"featureGates.{name}", "Invalid", "must be true or false", value))
    if errors:
        raise ConfigurationError(errors)
    return ControllerConfig(
        api_version=api_version, qps=float(client.get("qps", 100)), burst=int(client.get("burst", 130)),
        kubeconfig=client.get("kubeconfig", ""),
        feature_gates=dict(gates), images=images,
    )


def load_config(path: str | None, mappings: dict[str, TypeMapping]) -> ControllerConfig:
    """The configuration file (None: defaults) checked against the served types' config apiVersions and
    feature gates, with the image vector overwrite of `IMAGEVECTOR_OVERWRITE`; every error names the file."""
    known = {}
    for mapping in mappings.values():
        known.setdefault(mapping.config_api_version, {}).update(mapping.feature_gates)
        base_vector(mapping.chart)  # a broken images.yaml stops the start, instead of failing every Network
    doc = load_document(path, "ControllerConfiguration") if path else None
    images = load_overwrite()
    try:
        return parse_config(doc, known, images)
    except ConfigurationError as exc:
        raise ConfigurationError([f"{path}: {line}" for line in exc.lines]) from exc
