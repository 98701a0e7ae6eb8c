"""`gardener-extension-networking diff`: what a reconcile with the local charts and mappings would change.

Where it sits: the CLI's `diff` command calls `diff_offline` (one Network file against a deployed Secret
or manifest file) or `diff_seed` (every Network of a seed). Both compute the desired state exactly as a
reconcile does (`pipeline.desired_state` and `pipeline.seed_objects`, with `liveinputs`) and
compare it with what is deployed:

- shoot side: the objects in the Secrets the Network's ManagedResource references (Gardener's format:
  every data key holds a YAML stream), object by object and field by field;
- seed side: the live objects of the monitoring chart, only in the fields the controller sets (its apply
  ignores fields the server adds), so objects are added or changed, never removed.

The seed mode only reads: it lists Networks and gets Clusters, ManagedResources, their Secrets, the
monitoring objects and, where a mapping reads the shoot (`liveInputs`), those shoot objects. Values of
Secrets are never printed, only which keys change.

Over 300 lines: the command, its object comparison and its output format are one feature, read together.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import difflib
import json
import re
import sys
from dataclasses import dataclass, field

from kubernetes.config import ConfigException

from controller import liveinputs, pipeline, shapes, shoot as shoots
from controller.config import ControllerConfig, load_config
from controller.errors import ConfigurationError, FieldError, TransientError
from controller.files import MAX_BYTES, parse_documents
from controller.kube import Kube
from controller.managedresource import secret_manifest
from controller.mapping import TypeMapping, load_mappings
from controller.mapping.loader import MappingFileError
from controller.offline import offline_inputs
from controller.render import Renderer
from controller.resources import CLUSTERS, MANAGED_RESOURCES, NETWORKS

EXIT_SAME, EXIT_CHANGES, EXIT_ERRORS = 0, 1, 2
ABSENT = "(absent)"
HIDDEN = "(value hidden)"
MAX_SHOWN = 120      # characters of a value printed on one line
MAX_TEXT_LINES = 20  # lines of a multi-line text diff printed
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*\Z")


@dataclass
class ObjectDiff:
    """One object that would change: `+` added, `-` removed, `~` changed (with its field lines)."""

    action: str
    label: str
    fields: list[str] = field(default_factory=list)


@dataclass
class NetworkDiff:
    """The outcome for one Network: object diffs, or errors, or why it was skipped."""

    name: str
    type: str
    objects: list[ObjectDiff] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: str = ""

    def summary(self) -> str:
        head = f"{self.name} ({self.type})"
        if self.errors:
            return f"{head}: error"
        if self.skipped:
            return f"{head}: skipped ({self.skipped})"
        if not self.objects:
            return f"{head}: no changes"
        counts = {action: sum(1 for o in self.objects if o.action == action) for action in "~+-"}
        return f"{head}: {counts['~']} changed, {counts['+']} added, {counts['-']} removed"

    def lines(self) -> list[str]:
        out = [self.summary()]
        out += [f"  {line}" for line in self.errors]
        for obj in self.objects:
            out.append(f"  {obj.action} {obj.label}")
            out += [f"      {line}" for line in obj.fields]
        return out


# ---- comparing objects ------------------------------------------------------------------------------

def object_key(obj: dict) -> tuple[str, str, str, str]:
    """(API group, kind, namespace, name): an apiVersion bump of the same object is a change, not a swap."""
    meta = obj.get("metadata") or {}
    return (str(obj.get("apiVersion", "")).rpartition("/")[0], str(obj.get("kind", "")),
            str(meta.get("namespace") or ""), str(meta.get("name", "")))


def label(key: tuple[str, str, str, str]) -> str:
    group, kind, namespace, name = key
    kind = f"{kind}.{group}" if group else kind
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _path(base: str, key: str) -> str:
    if _PLAIN_KEY.match(key):
        return f"{base}.{key}" if base else key
    return f"{base}[{json.dumps(key)}]"


def _show(value) -> str:
    if value is ABSENT:
        return ABSENT
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 1] + "…"


def _named(items: list) -> dict[str, dict] | None:
    """List items keyed by their `name` when every item has a distinct one (containers, env, ports)."""
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        return dict(zip(names, items))
    return None


def field_changes(old, new, path: str = "", secret: bool = False, only_new: bool = False) -> list[str]:
    """One line per changed leaf: `path: old → new`. `secret`: values under `data`/`stringData` are
    hidden. `only_new`: fields absent from `new` do not count (a live object with server defaults)."""
    hide = secret and path.split(".")[0].split("[")[0] in ("data", "stringData")
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for key in sorted(set(new) | (set() if only_new else set(old))):
            lines += field_changes(old.get(key, ABSENT), new.get(key, ABSENT), _path(path, key), secret, only_new)
        return lines
    if isinstance(old, list) and isinstance(new, list):
        old_named, new_named = _named(old), _named(new)
        if old_named is not None and new_named is not None:
            keys = list(new_named) + ([] if only_new else [k for k in old_named if k not in new_named])
            return [line for k in keys for line in field_changes(old_named.get(k, ABSENT), new_named.get(k, ABSENT),
                                                                 f"{path}[name={k}]", secret, only_new)]
        if len(old) == len(new):
            return [line for i, (a, b) in enumerate(zip(old, new))
                    for line in field_changes(a, b, f"{path}[{i}]", secret, only_new)]
    if old == new:
        return []
    if hide:
        what = "added" if old is ABSENT else "removed" if new is ABSENT else "changed"
        return [f"{path}: {what} {HIDDEN}"]
    if isinstance(old, str) and isinstance(new, str) and ("\n" in old or "\n" in new):
        unified = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0))[2:]
        text = [line for line in unified if not line.startswith("@@")]  # the two file headers and hunks go
        shown = [f"  {line}" for line in text[:MAX_TEXT_LINES]]
        more = [f"  … {len(text) - MAX_TEXT_LINES} more lines"] if len(text) > MAX_TEXT_LINES else []
        return [f"{path}: text changed"] + shown + more
    return [f"{path}: {_show(old)} → {_show(new)}"]


def compare(deployed: list[dict], desired: list[dict], live: bool = False) -> list[ObjectDiff]:
    """Object diffs from what is deployed to what would be. `live`: `deployed` are live objects read
    from the server, compared in the desired fields only, and never reported as removed."""
    old = {object_key(o): o for o in deployed}
    new = {object_key(o): o for o in desired}
    diffs = []
    for key in sorted(set(new) | (set() if live else set(old))):
        if key not in old:
            diffs.append(ObjectDiff("+", label(key)))
        elif key not in new:
            diffs.append(ObjectDiff("-", label(key)))
        else:
            lines = field_changes(old[key], new[key], secret=key[1] == "Secret" and not key[0], only_new=live)
            if lines:
                diffs.append(ObjectDiff("~", label(key), lines))
    return diffs


def secret_objects(secrets: list[dict]) -> list[dict]:
    """The objects a ManagedResource's Secrets carry: every data key is a YAML stream (base64)."""
    objects = []
    for secret in secrets:
        name = (secret.get("metadata") or {}).get("name", "")
        for key, value in sorted((secret.get("data") or {}).items()):
            where = f"secret {name}: data[{json.dumps(key)}]"
            if key.endswith(".br"):
                raise ConfigurationError(f"{where}: brotli-compressed data is not supported")
            try:
                text = base64.b64decode(value or "", validate=True)
                docs = parse_documents(text)
            except (binascii.Error, ValueError) as exc:
                raise ConfigurationError(f"{where}: not base64: {exc}") from None
            except ConfigurationError as exc:
                raise ConfigurationError([f"{where}: {line}" for line in exc.lines]) from None
            objects += [doc for doc in docs if isinstance(doc, dict)]
    return objects


