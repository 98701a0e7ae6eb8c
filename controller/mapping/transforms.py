"""The registry of named pure transforms a mapping file may call (`transform: <name>`).

Each one says, in its docstring, which rule of the reference (`calico.md`, `cilium.md`) it
implements. A transform receives the rule's `args` as keyword arguments (already resolved from their
`{from: path}` / `{value: literal}`), returns the value to set, or `SKIP` to leave the target alone, and
raises `ConfigurationError` for input that cannot be mapped. Transforms that encode one network type's
logic are registered under that type's namespace (`calico.nodeAutodetection`) and only that type's
mapping file may call them. Called by `engine`; `loader` checks each rule's `args` against the signature.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urlparse

from controller.errors import ConfigurationError, FieldError
from controller.mapping.formats import parse_cidr, parse_quantity

REGISTRY: dict[str, Callable[..., Any]] = {}
SKIP = object()
FAMILY_ORDER = ("IPv4", "IPv6")


def transform(func: Callable[..., Any] | None = None, *, network_type: str | None = None) -> Any:
    """Register `func` as `<name>`, or as `<network_type>.<name>` with `@transform(network_type=...)`."""
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY[f"{network_type}.{func.__name__}" if network_type else func.__name__] = func
        return func
    return register(func) if func is not None else register


@transform
def dualStackFamilies(families: list | None, constraints: list | None) -> list:
    """calico.md 2.1 step 4 / cilium.md 2.1 step 3: while the shoot has the constraint
    `DualStackNodesMigrationReady` and it is not True, only the first IP family is deployed."""
    families = list(families or [])
    for constraint in constraints or []:
        if constraint.get("type") == "DualStackNodesMigrationReady" and constraint.get("status") != "True":
            return families[:1]
    return families


@transform
def orderedFamilies(families: list | None) -> list:
    """`status.ipFamilies`: the families actually deployed, IPv4 before IPv6 (calico.md 4.3, cilium.md 4.2)."""
    return [f for f in FAMILY_ORDER if f in (families or [])]


@transform(network_type="calico")
def nodeAutodetection(specNodes: str | None, statusNodes: list | None, family: str) -> Any:
    """calico.md 2.1 step 6: IP autodetection from the shoot's node CIDRs.

    `cidr=<spec.networking.nodes>` for IPv4; when `status.networking.nodes` is known, `cidr=` plus the
    comma-joined CIDRs of the family (an empty string, rendering no env, if there are none). Without
    `spec.networking.nodes` the user's value or Calico's default stays (SKIP).
    """
    if not specNodes:
        return SKIP
    if statusNodes:
        same = [c for c in statusNodes if _family(c) == family]
        return "cidr=" + ",".join(same) if same else ""
    return f"cidr={specNodes}" if family == "IPv4" else SKIP


@transform
def lastCidrOfFamily(cidrs: list | None, family: str, field: str) -> Any:
    """calico.md 2.3: `global.podCIDRv6` = the last non-IPv4 CIDR of `shoot.status.networking.pods`."""
    found = SKIP
    for index, cidr in enumerate(cidrs or []):
        parsed = _parse_cidr(cidr, f"{field}[{index}]")
        if (parsed.version == 6) == (family == "IPv6"):
            found = cidr
    return found


@transform
def firstCidrOfFamily(cidrs: Any, family: str, field: str, reason: str) -> str:
    """cilium.md 2.3: native-routing CIDR = the first CIDR of the family in the given shoot list
    (a single string counts as a one-element list); a configuration error if there is none."""
    if isinstance(cidrs, str):
        cidrs = [cidrs]
    if not cidrs:
        raise ConfigurationError(FieldError(field, "Required", reason))
    for index, cidr in enumerate(cidrs):
        if (_parse_cidr(cidr, f"{field}[{index}]").version == 6) == (family == "IPv6"):
            return cidr
    raise ConfigurationError(FieldError(field, "Invalid", f"no {family} CIDR: {reason}", cidrs))


@transform
def cidrsOverlap(a: str | None, b: str | None) -> bool:
    """cilium.md 2.3 (wireguard strict mode): do two CIDRs overlap? Host bits may be set, like Go's
    netip.ParsePrefix; different families never overlap; a missing CIDR means no overlap."""
    if not a or not b:
        return False
    try:
        return parse_cidr(a).overlaps(parse_cidr(b))
    except (ValueError, TypeError):
        return False


@transform
def canonicalResources(resources: dict | None) -> dict:
    """calico.md 2.3: resource requests in the canonical form of resource.Quantity (`0.1` -> `100m`)."""
    return {name: canonical_quantity(str(value)) for name, value in (resources or {}).items()}


@transform
def goDuration(duration: str | None) -> Any:
    """cilium.md 2.3: durations written the way Go's time.Duration.String() writes them (`1m` -> `1m0s`)."""
    if duration is None:
        return SKIP
    return format_go_duration(parse_go_duration(duration))


@transform(network_type="cilium")
def externalHost(addresses: list | None, field: str) -> str:
    """cilium.md 2.3: without an explicit k8sServiceHost, the host of the shoot's `external` advertised
    address is the API server cilium talks to when it replaces kube-proxy."""
    if not addresses:
        raise ConfigurationError(FieldError(field, "Required", "the shoot has no advertised addresses yet"))
    external = next((a for a in addresses if a.get("name") == "external"), None)
    if external is None:
        raise ConfigurationError(FieldError(field, "Required", "the shoot has no advertised address named external"))
    try:
        host = urlparse(external.get("url", "")).hostname
    except ValueError:
        host = None
    if not host:
        raise ConfigurationError(FieldError(field, "Invalid", "cannot read a host from the external address",
                                            external.get("url")))
    return host


