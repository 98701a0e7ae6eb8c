"""The real gardener-resource-manager (GRM) for the tests: the program that consumes our ManagedResources.

It runs as it does for a shoot in a seed: source = the seed API server (ManagedResources and their
Secrets), target = the shoot API server (where the objects are applied). Only the ManagedResource,
health and garbage-collector controllers run; its webhooks are off (nothing calls them here).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cluster.binaries import binary
from tests.cluster.real import Process, RealCluster, free_port


def configuration(source_kubeconfig: Path, target_kubeconfig: Path, cert_dir: Path, namespace: str) -> dict:
    """A ResourceManagerConfiguration (resourcemanager.config.gardener.cloud/v1alpha1) for one shoot."""
    def server(port: int) -> dict:
        return {"bindAddress": "127.0.0.1", "port": port}
    return {
        "apiVersion": "resourcemanager.config.gardener.cloud/v1alpha1", "kind": "ResourceManagerConfiguration",
        "sourceClientConnection": {"kubeconfig": str(source_kubeconfig), "namespaces": [namespace],
                                   "qps": 100, "burst": 130, "cacheResyncPeriod": "1m"},
        "targetClientConnection": {"kubeconfig": str(target_kubeconfig), "qps": 100, "burst": 130,
                                   "cacheResyncPeriod": "1m"},
        "leaderElection": {"leaderElect": False, "resourceLock": "leases", "resourceName": "gardener-resource-manager",
                           "resourceNamespace": namespace, "leaseDuration": "15s", "renewDeadline": "10s",
                           "retryPeriod": "2s"},
        "server": {"webhooks": {**server(free_port()), "tls": {"serverCertDir": str(cert_dir)}},
                   "healthProbes": server(free_port()), "metrics": server(free_port())},
        "logLevel": "info", "logFormat": "json",
        "controllers": {
            "managedResource": {"enabled": True, "concurrentSyncs": 5, "syncPeriod": "1m", "alwaysUpdate": False},
            "garbageCollector": {"enabled": True, "syncPeriod": "1h"},
            "health": {"concurrentSyncs": 5, "syncPeriod": "15s"},
        },
        "webhooks": {},
    }


class ResourceManager:
    """One GRM process for the ManagedResources of `namespace` in `seed`, applying into `shoot`."""

    def __init__(self, seed: RealCluster, shoot: RealCluster, namespace: str, workdir: Path):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        certs = workdir / "webhook-certs"
        certs.mkdir(exist_ok=True)
        serving = seed.ca.issue("grm-webhook", "gardener-resource-manager", hosts=("127.0.0.1",))
        (certs / "tls.crt").write_bytes(serving.cert.read_bytes())
        (certs / "tls.key").write_bytes(serving.key.read_bytes())
        config = configuration(seed.write_kubeconfig(workdir / "source.kubeconfig"),
                               shoot.write_kubeconfig(workdir / "target.kubeconfig"), certs, namespace)
        self.config_path = workdir / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.process: Process | None = None

    def start(self) -> "ResourceManager":
        self.process = Process("gardener-resource-manager",
                               [str(binary("gardener-resource-manager")), "--config", str(self.config_path)],
                               self.workdir / "gardener-resource-manager.log")
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()
            self.process = None

    def log_tail(self, size: int = 4000) -> str:
        return (self.workdir / "gardener-resource-manager.log").read_text(errors="replace")[-size:]

    def __enter__(self) -> "ResourceManager":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
