"""Process entry: ``python -m apiserver_emulator --port 0 --crds DIR --seed DIR --kubeconfig PATH``.

Serves until SIGTERM/SIGINT. Writes the kubeconfig once listening, then prints one line with the URL
(``make start`` and scripts wait for that line).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .emulator import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apiserver_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--crds", nargs="*", default=[], help="CRD YAML files or directories")
    parser.add_argument("--seed", nargs="*", default=[], help="YAML files or directories of objects to create")
    parser.add_argument("--kubeconfig", help="where to write a kubeconfig for the emulator")
    args = parser.parse_args(argv)

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    emulator = Emulator(crd_paths=args.crds, port=args.port, host=args.host).start()
    try:
        emulator.seed(args.seed)
        if args.kubeconfig:
            emulator.write_kubeconfig(args.kubeconfig)
        print(f"kube-apiserver emulator listening on {emulator.url}", flush=True)
        stopped.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
