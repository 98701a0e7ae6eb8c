"""API errors and the standard ``Status`` bodies kube-apiserver answers with.

Raised anywhere in the emulator (store, patch, schema, app); ``app.py`` turns them into HTTP
responses and the watch stream into ERROR events.
"""

from __future__ import annotations

REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """An error with the exact shape of a ``metav1.Status`` failure."""

    def __init__(self, code: int, message: str, reason: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = REASONS.get(code, "Unknown") if reason is None else reason  # "": none (a plain Go error)
        self.details = details

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            **({"reason": self.reason} if self.reason else {}),
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def details(name: str, group: str, kind: str, **more) -> dict:
    """StatusDetails as Go serialises them: an empty name or group is omitted."""
    return {**({"name": name} if name else {}), **({"group": group} if group else {}), "kind": kind, **more}


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(404, f'{_qualified(plural, group)} "{name}" not found', details=details(name, group, plural))


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(409, f'{_qualified(plural, group)} "{name}" already exists', "AlreadyExists",
                    details=details(name, group, plural))


def conflict(plural: str, group: str, name: str, why: str) -> ApiError:
    """409 Conflict; ``plural`` is the resource (or, for delete preconditions, the Kind, as the real
    server words them)."""
    return ApiError(409, f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": {why}',
                    details=details(name, group, plural))


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(kind: str, group: str, name: str, causes: list[dict]) -> ApiError:
    """422 Invalid; ``causes`` are ``{"reason", "message", "field"}`` like field.ErrorList."""
    listed = ", ".join(f'{c["field"]}: {c["message"]}' for c in causes)
    text = listed if len(causes) == 1 else f"[{listed}]"
    return ApiError(422, f'{_qualified(kind, group)} "{name}" is invalid: {text}',
                    details=details(name, group, kind, causes=causes))


def namespace_terminating(plural: str, group: str, name: str, namespace: str) -> ApiError:
    """403 of the NamespaceLifecycle admission plugin."""
    return ApiError(403, f'{_qualified(plural, group)} "{name}" is forbidden: unable to create new content in '
                         f"namespace {namespace} because it is being terminated", "Forbidden",
                    details(name, group, plural, causes=[{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                                                          "message": f"namespace {namespace} is being terminated"}]))


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)
