"""The import graph of the controller (src/ivpb) and of the collection's plugins, read from the
source (every import statement, those inside functions and under TYPE_CHECKING included): no
module reaches itself again, and the layers point one way - the CLI imports the commands, the
commands the engine, the engine the policy and the inventory, never back (issue #26)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = {
    "ivpb": ROOT / "src" / "ivpb",
    "ansible_collections.ivpb.backupbeleid.plugins": ROOT / "collections/ansible_collections/ivpb/backupbeleid/plugins",
}


def _modules() -> dict[str, Path]:
    out = {}
    for prefix, root in TREES.items():
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = path
    return out


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the modules of both trees it imports (`from pkg import mod` names mod)."""
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                for a in node.names:
                    found.update([f"{base}.{a.name}"] if f"{base}.{a.name}" in modules else
                                 [base] if base in modules else [])
        graph[name] = found - {name}
    return graph


GRAPH = _graph(_modules())


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
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
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_is_read_from_the_source():
    assert "ivpb.resolve" in GRAPH["ivpb.roles"]  # from ivpb.resolve import ...
    assert "ivpb.resolve" in GRAPH["ivpb.plan"]  # from ivpb import resolve
    assert "ansible_collections.ivpb.backupbeleid.plugins.module_utils.offsite_sync" in \
        GRAPH["ansible_collections.ivpb.backupbeleid.plugins.module_utils.backup_job"]


def test_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_the_layers_point_one_way():
    """Only the CLI's entry point imports the CLI; the audit never imports restore (it reads a
    data set's receiver from its resolved record); the collection's plugins never import the ivpb
    package, except the controller's own actions, which run its engine: the plan and the audit
    job's judge (audit_report)."""
    assert {m for m, deps in GRAPH.items() if "ivpb.cli" in deps} == set()
    assert not {m for m, deps in GRAPH.items() if m.startswith("ivpb.audit") and "ivpb.restore" in deps}
    engine = ("ivpb.resolve", "ivpb.plan", "ivpb.policy", "ivpb.inventory", "ivpb.roles")
    assert {m for m in engine for d in GRAPH[m]
            if d.startswith(("ivpb.cli", "ivpb.herstelplan", "ivpb.restore", "ivpb.audit", "ivpb.history"))} == set()
    plugins = {m for m in GRAPH if m.startswith("ansible_collections.")}
    assert {m for m in plugins if any(d.startswith("ivpb.") for d in GRAPH[m])} == {
        "ansible_collections.ivpb.backupbeleid.plugins.action.plan",
        "ansible_collections.ivpb.backupbeleid.plugins.action.audit_report"}
