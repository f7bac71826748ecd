"""The package's modules import in one direction: no cycles, whether the import
is at the top of a module or inside a function (a cycle hidden in a function
still ties the modules together, and breaks when someone moves the import up).

The one exception is Flask's blueprint pattern: a package defines ``bp`` and
imports its own view modules, which import ``bp`` back.
"""

import ast

from commentsvc import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "commentsvc"


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = (path, ast.parse(path.read_text()))
    return found


def _imports(name: str, path, tree, modules) -> set[str]:
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = ".".join(package[: len(package) - node.level + 1])
            module = f"{base}.{node.module}" if node.module else base
        else:
            module = node.module or ""
        for alias in node.names:
            candidate = f"{module}.{alias.name}"
            target = candidate if candidate in modules else module
            if target in modules and target != name:
                targets.add(target)
    return targets


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _is_blueprint_package(component: set[str]) -> bool:
    package = min(component, key=len)
    return all(m == package or m.startswith(package + ".") for m in component)


def test_no_import_cycles_but_blueprint_packages():
    modules = _modules()
    graph = {
        name: _imports(name, path, tree, modules)
        for name, (path, tree) in modules.items()
    }
    cycles = [sorted(c) for c in _cycles(graph) if not _is_blueprint_package(c)]
    assert cycles == []
    # The rate limiter is a mechanism: it knows nothing of the API above it.
    assert not {m for m in graph["commentsvc.ratelimit"] if ".api" in m}
