"""`helm template` output as the controller keeps it: the text in Gardener's layout, compressed, with its digest.

Pure text handling, called by `render` off the event loop: documents are split and re-joined with the
`# Source:` they came from, empty ones dropped, and only a document that mentions the hook annotation is
parsed (libyaml) to refuse helm hooks. Objects are parsed only for callers that need them (the seed
monitoring objects, `Renderer.objects`; tests).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

import yaml

from controller.errors import ConfigurationError
from controller.files import SAFE_LOADER

HOOK_ANNOTATION = "helm.sh/hook"
_SOURCE = re.compile(r"^# Source: (.+)$", re.M)
_DOC_SEPARATOR = re.compile(r"^---[ \t]*$", re.M)


@dataclass(frozen=True)
class Rendered:
    """A render as the cache keeps it: the manifests in Gardener's layout (`\\n---\\n# Source: <file>\\n`
    before each document), zlib-compressed, and their sha256. Nothing is parsed unless asked for."""

    packed: bytes
    digest: str

    @classmethod
    def of(cls, text: str) -> "Rendered":
        data = text.encode()
        return cls(zlib.compress(data, 1), hashlib.sha256(data).hexdigest())

    def manifest_text(self) -> str:
        """All documents the way Gardener's chart renderer joins them."""
        return zlib.decompress(self.packed).decode()

    @property
    def objects(self) -> list[dict]:
        """The parsed objects (libyaml); for callers that need them: the seed objects, tests."""
        return [obj for obj in yaml.load_all(self.manifest_text(), Loader=SAFE_LOADER) if obj]


def _is_empty(body: str) -> bool:
    """A document with nothing but blank and comment lines (or a YAML null / empty collection)."""
    content = [line for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not content:
        return True
    if len(content) == 1 and len(content[0]) < 16:  # `{}`, `null`, `~`: only tiny documents are parsed
        return not yaml.load(body, Loader=SAFE_LOADER)
    return False


def _is_hook(body: str) -> bool:
    """Only a document that mentions the hook annotation at all is parsed to look at its annotations."""
    if HOOK_ANNOTATION not in body:
        return False
    obj = yaml.load(body, Loader=SAFE_LOADER)
    return isinstance(obj, dict) and HOOK_ANNOTATION in (((obj.get("metadata") or {}).get("annotations")) or {})


def gardener_layout(stdout: str, chart: str) -> str:
    """`helm template` output re-joined in Gardener's layout, from the text: each document with the
    `# Source:` it came from, empty ones dropped; helm hooks refused. Runs off the event loop."""
    parts, hooks = [], []
    for chunk in _DOC_SEPARATOR.split(stdout):
        source_match = _SOURCE.search(chunk)
        body = _SOURCE.sub("", chunk, count=1).strip("\n")
        if not body.strip() or _is_empty(body):
            continue
        source = source_match.group(1).strip() if source_match else ""
        if _is_hook(body):
            hooks.append(source)
        parts.append(f"\n---\n# Source: {source}\n{body}\n")
    if hooks:
        raise ConfigurationError(
            f"chart {chart} renders helm hooks, which a ManagedResource cannot run: {', '.join(hooks)}")
    return "".join(parts)
