"""The shape of the code, checked from its imports (function-level and type-only ones included):
no cycle between canyu's top-level packages and modules, lower layers never import higher ones,
no domain reaches into another's routes or into the tools, and the device client stays free of
the server stack. docs/architecture.md explains the layers."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "canyu"

# Lowest first. A unit may import units of its own layer's lower neighbours only: anything listed
# before it. Plumbing is one layer whose members may import each other without a cycle.
PLUMBING = (
    "config",
    "errors",
    "db",
    "i18n",
    "logs",
    "mail",
    "ratelimit",
    "jobs",
    "lifecycle",
    "migrate",
    "deps",
    "progress",
    "commands",
    "fastpath",
    "web",
)
DOMAINS = (
    "accounts",
    "community",
    "markets",
    "devices",
    "releases",
    "calls",
    "greetings",
    "hotspots",
    "store",
    "iot",
)
# Above the domains: pages that read several, and what builds and runs the whole.
ABOVE = ("portal", "models", "migrations", "app", "asgi")
# Outside the product: each may use the domains' services, and no domain may use them.
TOOLS = ("client", "lab", "demo", "cli")
SERVER_STACK = ("sqlalchemy", "fastapi", "starlette", "uvicorn", "alembic")
ROUTE_MODULES = ("api", "pages")


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name (canyu's or another package's)
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in ROOT.rglob("*.py")}


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield Import(module, target, node.lineno)
            for alias in node.names:  # `from canyu import db` imports the module canyu.db
                if f"{target}.{alias.name}" in _modules():
                    yield Import(module, f"{target}.{alias.name}", node.lineno)


@cache
def _all_imports() -> tuple[Import, ...]:
    return tuple(i for module, path in _modules().items() for i in _imports_of(module, path))


def _unit(module: str) -> str:
    """The top-level package or module of canyu a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "canyu"


def _canyu_edges() -> list[Import]:
    return [
        i
        for i in _all_imports()
        if i.imported.startswith("canyu.") and _unit(i.importer) != _unit(i.imported)
    ]


def _rank(unit: str) -> int:
    order = [*PLUMBING, *DOMAINS, *ABOVE]
    return order.index(unit) if unit in order else -1


def test_every_unit_has_a_place_in_the_layers() -> None:
    units = {_unit(m) for m in _modules()} - {"canyu"}
    placed = set(PLUMBING) | set(DOMAINS) | set(ABOVE) | set(TOOLS)
    assert units <= placed, f"give these a layer in tests/test_architecture.py: {units - placed}"


def test_no_cycle_between_top_level_packages_and_modules() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for i in _canyu_edges():
        graph[_unit(i.importer)].add(_unit(i.imported))
    # Tarjan's strongly connected components: any with more than one unit is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        on_stack.add(unit)
        for other in graph.get(unit, ()):
            if other not in index:
                visit(other)
                low[unit] = min(low[unit], low[other])
            elif other in on_stack:
                low[unit] = min(low[unit], index[other])
        if low[unit] == index[unit]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == unit:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for unit in list(graph):
        if unit not in index:
            visit(unit)
    assert not cycles, f"import cycles between: {cycles}"


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = [
        f"{i.importer}:{i.line} imports {i.imported}"
        for i in _canyu_edges()
        if _unit(i.importer) not in TOOLS
        and (_rank(_unit(i.imported)) > _rank(_unit(i.importer)) or _unit(i.imported) in TOOLS)
        # plumbing may import plumbing listed after it, as long as no cycle forms (tested above)
        and not (_unit(i.importer) in PLUMBING and _unit(i.imported) in PLUMBING)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_domain_imports_another_domains_routes() -> None:
    wrong = [
        f"{i.importer}:{i.line} imports {i.imported}"
        for i in _canyu_edges()
        if _unit(i.importer) in DOMAINS
        and _unit(i.imported) in DOMAINS
        and i.imported.split(".")[-1] in ROUTE_MODULES
    ]
    assert not wrong, "\n".join(wrong)


def _closure(start: list[str]) -> set[str]:
    by_importer: dict[str, set[str]] = defaultdict(set)
    for i in _all_imports():
        if i.imported in _modules():
            by_importer[i.importer].add(i.imported)
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        # Importing a module runs its packages' __init__ first.
        parts = module.split(".")
        todo.extend(".".join(parts[:n]) for n in range(1, len(parts)))
        todo.extend(by_importer[module])
    return seen


def test_the_device_client_does_not_pull_in_the_server_stack() -> None:
    client = [m for m in _modules() if _unit(m) == "client"]
    reached = _closure(client)
    heavy = [
        f"{i.importer}:{i.line} imports {i.imported}"
        for i in _all_imports()
        if i.importer in reached and i.imported.split(".")[0] in SERVER_STACK
    ]
    assert not heavy, "\n".join(heavy)


@pytest.mark.parametrize("stack", SERVER_STACK)
def test_importing_the_client_loads_none_of_the_server_stack(stack: str) -> None:
    """The same, as Python sees it: a fresh interpreter imports the client's modules."""
    import subprocess

    client = sorted(m for m in _modules() if _unit(m) == "client")
    code = (
        "; ".join(f"import {m}" for m in client) + f"; import sys; print('{stack}' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"
