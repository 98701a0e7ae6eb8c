"""Gardener's generic validation of a Network resource (`ValidateNetwork`), before any type logic.

Pure; called by `pipeline`. Both Go extensions run it at the start of every reconcile: name, type,
pod/service CIDRs (required, parseable, of the primary family, not overlapping on single-stack IPv4)
and ipFamilies (known values, no duplicates).
"""

from __future__ import annotations

import re

from controller.errors import FieldError
from controller.mapping.formats import parse_cidr

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
FAMILIES = ("IPv4", "IPv6")


def validate_network(network: dict) -> list[FieldError]:
    errors: list[FieldError] = []
    name = (network.get("metadata") or {}).get("name") or ""
    if not name or len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        errors.append(FieldError("metadata.name", "Invalid", "a lowercase RFC 1123 subdomain is required", name))
    spec = network.get("spec") or {}
    if not spec.get("type"):
        errors.append(FieldError("spec.type", "Required", "field is required"))
    families = spec.get("ipFamilies") or []
    if not isinstance(families, list):
        errors.append(FieldError("spec.ipFamilies", "Invalid", "must be a list", families))
        families = []
    for index, family in enumerate(families):
        if family not in FAMILIES:
            errors.append(FieldError(f"spec.ipFamilies[{index}]", "NotSupported",
                                     'supported values: "IPv4", "IPv6"', family))
        elif family in families[:index]:
            errors.append(FieldError(f"spec.ipFamilies[{index}]", "Duplicate", "", family))
    networks = {}
    for field in ("podCIDR", "serviceCIDR"):
        value = spec.get(field)
        if not value:
            errors.append(FieldError(f"spec.{field}", "Required", "field is required"))
            continue
        try:
            networks[field] = parse_cidr(value)
        except ValueError:
            errors.append(FieldError(f"spec.{field}", "Invalid", "invalid CIDR address", value))
    if len(families) <= 1:
        primary = families[0] if families else "IPv4"
        for field, net in networks.items():
            if f"IPv{net.version}" != primary:
                errors.append(FieldError(f"spec.{field}", "Invalid", f"must be a valid {primary} address",
                                         spec[field]))
        if primary == "IPv4" and len(networks) == 2 and networks["podCIDR"].overlaps(networks["serviceCIDR"]):
            errors.append(FieldError("spec.podCIDR", "Invalid", "must not overlap with spec.serviceCIDR",
                                     spec["podCIDR"]))
    return errors
