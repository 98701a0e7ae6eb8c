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
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(404, f'{_qualified(plural, group)} "{name}" not found',
                    details={"name": name, "group": group, "kind": plural})


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(409, f'{_qualified(plural, group)} "{name}" already exists', "AlreadyExists",
                    details={"name": name, "group": group, "kind": plural})


def conflict(plural: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(409, f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": {why}',
                    details={"name": name, "group": group, "kind": plural})


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(kind: str, group: str, name: str, causes: list[dict]) -> ApiError:
    """422 Invalid; ``causes`` are ``{"reason", "message", "field"}`` like field.ErrorList."""
    listed = ", ".join(f'{c["field"]}: {c["message"]}' for c in causes)
    text = listed if len(causes) == 1 else f"[{listed}]"
    return ApiError(422, f'{_qualified(kind, group)} "{name}" is invalid: {text}',
                    details={"name": name, "group": group, "kind": kind, "causes": causes})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)
