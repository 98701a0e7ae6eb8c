"""Read `values-mapping/<type>.yaml` into a checked `TypeMapping`.

Called once at start-up by the CLI and the controller. A mapping file is data written by operators,
so it is checked here, before any Network is processed: the file against `mapping-file.schema.json`;
every rule's paths against the known input roots (`values.*` is output only, a `vars.*` must be written
by an earlier rule before it is read); one writer per target (no two `set` rules write the same
`values.*`/`vars.*` path, or one inside the other: a choice between several values is one rule with
`cases:`); every transform against its registry (a `<type>.` transform only in that type's file) and
its `args` against the function's signature; the providerConfig schema against the JSON Schema
meta-schema.
"""

from __future__ import annotations

import inspect
import json
import pathlib
import re
from dataclasses import dataclass, field

import jsonschema
import yaml

from controller.files import SAFE_LOADER
from controller.mapping import transforms
from controller.mapping.engine import (INPUT_ROOTS, WRITABLE_ROOTS, condition_paths, rule_sources,
                                       source_reads)

_FILE_SCHEMA = json.loads((pathlib.Path(__file__).parent / "mapping-file.schema.json").read_text())


class MappingFileError(Exception):
    """The mapping file itself is wrong (an operator error caught at start-up, not per Network)."""


@dataclass(frozen=True)
class Monitoring:
    chart: pathlib.Path
    release: str
    legacy_objects: tuple[dict, ...] = ()


@dataclass(frozen=True)
class TypeMapping:
    type: str
    source: pathlib.Path
    chart: pathlib.Path
    release_name: str
    release_namespace: str
    managed_resource: str
    origin: str
    provider_api_version: str
    provider_kind: str
    type_meta_required: bool
    schema: dict
    provider_status: dict
    config_api_version: str
    feature_gates: dict[str, bool]
    rules: tuple[dict, ...]
    status: dict[str, str]
    monitoring: Monitoring | None = None
    live_inputs: dict[str, dict] = field(default_factory=dict)
    admission: dict = field(default_factory=dict)  # `admission:` (validate/mutate of Shoots), see controller/admission
    shoot_webhook: dict | None = None  # `shootWebhook:` (a mutating webhook in the shoot), see controller/webhooks