def _desired_shoot_objects(desired: pipeline.Desired) -> list[dict]:
    return [doc for doc in parse_documents(secret_manifest(desired.secret)) if isinstance(doc, dict)]


# ---- one Network file, offline ---------------------------------------------------------------------------

def against_objects(docs: list) -> list[dict]:
    """The deployed objects of an `--against` file: a file of Secrets (and ManagedResources, as `render`
    prints them or in a `List`) holds them in the Secrets' data; any other file is the manifests
    themselves (for example an earlier `render --manifests`)."""
    items = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "List":
            items += [item for item in doc.get("items") or [] if isinstance(item, dict)]
        elif isinstance(doc, dict):
            items.append(doc)
    secrets = [item for item in items if item.get("kind") == "Secret" and item.get("apiVersion") == "v1"]
    if secrets and all(item in secrets or item.get("kind") == "ManagedResource" for item in items):
        return secret_objects(secrets)
    return items


async def diff_offline(renderer: Renderer, mapping: TypeMapping, network: dict, shoot: dict,
                       config: ControllerConfig, deployed: list[dict]) -> NetworkDiff:
    """The shoot-side diff of one Network file against deployed objects (no live inputs, no seed)."""
    meta = network["metadata"]
    result = NetworkDiff(f"{meta.get('namespace') or 'default'}/{meta['name']}", mapping.type)
    desired = await pipeline.desired_state(renderer, mapping, network, shoot, config)
    result.objects = compare(deployed, _desired_shoot_objects(desired))
    return result


# ---- every Network of a seed ---------------------------------------------------------------------------

