"""Validation and mutation of one `core.gardener.cloud` Shoot for the served network types.

Pure; called by the admission webhook handlers (`admission.command`) and by `validate --shoot` in the
CLI, so both give the same answer. Everything type-specific is data of the mapping file:

- which Shoots: those labelled `networking.extensions.gardener.cloud/<type>: "true"` (the webhook
  configurations' objectSelector), workerless Shoots skipped, then `admission.validate.when` (Go's
  predicate, e.g. calico's "networking type is calico");
- the checks, in Go's order: `ValidateNetworking` (type, pods/nodes/services CIDRs, ipFamilies) at
  `spec.networking.*` and, only if that passes, the strict providerConfig decoding with the type's
  schema and the `forbid` rules marked `admission: true`, with the Network validation's field paths
  moved from `spec.providerConfig` to `spec.networking.providerConfig`;
- mutations: `admission.mutate.patches`, each a value set at a path below the Shoot for some
  operations under a condition.
"""

from __future__ import annotations

import copy
import dataclasses

from controller.admission import jsonpatch
from controller.errors import ConfigurationError, FieldError
from controller.mapping import TypeMapping, paths
from controller.mapping.decode import decode_provider_config
from controller.mapping.engine import RuleError, apply_set, forbid_error, holds
from controller.mapping.formats import parse_cidr
from controller.shoot import dig

LABEL_PREFIX = "networking.extensions.gardener.cloud/"
NETWORK_PATH, SHOOT_PATH = "spec.providerConfig", "spec.networking.providerConfig"
FAMILIES = ("IPv4", "IPv6")
CREATE, UPDATE = "CREATE", "UPDATE"


def type_label(network_type: str) -> str:
    return LABEL_PREFIX + network_type


def labelled_types(shoot: dict, mappings: dict[str, TypeMapping]) -> list[TypeMapping]:
    """The served types whose label is "true" on the Shoot (what the objectSelectors let through)."""
    labels = dig(shoot, "metadata", "labels") or {}
    return [m for t, m in sorted(mappings.items()) if isinstance(labels, dict) and labels.get(type_label(t)) == "true"]


def is_workerless(shoot: dict) -> bool:
    """Gardener's `IsWorkerless`: no worker pools in spec.provider.workers."""
    return not dig(shoot, "spec", "provider", "workers")


def _go_list(values: list) -> str:
    """Go's %q of a string slice: ["a" "b"]."""
    return "[" + " ".join('"' + str(v).replace('"', '\\"') + '"' for v in values) + "]"


def validate_networking(networking: dict, network_type: str) -> list[FieldError]:
    """Go's `ValidateNetworking` (calico.md 1.4, cilium.md 1.3), path `spec.networking`."""
    errors: list[FieldError] = []
    kind = networking.get("type")
    if kind is None:
        errors.append(FieldError("spec.networking.type", "Required", "networking type is required"))
    elif kind != network_type:
        errors.append(FieldError("spec.networking.type", "Invalid", f'networking type "{kind}" is not supported', kind))
    for name in ("pods", "nodes", "services"):
        value = networking.get(name)
        if value is None:
            continue
        try:
            parse_cidr(value)
        except ValueError:
            errors.append(FieldError(f"spec.networking.{name}", "Invalid",
                                     f'{name} is not a valid CIDR: "{value}"', value))
    families = networking.get("ipFamilies")
    if families is None:
        families = []
    if not isinstance(families, list):
        return [*errors, FieldError("spec.networking.ipFamilies", "Invalid", "must be a list", families)]
    if any(f not in FAMILIES for f in families):
        errors.append(FieldError("spec.networking.ipFamilies", "Invalid",
                                 f'ipFamilies ({_go_list(families)}) must be a subset of ["IPv4" "IPv6"]', families))
    if len(families) > 2:
        errors.append(FieldError("spec.networking.ipFamilies", "Invalid",
                                 f"ipFamilies ({_go_list(families)}) cannot have more than two entries", families))
    elif len(families) == 2 and families[0] == families[1]:
        errors.append(FieldError("spec.networking.ipFamilies", "Invalid",
                                 f"ipFamilies ({_go_list(families)}) cannot have duplicate entries", families))
    return errors


