"""Helpers shared by the conformance tests (kept out of conftest so they can be imported)."""

from __future__ import annotations

import json

GROUP, VERSION = "extensions.gardener.cloud", "v1alpha1"


def network(name: str = "net", **spec) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Network", "metadata": {"name": name},
            "spec": {"type": "calico", "podCIDR": "10.0.0.0/16", "serviceCIDR": "10.1.0.0/16", **spec}}


def error_body(exc) -> dict:
    return json.loads(exc.body)


def http(emulator, method: str, path: str, body=None, content_type: str = "application/json",
         headers: dict | None = None) -> tuple[int, dict]:
    """A raw request for what the typed client cannot express; returns (status, decoded JSON body)."""
    import urllib.error
    import urllib.request

    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(emulator.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