async def diff_seed(kube: Kube, renderer: Renderer, mappings: dict[str, TypeMapping],
                    config: ControllerConfig) -> list[NetworkDiff]:
    """Every Network of the seed, in namespace/name order."""
    networks, _ = await kube.list(NETWORKS)
    networks.sort(key=lambda n: ((n.get("metadata") or {}).get("namespace", ""), (n.get("metadata") or {}).get("name", "")))
    return [await _diff_network(kube, renderer, mappings, config, network) for network in networks]


async def _diff_network(kube: Kube, renderer: Renderer, mappings: dict[str, TypeMapping], config: ControllerConfig,
                        network: dict) -> NetworkDiff:
    meta = network.get("metadata") or {}
    namespace, name = meta.get("namespace", ""), meta.get("name", "")
    network_type = str((network.get("spec") or {}).get("type", ""))
    result = NetworkDiff(f"{namespace}/{name}", network_type)
    mapping = mappings.get(network_type)
    if mapping is None:
        result.skipped = "type not served by these mappings"
        return result
    if meta.get("deletionTimestamp"):
        result.skipped = "being deleted"
        return result
    try:
        cluster = await kube.get(CLUSTERS, "", namespace)
        if cluster is None:
            raise ConfigurationError(f"cluster {namespace} not found")
        shapes.check_cluster(cluster)
        shoot = shoots.shoot_of(cluster)
        if shoots.is_failed(shoot):
            result.skipped = "the shoot is failed"
            return result
        live = await liveinputs.read(kube, mapping, network, shoot, config)
        desired = await pipeline.desired_state(renderer, mapping, network, shoot, config, live)
        mr = await kube.get(MANAGED_RESOURCES, namespace, mapping.managed_resource)
        secrets = []
        for ref in ((mr or {}).get("spec") or {}).get("secretRefs") or []:
            secret = await kube.read("v1", "Secret", namespace, ref.get("name", ""))
            if secret is None:
                raise ConfigurationError(f"ManagedResource {mapping.managed_resource} references the missing "
                                         f"Secret {ref.get('name')}")
            secrets.append(secret)
        result.objects = compare(secret_objects(secrets), _desired_shoot_objects(desired))
        for obj in await pipeline.seed_objects(renderer, mapping, network, shoot):
            obj_meta = obj["metadata"]
            current = await kube.read(obj["apiVersion"], obj["kind"], obj_meta.get("namespace", ""), obj_meta["name"])
            result.objects += compare([current] if current else [], [obj], live=True)
    except ConfigurationError as exc:
        result.errors = exc.lines
    except (TransientError, OSError) as exc:
        result.errors = [f"error: {exc}"]
    return result


# ---- the command --------------------------------------------------------------------------------------

def run(args) -> int:
    """0: nothing would change; 1: something would; 2: errors (bad input, unreadable seed, a Network
    whose desired state cannot be computed)."""
    try:
        if args.network:
            if not args.against:
                raise ConfigurationError(FieldError("--against", "Required", "the deployed Secret or manifests "
                                                    "to compare --network with"))
            mapping, network, shoot, config = offline_inputs(args.mappings_dir, args.network, args.cluster, args.config)
            deployed = against_objects(load_documents(args.against))
            results = [asyncio.run(diff_offline(Renderer(), mapping, network, shoot, config, deployed))]
        elif args.against or args.cluster:
            raise ConfigurationError(FieldError("--network", "Required", "--against and --cluster go with --network"))
        elif not args.kubeconfig:
            raise ConfigurationError(FieldError("--kubeconfig", "Required", "a seed kubeconfig, or --network "
                                                "and --against for one Network file"))
        else:
            mappings = load_mappings(args.mappings_dir)
            config = load_config(args.config, mappings)
            results = asyncio.run(_seed(args.kubeconfig, mappings, config))
    except ConfigurationError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return EXIT_ERRORS
    except (MappingFileError, TransientError, OSError, ConfigException) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    for result in results:
        print("\n".join(result.lines()))
    if any(result.errors for result in results):
        return EXIT_ERRORS
    return EXIT_CHANGES if any(result.objects for result in results) else EXIT_SAME


async def _seed(kubeconfig: str, mappings: dict[str, TypeMapping], config: ControllerConfig) -> list[NetworkDiff]:
    kube = Kube.connect(kubeconfig, config.qps, config.burst)
    try:
        return await diff_seed(kube, Renderer(), mappings, config)
    finally:
        kube.close()


def load_documents(path: str) -> list:
    """Every document of a YAML file, errors prefixed with the file name."""
    try:
        with open(path, "rb") as file:
            return parse_documents(file.read(MAX_BYTES + 1))
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror or exc}") from None
    except ConfigurationError as exc:
        raise ConfigurationError([f"{path}: {line}" for line in exc.lines]) from None
