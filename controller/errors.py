"""The kinds of failure of the whole project, kopf-style: permanent, temporary, and fatal at start-up.

Raised by the pure pipeline (mapping, render, package) and by the API layer. Each error carries its
retry and its Gardener error codes from where it is made: a `ConfigurationError` is permanent
(`ERR_CONFIGURATION_PROBLEM`, no retry until the Network changes); a `TransientError` is retried, after
its own `delay` when it names one (a `wait` rule), else with the work queue's per-item backoff; a
`StartupError` ends the process with one clear line. The CLI turns a `ConfigurationError` into exit
code 2 with one line per field error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ERR_CONFIGURATION_PROBLEM = "ERR_CONFIGURATION_PROBLEM"

# Field error types with the wording of k8s.io/apimachinery/pkg/util/validation/field.
_TYPE_TEXT = {
    "Invalid": "Invalid value",
    "Required": "Required value",
    "Forbidden": "Forbidden",
    "NotSupported": "Unsupported value",
    "Duplicate": "Duplicate value",
    "TooLong": "Too long",
    "UnknownField": "Unknown field",
}
NO_VALUE = object()


@dataclass(frozen=True)
class FieldError:
    """One problem at one field path, printed like Kubernetes' `field.Error`."""

    path: str
    type: str
    detail: str = ""
    value: Any = NO_VALUE

    def __str__(self) -> str:
        if not self.type:  # a plain message that belongs to no single field
            return f"{self.path}: {self.detail}" if self.path else self.detail
        text = _TYPE_TEXT.get(self.type, self.type)
        if self.value is not NO_VALUE and self.type not in ("Required", "Forbidden"):
            text += ": " + _render_value(self.value)
        if self.detail:
            text += ": " + self.detail
        return f"{self.path}: {text}" if self.path else text


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class ConfigurationError(Exception):
    """Permanent: the input (providerConfig, Network, shoot or chart) cannot be rendered as it is.

    Not retried until the Network changes; carries every field error that was found, not only the first.
    """

    codes = (ERR_CONFIGURATION_PROBLEM,)

    def __init__(self, errors: list[FieldError] | FieldError | str):
        if isinstance(errors, (FieldError, str)):
            errors = [errors]
        self.errors = [e if isinstance(e, FieldError) else FieldError("", "", e) for e in errors]
        super().__init__("; ".join(str(e) for e in self.errors))

    @property
    def lines(self) -> list[str]:
        return [str(e) for e in self.errors]


class TransientError(Exception):
    """Temporary: worth retrying (API hiccups, helm process failures, waits). `delay`: seconds until the
    retry (None: the work queue's exponential backoff); `codes`: Gardener error codes for lastError."""

    def __init__(self, message: str, *, delay: float | None = None, codes: tuple[str, ...] = ()):
        super().__init__(message)
        self.delay, self.codes = delay, tuple(codes)


# Retry of a `wait` rule without `retryAfter`: "not yet" is asked again like Gardener's requeue, not hot.
WAIT_RETRY_AFTER = 30.0


def waiting(rules: list[dict]) -> TransientError:
    """The error of the `wait` rules that hold: their messages, retried after the shortest `retryAfter`."""
    return TransientError("; ".join(rule["wait"] for rule in rules),
                          delay=min(float(rule.get("retryAfter", WAIT_RETRY_AFTER)) for rule in rules))


class StartupError(Exception):
    """The process cannot do its job at all (no usable helm binary): exit 1 with this one line."""
