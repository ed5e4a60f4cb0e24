"""The library's import graph: no cycles inside zoo/, and no UI library anywhere in it.

Built with ast from the source, module-level and function-level imports alike, so an import moved
into a function to dodge a cycle still counts as an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import zoo

ZOO_DIR = Path(zoo.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ZOO_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def zoo_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ZOO_DIR.rglob("*.py")) if "_bundled" not in p.parts}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module `name` imports (zoo modules by full name, others by their top-level package)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:  # `from . import weights` imports the module zoo.weights, `from . import x` zoo's x
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    edges = set()
    for target in found:
        if target.split(".")[0] != "zoo":
            edges.add(target.split(".")[0])
            continue
        while target not in known and "." in target:  # `from zoo.models.ae import AE`: the module, not the name
            target = target.rpartition(".")[0]
        if target != name:
            edges.add(target)
    return edges


def import_graph() -> dict[str, set[str]]:
    modules = zoo_modules()
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert {"zoo.weights", "zoo.download", "zoo.publish", "zoo.registry"} <= set(graph)
    assert "zoo.download" in graph["zoo.weights"]  # `from . import download`
    assert "zoo.locations" in graph["zoo.weights"]  # `from .locations import ...`
    assert "zoo.weights" not in graph["zoo.download"]  # downloading sits below the weights, publishing above
    assert "zoo.publish" not in graph["zoo.weights"] and "zoo.publish" not in graph["zoo.download"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_zoo_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle in zoo/: " + " -> ".join(cycle)


def test_zoo_never_imports_a_ui_library():
    offenders = {name: sorted(deps & {"gradio", "gradio_client"}) for name, deps in import_graph().items()}
    assert not {name: deps for name, deps in offenders.items() if deps}, "zoo/ is the library: the UI depends on it, not the reverse"
