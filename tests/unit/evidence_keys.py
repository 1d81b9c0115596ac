"""The evidence keys the code emits, read from the code itself: every `controls[].evidence` the
collection's modules and backends build, and what the controller adds to it (drills, the
receivers' protected generation, the §5 site records).

Starting from each place a dict is stored under "evidence" (a dict literal's key, an item
assignment, a keyword), the expression is followed back: dict literals, comprehensions over
another dict's items or over constant names, local variables (their assignments, item
assignments, update() and setdefault() calls, in the function and the functions around it),
tuples returned by a function of the same file, and the parameters of a function of the same
file (through its calls). Passing an existing evidence on (`c.get("evidence")`) adds nothing.
Anything else cannot be followed: it is reported, so that a new way of building evidence makes
the test fail until the walker can read it, rather than leaving keys unseen.

Keys are collected at the top level and one level down (the keys of a dict value, which the
reports show as "label: value; label: value"); keys that are data (uplink names, fingerprints)
are not labels and are not collected.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "collections/ansible_collections/ivpb/backupbeleid/plugins"
SRC = ROOT / "src/ivpb"


def sources() -> list[Path]:
    return sorted(
        [
            *PLUGINS.glob("module_utils/*.py"),
            *PLUGINS.glob("modules/*.py"),
            *SRC.glob("audit/*.py"),
            SRC / "attest.py",
            SRC / "drills.py",
        ]
    )


@dataclass
class Found:
    keys: dict[str, str] = field(default_factory=dict)  # key -> where it was first seen
    unresolved: list[str] = field(default_factory=list)


class _File:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
        self.functions: dict[str, list[ast.FunctionDef]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, []).append(node)

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"

    def scopes(self, node: ast.AST) -> list[ast.AST]:
        """The functions around node, innermost first, then the module."""
        out = []
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
                out.append(node)
        return out


def _const(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _constant_names(node: ast.AST) -> bool:
    return isinstance(node, ast.Tuple | ast.List) and all(_const(e) is not None for e in node.elts)


def _passes_evidence_on(node: ast.AST) -> bool:
    """Whether node takes an evidence that exists (`c["evidence"]`, `c.get("evidence")`, a
    result being judged's `verdict.evidence`)."""
    return any(_const(n) == "evidence" or (isinstance(n, ast.Attribute) and n.attr == "evidence")
               for n in ast.walk(node))


class _Walker:
    def __init__(self, f: _File, found: Found) -> None:
        self.f, self.found = f, found
        self.seen: set[tuple[int, int]] = set()

    def add(self, key: str, node: ast.AST) -> None:
        self.found.keys.setdefault(key, self.f.where(node))

    def fail(self, node: ast.AST, why: str) -> None:
        self.found.unresolved.append(f"{self.f.where(node)}: {why}: {ast.unparse(node)[:80]}")

    # -- the evidence dict itself ------------------------------------------------------------
    def evidence(self, expr: ast.AST, at: ast.AST) -> None:
        """expr is an evidence dict: collect its keys and the keys of its dict values."""
        if (id(expr), id(at)) in self.seen:
            return
        self.seen.add((id(expr), id(at)))
        if _passes_evidence_on(expr) and not isinstance(expr, ast.Dict):
            return
        if isinstance(expr, ast.Constant) and expr.value is None:
            return
        if isinstance(expr, ast.Dict):
            for k, v in zip(expr.keys, expr.values, strict=True):
                if k is None:
                    self.evidence(v, at)
                elif _const(k) is not None:
                    self.add(_const(k), k)
                    self.value(v, at)
                else:  # a key that is data: its value's keys are labels
                    self.value(v, at)
        elif isinstance(expr, ast.DictComp):
            self.comprehension(expr, at, self.evidence, self.add)
        elif isinstance(expr, ast.BoolOp):
            for v in expr.values:
                self.evidence(v, at)
        elif isinstance(expr, ast.IfExp):
            self.evidence(expr.body, at)
            self.evidence(expr.orelse, at)
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "dict":
            for a in expr.args:
                self.evidence(a, at)
            for kw in expr.keywords:
                if kw.arg:
                    self.add(kw.arg, kw)
                    self.value(kw.value, at)
                else:
                    self.evidence(kw.value, at)
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in self.f.functions:
            self.returned(expr.func.id, None, expr, self.evidence)
        elif isinstance(expr, ast.Name):
            self.name(expr.id, at, self.evidence, self.add)
        else:
            self.fail(expr, "evidence built in a way the walker cannot follow")

    def comprehension(self, expr: ast.DictComp, at: ast.AST, whole, key) -> None:
        [gen] = expr.generators
        target = gen.target
        names = [target.id] if isinstance(target, ast.Name) else [
            e.id for e in getattr(target, "elts", []) if isinstance(e, ast.Name)
        ]
        if not (isinstance(expr.key, ast.Name) and expr.key.id in names):
            self.fail(expr, "comprehension the walker cannot follow")
            return
        it = gen.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "items" \
                and expr.key.id == names[0]:
            whole(it.func.value, at)  # {k: v for k, v in X.items() if ...}: the keys of X
        elif _constant_names(it):
            for e in it.elts:
                key(_const(e), e)
        else:  # keys taken from data (fingerprints, uplink names): not labels; their values' keys are
            self.value(expr.value, at)

    # -- the keys of a value: one level down, as the reports label them ----------------------
    def value(self, expr: ast.AST, at: ast.AST) -> None:
        if isinstance(expr, ast.Dict):
            for k in expr.keys:
                if _const(k) is not None:
                    self.add(_const(k), k)
        elif isinstance(expr, ast.DictComp) and _constant_names(expr.generators[0].iter):
            for e in expr.generators[0].iter.elts:
                self.add(_const(e), e)
        elif isinstance(expr, ast.Name):
            self.name(expr.id, at, self._value_keys, self.add, strict=False)
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in self.f.functions:
            self.returned(expr.func.id, None, expr, self._value_keys, strict=False)
        elif isinstance(expr, ast.IfExp):
            self.value(expr.body, at)
            self.value(expr.orelse, at)

    def _value_keys(self, expr: ast.AST, at: ast.AST) -> None:
        if isinstance(expr, ast.Dict | ast.DictComp | ast.IfExp):
            self.value(expr, at)

    # -- following names, returns and parameters ---------------------------------------------
    def name(self, name: str, at: ast.AST, whole, key, strict: bool = True) -> None:
        for scope in self.f.scopes(at):
            assigned = False
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id == name:
                            assigned = True
                            whole(node.value, node)
                        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Call):
                            index = [isinstance(e, ast.Name) and e.id == name for e in target.elts]
                            if any(index) and isinstance(node.value.func, ast.Name):
                                assigned = True
                                self.returned(node.value.func.id, index.index(True), node, whole, strict)
                        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                                and target.value.id == name:
                            if _const(target.slice) is not None:
                                key(_const(target.slice), target)
                                self.value(node.value, node)
                            else:  # a key that is data: its value's keys are labels
                                self.value(node.value, node)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == name \
                        and node.func.attr in ("update", "setdefault"):
                    if node.func.attr == "setdefault" and node.args and _const(node.args[0]) is not None:
                        key(_const(node.args[0]), node)
                    for kw in node.keywords:
                        if kw.arg:
                            key(kw.arg, kw)
                            self.value(kw.value, node)
                    if node.func.attr == "update":
                        for a in node.args:
                            whole(a, node)
            if assigned:
                return
            function = scope if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) else None
            if function is not None and name in [a.arg for a in function.args.args + function.args.kwonlyargs]:
                self.parameter(function, name, whole, strict)
                return
        if strict:
            self.fail(at, f"where {name!r} comes from")

    def returned(self, function: str, index: int | None, at: ast.AST, whole, strict: bool = True) -> None:
        for fn in self.f.functions.get(function, []):
            for node in ast.walk(fn):
                if isinstance(node, ast.Return) and node.value is not None:
                    value = node.value
                    if index is not None:
                        if not isinstance(value, ast.Tuple):
                            if strict:
                                self.fail(node, "a returned tuple the walker cannot split")
                            continue
                        value = value.elts[index]
                    whole(value, node)

    def parameter(self, fn: ast.FunctionDef, name: str, whole, strict: bool) -> None:
        params = [a.arg for a in fn.args.args]
        offset = 1 if params and params[0] in ("self", "cls") else 0
        for call in ast.walk(self.f.tree):
            if not isinstance(call, ast.Call):
                continue
            callee = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
            if callee != fn.name:
                continue
            args = {kw.arg: kw.value for kw in call.keywords if kw.arg}
            for n, a in enumerate(call.args):
                if n + offset < len(params):
                    args.setdefault(params[n + offset], a)
            if name in args:
                whole(args[name], call)


def emitted() -> Found:
    """Every evidence key the code emits, with where it was first seen."""
    found = Found()
    for path in sources():
        f = _File(path)
        walker = _Walker(f, found)
        for node in ast.walk(f.tree):
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if k is not None and _const(k) == "evidence":
                        walker.evidence(v, v)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and _const(target.slice) == "evidence":
                        walker.evidence(node.value, node)
            elif isinstance(node, ast.keyword) and node.arg == "evidence":
                walker.evidence(node.value, node.value)
    return found
