"""A real control plane for the tests: etcd + kube-apiserver on loopback, like controller-runtime's envtest.

`RealCluster` starts both programs (built by `hack/build-binaries.sh test`; on request also
kube-controller-manager with the garbage collector and namespace controller, which foreground
deletions and namespace deletion need) with TLS, client-certificate auth, `--authorization-mode=RBAC`,
service-account keys (TokenRequest works) and an audit log, waits for `/readyz`, installs CRDs, and
stops everything by process group. It offers the same object access as
the API emulator (`create`, `get`, `list`, `api_client`, `write_kubeconfig`, `request_log`), so the same
behaviour tests run against both.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable

import yaml
from kubernetes import client

from tests.cluster.binaries import binary
from tests.cluster.certs import CertificateAuthority, service_account_keys

START_TIMEOUT = 90.0
THROTTLE_RETRIES = 10
AUDIT_POLICY = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                "omitStages": ["RequestReceived", "ResponseStarted"], "rules": [{"level": "Metadata"}]}
VERB_METHODS = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT",
                "patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETE"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_documents(paths: Iterable[str | Path]) -> list[dict]:
    """Every YAML document of the files (and *.yaml files of the directories), in name order."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return [d for f in files for d in yaml.safe_load_all(f.read_text()) if d]


class Process:
    """A child program in its own process group, its output in a log file, stopped by group."""

    def __init__(self, name: str, argv: list[str], log: Path):
        self.name, self.log = name, log
        self._file = log.open("wb")
        self.popen = subprocess.Popen(argv, stdout=self._file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self, grace: float = 10.0) -> None:
        if self.popen.poll() is None:
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.popen.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.popen.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._file.close()


