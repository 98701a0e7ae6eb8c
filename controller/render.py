"""Render a chart with the real helm binary (through pyhelm3) into ordered manifests.

Pure from the caller's point of view: same chart files + values + kube version give the same result,
so results are cached by a digest of exactly those inputs and steady-state reconciles start no helm
process. Called by `pipeline` (the shoot chart and the seed monitoring chart). helm's output is turned
into Gardener's layout from the text (`manifests`, off the event loop); a cache entry holds that text
(compressed) and its digest, never parsed objects; the cache grows with the Networks served (`serve`);
chart digests are computed once per chart change and `helm version` once per binary and process.

Why not pyhelm3's `template()`: it cannot pass `--kube-version` (Capabilities would then follow the
helm binary: v1.32 under helm 3.17, v1.35 under helm 4.1) and it merges several value dicts by
concatenating lists. We build the argv ourselves and run it through `GroupCommand.run`, with one
merged values dict on stdin.

Why not pyhelm3's `Command.run`: it starts helm through `/bin/sh -c` and, when cancelled, terminates
only the shell and then waits for the pipes, which helm (or a child of it) keeps open: one hung helm
pinned its worker and render slot for ever. `GroupCommand.run` execs helm directly in a session (and
process group) of its own and kills the whole group at the render timeout or on cancellation; a helm
still alive after that stays listed by `Renderer.overdue()`, which /readyz reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import contextlib
import copy
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
from collections import OrderedDict

import pyhelm3
import semver
from pyhelm3 import errors as helm_errors

from controller import metrics
from controller.errors import ConfigurationError, StartupError, TransientError
from controller.manifests import Rendered, gardener_layout

# The exit status with which helm reports an error it found (cobra's: schema, template, parse errors).
# `helm template` reads no cluster, so the same chart and values fail the same way again: permanent.
# A crash (Go panic: 2) or a kill (negative status) is the process's failure, worth another try.
HELM_REPORTED_ERROR = 1
RENDER_TIMEOUT = 60.0
CHART_CHECK_SECONDS = 1.0  # how often a chart's files are looked at for changes (mtimes), at most
PARSED_RENDERS = 16  # parsed renders kept by `Renderer.objects`
_HELM_VERSIONS: dict[str, str] = {}  # binary -> `helm version`: asked once per process


class RenderTimeout(TransientError):
    """helm did not finish within the render timeout; its whole process group was killed."""


class GroupCommand(pyhelm3.Command):
    """pyhelm3's Command with a `run` that execs helm in its own process group, kills the whole group
    when the deadline passes or the caller is cancelled, and never waits for pipes after that."""

    def __init__(self, *, timeout: float = RENDER_TIMEOUT, **kwargs):
        super().__init__(**kwargs)
        self.timeout = timeout
        self.running: dict[int, tuple[str, float]] = {}  # pid -> (first argument, monotonic deadline)

    async def run(self, command: list[str], input: bytes | None = None) -> bytes:
        proc = await asyncio.create_subprocess_exec(
            self._executable, *command, start_new_session=True,
            stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        self.running[proc.pid] = (" ".join(command[:2]), time.monotonic() + self.timeout)
        try:
            async with asyncio.timeout(self.timeout):
                stdout, stderr = await proc.communicate(input)
        except TimeoutError:
            self._kill(proc)
            raise RenderTimeout(f"helm {' '.join(command[:2])} did not finish within {self.timeout:g}s "
                                f"(its process group was killed)") from None
        except BaseException:  # cancelled (reconcile timeout, shutdown): the group must not outlive us
            self._kill(proc)
            raise
        self.running.pop(proc.pid, None)
        if proc.returncode != 0:
            raise helm_errors.Error(proc.returncode, stdout, stderr)
        return stdout

    def client_version(self):
        """`helm version` without a shell and with the same timeout (pyhelm3 calls it at start-up);
        asked once per binary and process."""
        if self._executable in _HELM_VERSIONS:
            return semver.Version.parse(_HELM_VERSIONS[self._executable])
        try:
            proc = subprocess.run([self._executable, "version", "--template", "{{ .Version }}"],
                                  capture_output=True, check=True, timeout=self.timeout, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise StartupError(f"helm version did not finish within {self.timeout:g}s") from None
        version = semver.Version.parse(proc.stdout.decode().strip().removeprefix("v"))
        _HELM_VERSIONS[self._executable] = str(version)
        return version

    def _kill(self, proc: asyncio.subprocess.Process) -> None:
        """SIGKILL to the group; the process is forgotten once it has been reaped (in the background, so
        a process that survives the kill or a pipe held by an escaped child never blocks the caller)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

        def reaped(_future) -> None:
            self.running.pop(proc.pid, None)

        asyncio.get_running_loop().create_task(proc.wait()).add_done_callback(reaped)


def classify(exc: helm_errors.Error, chart: str) -> ConfigurationError | TransientError:
    """A failed `helm template` by its exit status: the chart cannot render these values (permanent),
    or helm itself failed (temporary)."""
    stderr = exc.stderr.decode(errors="replace").strip() if isinstance(exc.stderr, bytes) else str(exc)
    if exc.returncode == HELM_REPORTED_ERROR:
        return ConfigurationError(f"chart {chart} cannot be rendered: {stderr}")
    how = f"was killed by signal {-exc.returncode}" if exc.returncode < 0 else f"exited with {exc.returncode}"
    return TransientError(f"helm template {chart} {how}: {stderr}")


