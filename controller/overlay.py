"""The operator overlay: mapping files and charts that add to or replace the built-in ones, reloaded
while the controller runs.

`run --overlay-dir DIR` (the extension chart mounts a ConfigMap there) reads, besides the image's
`values-mapping/` (`--mappings-dir`) and its `../charts/internal/`:

- `<type>.yaml`: replaces or adds `values-mapping/<type>.yaml` (paths inside resolve as in the image,
  so `chart: ../charts/internal/calico` names the overlay's chart if it ships one, else the image's);
- `<anything>.tgz`: a `helm package` tarball; its top directory `<chart>/` replaces or adds
  `charts/internal/<chart>`.

Charts travel as tarballs: a chart is a tree (calico's templates sit two directories deep) and a
ConfigMap key cannot hold a `/`; a tarball is one key, needs no naming scheme, and is what `helm package`
makes. It is also small against a ConfigMap's 1 MiB: the four built-in charts are 146 files and 430 KB,
packed about 100 KB (calico 21 KB), so a ConfigMap holds them all with room to spare.

`MappingSet` stages image + overlay into a fresh directory and loads it with the ordinary loader
(`mapping.load_mappings`, `config.load_config`), so an overlay passes exactly the start-up checks.
`watch` polls the directory (kubelet swaps a ConfigMap volume's `..data` symlink atomically; the
files are read through it, so a swap is never seen half done). A valid change replaces the set in
force and reports the types whose mapping or chart files changed (`manager` re-reconciles their
Networks); an invalid one keeps the old set and is reported by log, metric and Event (`on_rejected`).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import pathlib
import re
import shutil
import tarfile
import tempfile
from typing import Callable

from prometheus_client import Counter, Gauge

from controller.config import ControllerConfig, load_config
from controller.errors import ConfigurationError
from controller.mapping import TypeMapping, load_mappings
from controller.mapping.loader import MappingFileError
from controller.metrics import REGISTRY

log = logging.getLogger(__name__)

RELOADS = Counter("networking_mapping_reloads_total", "Changes of the operator overlay by result "
                  "(applied: the new mapping set is in force; rejected: invalid, the previous set is kept).",
                  ["result"], registry=REGISTRY)
OVERLAY_VALID = Gauge("networking_mapping_overlay_valid", "1 while the mounted overlay is the mapping set in "
                      "force, 0 while its last change was rejected.", registry=REGISTRY)

_TYPE_FILE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.yaml$")
_MAX_UNPACKED = 32 * 1024 * 1024  # per tarball: far above any chart, far below a memory problem


class OverlayError(Exception):
    """The overlay's files cannot be staged (unknown file, broken or unsafe tarball)."""


def read_overlay(directory: pathlib.Path | None) -> dict[str, bytes]:
    """The overlay's files by name (none without a directory). A ConfigMap volume is read through its
    `..data` symlink, i.e. from one consistent revision; dot files are kubelet's bookkeeping."""
    if directory is None or not directory.is_dir():
        return {}
    data = directory / "..data"
    root = data.resolve() if data.exists() else directory
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if not p.name.startswith(".") and p.is_file()}


