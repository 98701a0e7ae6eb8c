"""Reading the YAML files a user hands to the CLI, strictly: one document, no duplicate keys.

Used by `cli`. Duplicate keys are an error (as in the Go extensions' strict decoder) instead of
PyYAML's silent last-one-wins.
"""

from __future__ import annotations

import pathlib

import yaml

from controller.errors import ConfigurationError


class _StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigurationError(
                    f"line {key_node.start_mark.line + 1}: duplicate field {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_document(path: str | pathlib.Path, kind: str | None = None) -> dict:
    """The single YAML document of a file (a ConfigurationError naming the file if it is unusable)."""
    path = pathlib.Path(path)
    try:
        docs = [d for d in yaml.load_all(path.read_text(), Loader=_StrictLoader) if d is not None]
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigurationError(f"{path}: not valid YAML: {getattr(exc, 'problem', None) or exc}{where}") from exc
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror}") from exc
    if kind:
        docs = [d for d in docs if isinstance(d, dict) and d.get("kind") == kind] or docs
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ConfigurationError(f"{path}: expected exactly one {kind or 'YAML'} object, found {len(docs)} documents")
    if kind and docs[0].get("kind") != kind:
        raise ConfigurationError(f"{path}: expected kind {kind}, found {docs[0].get('kind')!r}")
    return docs[0]
