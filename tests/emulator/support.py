"""Helpers shared by the conformance tests (kept out of conftest so they can be imported)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

GROUP, VERSION = "extensions.gardener.cloud", "v1alpha1"


def network(name: str = "net", namespace: str | None = None, **spec) -> dict:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Network", "metadata": metadata,
            "spec": {"type": "calico", "podCIDR": "10.0.0.0/16", "serviceCIDR": "10.1.0.0/16", **spec}}


def error_body(exc) -> dict:
    return json.loads(exc.body)


def _context(server) -> ssl.SSLContext | None:
    """TLS with the admin client certificate for the real server; plain HTTP for the emulator."""
    return server.ssl_context() if hasattr(server, "ssl_context") else None


def urlopen(server, path: str, headers: dict | None = None, timeout: float = 30):
    """GET `path` as admin; raises urllib.error.HTTPError like urllib.request.urlopen."""
    request = urllib.request.Request(server.url + path, headers=headers or {})
    return urllib.request.urlopen(request, context=_context(server), timeout=timeout)


def http(server, method: str, path: str, body=None, content_type: str = "application/json",
         headers: dict | None = None) -> tuple[int, dict]:
    """A raw request for what the typed client cannot express; returns (status, decoded JSON body)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, context=_context(server), timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