def _unpack_chart(name: str, data: bytes, charts: pathlib.Path) -> None:
    """A chart tarball into charts/<top directory>: regular files and directories only, all below one
    top directory with a Chart.yaml, no absolute or `..` paths, bounded size."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = archive.getmembers()
            tops = {pathlib.PurePosixPath(m.name).parts[0] for m in members if m.name.strip("/")}
            if len(tops) != 1:
                raise OverlayError(f"{name}: a chart tarball holds one top directory, found {sorted(tops) or 'none'}")
            top = tops.pop()
            if not re.fullmatch(r"[A-Za-z0-9][-A-Za-z0-9_.]*", top) or f"{top}/Chart.yaml" not in {m.name for m in members}:
                raise OverlayError(f"{name}: {top}/Chart.yaml missing (not a helm package)")
            if sum(m.size for m in members) > _MAX_UNPACKED:
                raise OverlayError(f"{name}: unpacks to more than {_MAX_UNPACKED} bytes")
            for member in members:
                if not (member.isfile() or member.isdir()) or ".." in pathlib.PurePosixPath(member.name).parts \
                        or member.name.startswith("/"):
                    raise OverlayError(f"{name}: {member.name}: only plain files and directories are allowed")
            target = charts / top
            if target.is_symlink():
                target.unlink()
            shutil.rmtree(target, ignore_errors=True)
            archive.extractall(charts, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise OverlayError(f"{name}: not a chart tarball: {exc}") from None


def stage(base_mappings: pathlib.Path, files: dict[str, bytes], into: pathlib.Path) -> pathlib.Path:
    """The image's mapping files and charts with the overlay applied, laid out as in the image under
    `into` (values-mapping/ and charts/internal/); returns the mapping directory."""
    mappings, charts = into / "values-mapping", into / "charts" / "internal"
    mappings.mkdir(parents=True)
    charts.mkdir(parents=True)
    for file in base_mappings.glob("*.yaml"):
        shutil.copyfile(file, mappings / file.name)
    built_in = base_mappings.resolve().parent / "charts" / "internal"
    if built_in.is_dir():
        for chart in built_in.iterdir():
            if chart.is_dir():
                (charts / chart.name).symlink_to(chart, target_is_directory=True)
    for name, data in files.items():
        if name.endswith(".tgz"):
            _unpack_chart(name, data, charts)
        elif _TYPE_FILE.match(name):
            (mappings / name).write_bytes(data)
        else:
            raise OverlayError(f"{name}: unexpected file (expected <type>.yaml mapping files and <chart>.tgz tarballs)")
    return mappings


def _tree_digest(digest, path: pathlib.Path) -> None:
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0" + file.read_bytes() + b"\0")


def type_digests(mappings: dict[str, TypeMapping]) -> dict[str, str]:
    """Per type, a digest of everything its rendering reads: the mapping file and its charts."""
    result = {}
    for name, mapping in mappings.items():
        digest = hashlib.sha256(mapping.source.read_bytes())
        for chart in (mapping.chart, mapping.monitoring.chart if mapping.monitoring else None):
            if chart is not None:
                _tree_digest(digest, chart)
        result[name] = digest.hexdigest()
    return result


class MappingSet:
    """The mapping set in force (`mappings`, `config`) and its reloads from the overlay."""

    def __init__(self, base: pathlib.Path, overlay: pathlib.Path | None, types: list[str] | None,
                 config_file: str | None):
        self.base, self.overlay, self.types, self.config_file = base, overlay, types or None, config_file
        self._staged: list[pathlib.Path] = []
        self._files = read_overlay(overlay)
        self.mappings, self.config = self._load(self._files)  # an invalid overlay stops the start
        self.digests = type_digests(self.mappings)
        OVERLAY_VALID.set(1)

    def _load(self, files: dict[str, bytes]) -> tuple[dict[str, TypeMapping], ControllerConfig]:
        if self.overlay is None:
            mappings = load_mappings(self.base, self.types)
            return mappings, load_config(self.config_file, mappings)
        staged = pathlib.Path(tempfile.mkdtemp(prefix="networking-mappings-"))
        try:
            mappings = load_mappings(stage(self.base, files, staged), self.types)
            config = load_config(self.config_file, mappings)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        self._staged.append(staged)
        while len(self._staged) > 2:  # the set before the previous one: no render can still read it
            shutil.rmtree(self._staged.pop(0), ignore_errors=True)
        return mappings, config

    def reload(self) -> tuple[set[str] | None, str]:
        """Read the overlay again: (types whose files changed, "") when a new set is in force, (None, why)
        when the change was rejected, (set(), "") when nothing changed."""
        try:
            files = read_overlay(self.overlay)
        except OSError:  # kubelet removed the revision while it was read: the next poll reads the new one
            return set(), ""
        if files == self._files:
            return set(), ""
        self._files = files
        try:
            mappings, config = self._load(files)
            digests = type_digests(mappings)
        except (MappingFileError, ConfigurationError, OverlayError, OSError) as exc:
            RELOADS.labels("rejected").inc()
            OVERLAY_VALID.set(0)
            return None, "; ".join(exc.lines) if isinstance(exc, ConfigurationError) else str(exc)
        changed = {t for t in digests.keys() | self.digests.keys() if digests.get(t) != self.digests.get(t)}
        self.mappings, self.config, self.digests = mappings, config, digests
        RELOADS.labels("applied").inc()
        OVERLAY_VALID.set(1)
        return changed, ""

    async def watch(self, interval: float, on_change: Callable[[set[str]], None], kube, configmap: str,
                    instance: str) -> None:
        """Poll the overlay every `interval` seconds until cancelled; a rejected change is reported as an
        Event on `configmap` (`report_rejection`; from every replica, counted on one Event)."""
        while True:
            await asyncio.sleep(interval)
            changed, why = await asyncio.to_thread(self.reload)
            if changed is None:
                log.error("overlay rejected, the previous mapping set stays in force", extra={"reason": why})
                await report_rejection(kube, configmap, instance, why)
            elif changed:
                log.info("overlay applied", extra={"changedTypes": sorted(changed)})
                on_change(changed)

    def close(self) -> None:
        for staged in self._staged:
            shutil.rmtree(staged, ignore_errors=True)
        self._staged.clear()


async def report_rejection(kube, configmap: str, instance: str, why: str) -> None:
    """A Warning Event `MappingSetRejected` on the overlay's ConfigMap (`<namespace>/<name>`), where the
    operator who changed it looks (`kubectl describe configmap`)."""
    from controller import events  # the API client: only the running controller needs it (`render` stays light)

    namespace, _, name = configmap.partition("/")
    if namespace and name:
        await events.record(kube, {"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": name, "namespace": namespace}},
                            "Warning", "MappingSetRejected", f"the previous mapping set stays in force: {why}", instance)
