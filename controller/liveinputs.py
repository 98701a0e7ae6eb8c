"""The `live` input root: the shoot objects a mapping's `liveInputs` name, read from the running shoot.

Called by `reconciler` (and `diff`) before the pipeline. The shoot is reached through the kubeconfig
Gardener keeps in the seed namespace (Secret `gardener-internal`, else `gardener`), one short attempt
per read: best effort. An entry that cannot be read stays absent, so the chart default applies, unless
it is `required` (then a `TransientError`); nothing is read while the shoot is hibernated.
"""

from __future__ import annotations

import base64
import logging

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from controller import pipeline
from controller import shoot as shoots
from controller.config import ControllerConfig
from controller.errors import TransientError
from controller.files import parse_document
from controller.apierrors import NotFound
from controller.kube import Kube
from controller.mapping import TypeMapping
from controller.resources import SECRETS

log = logging.getLogger(__name__)

# Where Gardener keeps a kubeconfig for the shoot in its seed namespace (extensions/pkg/util/shoot_clients.go).
SHOOT_ACCESS_SECRETS = ("gardener-internal", "gardener")
SHOOT_REQUEST_TIMEOUT = 5.0


async def shoot_client(kube: Kube, namespace: str) -> Kube | None:
    """A client for the shoot of a seed namespace; None when it has no access secret. Never quotes the
    kubeconfig: an unusable one is reported by the Secret's name only."""
    for name in SHOOT_ACCESS_SECRETS:
        secret = await kube.get(SECRETS, namespace, name)
        kubeconfig = ((secret or {}).get("data") or {}).get("kubeconfig")
        if kubeconfig:
            configuration = k8s.Configuration()
            try:
                doc = parse_document(base64.b64decode(kubeconfig, validate=True), "kubeconfig")
                k8s_config.load_kube_config_from_dict(doc, client_configuration=configuration)
            except Exception:  # noqa: BLE001 - any message could quote the kubeconfig: name the object only
                raise TransientError(f"secret {namespace}/{name}: data.kubeconfig is not a usable "
                                     f"kubeconfig") from None
            return Kube.from_configuration(configuration, attempts=1, request_timeout=SHOOT_REQUEST_TIMEOUT)
    return None


async def read(kube: Kube, mapping: TypeMapping, network: dict, shoot: dict, config: ControllerConfig) -> dict:
    """The `live` root for this Network: {liveInputs key: object or list}."""
    wanted = pipeline.live_requests(mapping, network, shoot, config)
    if not wanted or shoots.is_hibernated(shoot):
        return {}
    required = [key for key, ref in wanted.items() if ref.get("required")]
    try:
        client = await shoot_client(kube, network["metadata"]["namespace"])
        if client is None:
            raise TransientError("the shoot has no access secret (gardener-internal or gardener)")
    except TransientError as exc:
        if required:
            raise TransientError(f"cannot read {', '.join(required)} from the shoot: {exc}") from exc
        log.info("shoot not readable, live inputs empty: %s", exc)
        return {}
    live = {}
    try:
        for key, ref in wanted.items():
            try:
                value = await client.read(ref.get("apiVersion", "v1"), ref["kind"], ref.get("namespace", ""),
                                          ref.get("name", ""))
            except (TransientError, NotFound, OSError) as exc:  # NotFound: the kind is not served
                if ref.get("required"):
                    raise TransientError(f"cannot read {key} from the shoot: {exc}") from exc
                log.info("shoot object %s not readable: %s", key, exc)
                continue
            if value is not None:
                live[key] = value
    finally:
        client.close()
    return live
