"""Evaluate a mapping file's rules over the inputs of one Network.

Pure: `apply_rules(mapping, inputs)` reads the input roots (providerConfig, network, shoot,
featureGates, images, live), writes `values.*` (the chart values override, output only) and `vars.*`
(scratch space later rules may read), each target by exactly one `set` rule (the loader enforces it),
collects every field error raised by `forbid` rules and transforms, and returns the values plus the
status outputs; a `wait` rule that holds makes the whole mapping a temporary failure (retried with
backoff). A `set` rule has one source: `value:` (a literal), `from:` (an input path, with `default:`),
`format:`, `transform:` with `args:` (each `{from: path}` or `{value: literal}`), or `cases:` (a table of
such sources under conditions, the first whose `when` holds wins). Called by `pipeline` and, for the
rules marked `admission: true`, by `admission.shoots`; the language is documented in
`values-mapping/README.md`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Iterator

from controller.errors import NO_VALUE, ConfigurationError, FieldError, waiting
from controller.mapping import paths, transforms

INPUT_ROOTS = ("providerConfig", "network", "shoot", "featureGates", "images", "live", "vars")
WRITABLE_ROOTS = ("values", "vars")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")
_ORDER = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
          "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}


@dataclass(frozen=True)
class MappingResult:
    values: dict
    status: dict


class RuleError(Exception):
    """A rule that cannot be evaluated as written (wrong value for a `map`, say): a mapping bug or an
    input the schema should have refused; reported as a configuration problem with the rule index."""


def apply_rules(mapping, inputs: dict) -> MappingResult:
    state = copy.deepcopy(inputs)
    state.setdefault("vars", {})
    state.setdefault("values", {})
    errors: list[FieldError] = []
    waits: list[dict] = []
    for index, rule in enumerate(mapping.rules):
        try:
            if not holds(rule.get("when"), state):
                continue
            if "wait" in rule:
                waits.append(rule)
            elif "forbid" in rule:
                errors.append(forbid_error(rule, state))
            else:
                apply_set(rule, state)
        except ConfigurationError as exc:
            errors.extend(exc.errors)
        except RuleError as exc:
            errors.append(FieldError("", "Invalid", f"{mapping.source.name} rules[{index}]: {exc}"))
        except (ValueError, TypeError, AttributeError, ArithmeticError) as exc:  # input no check foresaw
            errors.append(FieldError("", "Invalid", f"{mapping.source.name} rules[{index}]: cannot map the "
                                                    f"input: {type(exc).__name__}"))
    if errors:
        raise ConfigurationError(errors)
    if waits:
        raise waiting(waits)
    status = {key: paths.get(state, source, None) for key, source in mapping.status.items()}
    return MappingResult(values=state["values"], status=status)


def forbid_error(rule: dict, state: dict) -> FieldError:
    """The error of a `forbid` rule whose condition holds (`from:` names the offending value to print)."""
    value = paths.get(state, rule["from"], None) if "from" in rule else NO_VALUE
    return FieldError(rule["field"], rule.get("type", "Forbidden"), rule["forbid"], value)


def apply_set(rule: dict, state: dict) -> None:
    """One `set` rule whose `when` held: evaluate its source (the first matching case of `cases:`),
    translate it through `map:`, write the target. A source that yields nothing leaves the target alone."""
    source = rule
    if "cases" in rule:
        source = next((case for case in rule["cases"] if holds(case.get("when"), state)), None)
        if source is None:
            return
    value = _source_value(source, state)
    if value is transforms.SKIP:
        return
    if "map" in rule:
        table = rule["map"]
        if value not in table or isinstance(value, (dict, list)):
            if "mapDefault" not in rule:
                raise RuleError(f"no entry for {value!r} in map of {rule['set']}")
            value = copy.deepcopy(rule["mapDefault"])
        else:
            value = copy.deepcopy(table[value])
    paths.put(state, rule["set"], value)


def _source_value(source: dict, state: dict) -> Any:
    """The value of one source (a rule or a case), or SKIP."""
    if "value" in source:
        return copy.deepcopy(source["value"])
    if "from" in source:
        value = paths.get(state, source["from"])
        if value is paths.MISSING or value is None:
            return copy.deepcopy(source["default"]) if "default" in source else transforms.SKIP
        return value
    if "format" in source:
        value = _format(source["format"], state)
        return transforms.SKIP if value is None else value
    args = {name: _argument(arg, state) for name, arg in (source.get("args") or {}).items()}
    return transforms.REGISTRY[source["transform"]](**args)


def _argument(arg: dict, state: dict) -> Any:
    """`{value: literal}` or `{from: path}` (absent reads as None)."""
    if "value" in arg:
        return copy.deepcopy(arg["value"])
    return copy.deepcopy(paths.get(state, arg["from"], None))


def _format(template: str, state: dict) -> str | None:
    """`"cidr={shoot.spec.networking.nodes}"`; None (rule skipped) if a placeholder is missing."""
    missing = False

    def replace(match: re.Match) -> str:
        nonlocal missing
        value = paths.get(state, match.group(1), None)
        if value is None:
            missing = True
            return ""
        return str(value).lower() if isinstance(value, bool) else str(value)

    result = _PLACEHOLDER.sub(replace, template)
    return None if missing else result


def holds(condition: Any, state: dict) -> bool:
    """Evaluate a `when:` condition; absent condition holds."""
    if condition is None:
        return True
    if isinstance(condition, list):
        return all(holds(c, state) for c in condition)
    for key, test in condition.items():
        if key == "all":
            ok = all(holds(c, state) for c in test)
        elif key == "any":
            ok = any(holds(c, state) for c in test)
        elif key == "not":
            ok = not holds(test, state)
        else:
            ok = _test(paths.get(state, key, None), test)
        if not ok:
            return False
    return True


def _test(value: Any, test: Any) -> bool:
    if not isinstance(test, dict):
        return _equal(value, test)
    for op, operand in test.items():
        if op == "eq":
            ok = _equal(value, operand)
        elif op == "ne":
            ok = not _equal(value, operand)
        elif op == "in":
            ok = any(_equal(value, o) for o in operand)
        elif op == "notIn":
            ok = not any(_equal(value, o) for o in operand)
        elif op == "contains":
            ok = isinstance(value, (list, str)) and operand in value
        elif op in _ORDER:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and _ORDER[op](value, operand)
        elif op == "present":
            ok = (value is not None) == bool(operand)
        elif op == "truthy":
            ok = bool(value) == bool(operand)
        else:
            raise RuleError(f"unknown condition operator {op!r}")
        if not ok:
            return False
    return True


def _equal(a: Any, b: Any) -> bool:
    """Equality that keeps booleans apart from 0/1 (YAML `true` is not the number 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def condition_paths(condition: Any) -> Iterator[str]:
    """Every input path a condition reads (the loader checks their roots)."""
    if condition is None:
        return
    if isinstance(condition, list):
        for c in condition:
            yield from condition_paths(c)
        return
    for key, test in condition.items():
        if key in ("all", "any"):
            for c in test:
                yield from condition_paths(c)
        elif key == "not":
            yield from condition_paths(test)
        else:
            yield key


def format_paths(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def rule_sources(rule: dict) -> list[dict]:
    """The sources of a `set` rule: itself, or each of its cases."""
    return list(rule["cases"]) if "cases" in rule else [rule]


def source_reads(source: dict) -> Iterator[tuple[str, str]]:
    """(where, path) of every input path one source reads, for the loader's checks."""
    for cond_path in condition_paths(source.get("when")):
        yield "when", cond_path
    if "from" in source:
        yield "from", source["from"]
    for placeholder in format_paths(source.get("format", "")):
        yield "format", placeholder
    for name, arg in (source.get("args") or {}).items():
        if "from" in arg:
            yield f"args.{name}.from", arg["from"]
