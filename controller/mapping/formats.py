"""Named JSON Schema `format` checks that plain JSON Schema cannot express.

A mapping file's providerConfig schema uses them as `format: <name>`; `decode` runs them through a
`jsonschema.FormatChecker`. Each check raises ValueError with the text that ends up in the field
error. Add one here (with a unit test) when a validation rule of the reference needs real parsing.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation

import jsonschema

CHECKER = jsonschema.FormatChecker(formats=())
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*\Z")
# Go RE2 `\s` is [\t\n\f\r ]; the device rule is `^[^/\s]{1,15}$` on at most 15 bytes.
_LINUX_DEVICE = re.compile(r"^[^/\t\n\f\r ]{1,15}\Z")
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+)?\Z")
_GO_DURATION = re.compile(r"^(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+\Z")
_AUTODETECT_OPTIONS = ("first-found", "can-reach", "interface", "skip-interface", "cidr", "kubernetes-internal-ip")
# Every string of a providerConfig (and every string the controller copies from a Network, a Shoot or an
# image vector into chart values) is printable ASCII: nothing a YAML or JSON emitter has to escape into a
# line break (\n \r \v \f, U+0085, U+2028, U+2029), no NUL, no non-BMP characters.
PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*\Z")
_CIDR_TEXT = re.compile(r"^[0-9A-Fa-f.:]+/[0-9]{1,3}\Z")
_IP_TEXT = re.compile(r"^[0-9A-Fa-f.:]+\Z")
INT64_MAX = 2 ** 63 - 1


def check(name: str):
    def register(func):
        CHECKER.checks(name, raises=ValueError)(func)
        return func
    return register


@check("cidr")
def is_cidr(value) -> bool:
    """Go's net.ParseCIDR: an address and a prefix length; no IPv6 zone (`%eth0`), nothing else."""
    if not isinstance(value, str):
        return True
    parse_cidr(value)
    return True


def parse_cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network of a CIDR string as Go's net.ParseCIDR reads it (host bits allowed); ValueError if
    Go refuses it (no prefix length, a zone id, anything but hex digits, dots and colons)."""
    if not isinstance(value, str) or not _CIDR_TEXT.match(value):
        raise ValueError("must be a valid CIDR")
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError("must be a valid CIDR") from None


@check("cidr-or-usepodcidr")
def is_cidr_or_usepodcidr(value) -> bool:
    """calico ipam.cidr: a CIDR, or `usePodCIDR` in any letter case."""
    return True if isinstance(value, str) and value.lower() == "usepodcidr" else is_cidr(value)


@check("calico-ip-autodetection-method")
def is_autodetection_method(value) -> bool:
    """Calico's `ValidateIPAutoDetectionMethod` grammar: `<option>[=<parameter>]`."""
    if not isinstance(value, str):
        return True
    if value == "":
        raise ValueError("must not be empty")
    option, _, param = value.partition("=")
    if option not in _AUTODETECT_OPTIONS:
        raise ValueError("unknown method, supported: " + ", ".join(_AUTODETECT_OPTIONS))
    if option in ("first-found", "kubernetes-internal-ip"):
        if param:
            raise ValueError(f"{option} takes no parameter")
    elif not param:
        raise ValueError(f"{option} requires a parameter")
    elif option == "cidr":
        is_cidr(param)
    elif option == "can-reach":
        if not _is_ip(param) and not _DNS1123_SUBDOMAIN.match(param):
            raise ValueError("can-reach needs an IP address or a DNS-1123 subdomain")
    else:
        try:
            re.compile(param)
        except re.error as exc:
            raise ValueError(f"{option} needs a valid regular expression: {exc}") from None
    return True


@check("non-negative-int-string")
def is_non_negative_int_string(value) -> bool:
    """calico vethMTU: a string that parses as an integer >= 0 (Go strconv.Atoi)."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"[+-]?[0-9]+", value) or int(value) < 0:
        raise ValueError("must be a non-negative integer")
    if len(value) > 20 or int(value) > INT64_MAX:  # Go's Atoi: "value out of range"
        raise ValueError(f"must be at most {INT64_MAX}")
    return True


@check("positive-quantity")
def is_positive_quantity(value) -> bool:
    """A Kubernetes resource quantity greater than zero (`100m`, `128Mi`, `0.5`)."""
    if not isinstance(value, (str, int, float)):
        return True
    quantity = parse_quantity(str(value))
    if quantity <= 0:
        raise ValueError("must be greater than zero")
    if quantity > INT64_MAX:
        raise ValueError(f"must be at most {INT64_MAX}")
    return True


@check("ip-or-dns1123-subdomain")
def is_ip_or_dns_subdomain(value) -> bool:
    if not isinstance(value, str) or _is_ip(value):
        return True
    problems = []
    if len(value) > 253:
        problems.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN.match(value):
        problems.append("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                        "'-' or '.', and must start and end with an alphanumeric character")
    if problems:
        raise ValueError("; ".join(problems))
    return True


@check("linux-device")
def is_linux_device(value) -> bool:
    if not isinstance(value, str):
        return True
    if not value:
        raise ValueError("device name must not be empty")
    if len(value.encode()) > 15 or not _LINUX_DEVICE.match(value):
        raise ValueError("must be a Linux device name: 1-15 bytes, no '/' and no whitespace")
    return True


@check("go-duration")
def is_go_duration(value) -> bool:
    if not isinstance(value, str):
        return True
    if value in ("0",) or _GO_DURATION.match(value):
        return True
    raise ValueError("must be a duration such as 300ms, 15s, 1m or 1h30m")


def _is_ip(value: str) -> bool:
    """Go's net.ParseIP: no zone id."""
    if not _IP_TEXT.match(value):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_SUFFIX_FACTORS = {
    "": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}


def parse_quantity(text: str) -> Decimal:
    """Value of a Kubernetes quantity string; ValueError if it is not one."""
    match = _QUANTITY.match(text.strip()) if len(text) <= 64 else None
    if not match or (match.group(2) or "")[:1] in ("e", "E") and abs(int(match.group(2)[1:])) > 30:
        raise ValueError("must be a quantity such as 100m, 0.5 or 128Mi")
    number, suffix = match.group(1), match.group(2) or ""
    try:
        base = Decimal(number)
    except InvalidOperation:
        raise ValueError("must be a quantity such as 100m, 0.5 or 128Mi") from None
    if suffix[:1] in ("e", "E"):
        return base * (Decimal(10) ** int(suffix[1:]))
    return base * _SUFFIX_FACTORS[suffix]
