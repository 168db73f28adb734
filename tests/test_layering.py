"""The rules of the house on imports (DESIGN.md, "Rules of the house"), read from the source.

Every import counts: at module level, inside functions, under `if TYPE_CHECKING:`, relative
ones, the stubs lazy_loader reads (`__init__.pyi`) and modules named by a string to
`importlib.import_module`, `lazy_loader.load` or `cli.lazy.lazy_module`.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import permedhub

ROOT = Path(permedhub.__file__).resolve().parent
SHELLS = {"web", "cli"}
# The services DESIGN.md maps on the graph (some not built yet): a rule names them in advance.
SERVICES = {"atlas", "helpdesk", "match", "calls", "regions", "federation"}
# Calls that import the module named by their first argument.
IMPORTING_CALLS = {"import_module", "load", "lazy_module", "__import__"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    name = _module_name(path)
    return name if path.stem == "__init__" else name.rpartition(".")[0]


def _imported(node: ast.AST, path: Path) -> list[str]:
    """The modules `node` imports (dotted names), if it is an import of any kind."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = _package_of(path).split(".")
            anchor = ".".join(package[: len(package) - node.level + 1])
            base = f"{anchor}.{base}" if base else anchor
        # `from permedhub import graph` imports the package permedhub.graph.
        return [f"{base}.{alias.name}" for alias in node.names] + [base]
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0] if node.args else None
        if name in IMPORTING_CALLS and isinstance(first, ast.Constant):
            return [str(first.value)]
    return []


@cache
def imports_of(part: str) -> frozenset[tuple[str, str]]:
    """(file, imported module) for every permedhub import in `permedhub.<part>` (a package or a
    top-level module such as `db`)."""
    folder = ROOT / part
    sources = (
        [*folder.rglob("*.py"), *folder.rglob("*.pyi")]
        if folder.is_dir()
        else [ROOT / f"{part}.py"]
    )
    return frozenset(
        (str(path.relative_to(ROOT)), module)
        for path in sources
        for module in permedhub_imports(path.read_text(), path)
    )


def permedhub_imports(source: str, path: Path) -> set[str]:
    """The permedhub modules `source` (the text of the file at `path`) imports."""
    return {
        module
        for node in ast.walk(ast.parse(source, filename=str(path)))
        for module in _imported(node, path)
        if module == "permedhub" or module.startswith("permedhub.")
    }


def _part(module: str) -> str:
    """The top-level part of permedhub a module belongs to ("permedhub.graph.models" -> graph)."""
    return module.split(".")[1] if module.count(".") else ""


def offenders(part: str, forbidden: set[str]) -> list[str]:
    return sorted(
        f"{path}: {module}" for path, module in imports_of(part) if _part(module) in forbidden
    )


def _every_part() -> set[str]:
    return {p.stem for p in ROOT.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}


@pytest.mark.parametrize("library", ["hecon", "trials"])
def test_standalone_libraries_import_nothing_else_from_permedhub(library: str) -> None:
    others = _every_part() - {library}
    assert offenders(library, others) == []


def test_graph_imports_neither_the_shells_nor_a_service() -> None:
    assert offenders("graph", SHELLS | SERVICES) == []


def test_search_imports_no_service_no_shell_and_not_the_graph() -> None:
    # graph/ and search/ depend in one direction only: graph/ calls search/ (search.index,
    # search.query), search/ knows nothing of the graph.
    assert offenders("search", SHELLS | SERVICES | {"graph"}) == []


def test_federation_imports_no_portal_code() -> None:
    # A node is its own process next to a region's data (DESIGN.md): it must run without the
    # portal, so neither the node nor the hub may import the shells, the graph, its database
    # module, search or another service.
    portal = SHELLS | {"graph", "db", "search"} | (SERVICES - {"federation"})
    assert offenders("federation", portal) == []


def test_the_federation_rule_would_see_a_portal_import() -> None:
    sneaky = "def later():\n    from permedhub.graph.models import Initiative\n"
    seen = permedhub_imports(sneaky, ROOT / "federation" / "node.py")
    assert {_part(module) for module in seen} & {"graph"}


HIDDEN_IMPORTS = """
from typing import TYPE_CHECKING
from permedhub.db import among
if TYPE_CHECKING:
    from permedhub.web import app
def later():
    from permedhub.cli import main
    import permedhub.atlas.maps
from . import models
from ..search.query import search
from permedhub import hecon
trials = importlib.import_module("permedhub.trials.gsd")
report = lazy_module("permedhub.hecon.report")
"""


def test_every_kind_of_import_is_seen() -> None:
    """The rules above can only fail if the reader finds imports wherever they hide."""
    seen = permedhub_imports(HIDDEN_IMPORTS, ROOT / "graph" / "example.py")
    assert {
        "permedhub.db",
        "permedhub.web.app",  # under TYPE_CHECKING
        "permedhub.cli.main",  # inside a function
        "permedhub.atlas.maps",
        "permedhub.graph.models",  # relative
        "permedhub.search.query",
        "permedhub.hecon",
        "permedhub.trials.gsd",  # by name, to importlib
        "permedhub.hecon.report",  # by name, to lazy_loader
    } <= seen
    # lazy_loader's stubs are read too.
    assert ("hecon/__init__.pyi", "permedhub.hecon.budget") in imports_of("hecon")