class RealCluster:
    """etcd + kube-apiserver on 127.0.0.1 with an admin client certificate (group system:masters)."""

    def __init__(self, name: str = "seed", crd_paths: Iterable[str | Path] = (), workdir: Path | None = None,
                 controller_manager: bool = False):
        self.name = name
        self.controller_manager = controller_manager
        self.crd_paths = list(crd_paths)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"realcluster-{name}-"))
        self.processes: list[Process] = []
        self.port = 0
        self.url = ""
        self.kubeconfig_path = self.workdir / "admin.kubeconfig"
        self.audit_log = self.workdir / "audit.log"
        self._audit_offset = 0
        self._request_log: list[tuple[str, str, int]] = []
        self._request_users: list[str] = []
        self._resources: dict[str, dict[str, dict]] = {}

    # --- lifecycle ---

    def start(self) -> "RealCluster":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        pki = self.workdir / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        self.ca = CertificateAuthority(pki)
        serving = self.ca.issue("apiserver", "kube-apiserver", hosts=("127.0.0.1", "localhost"))
        self.admin = self.ca.issue("admin", "admin", organizations=("system:masters",))
        sa = service_account_keys(pki)
        (self.workdir / "audit-policy.yaml").write_text(yaml.safe_dump(AUDIT_POLICY))

        etcd_port, peer_port, self.port = free_port(), free_port(), free_port()
        etcd_url, peer_url = f"http://127.0.0.1:{etcd_port}", f"http://127.0.0.1:{peer_port}"
        self.processes.append(Process("etcd", [
            str(binary("etcd")), "--name", "test", "--data-dir", str(self.workdir / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"test={peer_url}", "--unsafe-no-fsync", "--log-level", "warn",
            "--listen-metrics-urls", f"http://127.0.0.1:{free_port()}",
        ], self.workdir / "etcd.log"))
        self.url = f"https://127.0.0.1:{self.port}"
        self.processes.append(Process("kube-apiserver", [
            str(binary("kube-apiserver")), "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(self.port),
            "--tls-cert-file", str(serving.cert), "--tls-private-key-file", str(serving.key),
            "--client-ca-file", str(self.ca.pair.cert), "--authorization-mode", "RBAC",
            "--service-account-issuer", f"https://127.0.0.1:{self.port}",
            "--service-account-key-file", str(sa.cert), "--service-account-signing-key-file", str(sa.key),
            "--service-cluster-ip-range", "10.0.0.0/24", "--allow-privileged=true",
            "--disable-admission-plugins", "ServiceAccount", "--endpoint-reconciler-type", "none",
            "--enable-priority-and-fairness=false", "--profiling=false", "--cert-dir", str(self.workdir / "certs"),
            "--audit-policy-file", str(self.workdir / "audit-policy.yaml"),
            "--audit-log-path", str(self.audit_log), "--audit-log-format", "json",
        ], self.workdir / "kube-apiserver.log"))
        self.write_kubeconfig(self.kubeconfig_path)
        self._wait_ready()
        if self.controller_manager:
            self.processes.append(Process("kube-controller-manager", [
                str(binary("kube-controller-manager")), "--kubeconfig", str(self.kubeconfig_path),
                "--controllers", "garbagecollector,namespace", "--leader-elect=false", "--secure-port=0",
                "--use-service-account-credentials=false",
            ], self.workdir / "kube-controller-manager.log"))
        if self.crd_paths:
            self.install_crds(self.crd_paths)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self._own_workdir and not os.environ.get("KEEP_REALCLUSTER"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RealCluster":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            for process in self.processes:
                process.check_alive()
            try:
                status, body = self.http("GET", "/readyz")
                if status == 200:
                    return
                last = f"{status} {body}"
            except (OSError, urllib.error.URLError) as exc:
                last = str(exc)
            time.sleep(0.25)
        raise RuntimeError(f"kube-apiserver not ready after {START_TIMEOUT}s: {last}")

    # --- clients ---

    def kubeconfig(self, user: dict | None = None) -> dict:
        """A kubeconfig for this cluster; the admin client certificate unless `user` is given."""
        def data(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode()
        admin = {"client-certificate-data": data(self.admin.cert), "client-key-data": data(self.admin.key)}
        return {
            "apiVersion": "v1", "kind": "Config", "current-context": self.name, "preferences": {},
            "clusters": [{"name": self.name, "cluster": {"server": self.url,
                                                         "certificate-authority-data": data(self.ca.pair.cert)}}],
            "users": [{"name": self.name, "user": user or admin}],
            "contexts": [{"name": self.name, "context": {"cluster": self.name, "user": self.name,
                                                         "namespace": "default"}}],
        }

    def write_kubeconfig(self, path: str | Path, user: dict | None = None) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig(user), sort_keys=False))
        path.chmod(0o600)
        return path

    def api_client(self) -> client.ApiClient:
        configuration = client.Configuration()
        configuration.host = self.url
        configuration.ssl_ca_cert = str(self.ca.pair.cert)
        configuration.cert_file, configuration.key_file = str(self.admin.cert), str(self.admin.key)
        return client.ApiClient(configuration)

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca.pair.cert))
        context.load_cert_chain(str(self.admin.cert), str(self.admin.key))
        return context

    def http(self, method: str, path: str, body=None, content_type: str = "application/json",
             headers: dict | None = None, token: str | None = None) -> tuple[int, dict | str]:
        """A raw request as admin (or with a bearer token); returns (status, JSON body or text).

        429 is retried after its Retry-After, as client-go does (the server answers it while a
        resource's watch cache re-initializes)."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        all_headers = {"Content-Type": content_type, "Accept": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        context = ssl.create_default_context(cafile=str(self.ca.pair.cert)) if token else self.ssl_context()
        for _ in range(THROTTLE_RETRIES):
            request = urllib.request.Request(self.url + path, data=data, method=method, headers=all_headers)
            try:
                with urllib.request.urlopen(request, context=context, timeout=30) as response:
                    status, raw, retry_after = response.status, response.read(), None
            except urllib.error.HTTPError as error:
                status, raw, retry_after = error.code, error.read(), error.headers.get("Retry-After")
            if status != 429:
                break
            time.sleep(float(retry_after or 1))
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    # --- discovery and paths ---

    def _group_resources(self, api_version: str, refresh: bool = False) -> dict[str, dict]:
        if refresh or api_version not in self._resources:
            prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            status, body = self.http("GET", prefix)
            if status != 200:
                raise KeyError(f"no API group version {api_version!r}: {status}")
            found = {}
            for resource in body["resources"]:
                if "/" not in resource["name"]:
                    found[resource["name"]] = found[resource["kind"]] = resource
            self._resources[api_version] = found
        return self._resources[api_version]

    def path(self, api_version: str, kind_or_plural: str, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        resources = self._group_resources(api_version)
        if kind_or_plural not in resources:
            resources = self._group_resources(api_version, refresh=True)
        resource = resources[kind_or_plural]
        parts = ["/api/v1" if api_version == "v1" else f"/apis/{api_version}"]
        if resource["namespaced"] and namespace:
            parts += ["namespaces", namespace]
        parts.append(resource["name"])
        parts += [p for p in (name, subresource) if p]
        return "/".join(parts)

    def namespaced(self, api_version: str, kind_or_plural: str) -> bool:
        self.path(api_version, kind_or_plural)
        return self._group_resources(api_version)[kind_or_plural]["namespaced"]

    # --- direct access (for seeding and assertions), the emulator's interface ---

    def create(self, obj: dict) -> dict:
        """Create the object; status is written too (through /status where that is a subresource), so
        seeds can carry it. Raises RuntimeError with the server's answer on failure."""
        meta = obj.get("metadata", {})
        path = self.path(obj["apiVersion"], obj["kind"], meta.get("namespace"))
        status, created = self.http("POST", path, obj)
        if status == 409 and obj["kind"] == "Namespace":
            return self.get("v1", "namespaces", meta["name"])  # namespaces outlive tests (see `purge`)
        if status != 201:
            raise RuntimeError(f"create {obj['kind']}/{meta.get('name')}: {status} {created}")
        if "status" in obj and created.get("status") != obj["status"]:
            status_path = self.path(obj["apiVersion"], obj["kind"], meta.get("namespace"), created["metadata"]["name"],
                                    "status")
            answer, updated = self.http("PUT", status_path, {**created, "status": obj["status"]})
            if answer == 200:
                created = updated
        return created

    def get(self, api_version: str, kind_or_plural: str, name: str, namespace: str | None = None) -> dict | None:
        status, body = self.http("GET", self.path(api_version, kind_or_plural, namespace, name))
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"get {kind_or_plural}/{name}: {status} {body}")
        return body

    def list(self, api_version: str, kind_or_plural: str, namespace: str | None = None) -> list[dict]:
        status, body = self.http("GET", self.path(api_version, kind_or_plural, namespace))
        if status != 200:
            raise RuntimeError(f"list {kind_or_plural}: {status} {body}")
        return body["items"]

    def seed(self, paths: Iterable[str | Path]) -> list[dict]:
        """Create every object of the YAML files/directories (CRDs excluded), namespaces first."""
        documents = [d for d in read_documents(paths) if d.get("kind") != "CustomResourceDefinition"]
        documents.sort(key=lambda d: d.get("kind") != "Namespace")
        return [self.create(d) for d in documents]

    def ensure_namespace(self, name: str, labels: dict | None = None) -> None:
        status, body = self.http("POST", "/api/v1/namespaces",
                                 {"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": name, "labels": labels or {}}})
        if status not in (201, 409):
            raise RuntimeError(f"namespace {name}: {status} {body}")

    def purge(self, api_version: str, kind_or_plural: str, namespace: str | None = None,
              keep: Iterable[str] = ()) -> None:
        """Delete every object of a kind (finalizers removed first) and wait until they are gone.

        The real API server of the tests runs no kube-controller-manager, so namespaces are never
        deleted (nothing would finalize them); tests reset their objects with this instead.
        """
        keep = set(keep)
        items = [o for o in self.list(api_version, kind_or_plural, namespace) if o["metadata"]["name"] not in keep]
        for obj in items:
            meta = obj["metadata"]
            path = self.path(api_version, kind_or_plural, meta.get("namespace"), meta["name"])
            if meta.get("finalizers"):
                self.http("PATCH", path, {"metadata": {"finalizers": None}}, "application/merge-patch+json")
            self.http("DELETE", path)
        deadline = time.monotonic() + 20
        while any(o["metadata"]["name"] not in keep for o in self.list(api_version, kind_or_plural, namespace)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind_or_plural} in {namespace} not deleted after 20s")
            time.sleep(0.05)

    def install_crds(self, paths: Iterable[str | Path]) -> None:
        """Create (or replace) the CRDs of the files and wait until each is Established and served."""
        crds = [d for d in read_documents(paths) if d.get("kind") == "CustomResourceDefinition"]
        base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        for crd in crds:
            status, body = self.http("POST", base, crd)
            if status == 409:
                current = self.http("GET", f"{base}/{crd['metadata']['name']}")[1]
                crd = {**crd, "metadata": {**crd["metadata"],
                                           "resourceVersion": current["metadata"]["resourceVersion"]}}
                status, body = self.http("PUT", f"{base}/{crd['metadata']['name']}", crd)
            if status not in (200, 201):
                raise RuntimeError(f"CRD {crd['metadata']['name']}: {status} {body}")
        deadline = time.monotonic() + 30
        for crd in crds:
            spec = crd["spec"]
            while True:
                current = self.http("GET", f"{base}/{crd['metadata']['name']}")[1]
                conditions = {c["type"]: c["status"] for c in current.get("status", {}).get("conditions", [])}
                served = [v["name"] for v in spec["versions"] if v.get("served", True)]
                if conditions.get("Established") == "True" and all(
                        self.http("GET", f"/apis/{spec['group']}/{v}")[0] == 200 for v in served):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"CRD {crd['metadata']['name']} not established: {conditions}")
                time.sleep(0.1)
            for version in served:
                self._resources.pop(f"{spec['group']}/{version}", None)

    # --- what clients asked (from the audit log) ---

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every finished request by a client (not the API server's own
        loops), read from the audit log; the same shape as the emulator's request log."""
        with self.audit_log.open("rb") as audit:
            audit.seek(self._audit_offset)
            chunk = audit.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self._audit_offset += len(complete)
        for line in complete.splitlines():
            event = json.loads(line)
            user = event.get("user", {}).get("username", "")
            if user.startswith("system:") and not user.startswith("system:serviceaccount:"):
                continue
            uri = event["requestURI"].split("?", 1)[0]
            status = event.get("responseStatus", {}).get("code", 0)
            self._request_log.append((VERB_METHODS.get(event["verb"], event["verb"].upper()), uri, status))
            self._request_users.append(user)
        return self._request_log

    def requests_by(self, user: str) -> list[tuple[str, str, int]]:
        """The request log of one user (e.g. `system:serviceaccount:<namespace>:<name>`)."""
        log = self.request_log
        return [entry for entry, who in zip(log, self._request_users) if who == user]

    def service_account_token(self, namespace: str, name: str, seconds: int = 3600) -> str:
        """A token of the ServiceAccount through the TokenRequest API, as a Pod would get it."""
        status, body = self.http("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                                 {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                  "spec": {"expirationSeconds": seconds}})
        if status != 201:
            raise RuntimeError(f"TokenRequest for {namespace}/{name}: {status} {body}")
        return body["status"]["token"]
