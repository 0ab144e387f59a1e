"""The package's layers import only downward (docs/architecture.md), and no module imports another in a
circle. The walk reads every ``import`` in every module, function-level ones included."""

from __future__ import annotations

import ast
from pathlib import Path

import trtsweep

PACKAGE = Path(trtsweep.__file__).parent
# A layer may import its own modules and those of lower levels, never higher ones.
LEVEL = {
    "records": 0, "versions": 0, "units": 0, "__init__": 0,
    "sweeps": 1, "parsers": 1,
    "trtexec": 2,
    "store": 3, "baselines": 3,
    "analysis": 4,
    "orchestrate": 5, "inspect": 5,
    "diagnose": 6,
    "reports": 7,
    "cli": 8, "__main__": 8,
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """trtsweep modules a file imports (``from trtsweep.x import y`` counts y when it is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("trtsweep"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = me.split(".") if path.name == "__init__.py" else me.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join([*pkg, base] if base else pkg)
            if not base.startswith("trtsweep"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                out.add(candidate if _is_module(candidate) else base)
    out.discard(me)
    return out


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_every_module_has_a_layer() -> None:
    assert {layer(m) for m in graph()} <= set(LEVEL)


def test_layers_import_only_downward() -> None:
    bad = sorted(f"{mod} ({layer(mod)}) imports {dep} ({layer(dep)})"
                 for mod, deps in graph().items() for dep in deps
                 if LEVEL[layer(dep)] > LEVEL[layer(mod)])
    assert not bad, "\n".join(bad)


def test_no_import_cycles() -> None:
    g = graph()
    # A package's __init__ importing its own submodules is not a cycle of behaviour; count the edges of
    # real modules only, and a submodule importing its package __init__ as depending on that __init__.
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(g.get(node, ())):
            if dep.startswith(node + "."):
                continue  # a package re-exporting its own submodule
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep):], dep] if dep in stack else [node, dep])
            elif dep in g and state.get(dep) is None:
                visit(dep, [*stack, dep])
        state[node] = 2

    for name in sorted(g):
        if state.get(name) is None:
            visit(name, [name])
    assert not cycles, cycles


def test_the_walk_sees_imports() -> None:
    g = graph()
    assert "trtsweep.analysis.model" in g["trtsweep.reports.tables"]
    assert "trtsweep.store" in g["trtsweep.analysis.model"] or "trtsweep.store.runfolder" in g[
        "trtsweep.analysis.model"]
