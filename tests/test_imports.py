"""The package's modules form no import cycle: every import counts, at the top of a module or inside a function."""

import ast
import functools
from pathlib import Path

import fashion_cnn

PACKAGE = Path(fashion_cnn.__file__).parent


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the package's modules it imports (relative or absolute; `from . import x` names module x)."""
    files = {_module_name(p, package): p for p in package.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                found |= {f"{module}.{a.name}" if f"{module}.{a.name}" in files else module for a in node.names}
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan): each is an import cycle."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_two_modules_of_the_package_import_each_other():
    graph = import_graph()
    assert {"fashion_cnn.train.runs", "fashion_cnn.train.schedule", "fashion_cnn.train.engine"} <= set(graph)
    assert "fashion_cnn.train.runs" in graph["fashion_cnn.train.schedule"]  # the graph sees relative imports
    assert cycles(graph) == []


# The floors, bottom up (docs/design.md): a module imports only from its own floor or below.
FLOORS = (
    ("errors", "config", "atomic", "data", "models", "losses", "augment"),  # the ground floor
    ("train",),  # one run, many runs, the store
    ("studies", "analysis"),  # studies are data (plans of RunConfigs); numbers from runs
    ("present", "setup", "bench"),  # words and pictures; the report's options; the benchmark
    ("tune", "report"),  # the search and sweeps; papermill, HTML and PDF
    ("sections",),  # one module per report section: what trains, what is compared
    ("cli", "__main__"),  # the one command line
)


def _floor(module: str) -> int:
    room = module.split(".")[1]
    return next(i for i, rooms in enumerate(FLOORS) if room in rooms)


def test_no_module_imports_one_above_its_floor_and_the_tower_stays_low():
    graph = {m: deps for m, deps in import_graph().items() if m != "fashion_cnn"}  # the package's own re-exports
    above = [(m, d) for m, deps in graph.items() for d in deps if d != "fashion_cnn" and _floor(d) > _floor(m)]
    assert above == []

    @functools.cache
    def chain(m: str) -> int:
        return 1 + max((chain(d) for d in graph[m] if d != "fashion_cnn"), default=0)

    assert (
        max(chain(m) for m in graph) <= 15
    )  # the longest chain of imports, __main__ … errors (the estimate: cli → sections → tune → train)


def test_the_cycle_finder_finds_direct_and_indirect_cycles():
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_a_lazy_import_inside_a_function_counts(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("def f():\n    from .high import g\n    return g\n")
    (package / "high.py").write_text("from . import low\n")
    assert cycles(import_graph(package)) == [["pkg.high", "pkg.low"]]
