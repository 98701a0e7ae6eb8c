"""A hung helm never pins a worker or a render slot: `render.GroupCommand` kills helm's whole process
group at the render timeout (or when the reconcile is cancelled), and `/readyz` reports helm processes
still alive past their deadline. Driven with helm stubs that hang, fork a hanging child, or fork a child
that escapes the group."""

from __future__ import annotations

import asyncio
import pathlib
import time
from types import SimpleNamespace

import pytest

from controller.errors import StartupError, TransientError
from controller.manager import Controller
from controller.render import Renderer
from tests.helpers import ROOT

CHART = ROOT / "charts" / "internal" / "calico-monitoring"


def stub(tmp_path: pathlib.Path, body: str) -> str:
    """A `helm` that answers `version` like helm 4 and runs `body` for anything else."""
    path = tmp_path / "helm"
    path.write_text(f'#!/bin/sh\ncase "$1" in version) printf v4.1.4; exit 0;; esac\n{body}\n')
    path.chmod(0o755)
    return str(path)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that may never come counts as gone)."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.05)


def render(renderer: Renderer):
    return renderer.render(CHART, "r", "ns", {}, "1.32.0")


async def reaped(renderer: Renderer) -> None:
    """Every killed helm has been waited for (so the event loop can close cleanly)."""
    deadline = time.monotonic() + 10
    while renderer.command.running:
        assert time.monotonic() < deadline, renderer.command.running
        await asyncio.sleep(0.05)


def read_pid(path: pathlib.Path) -> int:
    wait_until(lambda: path.exists() and path.read_text().strip())
    return int(path.read_text())


@pytest.mark.parametrize("body", ["exec sleep 1000", 'sleep 1000 & echo $! > "$PIDFILE"; wait'],
                         ids=["hangs", "forks-a-hanging-child"])
def test_a_hung_helm_times_out_and_its_whole_group_is_killed(tmp_path, monkeypatch, body):
    pidfile = tmp_path / "child.pid"
    monkeypatch.setenv("PIDFILE", str(pidfile))
    renderer = Renderer(stub(tmp_path, f'echo $$ > "$PIDFILE.helm"; {body}'), max_parallel=1, timeout=1.0)

    async def main():
        started = time.monotonic()
        # Two renders for ONE slot: the second only gets it if the first one's slot is freed.
        results = await asyncio.wait_for(asyncio.gather(render(renderer), render(renderer),
                                                        return_exceptions=True), timeout=15)
        seconds = time.monotonic() - started
        await reaped(renderer)
        return results, seconds

    results, seconds = asyncio.run(main())
    assert all(isinstance(r, TransientError) and "did not finish within 1s" in str(r) for r in results), results
    assert seconds < 8
    helm_pid = int(pathlib.Path(f"{pidfile}.helm").read_text())
    wait_until(lambda: not alive(helm_pid))
    if pidfile.exists():
        child = int(pidfile.read_text())
        wait_until(lambda: not alive(child))
    assert renderer.overdue() == []


def test_a_cancelled_render_kills_the_group_at_once(tmp_path, monkeypatch):
    pidfile = tmp_path / "child.pid"
    monkeypatch.setenv("PIDFILE", str(pidfile))
    renderer = Renderer(stub(tmp_path, 'sleep 1000 & echo $! > "$PIDFILE"; wait'), timeout=600)

    async def main():
        task = asyncio.create_task(render(renderer))
        child = await asyncio.to_thread(read_pid, pidfile)  # helm runs: now cancel (a reconcile timeout)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
        await reaped(renderer)
        return child

    child = asyncio.run(main())
    wait_until(lambda: not alive(child))


def test_readiness_reports_helm_processes_past_their_deadline(tmp_path, monkeypatch):
    """A child that escapes the group (setsid) keeps helm's pipes open: the render still returns at its
    deadline, and /readyz says so until the child is gone."""
    pidfile = tmp_path / "child.pid"
    monkeypatch.setenv("PIDFILE", str(pidfile))
    renderer = Renderer(stub(tmp_path, 'setsid sh -c \'echo $$ > "$PIDFILE"; exec sleep 4\' & sleep 1000'),
                        timeout=0.5)
    controller = SimpleNamespace(informers=[SimpleNamespace(synced=True)], renderer=renderer)

    async def main():
        with pytest.raises(TransientError, match="did not finish"):
            await asyncio.wait_for(render(renderer), timeout=5)
        ready, reason = Controller.readiness(controller)
        assert not ready and "past their deadline" in reason and "template r" in reason
        deadline = time.monotonic() + 10
        while renderer.overdue():  # the escaped child exits after 4 s; then the render is reaped
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await reaped(renderer)
        assert Controller.readiness(controller) == (True, "")

    asyncio.run(main())
    assert not alive(int(pidfile.read_text()))


def test_a_helm_that_hangs_at_start_up_is_a_clear_error(tmp_path):
    path = tmp_path / "helm"
    path.write_text("#!/bin/sh\nexec sleep 1000\n")
    path.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(StartupError, match="helm version did not finish within 1s"):
        Renderer(str(path), timeout=1.0)
    assert time.monotonic() - started < 5
