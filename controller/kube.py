"""The generic API client: CRUD and watch of any resource, behind one retry policy.

Used by every module that talks to an API server (the manager's informers, leader election, the
reconciler's helpers, the webhooks, `diff`) and knows nothing of Gardener. Every blocking call of the
official `kubernetes` client runs in a thread (`asyncio.to_thread`) behind a token bucket with the
ControllerConfiguration's qps/burst and is retried HERE, and only here (urllib3's own retries are off),
with exponential backoff and jitter on 409, 429 (honouring Retry-After), 5xx and connection errors.
What is left over reaches the caller as one of `apierrors`' errors. Objects are plain dicts.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

import tenacity
import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from controller.apierrors import Conflict, NotFound, NotServed, Retryable, translate
from controller.errors import ConfigurationError, StartupError, TransientError
from controller.files import load_document
from controller.resources import Resource
from controller.runtime.ratelimit import TokenBucket

log = logging.getLogger(__name__)

JSON, MERGE_PATCH = "application/json", "application/merge-patch+json"
REQUEST_TIMEOUT = 30.0
ATTEMPTS = 5


def _wait(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception()
    if getattr(exc, "delay", None):
        return exc.delay
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
        self.bucket = TokenBucket(qps, burst)
        self._kinds: dict[tuple[str, str], Resource] = {}

    @classmethod
    def from_configuration(cls, configuration: k8s.Configuration, **kwargs) -> "Kube":
        configuration.retries = 0  # one retry layer: ours
        return cls(k8s.ApiClient(configuration), **kwargs)

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
            try:
                k8s_config.load_incluster_config(client_configuration=configuration)
            except k8s_config.ConfigException as exc:
                raise StartupError(f"no --kubeconfig and not in a cluster: {exc}") from None
        return cls.from_configuration(configuration, qps=qps, burst=burst)

    def close(self) -> None:
        self.api_client.close()

    async def call(self, what: str, function: Callable, *args, retry_conflicts: bool = True, **kwargs) -> Any:
        """One API call with rate limit and retries. `retry_conflicts=False` for writes carrying a
        resourceVersion: repeating them cannot succeed, the caller re-reads instead."""
        kwargs.setdefault("_request_timeout", self.request_timeout)

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, Retryable) or (retry_conflicts and isinstance(exc, Conflict)
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
                    translated = translate(exc, what)
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

    # --- REST ---

    def _request(self, method: str, path: str, body: dict | None = None, content_type: str = JSON,
                 _request_timeout: float = REQUEST_TIMEOUT):
        params = self.api_client.param_serialize(method=method, resource_path=path, body=body,
                                                 header_params={"Accept": JSON, "Content-Type": content_type},
                                                 auth_settings=["BearerToken"])
        response = self.api_client.call_api(*params, _request_timeout=_request_timeout)
        response.read()
        return self.api_client.response_deserialize(response, {"2XX": "object"}).data

    async def request(self, what: str, method: str, path: str, body: dict | None = None,
                      content_type: str = JSON, retry_conflicts: bool = True) -> Any:
        return await self.call(what, self._request, method, path, body, content_type,
                               retry_conflicts=retry_conflicts)

    async def get(self, resource: Resource, namespace: str, name: str) -> dict | None:
        """One object, None when it (or its namespace) is absent."""
        try:
            return await self.request(f"get {resource.plural} {namespace}/{name}", "GET",
                                      resource.path(namespace, name))
        except NotFound:
            return None

    async def list(self, resource: Resource, namespace: str = "") -> tuple[list[dict], str]:
        """Every object (of a namespace, or of all), with the list's resourceVersion."""
        result = await self.request(f"list {resource.plural} {namespace}".rstrip(), "GET", resource.path(namespace))
        return result.get("items") or [], (result.get("metadata") or {}).get("resourceVersion", "")

    async def create(self, resource: Resource, obj: dict) -> dict:
        meta = obj["metadata"]
        return await self.request(f"create {resource.plural} {meta.get('namespace', '')}/{meta['name']}", "POST",
                                  resource.path(meta.get("namespace", "")), obj)

    async def replace(self, resource: Resource, obj: dict) -> dict:
        """PUT with the resourceVersion the caller read: a conflict is the caller's to resolve."""
        meta = obj["metadata"]
        return await self.request(f"update {resource.plural} {meta.get('namespace', '')}/{meta['name']}", "PUT",
                                  resource.path(meta.get("namespace", ""), meta["name"]), obj, retry_conflicts=False)

    async def patch(self, resource: Resource, namespace: str, name: str, patch: dict, subresource: str = "") -> dict:
        """Merge patch; a resourceVersion in the patch makes it conditional (no blind retry of a 409)."""
        conditional = "resourceVersion" in (patch.get("metadata") or {})
        return await self.request(f"patch {resource.plural} {namespace}/{name} {subresource}".rstrip(), "PATCH",
                                  resource.path(namespace, name, subresource), patch, MERGE_PATCH,
                                  retry_conflicts=not conditional)

    async def delete(self, resource: Resource, namespace: str, name: str) -> bool:
        """Delete one object; False when it was not there."""
        try:
            await self.request(f"delete {resource.plural} {namespace}/{name}", "DELETE",
                               resource.path(namespace, name))
            return True
        except NotFound:
            return False

    def watch_blocking(self, resource: Resource, resource_version: str, timeout: float,
                       on_event: Callable[[str, dict], None], stop: threading.Event) -> str:
        """Watch a custom resource in all namespaces (or a cluster-scoped core one: Namespaces) from
        `resource_version` until `timeout`, `stop` or an error; blocking (run it on a thread of its own).
        Returns the last resourceVersion seen; raises TransientError on 410 etc. (the informer re-lists)."""
        watcher = k8s_watch.Watch()
        if resource.api_version == "v1":  # core, cluster-scoped (Namespaces): the typed client's list
            function, args = getattr(self.core, f"list_{resource.plural.removesuffix('s')}"), ()
        else:
            function, args = self.custom.list_cluster_custom_object, (*resource.group_version, resource.plural)
        try:
            for event in watcher.stream(function, *args, resource_version=resource_version,
                                        allow_watch_bookmarks=True, timeout_seconds=max(1, int(timeout))):
                obj = event.get("raw_object") or event.get("object") or {}
                if event["type"] == "ERROR":
                    raise TransientError(f"watch {resource.plural}: {obj.get('message', obj)}")
                resource_version = (obj.get("metadata") or {}).get("resourceVersion", resource_version)
                if event["type"] != "BOOKMARK":
                    on_event(event["type"], obj)
                if stop.is_set():
                    break
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise TransientError(f"watch {resource.plural}: {exc}") from exc
        finally:
            watcher.stop()
        return resource_version

    # --- any kind, by apiVersion and kind (discovery) ---

    async def resource_for(self, api_version: str, kind: str) -> Resource:
        """Plural name and scope of a kind, from discovery (cached for the process). NotServed when the
        API server does not serve it; any other failure of discovery propagates."""
        key = (api_version, kind)
        if key not in self._kinds:
            try:
                doc = await self.request(f"discover {api_version}", "GET",
                                         "/api/v1" if api_version == "v1" else f"/apis/{api_version}")
            except NotFound:
                raise NotServed(f"the API server does not serve {api_version}") from None
            for resource in doc.get("resources") or []:
                if resource.get("kind") == kind and "/" not in resource["name"]:
                    self._kinds[key] = Resource(api_version, resource["name"], bool(resource.get("namespaced")))
                    break
            else:
                raise NotServed(f"the API server does not serve {kind} in {api_version}")
        return self._kinds[key]

    async def read(self, api_version: str, kind: str, namespace: str = "", name: str = "") -> dict | list | None:
        """One object (None if absent) or, without a name, the list of all of that kind (in a namespace)."""
        resource = await self.resource_for(api_version, kind)
        if name:
            return await self.get(resource, namespace, name)
        return (await self.list(resource, namespace))[0]

    async def apply_object(self, obj: dict) -> ApplyResult:
        """Create, or replace when the server's copy differs in what we set (no write otherwise); a
        stale read (409) re-reads and tries again."""
        meta = obj["metadata"]
        resource = await self.resource_for(obj["apiVersion"], obj["kind"])
        namespace = meta.get("namespace", "")
        for attempt in range(ATTEMPTS):
            current = await self.get(resource, namespace, meta["name"])
            if current is None:
                try:
                    await self.create(resource, obj)
                    return ApplyResult(True)
                except Conflict:
                    continue
            if contains(current, obj):
                return ApplyResult(False)
            replacement = copy.deepcopy(obj)
            replacement["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            try:
                await self.replace(resource, replacement)
                return ApplyResult(True)
            except Conflict:
                await asyncio.sleep(0.05 * (attempt + 1))
        raise TransientError(f"replace {obj['kind']} {namespace}/{meta['name']}: conflicts persisted")

    async def delete_object(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        """Delete one object of any kind; False when it was not there (or its kind is not served)."""
        try:
            resource = await self.resource_for(api_version, kind)
        except NotServed:
            return False
        return await self.delete(resource, namespace, name)


def contains(current: Any, desired: Any) -> bool:
    """True when every field of `desired` has the same value in `current` (server-added fields ignored)."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(contains(current.get(k), v) for k, v in desired.items())
    return current == desired
