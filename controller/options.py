"""Flags of `gardener-extension-networking run` and `admission`, with the Go extensions' names and defaults,
and `RunOptions`, the typed result `run` hands to `manager`.

Used by `cli` (parsing). Kept apart from `cli` so the flag list reads as one table; nothing past
`RunOptions.from_args` sees an argparse Namespace.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib


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
    add("--overlay-poll-interval", type=float, default=5.0, help="seconds between checks of --overlay-dir")
    add("--overlay-configmap", default="", help="<namespace>/<name> of the ConfigMap mounted at --overlay-dir: "
                                                "a rejected change is reported as an Event on it")
    add("--gardener-version", default="", help="accepted for compatibility with the Go extensions' charts")
    add_log_arguments(parser)
    add_webhook_arguments(parser, 0, "gardener-extension-networking", "LEADER_ELECTION_NAMESPACE")


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "error"], help="lowest level logged")
    parser.add_argument("--log-format", default="json", choices=["json", "text"],
                        help="json: one object per line (seeds, fluent-bit); text: for people (make start)")


def add_webhook_arguments(parser: argparse.ArgumentParser, server_port: int, service: str, namespace_env: str) -> None:
    """Flags of a webhook server (Gardener's webhook flag names): where it listens, how the webhook
    configurations reach it (`service` mode: a Service reference; `url` mode: https://<url>/<path>), and
    the Secret holding its CA and serving certificate (`certs`). `server_port` 0 switches it off."""
    add = parser.add_argument
    add("--webhook-config-server-port", type=int, default=server_port,
        help=f"HTTPS port of the webhook server (default {server_port}; for `run` 0 means no webhook server)")
    add("--webhook-config-server-host", default="0.0.0.0", help="address the webhook server binds")
    add("--webhook-config-namespace", default=os.environ.get(namespace_env, "garden"),
        help=f"namespace of the webhook Service and certificate Secret (env {namespace_env})")
    add("--webhook-config-service-name", default=service, help="name of the Service in front of the webhook server")
    add("--webhook-config-service-port", type=int, default=443, help="port of that Service")
    add("--webhook-config-mode", choices=["service", "url"], default="service",
        help="how webhook configurations reach the server: a Service reference, or --webhook-config-url")
    add("--webhook-config-url", default="", help="host[:port] of the server in url mode")
    add("--webhook-cert-secret", default="", help="Secret of the CA and serving certificate "
                                                  "(default <service name>-webhook-cert)")
    add("--webhook-cert-check-interval", type=float, default=3600.0,
        help="seconds between checks of the certificate (renewed before expiry)")


def add_admission_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--types", default="", help="network types to admit Shoots for, comma-separated (default: every mapping file)")
    add("--kubeconfig", default=os.environ.get("GARDEN_KUBECONFIG") or os.environ.get("KUBECONFIG", ""),
        help="kubeconfig of the garden cluster (env GARDEN_KUBECONFIG; default: in-cluster)")
    add("--health-bind-address", default=":8081", help="address of /healthz and /readyz")
    add("--metrics-bind-address", default=":8080", help="address of /metrics")
    add_log_arguments(parser)
    add_webhook_arguments(parser, 10250, "gardener-extension-admission-networking", "WEBHOOK_CONFIG_NAMESPACE")


@dataclasses.dataclass(frozen=True)
class WebhookOptions:
    """The `--webhook-*` flags (names as argparse spells them, which `ShootWebhook.from_args` reads)."""

    webhook_config_server_port: int = 0
    webhook_config_server_host: str = "0.0.0.0"
    webhook_config_namespace: str = "garden"
    webhook_config_service_name: str = "gardener-extension-networking"
    webhook_config_service_port: int = 443
    webhook_config_mode: str = "service"
    webhook_config_url: str = ""
    webhook_cert_secret: str = ""
    webhook_cert_check_interval: float = 3600.0


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Everything `run` needs, typed; defaults as the flags'."""

    mappings_dir: pathlib.Path
    types: tuple[str, ...] = ()
    kubeconfig: str = ""
    config_file: str = ""
    max_concurrent_reconciles: int = 5
    max_parallel_renders: int = 0
    ignore_operation_annotation: bool = False
    resync_period: float = 300.0
    leader_election: bool = False
    leader_election_id: str = "networking-leader-election"
    leader_election_lease_duration: float = 15.0
    leader_election_renew_deadline: float = 10.0
    leader_election_retry_period: float = 2.0
    leader_election_namespace: str = "garden"
    heartbeat_namespace: str = "garden"
    extension_name: str = "gardener-extension-networking"
    heartbeat_renew_interval_seconds: float = 30.0
    health_bind_address: str = ":8081"
    metrics_bind_address: str = ":8080"
    delete_timeout: float = 120.0
    render_timeout: float = 60.0
    reconcile_timeout: float = 180.0
    graceful_shutdown_timeout: float = 30.0
    log_level: str = "info"
    log_format: str = "json"
    overlay_dir: pathlib.Path | None = None
    overlay_poll_interval: float = 5.0
    overlay_configmap: str = ""
    webhook: WebhookOptions = WebhookOptions()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "RunOptions":
        """From `run`'s parsed flags: `--types` split, `--leader-election` resolved (default: on
        in-cluster, off with a kubeconfig)."""
        plain = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
                 if f.name not in ("types", "leader_election", "webhook")}
        webhook = WebhookOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(WebhookOptions)})
        leader_election = (not args.kubeconfig) if args.leader_election is None else args.leader_election
        return cls(**plain, types=tuple(t.strip() for t in args.types.split(",") if t.strip()),
                   leader_election=leader_election, webhook=webhook)
