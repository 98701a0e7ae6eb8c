"""`make start`: run the controller locally.

With KUBECONFIG set, the controller runs against that cluster. Without, the API server emulator is
started as a child process (CRDs from example/crds, seeded with the example Namespace, Cluster and
Networks) and the controller runs against it in the foreground; the emulator stops when the
controller does.

Only one `make start` runs at a time: `.local/start.pid` holds the PID of the running one and is checked
before anything is touched (the emulator's kubeconfig, the ports); a stale file (dead PID) is taken over.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
KUBECONFIG = ROOT / ".local" / "kubeconfig"
LOCK = ROOT / ".local" / "start.pid"
SEED_FILES = ("namespace.yaml", "cluster.yaml", "cluster-baz.yaml", "network-calico.yaml", "network-cilium.yaml")
FLAGS = ["--leader-election=false", "--log-format", "text", "--metrics-bind-address", ":8080", "--health-bind-address", ":8081"]


def start_emulator() -> subprocess.Popen:
    seeds = [str(ROOT / "example" / name) for name in SEED_FILES if (ROOT / "example" / name).is_file()]
    KUBECONFIG.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "apiserver_emulator", "--port", "0",
                                "--crds", str(ROOT / "example" / "crds"), "--seed", *seeds,
                                "--kubeconfig", str(KUBECONFIG)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # printed once the kubeconfig is written
    if process.poll() is not None or "listening" not in line:
        raise SystemExit(f"the API emulator did not start: {line.strip()}")
    print(line.strip(), flush=True)
    return process


def hints(kubeconfig: str) -> None:
    kubectl = f"KUBECONFIG={kubeconfig} {BIN / 'kubectl'}"
    print(f"""
Try, in another shell:
  {kubectl} get networks -A
  {kubectl} annotate network -n shoot--foo--bar bar gardener.cloud/operation=reconcile --overwrite
  {kubectl} get managedresources -A
  {kubectl} get network -n shoot--foo--bar bar -o jsonpath='{{.status.lastOperation}}'
  curl -s localhost:8081/readyz; curl -s localhost:8080/metrics | grep -E "^(networking|controller_runtime|workqueue)_"
""", flush=True)


def take_lock() -> None:
    """Write our PID to LOCK, atomically; refuse (SystemExit) while another live `make start` holds it."""
    LOCK.parent.mkdir(exist_ok=True)
    while True:
        try:
            fd = os.open(LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(LOCK.read_text().strip())
                if pid <= 0:
                    raise ValueError(pid)
                os.kill(pid, 0)
            except (ValueError, ProcessLookupError, FileNotFoundError):
                LOCK.unlink(missing_ok=True)  # stale: its process is gone
                continue
            except PermissionError:
                pass  # alive, another user's
            raise SystemExit(f"make start is already running (PID {pid}, {LOCK}); stop it first") from None
        with os.fdopen(fd, "w") as file:
            file.write(f"{os.getpid()}\n")
        return


def main() -> int:
    take_lock()
    try:
        return serve()
    finally:
        LOCK.unlink(missing_ok=True)


def serve() -> int:
    emulator = None
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        emulator = start_emulator()
        kubeconfig = str(KUBECONFIG)
    hints(kubeconfig)
    command = [str(BIN / "gardener-extension-networking"), "run", "--kubeconfig", kubeconfig, *FLAGS]
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops everything like Ctrl-C
    controller = subprocess.Popen(command, cwd=ROOT)
    try:
        return controller.wait()
    except KeyboardInterrupt:
        controller.send_signal(signal.SIGTERM)
        return controller.wait(timeout=60)
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
