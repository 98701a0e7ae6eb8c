"""The only module that talks to the API server (the official `kubernetes` client).

Called by `reconciler` (reads and writes for one Network), `loop` (list/watch, leases) and nothing
else. Every blocking client call runs in a thread (`asyncio.to_thread`) behind a token bucket with the
ControllerConfiguration's qps/burst, and is retried here with exponential backoff and jitter on 409,
429 (honouring Retry-After), 5xx and connection errors. What is left over reaches the caller as
`NotFound`, `TransientError`, or `Rejected` (400/413/422: a configuration problem, never retried).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import tenacity
import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from controller.errors import ConfigurationError, TransientError
from controller.files import load_document, parse_document
from controller.managedresource import GC_LABEL, REFERENCE_PREFIX

log = logging.getLogger(__name__)

NETWORKS = ("extensions.gardener.cloud", "v1alpha1", "networks")
CLUSTERS = ("extensions.gardener.cloud", "v1alpha1", "clusters")
MANAGED_RESOURCES = ("resources.gardener.cloud", "v1alpha1", "managedresources")
MERGE_PATCH = "application/merge-patch+json"
REQUEST_TIMEOUT = 30.0
ATTEMPTS = 5
# Where Gardener keeps a kubeconfig for the shoot in its seed namespace (extensions/pkg/util/shoot_clients.go).
SHOOT_ACCESS_SECRETS = ("gardener-internal", "gardener")
SHOOT_REQUEST_TIMEOUT = 5.0


class NotFound(Exception):
    """The object (or its namespace) does not exist."""


class Conflict(TransientError):
    """409: AlreadyExists or a stale resourceVersion."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason


class Rejected(ConfigurationError):
    """400, 413 or 422: the API server refuses this request for good (an invalid or too large object);
    repeating it cannot help, so it is a configuration problem with the server's reason."""


# Answers that stay the same however often the request is repeated.
PERMANENT_STATUSES = (400, 413, 422)


