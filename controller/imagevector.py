"""Gardener's image vector: the images a chart deploys, per Kubernetes version, and their overwrite.

Where it sits: each chart may carry `images.yaml` (its base image vector, Gardener's format); `config`
reads the operator's overwrite file named by `IMAGEVECTOR_OVERWRITE` once at start-up; `pipeline` asks
`images_for` for the references of one shoot, which become the `images` root of the mapping language
(and from there the chart's image values).

The semantics are Gardener's `pkg/utils/imagevector` (docs/deployment/image_vector.md), rewritten here:

- An entry has `name`, either `ref` (a full reference) or `repository` (+ optional `tag`; a tag that is
  a digest `sha256:...` is joined with `@`, anything else with `:`), optional `version` (human-readable),
  `runtimeVersion` / `targetVersion` (semver constraints on the Kubernetes version the image runs on /
  acts on), `architectures`, and informative fields (`sourceRepository`, `labels`) that change nothing.
  Other fields are ignored, as Gardener's non-strict decoder ignores them.
- The overwrite is merged into the base entry by entry: an entry with the same name, `runtimeVersion`,
  `targetVersion` and `architectures` as an earlier one updates it (fields it leaves unset keep the
  earlier values; a `ref` drops the earlier repository and tag, a `repository` drops the earlier `ref`);
  any other entry is added.
- Finding an image: every entry of that name whose constraints admit the version and whose architectures
  admit the machine's is a candidate; the best score wins (an exact version constraint scores 2, any
  other constraint 1; a single matching architecture 2, several 1), the earliest entry on a tie. An entry
  without a tag and without `ref` is tagged `v<target version>`.

Both versions are the shoot's Kubernetes version (the images run in the shoot and act on it, as the Go
extensions look them up), and no architecture is given, so Gardener's default `amd64` applies.

Version constraints are Masterminds/semver v3's syntax, which Gardener uses; no PyPI library parses it
(`semver`, `packaging`, `semantic-version` and `node-semver` reject or misread `>= 1.30, < 1.33`,
`!= 1.2.3` or `=> 1.2`), so `Constraint` implements it.

Over 300 lines: one Gardener format with its merge rules, lookup scores and constraint syntax, each
of which only makes sense next to the others.
"""

from __future__ import annotations

import datetime
import functools
import os
import pathlib
import re
from dataclasses import dataclass

from controller.errors import ConfigurationError, FieldError
from controller.files import load_document

OVERWRITE_ENV = "IMAGEVECTOR_OVERWRITE"
BASE_FILE = "images.yaml"  # a chart's base image vector, next to its Chart.yaml
DIGEST_PREFIX = "sha256:"
DEFAULT_ARCHITECTURE, ALL_ARCHITECTURES = "amd64", ("amd64", "arm64")
_PRINTABLE = re.compile(r"^[\x21-\x7e]+\Z")  # names, references and tags end up in chart values

# ---- semver constraints (Masterminds/semver v3) --------------------------------------------------

