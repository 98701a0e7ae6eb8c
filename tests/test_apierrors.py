"""The API error translation and the one retry layer of the generic client."""

from __future__ import annotations

import asyncio
import json

import pytest
import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from controller.apierrors import Conflict, NotFound, Rejected, Retryable, translate
from controller.errors import ConfigurationError, TransientError
from controller.kube import Kube


def answer(status: int, reason: str = "", message: str = "m", headers: dict | None = None) -> ApiException:
    exc = ApiException(status=status, reason="Reason")
    exc.body = json.dumps({"kind": "Status", "reason": reason, "message": message})
    exc.headers = headers or {}
    return exc


@pytest.mark.parametrize("status, kind", [(404, NotFound), (409, Conflict), (400, Rejected), (413, Rejected),
                                          (422, Rejected), (429, Retryable), (500, Retryable), (503, Retryable)])
def test_statuses_become_the_projects_errors(status, kind):
    error = translate(answer(status), "get x")
    assert type(error) is kind and str(error) == f"get x: {status} m"


def test_permanent_answers_are_configuration_errors_and_others_are_transient():
    assert isinstance(translate(answer(422), "create"), ConfigurationError)
    forbidden = translate(answer(403), "create")
    assert type(forbidden) is TransientError and forbidden.delay is None


def test_conflicts_keep_the_servers_reason_and_retry_after_becomes_the_delay():
    assert translate(answer(409, "AlreadyExists"), "create").reason == "AlreadyExists"
    assert translate(answer(429, headers={"Retry-After": "3"}), "get").delay == 3.0
    assert translate(answer(503, headers={"Retry-After": "soon"}), "get").delay is None


def test_a_body_that_is_not_a_status_falls_back_to_the_reason():
    exc = ApiException(status=500, reason="Internal Server Error")
    exc.body = "<html>"
    assert str(translate(exc, "get")) == "get: 500 Internal Server Error"


def test_connection_errors_are_retryable_and_other_exceptions_pass_unchanged():
    assert isinstance(translate(urllib3.exceptions.ProtocolError("reset"), "get"), Retryable)
    assert isinstance(translate(ConnectionRefusedError(), "get"), Retryable)
    bug = KeyError("x")
    assert translate(bug, "get") is bug


def kube(attempts: int = 3) -> Kube:
    return Kube.from_configuration(k8s.Configuration(), attempts=attempts)


def test_urllib3_does_not_retry_on_its_own():
    client = kube()
    try:
        assert client.api_client.configuration.retries == 0
        assert client.api_client.rest_client.pool_manager.connection_pool_kw["retries"].total == 0
    finally:
        client.close()


def test_the_client_retries_transient_answers_then_gives_up_with_the_last_error():
    client, calls = kube(attempts=3), []

    def flaky(**_):
        calls.append(1)
        raise answer(503)
    with pytest.raises(Retryable):
        asyncio.run(client.call("get", flaky))
    assert len(calls) == 3
    client.close()


def test_the_client_never_repeats_a_permanent_answer_or_a_conditional_conflict():
    client, calls = kube(), []

    def refused(status: int, **_):
        calls.append(status)
        raise answer(status)
    with pytest.raises(Rejected):
        asyncio.run(client.call("create", refused, 422))
    with pytest.raises(Conflict):
        asyncio.run(client.call("update", refused, 409, retry_conflicts=False))
    with pytest.raises(NotFound):
        asyncio.run(client.call("get", refused, 404))
    assert calls == [422, 409, 404]
    client.close()


def test_a_stale_write_without_resource_version_is_retried_until_it_succeeds():
    client, calls = kube(), []

    def once_stale(**_):
        calls.append(1)
        if len(calls) == 1:
            raise answer(409, "Conflict")
        return "ok"
    assert asyncio.run(client.call("patch", once_stale)) == "ok" and len(calls) == 2
    client.close()
