"""The house rules of the workspace's imports: no cycles, layers one way, packages stand alone.

Every module of every package (``packages/*/src``) is parsed, not imported. An import counts
wherever it stands, inside a function too; only the ones under ``if TYPE_CHECKING:`` are left
out (they never run). ``importlib.import_module("...")`` with a literal name and lazy
``"package.module:attr"`` references count as imports. Importing ``a.b.c`` also runs the
``__init__`` of ``a`` and ``a.b``, so those count as well (except the packages the importer
itself lives in, which are already being imported). A package's modules import only the
workspace packages its ``pyproject.toml`` depends on; its tests also those of its ``dev`` group.
"""

from __future__ import annotations

import ast
import re
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "packages"
LAZY_REFERENCE = re.compile(r"^(stop_[a-z0-9_]+(?:\.[a-z0-9_]+)*):[A-Za-z_][A-Za-z0-9_.]*$")

# stop-eval's layers, lowest first: a module may import its own layer's modules and lower
# layers, never a higher one (so nothing in eval, backbones or benchmarks imports the
# benches, the demo, the visualisation or the CLI). Keys are the first name under stop_eval.
EVAL_LAYERS: dict[str, int] = {
    # shared: the package itself and its progress bars
    "__init__": 0,
    "progress": 0,
    # media (decoding, prepared videos, downloads) and the benchmarks' files and metrics
    "media": 0,
    "benchmarks": 0,
    # the backbones (entries, official input rules) and the evaluation built on them
    "backbones": 1,
    "eval": 1,
    # what is built on those: benches, demo, visualisation, lmms-eval integration
    "bench": 2,
    "demo": 2,
    "viz": 2,
    "integrations": 2,
    # the command line: may import everything
    "cli": 3,
}


@dataclass(frozen=True)
class Module:
    """One parsed module: dotted ``name``, its file and whether it is a package ``__init__``."""

    name: str
    path: Path
    is_package: bool


