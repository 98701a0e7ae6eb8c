"""The two kinds of failure of the whole project, kopf-style: permanent and temporary.

Raised by the pure pipeline (mapping, render, package) and by the API layer; the reconciler turns a
`ConfigurationError` into `ERR_CONFIGURATION_PROBLEM` without hot retries and retries everything else
with backoff; the CLI turns a `ConfigurationError` into exit code 2 with one line per field error.
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
    """Temporary: worth retrying with backoff (API hiccups, helm process failures, waits)."""

    codes: tuple[str, ...] = ()