class _Retryable(TransientError):
    """429, 5xx or a broken connection: worth another attempt right here."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class TokenBucket:
    """client-go's client-side rate limit: `qps` tokens per second, at most `burst` saved up."""

    def __init__(self, qps: float, burst: int):
        self.rate, self.capacity = max(qps, 0.001), max(burst, 1)
        self.tokens, self.stamp = float(self.capacity), time.monotonic()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; return how long the caller has to wait for it."""
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
        return body.get("message") or exc.reason or ""
    except (ValueError, TypeError):
        return exc.reason or str(exc.body)


def _status_reason(exc: ApiException) -> str:
    try:
        return json.loads(exc.body or "{}").get("reason", "")
    except (ValueError, TypeError):
        return ""


def _translate(exc: BaseException, what: str) -> BaseException:
    """ApiException / urllib3 errors → NotFound, Conflict, _Retryable or TransientError."""
    if isinstance(exc, ApiException):
        text = f"{what}: {exc.status} {_status_message(exc)}"
        if exc.status == 404:
            return NotFound(text)
        if exc.status == 409:
            return Conflict(text, _status_reason(exc))
        if exc.status in PERMANENT_STATUSES:
            return Rejected(text)
        if exc.status == 429 or exc.status >= 500 or exc.status == 0:
            retry_after = (exc.headers or {}).get("Retry-After") if exc.headers else None
            try:
                seconds = float(retry_after) if retry_after else None
            except ValueError:
                seconds = None
            return _Retryable(text, seconds)
        return TransientError(text)
    if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
        return _Retryable(f"{what}: {exc.__class__.__name__}: {exc}")
    return exc


def _wait(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception()
    if getattr(exc, "retry_after", None):
        return exc.retry_after
    return tenacity.wait_exponential_jitter(multiplier=0.1, max=5.0, jitter=0.2)(state)


@dataclass
class ApplyResult:
    """What an idempotent write did: `changed` is False when the server already had it."""

    changed: bool


class Kube:
    """Async façade over one `kubernetes.client.ApiClient`."""

    def __init__(self, api_client: k8s.ApiClient, qps: float = 100.0, burst: int = 130,
                 attempts: int = ATTEMPTS, request_timeout: float = REQUEST_TIMEOUT):
        self.api_client = api_client
        self.attempts, self.request_timeout = attempts, request_timeout
        self.custom = k8s.CustomObjectsApi(api_client)
        self.core = k8s.CoreV1Api(api_client)
        self.coordination = k8s.CoordinationV1Api(api_client)
        self.bucket = TokenBucket(qps, burst)
        self._resources: dict[tuple[str, str], tuple[str, bool]] = {}

    @classmethod
    def connect(cls, kubeconfig: str = "", qps: float = 100.0, burst: int = 130) -> "Kube":
        """From a kubeconfig file, else the in-cluster service account."""
        configuration = k8s.Configuration()
        if kubeconfig:
            load_document(kubeconfig)  # the hardened loader first: limits, encoding, one clear line
            try:
                k8s_config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
            except Exception:  # noqa: BLE001 - any message could quote the kubeconfig: name the file only
                raise ConfigurationError(f"{kubeconfig}: not a usable kubeconfig") from None
        else:
            k8s_config.load_incluster_config(client_configuration=configuration)
        return cls(k8s.ApiClient(configuration), qps, burst)

    def close(self) -> None:
        self.api_client.close()

    async def call(self, what: str, function: Callable, *args, retry_conflicts: bool = True, **kwargs) -> Any:
        """One API call with rate limit and retries. `retry_conflicts=False` for writes carrying a
        resourceVersion: repeating them cannot succeed, the caller re-reads instead."""
        kwargs.setdefault("_request_timeout", self.request_timeout)

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, _Retryable) or (retry_conflicts and isinstance(exc, Conflict)
                                                   and exc.reason != "AlreadyExists")

        async for attempt in tenacity.AsyncRetrying(retry=tenacity.retry_if_exception(retryable), wait=_wait,
                                                    stop=tenacity.stop_after_attempt(self.attempts), reraise=True):
            with attempt:
                delay = self.bucket.reserve()
                if delay:
                    await asyncio.sleep(delay)
                try:
                    return await asyncio.to_thread(function, *args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - translated, then retried or raised
                    translated = _translate(exc, what)
                    if translated is exc:
                        raise
                    log.debug("API call failed", extra={"call": what, "error": str(translated)})
                    raise translated from exc

    async def optional(self, what: str, function: Callable, *args, **kwargs) -> Any:
        """Like `call`, but None for NotFound."""
        try:
            return await self.call(what, function, *args, **kwargs)
        except NotFound:
            return None

    # --- Networks and Clusters ---

    async def get_network(self, namespace: str, name: str) -> dict | None:
        return await self.optional(f"get network {namespace}/{name}", self.custom.get_namespaced_custom_object,
                                   *NETWORKS[:2], namespace, NETWORKS[2], name)

    async def list_objects(self, resource: tuple[str, str, str]) -> tuple[list[dict], str]:
        """All objects of a custom resource in all namespaces, with the list's resourceVersion."""
        result = await self.call(f"list {resource[2]}", self.custom.list_cluster_custom_object, *resource)
        return result.get("items") or [], (result.get("metadata") or {}).get("resourceVersion", "")

    def watch_blocking(self, resource: tuple[str, str, str], resource_version: str, timeout: float,
                       on_event: Callable[[str, dict], None], stop: threading.Event) -> str:
        """Watch from `resource_version` until `timeout`, `stop` or an error; blocking (run it on a
        thread of its own). Returns the last resourceVersion seen; raises TransientError on 410 etc."""
        watcher = k8s_watch.Watch()
        try:
            for event in watcher.stream(self.custom.list_cluster_custom_object, *resource,
                                        resource_version=resource_version, allow_watch_bookmarks=True,
                                        timeout_seconds=max(1, int(timeout))):
                obj = event.get("raw_object") or event.get("object") or {}
                if event["type"] == "ERROR":
                    raise TransientError(f"watch {resource[2]}: {obj.get('message', obj)}")
                resource_version = (obj.get("metadata") or {}).get("resourceVersion", resource_version)
                if event["type"] != "BOOKMARK":
                    on_event(event["type"], obj)
                if stop.is_set():
                    break
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise TransientError(f"watch {resource[2]}: {exc}") from exc
        finally:
            watcher.stop()
        return resource_version

    async def get_cluster(self, name: str) -> dict | None:
        return await self.optional(f"get cluster {name}", self.custom.get_cluster_custom_object,
                                   *CLUSTERS[:2], CLUSTERS[2], name)

    async def get_namespace(self, name: str) -> dict | None:
        result = await self.optional(f"get namespace {name}", self.core.read_namespace, name)
        return self.api_client.sanitize_for_serialization(result) if result is not None else None

    async def patch_network(self, namespace: str, name: str, patch: dict) -> dict:
        """Merge patch of metadata; a resourceVersion in the patch makes it conditional (no blind retry)."""
        conditional = "resourceVersion" in (patch.get("metadata") or {})
        return await self.call(f"patch network {namespace}/{name}", self.custom.patch_namespaced_custom_object,
                               *NETWORKS[:2], namespace, NETWORKS[2], name, patch,
                               retry_conflicts=not conditional, _content_type=MERGE_PATCH)

    async def patch_network_status(self, namespace: str, name: str, status: dict) -> dict:
        return await self.call(f"patch network {namespace}/{name} status",
                               self.custom.patch_namespaced_custom_object_status,
                               *NETWORKS[:2], namespace, NETWORKS[2], name, {"status": status},
                               _content_type=MERGE_PATCH)

    # --- the shoot ---

    async def shoot_client(self, namespace: str) -> "Kube | None":
        """A client for the shoot of a seed namespace, from the kubeconfig Gardener keeps in Secret
        `gardener-internal` (else `gardener`); None when there is none. One attempt, short timeout:
        what is read through it is best effort."""
        for name in SHOOT_ACCESS_SECRETS:
            secret = await self.optional(f"get secret {namespace}/{name}", self.core.read_namespaced_secret,
                                         name, namespace)
            kubeconfig = ((secret.data or {}) if secret is not None else {}).get("kubeconfig")
            if kubeconfig:
                configuration = k8s.Configuration()
                try:
                    doc = parse_document(base64.b64decode(kubeconfig, validate=True), "kubeconfig")
                    k8s_config.load_kube_config_from_dict(doc, client_configuration=configuration)
                except Exception:  # noqa: BLE001 - any message could quote the kubeconfig: name the object only
                    raise TransientError(f"secret {namespace}/{name}: data.kubeconfig is not a usable "
                                         f"kubeconfig") from None
                return Kube(k8s.ApiClient(configuration), attempts=1, request_timeout=SHOOT_REQUEST_TIMEOUT)
        return None

    async def read(self, api_version: str, kind: str, namespace: str = "", name: str = "") -> dict | list | None:
        """One object (None if absent) or, without a name, the list of all of that kind (in a namespace)."""
        path = await self._path(api_version, kind, namespace, name or None)
        what = f"{'get' if name else 'list'} {kind} {namespace}/{name}"
        if name:
            try:
                return await self._raw(what, "GET", path)
            except NotFound:
                return None
        return (await self._raw(what, "GET", path)).get("items") or []

    # --- Secrets and ManagedResources ---

    async def ensure_secret(self, secret: dict) -> ApplyResult:
        """Create an immutable, content-named Secret unless it exists (then its content is the same)."""
        meta = secret["metadata"]
        if await self.optional(f"get secret {meta['namespace']}/{meta['name']}", self.core.read_namespaced_secret,
                               meta["name"], meta["namespace"]) is not None:
            return ApplyResult(False)
        try:
            await self.call(f"create secret {meta['namespace']}/{meta['name']}",
                            self.core.create_namespaced_secret, meta["namespace"], secret)
            return ApplyResult(True)
        except Conflict as exc:
            if exc.reason == "AlreadyExists":
                return ApplyResult(False)
            raise

    async def get_managed_resource(self, namespace: str, name: str) -> dict | None:
        return await self.optional(f"get managedresource {namespace}/{name}",
                                   self.custom.get_namespaced_custom_object,
                                   *MANAGED_RESOURCES[:2], namespace, MANAGED_RESOURCES[2], name)

    async def apply_managed_resource(self, desired: dict) -> ApplyResult:
        """`CreateForShoot`'s MR step: create, or merge labels / replace spec / replace reference
        annotations and update only when that changed something; old secrets get the GC label first.
        A stale read (409) re-reads and tries again."""
        namespace, name = desired["metadata"]["namespace"], desired["metadata"]["name"]
        for attempt in range(ATTEMPTS):
            current = await self.get_managed_resource(namespace, name)
            if current is None:
                try:
                    await self.call(f"create managedresource {namespace}/{name}",
                                    self.custom.create_namespaced_custom_object,
                                    *MANAGED_RESOURCES[:2], namespace, MANAGED_RESOURCES[2], desired)
                    return ApplyResult(True)
                except Conflict:
                    continue
            for ref in (current.get("spec") or {}).get("secretRefs") or []:
                await self._label_garbage_collectable(namespace, ref["name"])
            updated = merge_managed_resource(current, desired)
            if updated == current:
                return ApplyResult(False)
            try:
                await self.call(f"update managedresource {namespace}/{name}",
                                self.custom.replace_namespaced_custom_object,
                                *MANAGED_RESOURCES[:2], namespace, MANAGED_RESOURCES[2], name, updated,
                                retry_conflicts=False)
                return ApplyResult(True)
            except Conflict:
                await asyncio.sleep(0.05 * (attempt + 1))
        raise TransientError(f"update managedresource {namespace}/{name}: conflicts persisted")

    async def _label_garbage_collectable(self, namespace: str, secret: str) -> None:
        current = await self.optional(f"get secret {namespace}/{secret}", self.core.read_namespaced_secret,
                                      secret, namespace)
        if current is None or (current.metadata.labels or {}).get(GC_LABEL) == "true":
            return
        await self.optional(f"label secret {namespace}/{secret}", self.core.patch_namespaced_secret, secret,
                            namespace, {"metadata": {"labels": {GC_LABEL: "true"}}})

    async def set_keep_objects(self, namespace: str, name: str) -> None:
        await self.optional(f"patch managedresource {namespace}/{name}", self.custom.patch_namespaced_custom_object,
                            *MANAGED_RESOURCES[:2], namespace, MANAGED_RESOURCES[2], name,
                            {"spec": {"keepObjects": True}}, _content_type=MERGE_PATCH)

    async def delete_managed_resource(self, namespace: str, name: str) -> None:
        """`managedresources.Delete(withPrefix)`: the legacy secret, every referenced secret, the MR."""
        current = await self.get_managed_resource(namespace, name)
        secrets = [f"managedresource-{name}"] + [ref["name"] for ref in
                                                 ((current or {}).get("spec") or {}).get("secretRefs") or []]
        for secret in secrets:
            await self.optional(f"delete secret {namespace}/{secret}", self.core.delete_namespaced_secret,
                                secret, namespace)
        if current is not None:
            await self.optional(f"delete managedresource {namespace}/{name}",
                                self.custom.delete_namespaced_custom_object,
                                *MANAGED_RESOURCES[:2], namespace, MANAGED_RESOURCES[2], name)

    # --- generic objects (seed monitoring) ---

    async def _resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        """Plural name and scope of a kind, from discovery (cached for the process)."""
        key = (api_version, kind)
        if key not in self._resources:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            doc = await self._raw(f"discover {api_version}", "GET", path)
            for resource in doc.get("resources") or []:
                if resource.get("kind") == kind and "/" not in resource["name"]:
                    self._resources[key] = (resource["name"], bool(resource.get("namespaced")))
                    break
            else:
                raise TransientError(f"the API server does not serve {kind} in {api_version}")
        return self._resources[key]

    async def _path(self, api_version: str, kind: str, namespace: str, name: str | None = None) -> str:
        plural, namespaced = await self._resource(api_version, kind)
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        if namespaced:
            base += f"/namespaces/{namespace}"
        return f"{base}/{plural}" + (f"/{name}" if name else "")

    def _request(self, method: str, path: str, body: dict | None = None, _request_timeout: float = REQUEST_TIMEOUT):
        """One REST call of any kind (the typed APIs do not cover arbitrary CRDs of core/v1 paths)."""
        params = self.api_client.param_serialize(method=method, resource_path=path, body=body,
                                                 header_params={"Accept": "application/json",
                                                                "Content-Type": "application/json"},
                                                 auth_settings=["BearerToken"])
        response = self.api_client.call_api(*params, _request_timeout=_request_timeout)
        response.read()
        return self.api_client.response_deserialize(response, {"2XX": "object"}).data

    async def _raw(self, what: str, method: str, path: str, body: dict | None = None, **kwargs) -> Any:
        return await self.call(what, self._request, method, path, body, **kwargs)

    async def apply_object(self, obj: dict) -> ApplyResult:
        """Create, or replace when the server's copy differs in what we set (no write otherwise)."""
        meta = obj["metadata"]
        what = f"{obj['kind']} {meta.get('namespace')}/{meta['name']}"
        path = await self._path(obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])
        for attempt in range(ATTEMPTS):
            try:
                current = await self._raw(f"get {what}", "GET", path)
            except NotFound:
                try:
                    await self._raw(f"create {what}", "POST", path.rsplit("/", 1)[0], obj)
                    return ApplyResult(True)
                except Conflict:
                    continue
            if _contains(current, obj):
                return ApplyResult(False)
            replacement = copy.deepcopy(obj)
            replacement["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            try:
                await self._raw(f"replace {what}", "PUT", path, replacement, retry_conflicts=False)
                return ApplyResult(True)
            except Conflict:
                await asyncio.sleep(0.05 * (attempt + 1))
        raise TransientError(f"replace {what}: conflicts persisted")

    async def delete_object(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        """Delete one object; False when it was not there."""
        try:
            path = await self._path(api_version, kind, namespace, name)
        except TransientError:
            return False  # the API is not served here, so neither is the object
        try:
            await self._raw(f"delete {kind} {namespace}/{name}", "DELETE", path)
            return True
        except NotFound:
            return False

    # --- Events and Leases ---

    async def record_event(self, event: dict) -> None:
        """Create the Event, or count one more occurrence of it: the same name means the same event
        (client-go's event aggregation), so a failure retried with backoff does not flood the namespace."""
        meta = event["metadata"]
        what = f"event {meta['namespace']}/{meta['name']}"
        try:
            await self.call(f"create {what}", self.core.create_namespaced_event, meta["namespace"], event)
        except Conflict as exc:
            if exc.reason != "AlreadyExists":
                raise
            current = await self.call(f"get {what}", self.core.read_namespaced_event, meta["name"], meta["namespace"])
            await self.call(f"patch {what}", self.core.patch_namespaced_event, meta["name"], meta["namespace"],
                            {"count": (current.count or 1) + 1, "lastTimestamp": event["lastTimestamp"]})

    async def get_lease(self, namespace: str, name: str) -> dict | None:
        result = await self.optional(f"get lease {namespace}/{name}", self.coordination.read_namespaced_lease,
                                     name, namespace)
        return self.api_client.sanitize_for_serialization(result) if result is not None else None

    async def create_lease(self, lease: dict) -> dict:
        meta = lease["metadata"]
        result = await self.call(f"create lease {meta['namespace']}/{meta['name']}",
                                 self.coordination.create_namespaced_lease, meta["namespace"], lease,
                                 retry_conflicts=False)
        return self.api_client.sanitize_for_serialization(result)

    async def replace_lease(self, lease: dict) -> dict:
        """PUT with the resourceVersion read before: the optimistic lock of leader election."""
        meta = lease["metadata"]
        result = await self.call(f"update lease {meta['namespace']}/{meta['name']}",
                                 self.coordination.replace_namespaced_lease, meta["name"], meta["namespace"],
                                 lease, retry_conflicts=False)
        return self.api_client.sanitize_for_serialization(result)


def merge_managed_resource(current: dict, desired: dict) -> dict:
    """The MR as `CreateForShoot` leaves it: labels merged, spec replaced, reference annotations replaced."""
    updated = copy.deepcopy(current)
    meta = updated.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), **(desired["metadata"].get("labels") or {})}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if not k.startswith(REFERENCE_PREFIX)}
    annotations.update(desired["metadata"].get("annotations") or {})
    meta["annotations"] = annotations
    updated["spec"] = copy.deepcopy(desired["spec"])
    return updated


def _contains(current: Any, desired: Any) -> bool:
    """True when every field of `desired` has the same value in `current` (server-added fields ignored)."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(_contains(current.get(k), v) for k, v in desired.items())
    return current == desired
