"""Flags of `gardener-extension-networking run`, with the Go extensions' names and defaults.

Used by `cli` (parsing) and `loop` (reading). Kept apart from `cli` so the flag list reads as one table.
"""

from __future__ import annotations

import argparse
import os


def _boolean(value: str) -> bool:
    """Go's flag syntax for booleans: `--flag`, `--flag=true`, `--flag=false`."""
    lowered = value.lower()
    if lowered in ("true", "1", "t", "yes"):
        return True
    if lowered in ("false", "0", "f", "no"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {value!r}")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--types", default="", help="network types to serve, comma-separated (default: every mapping file)")
    add("--kubeconfig", default=os.environ.get("KUBECONFIG", ""), help="kubeconfig of the seed (default: in-cluster)")
    add("--config-file", default="", help="ControllerConfiguration file")
    add("--max-concurrent-reconciles", type=int, default=5, help="reconcile workers")
    add("--max-parallel-renders", type=int, default=0, help="helm processes at once (default: CPU count)")
    add("--ignore-operation-annotation", type=_boolean, nargs="?", const=True, default=False,
        help="reconcile on generation changes instead of the gardener.cloud/operation annotation")
    add("--resync-period", type=float, default=300.0, help="seconds between full re-lists of Networks")
    add("--leader-election", type=_boolean, nargs="?", const=True, default=None,
        help="use a Lease for leader election (default: on in-cluster, off with a kubeconfig)")
    add("--leader-election-id", default="networking-leader-election", help="name of the leader election Lease")
    add("--leader-election-lease-duration", type=float, default=15.0,
        help="seconds a leader's Lease stays valid without renewal")
    add("--leader-election-renew-deadline", type=float, default=10.0,
        help="seconds the leader keeps trying to renew before it gives up leadership (and exits)")
    add("--leader-election-retry-period", type=float, default=2.0, help="seconds between Lease acquire/renew tries")
    add("--leader-election-namespace", default=os.environ.get("LEADER_ELECTION_NAMESPACE", "garden"),
        help="namespace of the leader election Lease (env LEADER_ELECTION_NAMESPACE)")
    add("--heartbeat-namespace", default=os.environ.get("LEADER_ELECTION_NAMESPACE", "garden"),
        help="namespace of the gardener-extension-heartbeat Lease")
    add("--extension-name", default=os.environ.get("EXTENSION_NAME", "gardener-extension-networking"),
        help="holderIdentity of the heartbeat Lease (env EXTENSION_NAME)")
    add("--heartbeat-renew-interval-seconds", type=float, default=30.0, help="heartbeat Lease renew interval")
    add("--health-bind-address", default=":8081", help="address of /healthz and /readyz")
    add("--metrics-bind-address", default=":8080", help="address of /metrics")
    add("--delete-timeout", type=float, default=120.0, help="seconds to wait for the ManagedResource to be gone")
    add("--render-timeout", type=float, default=60.0,
        help="seconds one helm template may take before its whole process group is killed")
    add("--reconcile-timeout", type=float, default=180.0, help="seconds one reconcile may take")
    add("--graceful-shutdown-timeout", type=float, default=30.0,
        help="seconds running reconciles may finish after SIGTERM before they are cancelled")
    add("--gardener-version", default="", help="accepted for compatibility with the Go extensions' charts")
    add("--log-level", default="info", choices=["debug", "info", "error"])
