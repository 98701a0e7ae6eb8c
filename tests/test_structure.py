"""The shape of `controller/`: every module imports, the import graph has no cycle (imports inside
functions count too, so none can hide one), every module opens with a docstring, and no module is over
300 lines unless its docstring says why ("Over 300 lines: ...")."""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "controller"
MAX_LINES = 300


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The controller modules `name` imports anywhere in its code (module level or in functions)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {target for target in found if target in MODULES and target != name}


def test_every_module_imports():
    for name in MODULES:
        if name != "controller.__main__":  # the entry script runs the CLI when imported
            importlib.import_module(name)


def test_the_import_graph_has_no_cycle():
    graph = {name: imports_of(name) for name in MODULES}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycle = trail[trail.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, trail + [target])
        state[name] = "done"

    for name in MODULES:
        if name not in state:
            visit(name, [name])


def test_the_cycle_check_sees_imports_inside_functions():
    assert "controller.manager" in imports_of("controller.cli")  # `run` imports it lazily


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_docstring_and_stays_short_or_says_why(name):
    path = MODULES[name]
    source = path.read_text()
    docstring = ast.get_docstring(ast.parse(source)) or ""
    if path.name != "__init__.py" or source.strip():
        assert docstring, f"{path.relative_to(ROOT)} has no docstring"
    lines = source.count("\n")
    assert lines <= MAX_LINES or "Over 300 lines:" in docstring, \
        f"{path.relative_to(ROOT)} has {lines} lines and its docstring does not say why"