def _network_of(shoot: dict) -> dict:
    """The Network the Shoot would get (what the rules read as `network`)."""
    networking = dig(shoot, "spec", "networking") or {}
    spec = {"type": networking.get("type"), "providerConfig": networking.get("providerConfig"),
            "podCIDR": networking.get("pods"), "serviceCIDR": networking.get("services"),
            "ipFamilies": networking.get("ipFamilies")}
    return {"metadata": {"name": dig(shoot, "metadata", "name") or ""},
            "spec": {k: v for k, v in spec.items() if v is not None}}


def _shoot_path(error: FieldError) -> FieldError:
    if error.path == NETWORK_PATH or error.path.startswith(NETWORK_PATH + "."):
        return dataclasses.replace(error, path=SHOOT_PATH + error.path[len(NETWORK_PATH):])
    return error


def _admission_forbids(mapping: TypeMapping, inputs: dict) -> list[FieldError]:
    """The `forbid` rules marked `admission: true`, evaluated after the `set` rules before them (which
    compute the `vars` they read). Errors of `set` rules are the controller's business, not admission's:
    such a rule leaves its target alone here."""
    state = copy.deepcopy(inputs)
    state.setdefault("vars", {})
    state.setdefault("values", {})
    errors = []
    for rule in mapping.rules:
        try:
            if "wait" in rule or not holds(rule.get("when"), state):
                continue
            if "forbid" in rule:
                if rule.get("admission"):
                    errors.append(forbid_error(rule, state))
            else:
                apply_set(rule, state)
        except (ConfigurationError, RuleError, ValueError, TypeError, AttributeError, ArithmeticError):
            continue
    return errors


def validate_shoot(mapping: TypeMapping, shoot: dict, feature_gates: dict | None = None) -> list[FieldError]:
    """Every problem the type's admission validator finds in the Shoot (empty: admitted)."""
    if is_workerless(shoot):
        return []
    if not holds((mapping.admission.get("validate") or {}).get("when"), {"shoot": shoot}):
        return []
    networking = dig(shoot, "spec", "networking")
    if not isinstance(networking, dict):
        return []
    errors = validate_networking(networking, mapping.type)
    if errors:
        return errors
    network = _network_of(shoot)
    try:
        provider = decode_provider_config(network, mapping.provider_api_version, mapping.provider_kind,
                                          mapping.schema, mapping.type_meta_required)
    except ConfigurationError as exc:
        return [_shoot_path(e) for e in exc.errors]
    inputs = {"providerConfig": provider, "network": network, "shoot": shoot,
              "featureGates": dict(feature_gates or {}), "images": {}, "live": {}}
    return [_shoot_path(e) for e in _admission_forbids(mapping, inputs)]


def validate_labelled(mappings: dict[str, TypeMapping], shoot: dict) -> list[FieldError]:
    """The checks of every type the Shoot is labelled for (one webhook per type in Go)."""
    errors: list[FieldError] = []
    for mapping in labelled_types(shoot, mappings):
        errors.extend(e for e in validate_shoot(mapping, shoot) if e not in errors)
    return errors


def mutate_shoot(mappings: dict[str, TypeMapping], shoot: dict, operation: str) -> dict:
    """The Shoot after the `admission.mutate.patches` of every type it is labelled for."""
    mutated = copy.deepcopy(shoot)
    for mapping in labelled_types(shoot, mappings):
        mutate = mapping.admission.get("mutate")
        if not mutate or not holds(mutate.get("when"), {"shoot": shoot}):
            continue
        for patch in mutate["patches"]:
            if operation in patch.get("operations", (CREATE, UPDATE)) and holds(patch.get("when"), {"shoot": mutated}):
                paths.put(mutated, patch["set"], copy.deepcopy(patch["value"]))
    return mutated


def shoot_patch(mappings: dict[str, TypeMapping], shoot: dict, operation: str) -> list[dict]:
    return jsonpatch.diff(shoot, mutate_shoot(mappings, shoot, operation))


def aggregate(errors: list[FieldError]) -> str:
    """The message of a refusal, as Go's `ErrorList.ToAggregate().Error()` prints it."""
    lines = [str(e) for e in errors]
    return lines[0] if len(lines) == 1 else "[" + ", ".join(lines) + "]"