def discover(src_roots: list[Path]) -> dict[str, Module]:
    """Every module below each ``src`` folder, by dotted name."""
    modules: dict[str, Module] = {}
    for src in src_roots:
        for path in sorted(src.rglob("*.py")):
            parts = list(path.relative_to(src).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            modules[".".join(parts)] = Module(".".join(parts), path, is_package)
    return modules


def is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(module: Module) -> list[tuple[str, int]]:
    """(dotted name, line) of everything ``module`` imports, at any depth, run-time only.

    ``from x import y`` gives ``x.y`` (resolved to ``x`` later when ``y`` is not a module).
    """
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    found: list[tuple[str, int]] = []
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found.append((origin, node.lineno))
            found.extend((f"{origin}.{alias.name}", node.lineno) for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = LAZY_REFERENCE.match(node.value)
            if match:
                found.append((match.group(1), node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _called_name(func: ast.expr) -> str:
    """``f`` for ``f(...)`` and ``x.f(...)``."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def resolve(name: str, modules: dict[str, Module]) -> str | None:
    """The longest known module ``name`` starts with (None for outside modules)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, int]]:
    """Module -> {imported module: first line}, with the packages each import initialises."""
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, module in modules.items():
        own = name.split(".") if module.is_package else name.split(".")[:-1]
        own_packages = {".".join(own[:i]) for i in range(1, len(own) + 1)}
        for imported, line in imported_names(module):
            target = resolve(imported, modules)
            if target is None:
                continue
            parts = target.split(".")
            chain = [".".join(parts[:i]) for i in range(1, len(parts))] + [target]
            for step in chain:
                if step != name and step not in own_packages and step in modules:
                    graph[name].setdefault(step, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def describe(component: list[str], graph: dict[str, dict[str, int]]) -> str:
    """The edges inside one cycle, ``a -> b (line n)``, for the failure message."""
    members = set(component)
    return "\n".join(
        f"  {a} -> {b} (line {line})"
        for a in component
        for b, line in sorted(graph[a].items())
        if b in members
    )


def layer_violations(graph: dict[str, dict[str, int]], layers: dict[str, int]) -> list[str]:
    """Imports from a lower stop-eval layer into a higher one, and modules in no layer."""
    problems = []

    def layer_of(name: str) -> str:
        parts = name.split(".")
        return parts[1] if len(parts) > 1 else "__init__"

    for name, targets in sorted(graph.items()):
        if not name.startswith("stop_eval"):
            continue
        own = layer_of(name)
        if own not in layers:
            problems.append(f"{name}: stop_eval.{own} is in no layer of the house test")
            continue
        for target, line in sorted(targets.items()):
            if not target.startswith("stop_eval"):
                continue
            theirs = layer_of(target)
            if theirs in layers and layers[theirs] > layers[own]:
                problems.append(f"{name} (line {line}) imports {target}: {own} -> {theirs}")
    return problems


def requirement_name(requirement: str) -> str:
    """The distribution a requirement names, as an import name (``stop-core>=0.1`` -> stop_core)."""
    name = re.match(r"[A-Za-z0-9_.-]+", requirement.strip())
    assert name, requirement
    return name.group(0).lower().replace("-", "_")


def declared(package_dir: Path) -> tuple[str, set[str], set[str]]:
    """(import name, its run-time requirements, those plus its dev group) from pyproject.toml."""
    meta = tomllib.loads((package_dir / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {requirement_name(r) for r in meta["project"].get("dependencies", [])}
    dev = {
        requirement_name(r)
        for group in meta.get("dependency-groups", {}).values()
        for r in group
        if isinstance(r, str)
    }
    return requirement_name(meta["project"]["name"]), runtime, runtime | dev


def undeclared_imports(package_dir: Path) -> list[str]:
    """Workspace packages that a package's modules (or tests) import but do not declare."""
    own, runtime, with_dev = declared(package_dir)
    problems = []
    for folder, allowed in (("src", runtime), ("tests", with_dev)):
        for path in sorted((package_dir / folder).rglob("*.py")):
            module = Module(path.stem, path, False)
            for name, line in imported_names(module):
                top = name.split(".")[0]
                if top.startswith("stop_") and top != own and top not in allowed:
                    rel = path.relative_to(package_dir)
                    problems.append(f"{package_dir.name}/{rel}:{line} imports {top} ({folder})")
    return sorted(set(problems))


def workspace() -> tuple[dict[str, Module], dict[str, dict[str, int]]]:
    """The parsed modules of every package and their import graph."""
    modules = discover(sorted(PACKAGES.glob("*/src")))
    return modules, import_graph(modules)


def test_the_scan_covers_every_package() -> None:
    modules, graph = workspace()
    tops = {name.split(".")[0] for name in modules}
    assert {"stop_core", "stop_llava", "stop_qwen", "stop_eval"} <= tops
    assert sum(len(targets) for targets in graph.values()) > 200


def test_no_import_cycles() -> None:
    _, graph = workspace()
    found = cycles(graph)
    assert found == [], "import cycles:\n" + "\n\n".join(describe(c, graph) for c in found)


def test_stop_eval_layers_point_one_way() -> None:
    _, graph = workspace()
    problems = layer_violations(graph, EVAL_LAYERS)
    assert problems == [], "\n".join(problems)


def test_packages_import_only_what_they_declare() -> None:
    problems = [
        problem
        for package_dir in sorted(PACKAGES.glob("*/pyproject.toml"))
        for problem in undeclared_imports(package_dir.parent)
    ]
    assert problems == [], "\n".join(problems)


# -- the checks above can fail: planted packages ----------------------------------------------


def plant(tmp_path: Path, files: dict[str, str]) -> dict[str, dict[str, int]]:
    """Write ``files`` (path -> source) under ``tmp_path/src`` and return their import graph."""
    src = tmp_path / "src"
    for rel, text in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return import_graph(discover([src]))


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    graph = plant(
        tmp_path,
        {
            "stop_x/__init__.py": "",
            "stop_x/a.py": "from stop_x import b\n",
            "stop_x/b.py": "def f():\n    from stop_x.a import g\n    return g\n",
        },
    )
    assert cycles(graph) == [["stop_x.a", "stop_x.b"]]


def test_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    graph = plant(
        tmp_path,
        {
            "stop_x/__init__.py": "",
            "stop_x/a.py": "from stop_x import b\n",
            "stop_x/b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from stop_x.a import g\n"
                "else:\n    import json\n"
            ),
        },
    )
    assert cycles(graph) == []


def test_lazy_references_and_package_inits_count(tmp_path: Path) -> None:
    graph = plant(
        tmp_path,
        {
            "stop_x/__init__.py": "from stop_x.reg import REGISTRY\n",
            "stop_x/reg.py": 'REGISTRY = {"one": "stop_x.sub.one:ENTRY"}\n',
            "stop_x/sub/__init__.py": "",
            "stop_x/sub/one.py": "import importlib\nimportlib.import_module('stop_x.base')\n",
            "stop_x/base.py": "",
            "stop_y/__init__.py": "",
            "stop_y/user.py": "from stop_x.sub.one import ENTRY\n",
        },
    )
    assert "stop_x.sub.one" in graph["stop_x.reg"]
    assert "stop_x.base" in graph["stop_x.sub.one"]
    assert {"stop_x", "stop_x.sub", "stop_x.sub.one"} <= set(graph["stop_y.user"])
    assert "stop_x" not in graph["stop_x.sub.one"]  # its own package is already importing


@pytest.mark.parametrize("importer", ["eval", "backbones"])
def test_an_upward_import_is_a_layer_violation(tmp_path: Path, importer: str) -> None:
    graph = plant(
        tmp_path,
        {
            "stop_eval/__init__.py": "",
            f"stop_eval/{importer}.py": "def f():\n    from stop_eval.cli import main\n",
            "stop_eval/cli.py": "from stop_eval import eval\n",
            "stop_eval/elsewhere.py": "",
        },
    )
    assert (
        sorted(layer_violations(graph, EVAL_LAYERS))
        == [
            "stop_eval.elsewhere: stop_eval.elsewhere is in no layer of the house test",
            f"stop_eval.{importer} (line 2) imports stop_eval.cli: {importer} -> cli",
        ][:: 1 if importer > "elsewhere" else -1]
    )


def test_an_undeclared_workspace_import_in_tests_is_found(tmp_path: Path) -> None:
    package = tmp_path / "stop-x"
    (package / "src" / "stop_x").mkdir(parents=True)
    (package / "tests").mkdir()
    (package / "pyproject.toml").write_text(
        '[project]\nname = "stop-x"\ndependencies = ["stop-core>=0.1,<0.2"]\n'
        '[dependency-groups]\ndev = ["pytest>=8", "stop-llava"]\n'
    )
    (package / "src" / "stop_x" / "__init__.py").write_text(
        "import stop_core\nfrom stop_x import a\n"
    )
    (package / "tests" / "test_x.py").write_text(
        "import stop_llava\n\ndef test():\n    from stop_eval.cli import main\n"
    )
    assert undeclared_imports(package) == ["stop-x/tests/test_x.py:4 imports stop_eval (tests)"]
    (package / "src" / "stop_x" / "a.py").write_text("import stop_llava\n")
    assert undeclared_imports(package)[0] == "stop-x/src/stop_x/a.py:1 imports stop_llava (src)"