_PART = r"(?:\d+|[xX*])"
_CV = (rf"v?({_PART})(\.{_PART})?(\.{_PART})?"
       r"(-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
_OPS = r"!=|>=|=>|<=|=<|~>|>|<|~|\^|="
_ONE = re.compile(rf"^\s*({_OPS})?\s*({_CV})\s*\Z")
_FIND = re.compile(rf"({_OPS})?\s*({_CV})")
_GROUP = re.compile(rf"^\s*(?:{_OPS})?\s*{_CV}\s*(?:(?:\s+|,\s*)(?:{_OPS})?\s*{_CV}\s*)*\Z")
_RANGE = re.compile(rf"\s*({_CV})\s+-\s+({_CV})\s*")
_EXACT = re.compile(r"^(v?[0-9]+\.[0-9]+\.[0-9]+|=)")  # constraints Gardener prefers (score 2)
_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?\Z")


@dataclass(frozen=True)
class _Bound:
    """One comparison: operator and version; `dirty` parts were missing or `x` (`1.2` = `1.2.x`)."""

    op: str
    major: int
    minor: int
    patch: int
    pre: bool  # the constraint's version has a pre-release (`1.33-0`): it sorts before `1.33.0`
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool

    def key(self) -> tuple:
        return (self.major, self.minor, self.patch, 0 if self.pre else 1)

    def check(self, v: tuple[int, int, int]) -> bool:
        """Does the release version `v` meet this comparison (Masterminds' rules, quirks included)?"""
        major, minor, _ = v
        below, equal = (*v, 1) < self.key(), (*v, 1) == self.key()
        op = self.op
        if op in ("", "="):
            return self._tilde(v, below) if self.dirty else equal
        if op == "!=":
            if self.dirty:
                if self.major != major:
                    return True
                if self.minor_dirty:
                    return False
                if self.minor != minor:
                    return True
                if self.patch_dirty:
                    return self.pre
            return not equal
        if op == ">":
            if self.dirty and major != self.major:
                return major > self.major
            if self.minor_dirty:
                return False
            if self.patch_dirty:
                return minor > self.minor
            return not below and not equal
        if op == "<":
            return below
        if op in (">=", "=>"):
            return not below
        if op in ("<=", "=<"):
            if not self.dirty:
                return below or equal
            return major < self.major or (major == self.major and (minor <= self.minor or self.minor_dirty))
        if op in ("~", "~>"):
            return self._tilde(v, below)
        return self._caret(v, below)

    def _tilde(self, v, below) -> bool:
        if below:
            return False
        if (self.major, self.minor, self.patch) == (0, 0, 0) and not self.minor_dirty and not self.patch_dirty:
            return True
        return v[0] == self.major and (v[1] == self.minor or self.minor_dirty)

    def _caret(self, v, below) -> bool:
        if below:
            return False
        if self.major > 0 or self.minor_dirty:
            return v[0] == self.major
        if v[0] > 0:
            return False
        if self.minor > 0 or self.patch_dirty:
            return v[1] == self.minor
        return v[1] == 0 and v[2] == self.patch


def _bound(match: re.Match) -> _Bound:
    """One comparison from a match of `_ONE` (groups: operator, version, major, .minor, .patch, -pre)."""
    op, major, minor, patch, pre = match.group(1) or "", match.group(3), match.group(4), match.group(5), match.group(6)
    wild = lambda part: part is None or part.lstrip(".") in ("x", "X", "*")  # noqa: E731
    if wild(major):
        numbers, dirty = (0, 0, 0), (True, False, False)
    elif wild(minor):
        numbers, dirty = (int(major), 0, 0), (True, True, False)
    elif wild(patch):
        numbers, dirty = (int(major), int(minor[1:]), 0), (True, False, True)
    else:
        numbers, dirty = (int(major), int(minor[1:]), int(patch[1:])), (False, False, False)
    return _Bound(op, *numbers, pre is not None, *dirty)


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint such as `>= 1.30, < 1.33` or `1.20.x || ^2`: OR of AND groups."""

    text: str
    groups: tuple[tuple[_Bound, ...], ...]

    def check(self, version: str) -> bool:
        """Does the Kubernetes version meet the constraint? `ValueError` if it is no version at all."""
        return any(all(b.check(normalize(version)) for b in group) for group in self.groups)

    @property
    def exact(self) -> bool:
        """Gardener prefers an entry whose constraint starts with a full version or `=` (score 2)."""
        return bool(_EXACT.match(self.text))


def parse_constraint(text: str) -> Constraint:
    """Parse a Masterminds/semver constraint; `ValueError` naming the bad part otherwise."""
    rewritten = _RANGE.sub(lambda m: f">= {m.group(1)}, <= {m.group(7)} ", text)
    groups = []
    for part in rewritten.split("||"):
        if not _GROUP.match(part):
            raise ValueError(f"improper constraint: {part.strip()!r}")
        groups.append(tuple(_bound(_ONE.match(m.group(0))) for m in _FIND.finditer(part)))
    return Constraint(text, tuple(groups))


def normalize(version: str) -> tuple[int, int, int]:
    """Gardener's version normalisation: drop every `v`, cut at the first `-`, `+` or `~`, then parse
    leniently (`1.32` is `1.32.0`). `ValueError` for anything else."""
    cut = re.split(r"[-+~]", version.replace("v", ""), maxsplit=1)[0]
    match = _VERSION.match(cut)
    if not match:
        raise ValueError(f"invalid semantic version: {version!r}")
    return tuple(int(part or 0) for part in match.groups())  # type: ignore[return-value]


# ---- image vectors ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageSource:
    """One entry of an image vector (the fields that decide anything)."""

    name: str
    ref: str | None = None
    repository: str | None = None
    tag: str | None = None
    version: str | None = None
    runtime_version: Constraint | None = None
    target_version: Constraint | None = None
    architectures: tuple[str, ...] | None = None

    def key(self) -> tuple:
        """What makes two entries 'the same image' for a merge."""
        return (self.name, self.runtime_version.text if self.runtime_version else "",
                self.target_version.text if self.target_version else "", self.architectures)

    def reference(self, target_version: str | None) -> str:
        """The pullable reference; no tag and no `ref`: tagged with the target version."""
        if self.ref is not None:
            return self.ref
        tag = self.tag
        if tag is None and target_version:
            tag = "v" + target_version.lstrip("v")
        if tag is None:
            return self.repository
        return self.repository + ("@" if tag.startswith(DIGEST_PREFIX) else ":") + tag


def merge_sources(old: ImageSource, new: ImageSource) -> ImageSource:
    """An overwrite entry applied to the base entry with the same key (Gardener's field by field rule)."""
    repository = new.repository if new.repository is not None else old.repository
    tag = new.tag if new.tag is not None else old.tag
    version = new.version if new.version is not None else old.version
    if version is None and tag is not None:
        version = old.tag
    ref = new.ref if new.ref is not None or new.repository is not None else old.ref
    if ref is not None:
        repository, tag = None, None
    return ImageSource(new.name, ref, repository, tag, version,
                       new.runtime_version or old.runtime_version, new.target_version or old.target_version,
                       new.architectures if new.architectures is not None else old.architectures)


def merge(*vectors: tuple[ImageSource, ...]) -> tuple[ImageSource, ...]:
    """Later vectors update entries of the same key in earlier ones and add the rest, in order."""
    out: list[ImageSource] = []
    index: dict[tuple, int] = {}
    for vector in vectors:
        for source in vector:
            key = source.key()
            if key in index:
                out[index[key]] = merge_sources(out[index[key]], source)
            else:
                index[key] = len(out)
                out.append(source)
    return tuple(out)


def _score(source: ImageSource, runtime: str | None, target: str | None, architecture: str | None) -> int | None:
    """The candidate's score for these versions and architecture, or None if it does not apply."""
    score = 0
    for constraint, version in ((source.runtime_version, runtime), (source.target_version, target)):
        if constraint is None or version is None:
            continue
        if not constraint.check(version):
            return None
        score += 2 if constraint.exact else 1
    archs = ALL_ARCHITECTURES if source.architectures is None else source.architectures
    if (architecture or DEFAULT_ARCHITECTURE) not in archs:
        return None
    return score + (2 if len(archs) == 1 else 1)


def find(vector: tuple[ImageSource, ...], name: str, runtime: str | None = None, target: str | None = None,
         architecture: str | None = None) -> str | None:
    """The reference of the best entry named `name` for these versions, None if no entry applies."""
    best, best_score = None, -1
    for source in vector:
        if source.name != name:
            continue
        score = _score(source, runtime, target, architecture)
        if score is not None and score > best_score:
            best, best_score = source, score
    return best.reference(target) if best else None


def images_for(chart: pathlib.Path, overwrite: tuple[ImageSource, ...], kube_version: str) -> dict[str, str]:
    """Every image the chart's base vector names, as a reference for a shoot of this Kubernetes version
    (overwrite applied). The chart asks for its own names only: overwrite entries of other names are
    ignored, as a Go component ignores images it never looks up."""
    base = base_vector(chart)
    vector = merge(base, overwrite)
    result = {}
    try:
        for name in dict.fromkeys(source.name for source in base):
            reference = find(vector, name, kube_version, kube_version)
            if reference:
                result[name] = reference
    except ValueError as exc:
        raise ConfigurationError(FieldError("spec.kubernetes.version", "Invalid", str(exc), kube_version)) from exc
    return result


def base_vector(chart: pathlib.Path) -> tuple[ImageSource, ...]:
    """The chart's `images.yaml` (empty without one); read once per file version."""
    path = pathlib.Path(chart) / BASE_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return ()
    return _read_cached(str(path), stamp)


@functools.lru_cache(maxsize=32)
def _read_cached(path: str, _stamp: int) -> tuple[ImageSource, ...]:
    return read_file(path)


def load_overwrite(path: str | None = None) -> tuple[ImageSource, ...]:
    """The overwrite named by `IMAGEVECTOR_OVERWRITE` (or `path`); empty when none is named."""
    path = path or os.environ.get(OVERWRITE_ENV)
    return read_file(path) if path else ()


def read_file(path: str) -> tuple[ImageSource, ...]:
    """An image vector file, checked like Gardener's `Read`; every problem is one field error whose
    path starts with the file name."""
    try:
        return read(load_document(path))
    except ConfigurationError as exc:
        raise ConfigurationError([FieldError(f"{path}: {e.path}" if e.path else path, e.type, e.detail, e.value)
                                  for e in exc.errors]) from exc


def read(doc: dict) -> tuple[ImageSource, ...]:
    """Check a decoded image vector document (`images:` list, optional `caBundle:`)."""
    images = doc.get("images")
    errors: list[FieldError] = []
    if images is not None and not isinstance(images, list):
        raise ConfigurationError(FieldError("images", "Invalid", "must be a list"))
    sources = []
    for index, entry in enumerate(images or []):
        source = _source(entry, f"images[{index}]", errors)
        if source is not None:
            sources.append(source)
    errors.extend(_ca_bundle_errors(doc.get("caBundle")))
    if errors:
        raise ConfigurationError(errors)
    return tuple(sources)


def _source(entry, where: str, errors: list[FieldError]) -> ImageSource | None:
    if not isinstance(entry, dict):
        errors.append(FieldError(where, "Invalid", "must be an object"))
        return None
    found = len(errors)
    fields = {}
    for key in ("name", "ref", "repository", "tag", "version"):
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(f"{where}.{key}", "Invalid", "must be a string", value))
        elif value and key != "version" and not _PRINTABLE.match(value):
            errors.append(FieldError(f"{where}.{key}", "Invalid", "must be printable ASCII without spaces", value))
        else:
            fields[key] = value
    if not entry.get("name"):
        errors.append(FieldError(f"{where}.name", "Required", "image name is required"))
    if entry.get("ref") is None and entry.get("repository") is None:
        errors.append(FieldError(f"{where}.ref/repository", "Required", "either image ref or repository+tag is required"))
    if entry.get("ref") is not None:
        if entry["ref"] == "":
            errors.append(FieldError(f"{where}.ref", "Invalid", "ref must not be empty if specified", ""))
        for key in ("repository", "tag"):
            if entry.get(key) is not None:
                errors.append(FieldError(f"{where}.{key}", "Forbidden", f"cannot specify {key} when ref is set"))
    else:
        if entry.get("repository") == "":
            errors.append(FieldError(f"{where}.repository", "Invalid", "repository must not be empty if specified", ""))
        if entry.get("tag") == "":
            errors.append(FieldError(f"{where}.tag", "Invalid", "image tag must not be empty if specified", ""))
    constraints = {}
    for key in ("runtimeVersion", "targetVersion"):
        value = entry.get(key)
        if value is None:
            continue
        try:
            if not isinstance(value, str):
                raise ValueError("must be a string")
            constraints[key] = parse_constraint(value)
        except ValueError as exc:
            errors.append(FieldError(f"{where}.{key}", "Invalid", str(exc), value))
    architectures = entry.get("architectures")
    if architectures is not None and not (isinstance(architectures, list)
                                          and all(isinstance(a, str) for a in architectures)):
        errors.append(FieldError(f"{where}.architectures", "Invalid", "must be a list of strings", architectures))
    if len(errors) > found:
        return None
    return ImageSource(fields["name"], fields["ref"], fields["repository"], fields["tag"], fields["version"],
                       constraints.get("runtimeVersion"), constraints.get("targetVersion"),
                       None if architectures is None else tuple(architectures))


def _ca_bundle_errors(bundle) -> list[FieldError]:
    """Gardener checks `caBundle.inline` (used by gardenlet for shoot nodes, not by extensions): a PEM
    certificate that has not expired."""
    if bundle is None:
        return []
    if not isinstance(bundle, dict):
        return [FieldError("caBundle", "Invalid", "must be an object")]
    inline = bundle.get("inline")
    if inline is None:
        return []
    from cryptography import x509  # only needed for this rare field

    try:
        match = re.search(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", str(inline), re.S)
        if not isinstance(inline, str) or not match or match.group(1) != "CERTIFICATE":
            raise ValueError
        cert = x509.load_pem_x509_certificate(match.group(0).encode())
    except ValueError:
        return [FieldError("caBundle.inline", "Invalid", "not a valid PEM-encoded certificate")]
    if datetime.datetime.now(datetime.timezone.utc) > cert.not_valid_after_utc:
        return [FieldError("caBundle.inline", "Invalid", "certificate has expired")]
    return []
