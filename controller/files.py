"""The one hardened reader of every input document: Network, Cluster, ControllerConfiguration, image
vector, kubeconfig.

Used by `offline` and `cli` (files named on the command line), `config` (the configuration and the image
vector overwrite), `kube` (the seed kubeconfig) and `liveinputs` (the shoot kubeconfig from a Secret).
Whatever the bytes are, the result is either plain JSON data (dicts with string keys, lists, strings,
int64 integers, finite floats, booleans, null) or a `ConfigurationError` naming the source and, where it
applies, the field path; never another exception.

Limits, checked before anything is built: `MAX_BYTES` of input, valid UTF-8 (a UTF-8 BOM is allowed),
`MAX_DEPTH` levels of nesting, `MAX_NODES` YAML nodes as written and `MAX_EXPANDED_NODES` once every
alias is expanded (so an alias bomb fails in milliseconds), no recursive aliases, no duplicate keys
(the Go extensions' strict decoder), timestamps stay strings (as sigs.k8s.io/yaml leaves them).
"""

from __future__ import annotations

import math
import pathlib

import yaml
from yaml import events, nodes

from controller.errors import ConfigurationError, FieldError

MAX_BYTES = 3 * 1024 * 1024   # a Kubernetes object is at most 1.5 MiB in etcd; a file may carry comments
MAX_DEPTH = 64
MAX_NODES = 200_000
MAX_EXPANDED_NODES = 200_000
INT64 = (-(2 ** 63), 2 ** 63 - 1)


# libyaml wherever PyYAML was built with it (same results, 5-10x faster; the limits below are checked
# the same way on its events and nodes), the pure-Python classes otherwise. Used by every YAML reader
# and writer of the controller (`render`, `mapping.loader`, `cli`).
SAFE_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
SAFE_DUMPER = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper


class _Loader(SAFE_LOADER):
    """SafeLoader without implicit timestamps (`2024-01-01` stays a string) and with strict keys."""

    yaml_implicit_resolvers = {first: [(tag, regexp) for tag, regexp in resolvers
                                       if tag != "tag:yaml.org,2002:timestamp"]
                               for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, nodes.MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)
        result = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(None, None, "keys must be strings", key_node.start_mark)
            if key in result:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate field {key!r}", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=deep)
        return result


# Only the JSON tags: !!binary, !!set, !!omap, !!pairs and !!timestamp are refused.
for _tag in ("tag:yaml.org,2002:binary", "tag:yaml.org,2002:set", "tag:yaml.org,2002:omap",
             "tag:yaml.org,2002:pairs", "tag:yaml.org,2002:timestamp"):
    _Loader.add_constructor(_tag, _Loader.construct_undefined)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogatepass")
    if len(data) > MAX_BYTES:
        raise ConfigurationError(f"larger than {MAX_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"not valid UTF-8 (byte {exc.start})") from None


def _where(mark) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def _check_events(text: str) -> None:
    """Depth and node count from the event stream (iterative, so 100,000 `[` cannot blow the stack)."""
    depth = count = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (events.MappingStartEvent, events.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigurationError(f"nested deeper than {MAX_DEPTH} levels{_where(event.start_mark)}")
        elif isinstance(event, (events.MappingEndEvent, events.SequenceEndEvent)):
            depth -= 1
        if isinstance(event, (events.NodeEvent, events.CollectionStartEvent)):
            count += 1
            if count > MAX_NODES:
                raise ConfigurationError(f"more than {MAX_NODES} YAML nodes")


def _expanded_size(root: nodes.Node) -> int:
    """Nodes once aliases are expanded, memoised per node (a shared node is counted once per use)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: nodes.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise ConfigurationError(f"recursive YAML alias{_where(node.start_mark)}")
        in_progress.add(key)
        total = 1
        if isinstance(node, nodes.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, nodes.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        in_progress.discard(key)
        sizes[key] = total
        if total > MAX_EXPANDED_NODES:
            raise ConfigurationError(f"more than {MAX_EXPANDED_NODES} nodes once YAML aliases are expanded "
                                     f"(alias bomb?){_where(node.start_mark)}")
        return total

    return size(root)


def check_json_data(value, path: str = "") -> None:
    """Only JSON types, string keys, int64 integers and finite floats (what the Go decoders accept)."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise ConfigurationError(FieldError(where or "<root>", "Invalid", "keys must be strings"))
                stack.append((f"{where}.{key}" if where else key, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child) for index, child in enumerate(item))
        elif isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        elif isinstance(item, int):
            if not INT64[0] <= item <= INT64[1]:
                raise ConfigurationError(FieldError(where or "<root>", "Invalid",
                                                    "integer out of the int64 range"))
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ConfigurationError(FieldError(where or "<root>", "Invalid", "must be a finite number",
                                                    str(item)))
        else:
            raise ConfigurationError(FieldError(where or "<root>", "Invalid",
                                                f"unsupported YAML type {type(item).__name__}"))


def parse_documents(data: bytes | str) -> list:
    """Every non-empty document of a YAML stream, checked as described above (ConfigurationError
    without a source name: callers prefix it)."""
    text = _decode(data)
    try:
        _check_events(text)
        loader = _Loader(text)
        try:
            docs = []
            while loader.check_node():
                node = loader.get_node()
                _expanded_size(node)
                docs.append(loader.construct_document(node))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise ConfigurationError(f"not valid YAML: {exc.problem or exc.context}"
                                 f"{_where(exc.problem_mark or exc.context_mark)}") from None
    except yaml.YAMLError as exc:  # ReaderError (control characters), EmitterError...
        raise ConfigurationError(f"not valid YAML: {type(exc).__name__}") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ConfigurationError(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigurationError(f"nested deeper than {MAX_DEPTH} levels") from None
    docs = [doc for doc in docs if doc is not None]
    for doc in docs:
        check_json_data(doc)
    return docs


def parse_document(data: bytes | str, source: str, kind: str | None = None) -> dict:
    """The single object of a YAML (or JSON) text; a ConfigurationError prefixed with `source`."""
    try:
        docs = parse_documents(data)
    except ConfigurationError as exc:
        raise ConfigurationError([FieldError(f"{source}: {e.path}" if e.path else source, e.type, e.detail, e.value)
                                  for e in exc.errors]) from None
    if kind:
        docs = [d for d in docs if isinstance(d, dict) and d.get("kind") == kind] or docs
    if len(docs) != 1 or not isinstance(docs[0], dict):
        what = f"{len(docs)} documents" if len(docs) != 1 else f"a {type(docs[0]).__name__}"
        raise ConfigurationError(f"{source}: expected exactly one {kind or 'YAML'} object, found {what}")
    if kind and docs[0].get("kind") != kind:
        raise ConfigurationError(f"{source}: expected kind {kind}, found {docs[0].get('kind')!r}")
    return docs[0]


def load_document(path: str | pathlib.Path, kind: str | None = None) -> dict:
    """The single object of a file (a ConfigurationError naming the file if it is unusable)."""
    path = pathlib.Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror or exc}") from None
    return parse_document(data, str(path), kind)