def find_helm() -> str:
    """HELM_BINARY, else a helm on PATH, else the one set-up put into this virtualenv."""
    explicit = os.environ.get("HELM_BINARY")
    if explicit:
        return explicit
    return shutil.which("helm") or str(pathlib.Path(sys.prefix) / "bin" / "helm")


def chart_digest(chart: pathlib.Path) -> str:
    """sha256 over every file of the chart (relative path + content), so edits invalidate the cache."""
    digest = hashlib.sha256()
    for path in sorted(p for p in chart.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(chart)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class Renderer:
    """One pyhelm3 Client for the process, a semaphore bounding helm processes, an LRU render cache."""

    def __init__(self, helm_binary: str | None = None, max_parallel: int | None = None, cache_size: int = 512,
                 timeout: float = RENDER_TIMEOUT):
        self.binary = helm_binary or find_helm()
        self.command = GroupCommand(executable=self.binary, timeout=timeout)
        try:
            self.client = pyhelm3.Client(command=self.command, executable=self.binary)
            self.version = str(self.client.version)
        except (AssertionError, OSError, ValueError, subprocess.CalledProcessError) as exc:
            # pyhelm3 asserts that it exists; nothing can be rendered without it: a start-up error
            raise StartupError(f"helm binary {self.binary!r} is not usable: {str(exc) or 'not found'} "
                               f"(set HELM_BINARY or put helm on PATH)") from exc
        self._max_parallel = max_parallel or os.cpu_count() or 2
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._cache: OrderedDict[str, Rendered] = OrderedDict()
        self._cache_size = self._base_cache_size = cache_size
        self._parsed: dict[str, list[dict]] = {}
        self._digests: dict[pathlib.Path, tuple[float, float, str]] = {}  # chart -> (checked, newest mtime, digest)

    def serve(self, networks: int) -> None:
        """Size the cache for the Networks served: a shoot render each and room for the monitoring ones."""
        if self._base_cache_size:
            self._cache_size = max(self._base_cache_size, networks + networks // 4 + 16)

    async def objects(self, rendered: Rendered) -> list[dict]:
        """Parsed copies of a render's objects, parsed off the event loop once per distinct render (a
        few: the seed monitoring charts), so callers may change them."""
        objects = self._parsed.get(rendered.digest)
        if objects is None:
            objects = await asyncio.to_thread(lambda: rendered.objects)
            self._parsed[rendered.digest] = objects
            while len(self._parsed) > PARSED_RENDERS:
                self._parsed.pop(next(iter(self._parsed)))
        return copy.deepcopy(objects)

    def overdue(self) -> list[str]:
        """helm processes still alive past their deadline (killed but not gone), for /readyz."""
        now = time.monotonic()
        return [f"{what} (pid {pid}, {now - deadline:.0f}s past its deadline)"
                for pid, (what, deadline) in list(self.command.running.items()) if now > deadline]

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores[loop] = asyncio.Semaphore(self._max_parallel)
        return self._semaphores[loop]

    def _chart_digest(self, chart: pathlib.Path) -> str:
        """The chart's digest, computed again only when a file's mtime changed; the mtimes are looked at
        once per CHART_CHECK_SECONDS at most, not per render."""
        now = time.monotonic()
        cached = self._digests.get(chart)
        if cached is not None and now - cached[0] < CHART_CHECK_SECONDS:
            return cached[2]
        newest = max((p.stat().st_mtime for p in chart.rglob("*")), default=0.0)
        if cached is None or cached[1] != newest:
            cached = (now, newest, chart_digest(chart))
        self._digests[chart] = (now, cached[1], cached[2])
        return cached[2]

    def cache_key(self, chart: pathlib.Path, release: str, namespace: str, values: dict, kube_version: str) -> str:
        canonical = json.dumps(
            [self._chart_digest(chart), release, namespace, values, kube_version, self.version],
            sort_keys=True, separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    async def render(self, chart: pathlib.Path, release: str, namespace: str, values: dict,
                     kube_version: str) -> Rendered:
        chart = pathlib.Path(chart).resolve()
        key = self.cache_key(chart, release, namespace, values, kube_version)
        if key in self._cache:
            self._cache.move_to_end(key)
            metrics.RENDER_CACHE.labels("hit").inc()
            return self._cache[key]
        metrics.RENDER_CACHE.labels("miss").inc()
        argv = ["template", release, str(chart), "--namespace", namespace,
                "--kube-version", kube_version, "--values", "-"]
        async with self._semaphore():
            metrics.HELM_IN_FLIGHT.inc()
            started = time.perf_counter()
            try:
                stdout = await self.command.run(argv, json.dumps(values).encode())
            except helm_errors.Error as exc:
                raise classify(exc, chart.name) from exc
            except OSError as exc:
                raise TransientError(f"helm could not be started: {exc}") from exc
            finally:
                metrics.HELM_IN_FLIGHT.dec()
                metrics.RENDER_SECONDS.labels(chart.name).observe(time.perf_counter() - started)
        rendered = await asyncio.to_thread(lambda: Rendered.of(gardener_layout(stdout.decode(), chart.name)))
        self._cache[key] = rendered
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return rendered