@transform
def sumOf(items: list | None, key: str) -> int:
    """Sum of one integer field over a list (cilium.md 2.3: workers' `minimum` decides operator HA)."""
    return sum(int(item.get(key) or 0) for item in items or [])


def _family(cidr: str) -> str:
    try:
        return "IPv6" if parse_cidr(cidr).version == 6 else "IPv4"
    except ValueError:
        return ""


def _parse_cidr(cidr: Any, field: str):
    try:
        return parse_cidr(cidr)
    except ValueError:
        raise ConfigurationError(FieldError(field, "Invalid", "must be a valid CIDR", cidr)) from None


_BINARY = [("Ei", 2 ** 60), ("Pi", 2 ** 50), ("Ti", 2 ** 40), ("Gi", 2 ** 30), ("Mi", 2 ** 20), ("Ki", 2 ** 10)]
_DECIMAL = [("E", 10 ** 18), ("P", 10 ** 15), ("T", 10 ** 12), ("G", 10 ** 9), ("M", 10 ** 6), ("k", 10 ** 3)]


def canonical_quantity(text: str) -> str:
    """resource.Quantity's canonical string: binary suffixes stay binary where exact, decimal values use
    the largest exact decimal suffix, fractions become milli-units (rounded up, as Kubernetes does)."""
    value = parse_quantity(text)
    binary = re.search(r"[KMGTPE]i$", text.strip()) is not None
    if value == value.to_integral_value():
        number = int(value)
        if binary:
            for suffix, factor in _BINARY:
                if number and number % factor == 0:
                    return f"{number // factor}{suffix}"
            return str(number)
        for suffix, factor in _DECIMAL:
            if number and number % factor == 0:
                return f"{number // factor}{suffix}"
        return str(number)
    milli = (value * 1000).to_integral_value(rounding="ROUND_CEILING")
    if milli % 1000 == 0:
        return str(int(milli // 1000))
    return f"{int(milli)}m"


_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10 ** 6, "s": 10 ** 9, "m": 60 * 10 ** 9,
            "h": 3600 * 10 ** 9}


def parse_go_duration(text: str) -> int:
    """Nanoseconds of a Go duration string (`1h30m`, `1.5s`)."""
    if text == "0":
        return 0
    total, pos = Decimal(0), 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos or not match.group(1) or match.group(1) == ".":
            raise ValueError(f"invalid duration {text!r}")
        total += Decimal(match.group(1)) * _UNIT_NS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise ValueError(f"invalid duration {text!r}")
    return int(total)


def format_go_duration(ns: int) -> str:
    """time.Duration.String(): `1m0s`, `1h30m0s`, `1.5s`, `300ms`, `0s`."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 10 ** 9:
        for unit, factor in (("ms", 10 ** 6), ("µs", 10 ** 3), ("ns", 1)):
            if ns >= factor:
                return sign + _trim(Decimal(ns) / factor) + unit
    hours, rest = divmod(ns, 3600 * 10 ** 9)
    minutes, rest = divmod(rest, 60 * 10 ** 9)
    seconds = _trim(Decimal(rest) / 10 ** 9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _trim(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@transform(network_type="calico")
def mutatingAdmissionPolicyAvailable(version: str | None, kubeAPIServer: dict | None) -> bool:
    """calico.md 2.1 step 8: the shoot serves MutatingAdmissionPolicy (a precondition of the seamless
    overlay switch): Kubernetes >= 1.36, or its feature gate on and `admissionregistration.k8s.io/v1alpha1`
    or `/v1beta1` enabled in the kube-apiserver's runtimeConfig."""
    numbers = [int(part) for part in re.findall(r"\d+", version or "")[:2]]
    if len(numbers) == 2 and tuple(numbers) >= (1, 36):
        return True
    server = kubeAPIServer or {}
    runtime = server.get("runtimeConfig") or {}
    return bool((server.get("featureGates") or {}).get("MutatingAdmissionPolicy")) and any(
        runtime.get(f"admissionregistration.k8s.io/{v}") for v in ("v1alpha1", "v1beta1"))


@transform
def anyEnvTrue(workload: dict | None, names: list) -> bool:
    """calico.md 4.7: is a feature on in the running workload, i.e. is any of the env vars `names` "true"
    in one of its containers (the overlay is active when FELIX_IPINIPENABLED or FELIX_VXLANENABLED is)."""
    spec = (((workload or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return any(env.get("name") in names and env.get("value") == "true"
               for container in spec.get("containers") or [] for env in container.get("env") or [])


@transform
def allNodesHaveCondition(nodes: list | None, type: str, status: str, reason: str) -> bool:
    """calico.md 4.7: every Node reports the condition (NetworkUnavailable=False/RouteCreated: the cloud
    routes for its pod CIDR exist). An empty node list counts as ready."""
    def ready(node: dict) -> bool:
        return any(c.get("type") == type and c.get("status") == status and c.get("reason") == reason
                   for c in (node.get("status") or {}).get("conditions") or [])
    return all(ready(node) for node in nodes or [])
