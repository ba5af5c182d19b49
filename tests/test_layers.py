"""The code keeps the order of layers that docs/design.md states ("The order of the layers").

The layers are read from that page's numbered list, so the page and this test cannot drift apart:
every module of the package must fall in a layer, import only its own layer or lower ones, never
import trustsim inside a function or under TYPE_CHECKING, and no import chain may run in a circle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "trustsim"
DESIGN = ROOT / "docs" / "design.md"


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__init__.py" and not path.read_text().strip():
            continue  # an empty package marker holds nothing to place
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def layers() -> list[tuple[int, str]]:
    """(layer, path prefix under trustsim/) from docs/design.md; the helpers are layer 0."""
    text = DESIGN.read_text()
    section = text.split("## The order of the layers", 1)[1].split("\n## ", 1)[0]
    helpers, numbered = section.split("\n1. ", 1)
    found = [(0, name) for name in re.findall(r"`([\w/]+\.py)`", helpers.split("Every layer may import the helpers", 1)[1])]
    for number, line in re.findall(r"^(\d+)\. (.*)$", "1. " + numbered, flags=re.M):
        for name in re.findall(r"`([\w/]+(?:\.py|/))`", line.split(":", 1)[0]):
            found.append((int(number), name))
    return found


def layer_of(module: str, table: list[tuple[int, str]]) -> int:
    path = module.removeprefix("trustsim").lstrip(".").replace(".", "/") or "__init__"
    for number, name in sorted(table, key=lambda item: -len(item[1])):  # the longest prefix decides
        if (path + "/").startswith(name) if name.endswith("/") else path == name.removesuffix(".py"):
            return number
    raise AssertionError(f"{module}: in no layer of docs/design.md")


def imports(module: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported trustsim module, line, whether the import is nested in a function or an if) of a module."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nested = {id(node) for outer in ast.walk(tree) if isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef, ast.If))
              for node in ast.walk(outer) if node is not outer}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found += [(t, node.lineno, id(node) in nested) for t in targets if t.split(".")[0] == "trustsim"]
    return found


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_design_lists_every_layer_and_every_module_falls_in_one():
    table = layers()
    assert {number for number, _ in table} == set(range(18))  # the helpers and layers 1-17
    for module in modules():
        layer_of(module, table)


def test_no_import_runs_up_a_layer_or_hides_in_a_function():
    table = layers()
    wrong = []
    for module, targets in graph().items():
        for target, line, nested in targets:
            if nested:
                wrong.append(f"{module}:{line} imports {target} inside a function or an if")
            elif layer_of(target, table) > layer_of(module, table):
                wrong.append(f"{module}:{line} imports {target}, a higher layer")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_import_circle():
    edges = {module: {t for t, _, _ in targets if t != module} for module, targets in graph().items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                raise AssertionError("import circle: " + " -> ".join(path[path.index(target):] + [module, target]))
            if target not in state:
                visit(target, path + [module])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
