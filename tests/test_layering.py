"""The import graph of the project's packages: no cycles, and arrows that point down.

Read from the source (``ast``), so an import inside a function counts as much as one at
the top of a module: a late import is still an arrow.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "apps", "store", "ingest", "science", "hbase_schema")
TOP_MODULES = ("settings", "index")
# What each package may import of ours (ARCHITECTURE.md, "Layout").
MAY_IMPORT = {
    "hbase_schema": set(),
    "store": {"hbase_schema", "settings"},
    "ingest": {"store", "hbase_schema", "science", "settings"},
    "science": set(),
}
# The ingest of a night reads top-down (ARCHITECTURE.md, "The ingest"): the CLI, the night,
# then its steps plan → prepare (read, validate, rows) → write → statistics; each module
# imports only modules below it here. The writer's quarantine keeps packets as the readers
# give them, so it sits above the readers; leaves shared by the steps come last.
INGEST_ORDER = ("ingest", "ingest.__main__", "ingest.cli", "ingest.reindex", "ingest.distributed", "ingest.night", "ingest.unit_task", "ingest.surveys", "ingest.plan",
                "ingest.rubin.prepare", "ingest.rubin.alert_columns", "ingest.rubin.columns", "ingest.rubin.binary_views", "ingest.rubin.lists", "ingest.rubin.stored", "ingest.prepare", "ingest.unit_encoding", "ingest.rubin.write", "ingest.newest", "ingest.write", "ingest.quarantine",
                "ingest.rubin.readers", "ingest.rubin.py_values", "ingest.readers", "ingest.avro_files", "ingest.validate",
                "ingest.packet_types", "ingest.rows", "ingest.rubin.rows", "ingest.rubin.statistics",
                "ingest.rubin.validate", "ingest.rubin.alert", "ingest.statistics", "ingest.nights", "ingest.lock",
                "ingest.progress", "ingest.cluster", "ingest.conflicts", "ingest.gc_pause", "ingest.sent_keys", "ingest.compact_keys", "ingest.arrow_alone", "ingest.malloc_threshold", "ingest.unit_files",
                "ingest.rubin")


def _modules() -> dict[str, Path]:
    mods = {name: ROOT / f"{name}.py" for name in TOP_MODULES}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


def import_graph() -> dict[str, set[str]]:
    """module -> the project's modules it imports (a name imported from a package is the
    submodule when one has that name, else the package)."""
    mods = _modules()

    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(known(a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module
                for a in node.names:
                    sub = f"{source}.{a.name}"
                    targets.add(sub if sub in mods else known(source))
        targets.discard(None)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
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
                    out.append(sorted(component))
    return out


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_late_and_relative_imports():
    graph = import_graph()
    assert "store" in graph["ingest.prepare"] and "ingest.readers" in graph["ingest.prepare"]
    assert "ingest.simulator.observe" in graph["ingest.simulator.allocate"]
    assert "ingest.simulator.cli" in graph["ingest.cli"]  # imported inside main()


def test_no_import_cycles():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_arrows_point_down(package):
    ours = set(PACKAGES) | set(TOP_MODULES)
    wrong = sorted(f"{m} imports {t}" for m, targets in import_graph().items() if m.split(".")[0] == package
                   for t in targets if t.split(".")[0] in ours - {package} - MAY_IMPORT[package])
    assert wrong == []


def test_nothing_imports_the_portal_or_the_server():
    wrong = sorted(f"{m} imports {t}" for m, targets in import_graph().items() if m.split(".")[0] not in ("apps", "index")
                   for t in targets if t.split(".")[0] in ("apps", "index"))
    assert wrong == []


def test_the_ingest_of_a_night_reads_top_down():
    graph = import_graph()
    ingest = sorted(m for m in graph if m.split(".")[0] == "ingest" and not m.startswith("ingest.simulator"))
    assert sorted(INGEST_ORDER) == ingest, "a new ingest module needs its place in INGEST_ORDER"
    rank = {m: i for i, m in enumerate(INGEST_ORDER)}
    upward = sorted(f"{m} imports {t}" for m in ingest for t in graph[m] if t in rank and rank[t] <= rank[m])
    assert upward == []


def _unused_imports(path: Path) -> list[str]:
    """Names a module imports but never uses: kept only for others to import from it."""
    tree = ast.parse(path.read_text(), str(path))
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", None) != "__future__":
            for a in node.names:
                imported[(a.asname or a.name).split(".")[0]] = node.lineno
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used |= {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    return sorted(name for name in imported if name not in used)


def test_unused_imports_are_found(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("from __future__ import annotations\nimport os.path\nimport sys\n"
                      "from .a import b, c as d  # noqa: F401\nprint(b, sys.argv)\n")
    assert _unused_imports(module) == ["d", "os"]


def test_no_ingest_module_re_exports_what_it_imports():
    """A name comes from the module that defines it, not through another (package faces aside)."""
    found = {str(path.relative_to(ROOT)): _unused_imports(path) for path in sorted((ROOT / "ingest").rglob("*.py"))
             if path.name != "__init__.py"}
    assert {k: v for k, v in found.items() if v} == {}
