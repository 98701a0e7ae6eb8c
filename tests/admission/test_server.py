"""AdmissionReviews over HTTPS: the admission handlers (/webhooks/validate, /webhooks/mutate), the
controller's /shoot handler, bad requests, crashing handlers, and the metrics they leave."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl

import aiohttp

from controller import metrics
from controller.admission import handlers
from controller.mapping import load_mappings
from controller.webhooks import certs
from controller.webhooks.server import WebhookServer, review_response
from controller.webhooks.shoot import shoot_handler
from tests.admission.shoots import shoot
from tests.admission.test_edits import configmap
from tests.helpers import MAPPINGS

MAPPINGS_BY_TYPE = load_mappings(MAPPINGS)
SHOOT_KIND = {"group": "core.gardener.cloud", "version": "v1beta1", "kind": "Shoot"}


def review(obj: dict, operation: str = "CREATE", kind: dict = SHOOT_KIND, uid: str = "4b1c") -> dict:
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": kind, "operation": operation, "object": obj}}


def post_all(requests: list[tuple[str, object]]) -> list[tuple[int, object]]:
    bundle = certs.new_bundle("test", ["127.0.0.1"])

    async def run():
        server = WebhookServer("127.0.0.1", 0, {"/webhooks/validate": handlers.validator(MAPPINGS_BY_TYPE),
                                                "/webhooks/mutate": handlers.mutator(MAPPINGS_BY_TYPE),
                                                "/shoot": shoot_handler(MAPPINGS_BY_TYPE)}, bundle.ssl_context())
        await server.start()
        client = ssl.create_default_context(cadata=bundle.ca_bundle.decode())
        answers = []
        try:
            async with aiohttp.ClientSession() as session:
                for path, body in requests:
                    data = body if isinstance(body, bytes) else json.dumps(body).encode()
                    async with session.post(f"https://127.0.0.1:{server.port}{path}", data=data, ssl=client) as r:
                        answers.append((r.status, await r.json() if r.status == 200 else await r.text()))
        finally:
            await server.stop()
        return answers

    return asyncio.run(run())


def counter(path: str, result: str) -> float:
    return metrics.REGISTRY.get_sample_value("networking_webhook_requests_total", {"path": path, "result": result}) or 0


def test_validate_refuses_with_field_paths_and_admits_good_shoots():
    before = counter("/webhooks/validate", "denied")
    (status, bad), (_, good), (_, delete) = post_all([
        ("/webhooks/validate", review(shoot("cilium", {"tunnel": "x"}), uid="a")),
        ("/webhooks/validate", review(shoot("cilium", {"tunnel": "geneve"}), uid="b")),
        ("/webhooks/validate", review(shoot("cilium", {"tunnel": "x"}), operation="DELETE", uid="c")),
    ])
    assert status == 200
    assert bad["response"]["uid"] == "a" and bad["response"]["allowed"] is False
    assert bad["response"]["status"]["code"] == 403
    assert bad["response"]["status"]["message"].startswith('spec.networking.providerConfig.tunnel: Unsupported value: "x"')
    assert good["response"] == {"uid": "b", "allowed": True}
    assert delete["response"] == {"uid": "c", "allowed": True}
    assert counter("/webhooks/validate", "denied") == before + 1


def test_mutate_answers_with_a_json_patch():
    [(_, answer)] = post_all([("/webhooks/mutate", review(shoot("cilium")))])
    assert answer["response"]["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(answer["response"]["patch"])) == [
        {"op": "add", "path": "/spec/kubernetes/kubeProxy", "value": {"enabled": False}}]


def test_shoot_webhook_mutates_node_local_dns_objects():
    [(_, answer)] = post_all([("/shoot", review(configmap(), kind={"group": "", "version": "v1", "kind": "ConfigMap"}))])
    ops = json.loads(base64.b64decode(answer["response"]["patch"]))
    assert [op["path"] for op in ops] == ["/data/Corefile"] and "bind 0.0.0.0" in ops[0]["value"]


def test_bad_requests():
    answers = post_all([("/webhooks/validate", b"not json"), ("/webhooks/validate", {"kind": "AdmissionReview"}),
                        ("/webhooks/validate", review({"kind": "ConfigMap"}, kind={"group": "", "kind": "ConfigMap"}))])
    assert answers[0][0] == 400
    assert answers[1][1]["response"]["status"]["code"] == 400
    assert answers[2][1]["response"]["allowed"] is False and answers[2][1]["response"]["status"]["code"] == 400


def test_a_crashing_handler_is_a_retryable_500_answer():
    def crash(request):
        raise RuntimeError("boom")

    answer = review_response(review(shoot()), crash)
    assert answer["response"]["allowed"] is False
    assert answer["response"]["status"]["code"] == 500 and "retry" in answer["response"]["status"]["message"]


def test_v1beta1_reviews_are_answered_in_v1beta1():
    assert review_response({**review(shoot()), "apiVersion": "admission.k8s.io/v1beta1"},
                           handlers.validator(MAPPINGS_BY_TYPE))["apiVersion"] == "admission.k8s.io/v1beta1"
