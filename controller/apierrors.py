"""What an API server's answer means for the controller: the error translation of `kube`.

`translate` turns the `kubernetes` client's ApiException and urllib3's connection errors into the
project's errors, each carrying its retry: `Retryable` (429, 5xx, broken connection; retried by `kube`
itself, after Retry-After if given), `Conflict` (409; retried by `kube` unless the write was
conditional), `NotFound` (404), `Rejected` (400/413/422: a configuration problem, never retried), and a
plain `TransientError` for anything else (retried by the work queue).
"""

from __future__ import annotations

import json

import urllib3
from kubernetes.client.exceptions import ApiException

from controller.errors import ConfigurationError, TransientError


class NotFound(Exception):
    """The object (or its namespace, or its kind) does not exist."""


class NotServed(NotFound):
    """Discovery: the API server does not serve this kind, so no object of it exists."""


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


class Retryable(TransientError):
    """429, 5xx or a broken connection: worth another attempt right here (after `delay` if the server
    said Retry-After)."""


def _status_field(exc: ApiException, key: str) -> str:
    try:
        return json.loads(exc.body or "{}").get(key) or ""
    except (ValueError, TypeError, AttributeError):
        return ""


def translate(exc: BaseException, what: str) -> BaseException:
    """ApiException / urllib3 errors → NotFound, Conflict, Rejected, Retryable or TransientError;
    anything else is returned unchanged."""
    if isinstance(exc, ApiException):
        text = f"{what}: {exc.status} {_status_field(exc, 'message') or exc.reason or ''}"
        if exc.status == 404:
            return NotFound(text)
        if exc.status == 409:
            return Conflict(text, _status_field(exc, "reason"))
        if exc.status in PERMANENT_STATUSES:
            return Rejected(text)
        if exc.status == 429 or exc.status >= 500 or exc.status == 0:
            retry_after = (exc.headers or {}).get("Retry-After")
            try:
                seconds = float(retry_after) if retry_after else None
            except ValueError:
                seconds = None
            return Retryable(text, delay=seconds)
        return TransientError(text)
    if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
        return Retryable(f"{what}: {exc.__class__.__name__}: {exc}")
    return exc