def load_mapping(path: str | pathlib.Path) -> TypeMapping:
    path = pathlib.Path(path).resolve()
    try:
        doc = yaml.load(path.read_text(), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise MappingFileError(f"{path}: {exc}") from exc
    problems = [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in jsonschema.Draft202012Validator(_FILE_SCHEMA).iter_errors(doc)]
    if problems:
        raise MappingFileError(f"{path}: " + "; ".join(problems))
    base = path.parent
    provider = doc["providerConfig"]
    try:
        jsonschema.Draft202012Validator.check_schema(provider["schema"])
    except jsonschema.SchemaError as exc:
        raise MappingFileError(f"{path}: providerConfig.schema is not a valid JSON Schema: {exc.message}") from exc
    writers: dict[str, int] = {}
    for index, rule in enumerate(doc["rules"]):
        _check_rule(path, doc["type"], index, rule, writers)
    for key, ref in (doc.get("liveInputs") or {}).items():
        for cond_path in condition_paths(ref.get("when")):
            _check_path(path, f"liveInputs.{key}.when", cond_path,
                        tuple(r for r in INPUT_ROOTS if r not in ("live", "vars")))
    status = {key: source["from"] for key, source in (doc.get("status") or {}).items()}
    for key, source in status.items():
        _check_read(path, f"status.{key}.from", source, writers)
    admission = doc.get("admission") or {}
    for section in ("validate", "mutate"):
        conditions = [(admission.get(section) or {}).get("when")]
        conditions += [patch.get("when") for patch in (admission.get(section) or {}).get("patches", ())]
        for condition in conditions:
            for cond_path in condition_paths(condition):
                _check_path(path, f"admission.{section}.when", cond_path, INPUT_ROOTS)
    for index, mutation in enumerate((doc.get("shootWebhook") or {}).get("mutations", ())):
        for number, edit in enumerate(mutation["edits"]):
            try:
                re.compile((edit.get("regexReplace") or {}).get("pattern", ""))
            except re.error as exc:
                raise MappingFileError(f"{path}: shootWebhook.mutations[{index}].edits[{number}]: "
                                       f"invalid pattern: {exc}") from exc
    monitoring = None
    if doc.get("monitoring"):
        mon = doc["monitoring"]
        monitoring = Monitoring((base / mon["chart"]).resolve(), mon["release"], tuple(mon.get("legacyObjects", ())))
    chart = (base / doc["chart"]).resolve()
    for chart_dir in [chart] + ([monitoring.chart] if monitoring else []):
        if not (chart_dir / "Chart.yaml").is_file():
            raise MappingFileError(f"{path}: chart {chart_dir} has no Chart.yaml")
    return TypeMapping(
        type=doc["type"], source=path, chart=chart,
        release_name=doc["release"]["name"], release_namespace=doc["release"]["namespace"],
        managed_resource=doc["managedResource"]["name"], origin=doc["managedResource"]["origin"],
        provider_api_version=provider["apiVersion"], provider_kind=provider["kind"],
        type_meta_required=provider.get("typeMetaRequired", False), schema=provider["schema"],
        provider_status=doc["providerStatus"],
        config_api_version=doc["controllerConfiguration"]["apiVersion"],
        feature_gates=dict(doc.get("featureGates") or {}),
        rules=tuple(doc["rules"]), status=status, monitoring=monitoring,
        live_inputs=dict(doc.get("liveInputs") or {}),
        admission=dict(admission), shoot_webhook=doc.get("shootWebhook"),
    )


def load_mappings(directory: str | pathlib.Path, types: list[str] | None = None) -> dict[str, TypeMapping]:
    """Every `<type>.yaml` of the directory (or only the named types), keyed by type."""
    directory = pathlib.Path(directory)
    wanted = types or sorted(p.stem for p in directory.glob("*.yaml"))
    mappings = {}
    for name in wanted:
        file = directory / f"{name}.yaml"
        if not file.is_file():
            raise MappingFileError(f"no mapping file for network type {name!r} ({file})")
        mapping = load_mapping(file)
        if mapping.type != name:
            raise MappingFileError(f"{file}: declares type {mapping.type!r}, expected {name!r}")
        mappings[name] = mapping
    return mappings


def _check_rule(path: pathlib.Path, network_type: str, index: int, rule: dict, writers: dict[str, int]) -> None:
    """Roots of every path the rule reads and writes, its transforms, and one writer per target;
    `writers` maps each target written so far to its rule index."""
    where = f"rules[{index}]"
    for cond_path in condition_paths(rule.get("when")):
        _check_read(path, where + ".when", cond_path, writers)
    if "forbid" in rule and "from" in rule:
        _check_read(path, where + ".from", rule["from"], writers)
    if "set" not in rule:
        return
    for number, source in enumerate(rule_sources(rule)):
        at = f"{where}.cases[{number}]" if "cases" in rule else where
        if "cases" in rule and "when" not in source and number != len(rule["cases"]) - 1:
            raise MappingFileError(f"{path}: {at}: only the last case may omit `when` (later cases could never match)")
        for part, read in source_reads(source):
            _check_read(path, f"{at}.{part}", read, writers)
        if "transform" in source:
            _check_transform(path, network_type, at, source)
    target = rule["set"]
    _check_path(path, where + ".set", target, WRITABLE_ROOTS)
    for other, other_index in writers.items():
        if other == target or other.startswith(target + ".") or target.startswith(other + "."):
            raise MappingFileError(
                f"{path}: {where} (set: {target}) and rules[{other_index}] (set: {other}) write the same value; "
                f"each target has exactly one rule (choose between values with `cases:` in one rule)")
    writers[target] = index


def _check_read(path: pathlib.Path, where: str, read: str, writers: dict[str, int]) -> None:
    """A path a rule reads: a known input root; never `values.*`; a `vars.*` some earlier rule writes."""
    if read.split(".")[0] == "values":
        raise MappingFileError(f"{path}: {where}: {read!r}: values.* is output only and cannot be read "
                               f"(compute it into a vars.* and copy that)")
    _check_path(path, where, read, INPUT_ROOTS)
    if read.startswith("vars.") and not any(read == target or read.startswith(target + ".")
                                            or target.startswith(read + ".") for target in writers):
        raise MappingFileError(f"{path}: {where}: {read!r} is not written by any rule before it")


def _check_transform(path: pathlib.Path, network_type: str, where: str, source: dict) -> None:
    """The transform exists, belongs to no other type, and takes exactly these `args`."""
    name = source["transform"]
    known = sorted(n for n in transforms.REGISTRY if "." not in n or n.startswith(network_type + "."))
    if name not in known:
        raise MappingFileError(f"{path}: {where}.transform: unknown transform {name!r} for type "
                               f"{network_type!r} (known: {', '.join(known)})")
    parameters = inspect.signature(transforms.REGISTRY[name]).parameters
    given = set(source.get("args") or {})
    unknown = sorted(given - set(parameters))
    missing = [p for p, param in parameters.items() if param.default is param.empty and p not in given]
    if unknown or missing:
        problems = [f"unknown argument {a!r}" for a in unknown] + [f"missing argument {a!r}" for a in missing]
        raise MappingFileError(f"{path}: {where}.args: {', '.join(problems)} "
                               f"(transform {name}({', '.join(parameters)}))")


def _check_path(path: pathlib.Path, where: str, value: str, roots: tuple[str, ...]) -> None:
    if value.split(".")[0] not in roots:
        raise MappingFileError(f"{path}: {where}: {value!r} must start with one of {', '.join(roots)}")
