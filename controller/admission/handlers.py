"""The AdmissionReview handlers of the admission component: validate and mutate Shoots.

Called by `webhooks.server` for /webhooks/validate and /webhooks/mutate; the decisions are
`admission.shoots` (pure). Like Go's webhook handler: only Shoots, only CREATE and UPDATE (anything
else is allowed untouched), a refusal carries every field error in Go's aggregate format.
"""

from __future__ import annotations

from controller.admission import shoots
from controller.mapping import TypeMapping
from controller.webhooks.server import Handler, allowed, denied, errored, patched


def _shoot_of(request: dict) -> dict | None:
    kind = request.get("kind") or {}
    obj = request.get("object")
    if kind.get("group") != "core.gardener.cloud" or kind.get("kind") != "Shoot" or not isinstance(obj, dict):
        return None
    return obj


def _shoot_handler(answer) -> Handler:
    """A handler for Shoot CREATE/UPDATE requests: `answer(shoot, operation)` says what to reply."""
    def handle(request: dict) -> dict:
        if request.get("operation") not in (shoots.CREATE, shoots.UPDATE):
            return allowed()
        shoot = _shoot_of(request)
        if shoot is None:
            return errored(400, f"unexpected request kind {request.get('kind')}")
        return answer(shoot, request["operation"])
    return handle


def validator(mappings: dict[str, TypeMapping]) -> Handler:
    def answer(shoot: dict, operation: str) -> dict:
        errors = shoots.validate_labelled(mappings, shoot)
        return denied(shoots.aggregate(errors)) if errors else allowed()
    return _shoot_handler(answer)


def mutator(mappings: dict[str, TypeMapping]) -> Handler:
    return _shoot_handler(lambda shoot, operation: patched(shoots.shoot_patch(mappings, shoot, operation)))
