"""The HTTPS server that answers AdmissionReviews (admission.k8s.io v1 and v1beta1).

Used by `admission.command` (/webhooks/validate, /webhooks/mutate) and by the controller's `/shoot`
webhook (`webhooks.shoot`). A handler takes the AdmissionReview's `request` and returns the response
fields (`allowed`, `status`, `patch`); this module adds the uid, encodes patches and turns a handler
crash into an `allowed: false` answer with code 500 (the API server retries per its failurePolicy).
The TLS context is shared with the caller, which reloads it when the certificate rotates.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
from typing import Callable

from aiohttp import web
from prometheus_client import Counter

from controller import metrics

log = logging.getLogger(__name__)
Handler = Callable[[dict], dict]

REQUESTS = Counter("networking_webhook_requests_total", "AdmissionReviews answered, by path and result.",
                   ["path", "result"], registry=metrics.REGISTRY)


def allowed() -> dict:
    return {"allowed": True}


def denied(message: str) -> dict:
    """controller-runtime's `admission.Denied`: code 403, the message shown to the user."""
    return {"allowed": False, "status": {"code": 403, "reason": "Forbidden", "message": message}}


def errored(code: int, message: str) -> dict:
    return {"allowed": False, "status": {"code": code, "message": message}}


def patched(operations: list[dict]) -> dict:
    if not operations:
        return allowed()
    return {"allowed": True, "patchType": "JSONPatch",
            "patch": base64.b64encode(json.dumps(operations).encode()).decode()}


def _result(response: dict) -> str:
    if not response.get("allowed"):
        return "error" if (response.get("status") or {}).get("code", 403) >= 500 else "denied"
    return "patched" if response.get("patch") else "allowed"


def review_response(review: dict, handler: Handler) -> dict:
    """The AdmissionReview to answer `review` with (pure apart from logging)."""
    request = review.get("request") if isinstance(review, dict) else None
    if not isinstance(request, dict):
        return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "response": {"uid": "", **errored(400, "not an AdmissionReview with a request")}}
    try:
        response = handler(request)
    except Exception as exc:  # noqa: BLE001 - a crash is an answer the API server can act on
        log.exception("webhook handler failed")
        response = errored(500, f"internal error (temporary, retry): {type(exc).__name__}: {exc}")
    api_version = review.get("apiVersion") if review.get("apiVersion") in (
        "admission.k8s.io/v1", "admission.k8s.io/v1beta1") else "admission.k8s.io/v1"
    return {"apiVersion": api_version, "kind": "AdmissionReview", "response": {"uid": request.get("uid", ""), **response}}


class WebhookServer:
    """One HTTPS listener for the given paths; `port=0` picks a free port (see `port`)."""

    def __init__(self, host: str, port: int, handlers: dict[str, Handler], context: ssl.SSLContext):
        self.host, self.port, self.handlers, self.context = host, port, handlers, context
        self._runner: web.AppRunner | None = None

    def _route(self, path: str, handler: Handler):
        async def serve(request: web.Request) -> web.Response:
            try:
                review = await request.json()
            except (ValueError, UnicodeDecodeError):
                REQUESTS.labels(path, "error").inc()
                return web.Response(status=400, text="request body is not JSON")
            answer = review_response(review, handler)
            REQUESTS.labels(path, _result(answer["response"])).inc()
            return web.json_response(answer)
        return web.post(path, serve)

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.add_routes([self._route(path, handler) for path, handler in self.handlers.items()])
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, ssl_context=self.context).start()
        self.port = self._runner.addresses[0][1]

    @property
    def started(self) -> bool:
        return self._runner is not None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
